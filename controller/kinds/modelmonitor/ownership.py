"""Whose monitor it is. Monitors carry no tags, so ownership is kept two ways: the table id recorded
in status once this resource made (or took over) the monitor, and the assets directory, which names
this resource's dashboard folder. A monitor on the table that matches neither is someone else's.
"""

from __future__ import annotations

from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.modelmonitor.observed import ObservedMonitor
from controller.kinds.modelmonitor.run import MonitorRun
from controller.status import conditions as c
from controller.status.outcome import Outcome


def made_from(spec: ModelMonitorSpec, monitor: ObservedMonitor) -> bool:
    """Whether the monitor's assets are in spec.assetsDir: made from this spec, or named by it to take over."""
    return monitor.assets_dir == spec.assets_dir


def claimed_by_another(run: MonitorRun, table_name: str, table_id: str) -> Outcome | None:
    """Refuse a table whose monitor another ModelMonitor manages (two would undo each other's changes)."""
    claimant = run.request.claimant(table_id)
    if claimant is None or claimant == run.request.owner:
        return None
    return run.not_ours(c.OWNED_BY_ANOTHER, f"the monitor on {table_name} is managed by {claimant}")


def refusal(run: MonitorRun, monitor: ObservedMonitor, table_name: str, table_id: str) -> Outcome | None:
    """Whether the monitor found on the table is this resource's to manage (None: it is).

    It is when status recorded it, or when its assets directory is spec.assetsDir: a monitor made
    from this spec by an attempt whose answer was lost, or one the user asks to take over by naming
    its folder. Anything else is someone else's and is never changed or deleted.
    """
    if run.recorded.table_id == table_id:
        return None
    if made_from(run.spec, monitor):
        message = f"managing the existing monitor on {table_name}: its assets directory is this resource's assetsDir"
        run.note("Adopted", message)
        return None
    message = (
        f"a monitor on {table_name} already exists and was not made from this resource (its assets are in "
        f"{monitor.assets_dir}); to take it over, set spec.assetsDir to that folder"
    )
    return run.not_ours(c.ADOPTION_REQUIRED, message)
