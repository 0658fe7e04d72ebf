"""What status says about a monitor: its fields, its health, and its latest refresh.

Creating a monitor and refreshing it are asynchronous (minutes): a monitor being set up or
failed holds Ready at False, and a running refresh is looked at again soon. Refreshes are
listed when the monitor turns active or the spec changes, while one runs, and once an hour
otherwise, so the steady state costs one read (the monitor).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from controller.kinds.modelmonitor.config import set_fields
from controller.kinds.modelmonitor.observed import Json, ObservedMonitor, ObservedRefresh
from controller.kinds.modelmonitor.run import MonitorRun
from controller.reconciling.run import Holding
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome

REFRESH_CHECK = timedelta(hours=1)
ACTIVE = "ACTIVE"
PENDING_STATES = frozenset({"PENDING", "DELETE_PENDING"})


def outcome(run: MonitorRun, table_name: str, table_id: str, schema_id: str, monitor: ObservedMonitor) -> Outcome:
    """The monitor as the spec wants it (or, under ObserveOnly, with the drift the run recorded)."""
    refresh, checked = _latest_refresh(run, monitor, table_id)
    observed = fields(run, table_name, table_id, monitor)
    observed.update(outputSchemaId=schema_id, lastRefresh=_refresh_status(refresh), refreshesCheckedAt=_stamp(checked))
    if not run.observe_only:
        observed["managedFields"] = set_fields(run.spec)
    health = _health(run, table_name, monitor)
    running = refresh is not None and not refresh.finished  # follow the running refresh
    return run.outcome(
        observed,
        matches=f"monitor on {table_name} matches the spec",
        holding=health,
        look_again=run.request.poll_seconds if running else None,
    )


def fields(run: MonitorRun, table_name: str, table_id: str, monitor: ObservedMonitor) -> Json:
    """The monitor's status fields."""
    return {
        "tableName": table_name,
        "tableId": table_id,
        "monitorStatus": monitor.status,
        "dashboardId": monitor.dashboard_id,
        "profileMetricsTable": monitor.profile_metrics_table,
        "driftMetricsTable": monitor.drift_metrics_table,
        "url": run.monitors.table_url(table_name),
        "drift": list(run.drift),
    }


def _health(run: MonitorRun, table_name: str, monitor: ObservedMonitor) -> Holding | None:
    """Ready=False while the service sets the monitor up or after it failed; None when it is active."""
    previous = run.recorded.monitor_status
    if monitor.status in PENDING_STATES:
        message = f"monitor on {table_name} is {monitor.status}: Databricks is still setting it up"
        return Holding(c.Verdict(False, c.MONITOR_PENDING, message), retry=run.request.poll_seconds)
    if monitor.status != ACTIVE:
        reason = monitor.failure_message or "Databricks gave no reason"
        message = f"monitor on {table_name} is {monitor.status}: {reason}"
        notes = (Note(c.MONITOR_ERROR, message, warning=True),) if previous != monitor.status else ()
        return Holding(c.Verdict(False, c.MONITOR_ERROR, message), notes=notes)
    if previous is not None and previous != ACTIVE:
        run.note("MonitorActive", f"monitor on {table_name} is active (dashboard {monitor.dashboard_id})")
    return None


def _latest_refresh(
    run: MonitorRun, monitor: ObservedMonitor, table_id: str
) -> tuple[ObservedRefresh | None, datetime | None]:
    """The latest refresh and when refreshes were listed; listed again only when due."""
    recorded = run.recorded
    if run.fresh:
        return None, None  # a new monitor has no refreshes yet
    last, checked = recorded.last_refresh, recorded.refreshes_checked_at
    if recorded.table_id not in (None, table_id):
        last, checked = None, None  # those were another table's
    if monitor.status != ACTIVE:
        return last, checked
    due = (
        checked is None
        or run.request.spec_changed
        or recorded.monitor_status != ACTIVE
        or (last is not None and not last.finished)
        or run.request.now - checked >= REFRESH_CHECK
    )
    if due:
        return run.monitors.latest_refresh(table_id), run.request.now
    return last, checked


def _refresh_status(refresh: ObservedRefresh | None) -> Json | None:
    return refresh.as_status() if refresh is not None else None


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None
