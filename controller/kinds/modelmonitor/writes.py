"""The writes to a monitor: create it, update what differs, delete it to create it again.

A monitor is one object written in one call, so a refusal stops the reconcile (there is no other
part of the spec to go on with). A write refused for lack of rights is a refusal of that change,
not of the credentials: the reads before it worked.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import TypeVar

from controller.clients import errors
from controller.kinds.modelmonitor import config
from controller.kinds.modelmonitor.observed import ObservedMonitor
from controller.kinds.modelmonitor.run import MonitorRun

T = TypeVar("T")


def write(action: Callable[[], T]) -> T:
    """Run a write; Unauthorized (this principal may not change this monitor) becomes Rejected."""
    try:
        return action()
    except errors.Unauthorized as exc:
        raise errors.Rejected(f"permission denied: {exc}", code=exc.code) from exc


def create(run: MonitorRun, table_name: str, table_id: str, schema_id: str, *, again: bool) -> ObservedMonitor:
    """Create the monitor (`again`: in place of one just deleted).

    One that appeared meanwhile (a create re-sent after a lost answer, or someone else's) is returned as found,
    with run.fresh left False so that the caller checks whose it is.
    """
    desired = config.desired_config(run.spec, output_schema_id=schema_id)
    try:
        created = write(lambda: run.monitors.create_monitor(table_id, desired))
    except errors.AlreadyExists:
        found = run.monitors.get_monitor(table_id)
        if found is None:
            raise errors.Unavailable(f"the monitor on {table_name} exists and cannot be read yet") from None
        return found
    run.fresh = True
    if again:
        return created
    if run.recorded.table_id == table_id and not run.request.spec_changed:
        gone = f"the monitor on {table_name} was deleted outside this resource; created it again"
        run.changed(f"created a monitor on {table_name}", drift=gone)
    else:
        run.note("Created", f"created a monitor on {table_name}")
    return created


def delete_for_recreate(run: MonitorRun, table_id: str, why: str) -> None:
    with contextlib.suppress(errors.NotFound):  # gone meanwhile: that is what was wanted
        write(functools.partial(run.monitors.delete_monitor, table_id))
    run.note("Recreated", f"deleted the monitor to create it again: {why} (its metric tables stay)")


def update(run: MonitorRun, monitor: ObservedMonitor, table_id: str) -> ObservedMonitor:
    """One update_monitor call for every user-set field that differs and every dropped field still set."""
    diffs = config.differences(run.spec, monitor.config)
    dropped = config.dropped(run.spec, run.recorded.managed_fields, monitor.config)
    if not diffs and not dropped:
        return monitor
    fields = [name for name, _ in diffs]
    patch, mask = config.update(run.spec, monitor, fields, dropped)
    updated = write(lambda: run.monitors.update_monitor(table_id, patch, mask))
    what = [how for _, how in diffs] + [f"{name} is no longer in the spec" for name in dropped]
    written = ", ".join(fields + dropped)
    run.changed(f"updated the monitor's {written}", drift=f"{'; '.join(what)}: changed outside the spec, put back")
    return updated
