"""Reconcile a ModelMonitor: find the table, find or create its monitor, update what differs, report.

A monitor belongs to a table (one per table) and is addressed by the table's id, so the table
is resolved first (`table`), waiting while it does not exist yet. Whose monitor it is is told
by status and the assets directory (`ownership`); a monitor on the table that is neither is
someone else's and is left alone.

Only fields the user set are compared (`config`); updates go through `update_monitor` with a
field mask (`writes`). The table, the output schema and the assets directory cannot change in
place: spec.onImmutableChange says whether to refuse (report and change nothing) or to delete
the monitor and create it again.

Steady state costs one read per drift interval (the monitor): the table and schema ids come
from status, and refreshes are listed only when due (`report`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from controller.clients import errors
from controller.kinds.modelmonitor import config, ownership, report, table, writes
from controller.kinds.modelmonitor.config import desired_config, inference_log, set_fields
from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.modelmonitor.observed import ObservedMonitor
from controller.kinds.modelmonitor.report import REFRESH_CHECK
from controller.kinds.modelmonitor.run import MonitorRun, Monitors, Recorded, Request
from controller.reconciling import policy
from controller.reconciling.run import Waiting, guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome

__all__ = [
    "REFRESH_CHECK",
    "Monitors",
    "Recorded",
    "Request",
    "delete",
    "desired_config",
    "inference_log",
    "reconcile",
    "set_fields",
]


def reconcile(spec: ModelMonitorSpec, *, monitors: Monitors, request: Request) -> Outcome:
    """Make the monitor match the spec (or, under ObserveOnly, report how it differs)."""
    run = MonitorRun(
        spec=spec,
        request=request,
        monitors=monitors,
        spec_changed=request.spec_changed,
        observe_only=policy.observe_only(spec),
        wait_retry=request.poll_seconds,
    )
    return guarded(run, lambda: _reconcile(run))


def delete(spec: ModelMonitorSpec, *, connect: Callable[[], Monitors], recorded: Recorded) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all. Deleting a monitor leaves its metric tables and
    dashboard in place (Databricks does not remove them).
    """
    known = recorded.table_name or spec.table_name
    name = known or "its table"
    kept = policy.kept_on_delete(spec, f"the monitor on {name}")
    if kept is not None:
        return kept
    monitors = connect()
    table_id = recorded.table_id
    if table_id is None:  # never recorded: only a monitor made from this spec (an answer lost in a crash) is ours
        table_id = monitors.table_id(known) if known else None
        found = monitors.get_monitor(table_id) if table_id else None
        if table_id is None or found is None:
            return f"no monitor on {name} to delete"
        if not ownership.made_from(spec, found):
            return f"kept the monitor on {name}: it was not made from this resource (assets in {found.assets_dir})"
    try:
        writes.write(functools.partial(monitors.delete_monitor, table_id))
    except errors.NotFound:
        return f"the monitor on {name} was already gone"
    return f"deleted the monitor on {name} (its metric tables and dashboard stay)"


def _reconcile(run: MonitorRun) -> Outcome:
    table_name = table.table_name(run)
    recorded = run.recorded
    moved_from: ObservedMonitor | None = None
    if not run.observe_only and recorded.table_id and recorded.table_name and recorded.table_name != table_name:
        moved_from = run.monitors.get_monitor(recorded.table_id)
        if moved_from is not None and run.spec.on_immutable_change == "Refuse":
            what = f"tableName (the monitor is on {recorded.table_name}, the spec now names {table_name})"
            return _refuse_immutable(run, moved_from, recorded.table_name, [what])
    table_id, cached = table.table_id(run, table_name)
    schema_id = table.schema_id(run)
    if not run.observe_only and (refusal := ownership.claimed_by_another(run, table_name, table_id)) is not None:
        return refusal
    monitor = run.monitors.get_monitor(table_id)
    if monitor is None and cached:  # the table may have been dropped and created again: a new id
        fresh_id, _ = table.table_id(run, table_name, fresh=True)
        if fresh_id != table_id:
            table_id, monitor = fresh_id, run.monitors.get_monitor(fresh_id)
    if run.observe_only:
        return _observe(run, table_name, table_id, schema_id, monitor)
    if monitor is not None and monitor.status == "DELETE_PENDING":  # a delete (ours, or out of band) still running
        raise Waiting(c.MONITOR_PENDING, f"the monitor on {table_name} is being deleted; it is made again afterwards")
    if monitor is not None and (refusal := ownership.refusal(run, monitor, table_name, table_id)) is not None:
        return refusal  # checked before the old monitor goes, so a refused move changes nothing
    if moved_from is not None:
        assert recorded.table_id is not None
        why = f"tableName changed from {recorded.table_name} to {table_name}"
        writes.delete_for_recreate(run, recorded.table_id, why)
    if monitor is None:
        monitor = writes.create(run, table_name, table_id, schema_id, again=moved_from is not None)
        if not run.fresh and (refusal := ownership.refusal(run, monitor, table_name, table_id)) is not None:
            return refusal
    if not run.fresh:
        immutable = config.immutable_changes(run.spec, monitor, schema_id)
        if immutable and run.spec.on_immutable_change == "Refuse":
            return _refuse_immutable(run, monitor, table_name, immutable)
        if immutable:
            writes.delete_for_recreate(run, table_id, "; ".join(immutable))
            monitor = writes.create(run, table_name, table_id, schema_id, again=True)
        else:
            monitor = writes.update(run, monitor, table_id)
    return report.outcome(run, table_name, table_id, schema_id, monitor)


def _observe(
    run: MonitorRun, table_name: str, table_id: str, schema_id: str, monitor: ObservedMonitor | None
) -> Outcome:
    """ObserveOnly: report the monitor and how it differs from the spec (immutable fields too); never write."""
    if monitor is None:
        missing = f"no monitor on {table_name} (ObserveOnly never creates one)"
        return run.failed(c.EXTERNAL_OBJECT_MISSING, missing, retry=None)
    immutable = config.immutable_changes(run.spec, monitor, schema_id)
    for difference in immutable + [how for _, how in config.differences(run.spec, monitor.config)]:
        run.may_write(difference)
    return report.outcome(run, table_name, table_id, schema_id, monitor)


def _refuse_immutable(run: MonitorRun, monitor: ObservedMonitor, table_name: str, changed: list[str]) -> Outcome:
    message = (
        "cannot change in place: " + "; ".join(changed) + ". Nothing was changed: put the field back, or set "
        "spec.onImmutableChange: Recreate to delete the monitor and create it again"
    )
    observed = report.fields(run, table_name, monitor.table_id, monitor)
    return run.failed(c.IMMUTABLE_FIELD_CHANGED, message, retry=None, observed=observed)
