"""Reconcile a ModelMonitor: find the table, find or create its monitor, update what differs, report.

A monitor belongs to a table (one per table) and is addressed by the table's id, so the
table name is resolved first: from spec.tableName, or from the referenced ServingEndpoint's
inference table, waiting while it does not exist yet. Monitors carry no tags, so ownership is
kept two ways: the table id recorded in status once this resource made (or took over) the
monitor, and the assets directory, which names this resource's dashboard folder. A monitor on
the table that matches neither is someone else's and is left alone.

Only fields the user set are compared (the service fills in the rest); one the resource set
earlier and no longer lists is cleared. Updates go through `update_monitor` with a field mask.
The table, the output schema and the assets directory cannot change in place: spec.onImmutableChange
says whether to refuse (report and change nothing) or to delete the monitor and create it again.

Steady state costs one read per drift interval (the monitor): the table and schema ids come
from status, and refreshes are listed when the monitor turns active or the spec changes, while a
refresh runs, and once an hour otherwise.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from controller.clients import errors
from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.modelmonitor.observed import EndpointView, ObservedMonitor, ObservedRefresh
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome, failure, record_change

Json = dict[str, Any]

UNAVAILABLE_RETRY_SECONDS = 10.0
REFRESH_CHECK = timedelta(hours=1)
ACTIVE = "ACTIVE"
PENDING_STATES = frozenset({"PENDING", "DELETE_PENDING"})

_PROBLEM_TYPES = {
    "classification": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
    "regression": "INFERENCE_PROBLEM_TYPE_REGRESSION",
}


class Monitors(Protocol):
    """What the reconcile needs from Unity Catalog and the Data Quality API."""

    def table_id(self, full_name: str) -> str | None: ...
    def schema_id(self, full_name: str) -> str | None: ...
    def get_monitor(self, table_id: str) -> ObservedMonitor | None: ...
    def create_monitor(self, table_id: str, config: Json) -> ObservedMonitor: ...
    def update_monitor(self, table_id: str, config: Json, mask: list[str]) -> ObservedMonitor: ...
    def delete_monitor(self, table_id: str) -> None: ...
    def latest_refresh(self, table_id: str) -> ObservedRefresh | None: ...
    def table_url(self, full_name: str) -> str: ...


@dataclass(frozen=True)
class Recorded:
    """What status remembers from earlier reconciles."""

    table_name: str | None = None
    table_id: str | None = None
    output_schema_id: str | None = None
    monitor_status: str | None = None
    managed_fields: tuple[str, ...] = ()
    last_refresh: ObservedRefresh | None = None
    refreshes_checked_at: datetime | None = None


def _nobody(_table_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    spec_changed: bool  # this generation has not been applied yet
    now: datetime
    recorded: Recorded = Recorded()
    endpoint: EndpointView | None = None  # the referenced ServingEndpoint; None when it does not exist
    claimant: Callable[[str], str | None] = _nobody  # another resource managing the monitor on a table id
    poll_seconds: float = 15.0  # how soon to look again while waiting or while something is in progress


@dataclass(frozen=True)
class _Field:
    """An optional spec field: compared and written only when the user set it."""

    name: str  # camelCase, as status.managedFields and messages show it
    mask: tuple[str, ...]  # update_mask paths under data_profiling_config that set it
    clear: tuple[str, ...]  # paths that remove it
    wanted: Callable[[ModelMonitorSpec], Any]  # comparable value from the spec
    current: Callable[[Json], Any]  # comparable value from the monitor's config
    payload: Callable[[ModelMonitorSpec], Json]  # what to send


def _schedule(spec: ModelMonitorSpec) -> Json:
    assert spec.schedule is not None
    return {"quartz_cron_expression": spec.schedule.cron, "timezone_id": spec.schedule.timezone}


def _emails(spec: ModelMonitorSpec) -> list[str]:
    return list(spec.notifications.on_failure) if spec.notifications else []


def _current_schedule(config: Json) -> Json | None:
    schedule = config.get("schedule")
    if not schedule:
        return None
    return {k: schedule.get(k) for k in ("quartz_cron_expression", "timezone_id")}


def _current_emails(config: Json) -> list[str]:
    return sorted(((config.get("notification_settings") or {}).get("on_failure") or {}).get("email_addresses") or [])


_OPTIONAL = (
    _Field(
        name="schedule",
        # Cron and time zone only: a schedule paused in the UI stays paused.
        mask=("schedule.quartz_cron_expression", "schedule.timezone_id"),
        clear=("schedule",),
        wanted=_schedule,
        current=lambda config: _current_schedule(config),
        payload=lambda spec: {"schedule": _schedule(spec)},
    ),
    _Field(
        name="slicingExpressions",
        mask=("slicing_exprs",),
        clear=("slicing_exprs",),
        wanted=lambda spec: list(spec.slicing_expressions),
        current=lambda config: list(config.get("slicing_exprs") or []),
        payload=lambda spec: {"slicing_exprs": list(spec.slicing_expressions)},
    ),
    _Field(
        name="baselineTableName",
        mask=("baseline_table_name",),
        clear=("baseline_table_name",),
        wanted=lambda spec: spec.baseline_table_name,
        current=lambda config: config.get("baseline_table_name"),
        payload=lambda spec: {"baseline_table_name": spec.baseline_table_name},
    ),
    _Field(
        name="notifications",
        mask=("notification_settings.on_failure",),
        clear=("notification_settings.on_failure",),
        wanted=lambda spec: sorted(_emails(spec)),
        current=_current_emails,
        payload=lambda spec: {"notification_settings": {"on_failure": {"email_addresses": _emails(spec)}}},
    ),
)
_SPEC_NAMES = {
    "schedule": "schedule",
    "slicingExpressions": "slicing_expressions",
    "baselineTableName": "baseline_table_name",
    "notifications": "notifications",
}


def set_fields(spec: ModelMonitorSpec) -> list[str]:
    """The optional fields the user wrote, by their camelCase names."""
    return [f.name for f in _OPTIONAL if _SPEC_NAMES[f.name] in spec.model_fields_set]


def inference_log(spec: ModelMonitorSpec) -> Json:
    """The inference-log profile in the Data Quality API's form."""
    log = spec.inference_log
    out: Json = {
        "problem_type": _PROBLEM_TYPES[log.problem_type],
        "prediction_column": log.prediction_column,
        "model_id_column": log.model_id_column,
        "timestamp_column": log.timestamp_column,
        "granularities": ["AGGREGATION_GRANULARITY_" + g.upper().replace(" ", "_") for g in log.granularities],
    }
    if log.label_column is not None:
        out["label_column"] = log.label_column
    return out


def desired_config(spec: ModelMonitorSpec, *, output_schema_id: str) -> Json:
    """The `data_profiling_config` to create the monitor with."""
    config: Json = {
        "output_schema_id": output_schema_id,
        "assets_dir": spec.assets_dir,
        "inference_log": inference_log(spec),
    }
    for name in set_fields(spec):
        config.update(_by_name(name).payload(spec))
    return config


def _by_name(name: str) -> _Field:
    return next(f for f in _OPTIONAL if f.name == name)


@dataclass
class _Run:
    """What one reconcile has done and found so far."""

    spec: ModelMonitorSpec
    request: Request
    monitors: Monitors
    notes: list[Note] = field(default_factory=list)
    corrections: int = 0
    fresh: bool = False  # the monitor was (re)created by this reconcile

    @property
    def recorded(self) -> Recorded:
        return self.request.recorded

    @property
    def observe_only(self) -> bool:
        return self.spec.management_policy == "ObserveOnly"

    def changed(self, what: str, *, drift: str) -> None:
        self.corrections += record_change(self.notes, what, spec_changed=self.request.spec_changed, drift=drift)

    def failed(self, reason: str, message: str, *, retry: float | None, observed: Json | None = None) -> Outcome:
        return failure(reason, message, notes=self.notes, retry=retry, corrections=self.corrections, observed=observed)

    def refused(self, reason: str, message: str) -> Outcome:
        """Ready=False for something only a person can settle; Synced stays True (nothing failed to apply)."""
        return Outcome(
            ready=c.Verdict(False, reason, message),
            synced=c.Verdict(True, c.RECONCILED, ""),
            notes=(*self.notes, Note(reason, message, warning=True)),
            drift_corrections=self.corrections,
        )

    def waiting(self, reason: str, message: str) -> Outcome:
        return Outcome(
            ready=c.Verdict(False, reason, message),
            synced=c.Verdict(True, c.RECONCILED, "applied everything that can be applied now"),
            notes=tuple(self.notes),
            retry_after=self.request.poll_seconds,
            drift_corrections=self.corrections,
        )


class _Wait(Exception):
    """Stop this reconcile: a dependency is not there yet."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def reconcile(spec: ModelMonitorSpec, *, monitors: Monitors, request: Request) -> Outcome:
    """Make the monitor match the spec (or, under ObserveOnly, report how it differs)."""
    run = _Run(spec=spec, request=request, monitors=monitors)
    try:
        return _reconcile(run)
    except _Wait as wait:
        return run.waiting(wait.reason, wait.message)
    except errors.Unavailable as exc:
        return run.failed(c.EXTERNAL_UNAVAILABLE, str(exc), retry=exc.retry_after or UNAVAILABLE_RETRY_SECONDS)
    except errors.Unauthorized as exc:
        return run.failed(c.CONNECTION_FAILED, f"Databricks refused the credentials: {exc}", retry=None)
    except (errors.Rejected, errors.NotFound, errors.AlreadyExists) as exc:
        return run.failed(c.EXTERNAL_REJECTED, str(exc), retry=None)


def delete(spec: ModelMonitorSpec, *, connect: Callable[[], Monitors], recorded: Recorded) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all. Deleting a monitor leaves its metric tables and
    dashboard in place (Databricks does not remove them).
    """
    known = recorded.table_name or spec.table_name
    name = known or "its table"
    if spec.deletion_policy == "Retain" or spec.management_policy == "ObserveOnly":
        return f"kept the monitor on {name} (deletionPolicy {spec.deletion_policy})"
    monitors = connect()
    table_id = recorded.table_id
    if table_id is None:  # never recorded: only a monitor made from this spec (an answer lost in a crash) is ours
        table_id = monitors.table_id(known) if known else None
        found = monitors.get_monitor(table_id) if table_id else None
        if table_id is None or found is None:
            return f"no monitor on {name} to delete"
        if found.assets_dir != spec.assets_dir:
            return f"kept the monitor on {name}: it was not made from this resource (assets in {found.assets_dir})"
    try:
        _write(functools.partial(monitors.delete_monitor, table_id))
    except errors.NotFound:
        return f"the monitor on {name} was already gone"
    return f"deleted the monitor on {name} (its metric tables and dashboard stay)"


def _reconcile(run: _Run) -> Outcome:
    table_name = _table_name(run)
    recorded = run.recorded
    moved_from: ObservedMonitor | None = None
    if not run.observe_only and recorded.table_id and recorded.table_name and recorded.table_name != table_name:
        moved_from = run.monitors.get_monitor(recorded.table_id)
        if moved_from is not None and run.spec.on_immutable_change == "Refuse":
            what = f"tableName (the monitor is on {recorded.table_name}, the spec now names {table_name})"
            return _refuse_immutable(run, moved_from, recorded.table_name, [what])
    table_id, cached = _table_id(run, table_name)
    schema_id = _schema_id(run)
    if not run.observe_only:
        claimant = run.request.claimant(table_id)
        if claimant is not None and claimant != run.request.owner:
            return run.refused(c.OWNED_BY_ANOTHER, f"the monitor on {table_name} is managed by {claimant}")
    monitor = run.monitors.get_monitor(table_id)
    if monitor is None and cached:  # the table may have been dropped and created again: a new id
        fresh_id, _ = _table_id(run, table_name, fresh=True)
        if fresh_id != table_id:
            table_id, monitor = fresh_id, run.monitors.get_monitor(fresh_id)
    if run.observe_only:
        return _observe(run, table_name, table_id, schema_id, monitor)
    if monitor is not None and monitor.status == "DELETE_PENDING":  # a delete (ours, or out of band) still running
        raise _Wait(c.MONITOR_PENDING, f"the monitor on {table_name} is being deleted; it is made again afterwards")
    if monitor is not None and (refusal := _ownership_refusal(run, monitor, table_name, table_id)) is not None:
        return refusal  # checked before the old monitor goes, so a refused move changes nothing
    if moved_from is not None:
        assert recorded.table_id is not None
        _delete_for_recreate(run, recorded.table_id, f"tableName changed from {recorded.table_name} to {table_name}")
    if monitor is None:
        monitor = _create(run, table_name, table_id, schema_id, again=moved_from is not None)
        if not run.fresh and (refusal := _ownership_refusal(run, monitor, table_name, table_id)) is not None:
            return refusal
    if not run.fresh:
        immutable = _immutable_changes(run, monitor, schema_id)
        if immutable and run.spec.on_immutable_change == "Refuse":
            return _refuse_immutable(run, monitor, table_name, immutable)
        if immutable:
            _delete_for_recreate(run, table_id, "; ".join(immutable))
            monitor = _create(run, table_name, table_id, schema_id, again=True)
        else:
            monitor = _update(run, monitor, table_id)
    return _outcome(run, table_name, table_id, schema_id, monitor)


def _table_name(run: _Run) -> str:
    """The table to monitor: spec.tableName, or the referenced endpoint's inference table."""
    if run.spec.table_name is not None:
        return run.spec.table_name
    assert run.spec.endpoint_ref is not None  # the CRD requires exactly one of the two
    name = run.spec.endpoint_ref.name
    endpoint = run.request.endpoint
    if endpoint is None:
        raise _Wait(c.WAITING_FOR_DEPENDENCY, f"ServingEndpoint {name} does not exist")
    if endpoint.inference_table_name:
        return endpoint.inference_table_name
    if not endpoint.capture_declared:
        message = f"ServingEndpoint {name} logs no inference table: set its spec.inferenceTable"
    elif not endpoint.ready:
        message = f"ServingEndpoint {name} has no inference table yet (the endpoint is not Ready)"
    else:
        message = f"ServingEndpoint {name} has no inference table yet"
    raise _Wait(c.WAITING_FOR_INFERENCE_TABLE, message)


def _table_id(run: _Run, table_name: str, *, fresh: bool = False) -> tuple[str, bool]:
    """The table's id and whether it came from status (no read) rather than from Unity Catalog."""
    recorded = run.recorded
    if not fresh and recorded.table_id and recorded.table_name == table_name:
        return recorded.table_id, True
    table_id = run.monitors.table_id(table_name)
    if table_id is None:
        via = f" (ServingEndpoint {run.spec.endpoint_ref.name})" if run.spec.endpoint_ref else ""
        raise _Wait(c.WAITING_FOR_INFERENCE_TABLE, f"table {table_name}{via} does not exist yet")
    return table_id, False


def _schema_id(run: _Run) -> str:
    """The output schema's id: from status while the applied spec holds, else from Unity Catalog."""
    if not run.request.spec_changed and run.recorded.output_schema_id:
        return run.recorded.output_schema_id
    schema_id = run.monitors.schema_id(run.spec.output_schema)
    if schema_id is None:
        raise _Wait(c.WAITING_FOR_DEPENDENCY, f"output schema {run.spec.output_schema} does not exist")
    return schema_id


def _write(action: Callable[[], Any]) -> Any:
    """A write refused for lack of rights is a refusal of this change, not of the credentials (reads worked)."""
    try:
        return action()
    except errors.Unauthorized as exc:
        raise errors.Rejected(f"permission denied: {exc}", code=exc.code) from exc


def _create(run: _Run, table_name: str, table_id: str, schema_id: str, *, again: bool) -> ObservedMonitor:
    """Create the monitor (`again`: in place of one just deleted).

    One that appeared meanwhile (a create re-sent after a lost answer, or someone else's) is returned as found,
    with run.fresh left False so that the caller checks whose it is.
    """
    config = desired_config(run.spec, output_schema_id=schema_id)
    try:
        created: ObservedMonitor = _write(lambda: run.monitors.create_monitor(table_id, config))
    except errors.AlreadyExists:
        found = run.monitors.get_monitor(table_id)
        if found is None:
            raise errors.Unavailable(f"the monitor on {table_name} exists and cannot be read yet") from None
        return found
    run.fresh = True
    if again:
        return created
    if run.recorded.table_id == table_id and not run.request.spec_changed:
        run.corrections += 1
        message = f"the monitor on {table_name} was deleted outside this resource; created it again"
        run.notes.append(Note("DriftCorrected", message))
    else:
        run.notes.append(Note("Created", f"created a monitor on {table_name}"))
    return created


def _delete_for_recreate(run: _Run, table_id: str, why: str) -> None:
    with contextlib.suppress(errors.NotFound):  # gone meanwhile: that is what was wanted
        _write(functools.partial(run.monitors.delete_monitor, table_id))
    run.notes.append(Note("Recreated", f"deleted the monitor to create it again: {why} (its metric tables stay)"))


def _ownership_refusal(run: _Run, monitor: ObservedMonitor, table_name: str, table_id: str) -> Outcome | None:
    """Whether the monitor found on the table is this resource's to manage.

    It is when status recorded it, or when its assets directory is spec.assetsDir: a monitor made
    from this spec by an attempt whose answer was lost, or one the user asks to take over by naming
    its folder. Anything else is someone else's and is never changed or deleted.
    """
    if run.recorded.table_id == table_id:
        return None
    if monitor.assets_dir == run.spec.assets_dir:
        message = f"managing the existing monitor on {table_name}: its assets directory is this resource's assetsDir"
        run.notes.append(Note("Adopted", message))
        return None
    message = (
        f"a monitor on {table_name} already exists and was not made from this resource (its assets are in "
        f"{monitor.assets_dir}); to take it over, set spec.assetsDir to that folder"
    )
    return run.refused(c.ADOPTION_REQUIRED, message)


def _immutable_changes(run: _Run, monitor: ObservedMonitor, schema_id: str) -> list[str]:
    changed = []
    if monitor.assets_dir != run.spec.assets_dir:
        changed.append(f"assetsDir (the monitor's is {monitor.assets_dir}, the spec says {run.spec.assets_dir})")
    if monitor.output_schema_id != schema_id:
        changed.append(
            f"outputSchema (the monitor writes to schema id {monitor.output_schema_id}, "
            f"{run.spec.output_schema} is {schema_id})"
        )
    return changed


def _refuse_immutable(run: _Run, monitor: ObservedMonitor, table_name: str, changed: list[str]) -> Outcome:
    message = (
        "cannot change in place: " + "; ".join(changed) + ". Nothing was changed: put the field back, or set "
        "spec.onImmutableChange: Recreate to delete the monitor and create it again"
    )
    observed = _report(run, table_name, monitor.table_id, monitor)
    return run.failed(c.IMMUTABLE_FIELD_CHANGED, message, retry=None, observed=observed)


def _differences(spec: ModelMonitorSpec, config: Json) -> list[tuple[str, str]]:
    """(field, how it differs) for every field the user set that the monitor does not hold."""
    found: list[tuple[str, str]] = []
    wanted_log = inference_log(spec)
    current_log = config.get("inference_log") or {}
    log_diffs = [
        key
        for key, value in wanted_log.items()
        if (sorted(value) if key == "granularities" else value)
        != (sorted(current_log.get(key) or []) if key == "granularities" else current_log.get(key))
    ]
    if log_diffs:
        found.append(("inferenceLog", "inferenceLog " + ", ".join(log_diffs) + " differ"))
    for name in set_fields(spec):
        f = _by_name(name)
        wanted, current = f.wanted(spec), f.current(config)
        if wanted != current:
            found.append((name, f"{name} is {current!r}, the spec says {wanted!r}"))
    return found


def _update(run: _Run, monitor: ObservedMonitor, table_id: str) -> ObservedMonitor:
    """One update_monitor call for every user-set field that differs and every dropped field still set."""
    diffs = _differences(run.spec, monitor.config)
    dropped = [
        name
        for name in run.recorded.managed_fields
        if name in _SPEC_NAMES
        and name not in set_fields(run.spec)
        and _by_name(name).current(monitor.config) not in (None, [])
    ]
    if not diffs and not dropped:
        return monitor
    config: Json = {"output_schema_id": monitor.output_schema_id}
    mask: list[str] = []
    for name, _ in diffs:
        if name == "inferenceLog":
            log = inference_log(run.spec)
            label = (monitor.config.get("inference_log") or {}).get("label_column")
            if "label_column" not in log and label is not None:  # not set by the user: keep the monitor's
                log["label_column"] = label
            config["inference_log"] = log
            mask.append("inference_log")
        else:
            config.update(_by_name(name).payload(run.spec))
            mask.extend(_by_name(name).mask)
    for name in dropped:
        mask.extend(_by_name(name).clear)
    updated: ObservedMonitor = _write(
        lambda: run.monitors.update_monitor(table_id, config, [f"data_profiling_config.{p}" for p in mask])
    )
    what = [how for _, how in diffs] + [f"{name} is no longer in the spec" for name in dropped]
    fields = ", ".join([name for name, _ in diffs] + dropped)
    run.changed(f"updated the monitor's {fields}", drift=f"{'; '.join(what)}: changed outside the spec, put back")
    return updated


def _observe(run: _Run, table_name: str, table_id: str, schema_id: str, monitor: ObservedMonitor | None) -> Outcome:
    """ObserveOnly: report the monitor and how it differs from the spec; never write."""
    if monitor is None:
        return run.failed(
            c.EXTERNAL_OBJECT_MISSING, f"no monitor on {table_name} (ObserveOnly never creates one)", retry=None
        )
    drift = _immutable_changes(run, monitor, schema_id) + [how for _, how in _differences(run.spec, monitor.config)]
    refresh, checked = _latest_refresh(run, monitor, table_id)
    observed = _report(run, table_name, table_id, monitor)
    observed.update(
        outputSchemaId=schema_id, drift=drift, lastRefresh=_refresh_status(refresh), refreshesCheckedAt=_stamp(checked)
    )
    health = _monitor_health(run, table_name, monitor, refresh)
    if health is not None:
        return Outcome(
            ready=health.ready,
            synced=c.Verdict(True, c.RECONCILED, ""),
            observed=observed,
            notes=(*run.notes, *health.notes),
            retry_after=health.retry_after,
        )
    notes = list(run.notes)
    if drift:
        notes.append(Note(c.DRIFT_DETECTED, f"monitor on {table_name}: " + "; ".join(drift), warning=True))
        ready = c.Verdict(True, c.DRIFT_DETECTED, "ObserveOnly: " + "; ".join(drift))
    else:
        ready = c.Verdict(True, c.OBSERVED, f"monitor on {table_name} matches the spec (ObserveOnly)")
    return Outcome(
        ready=ready,
        synced=c.Verdict(True, c.RECONCILED, ""),
        observed=observed,
        notes=tuple(notes),
        retry_after=_refresh_retry(run, refresh),
    )


@dataclass(frozen=True)
class _Health:
    ready: c.Verdict
    notes: tuple[Note, ...]
    retry_after: float | None


def _monitor_health(
    run: _Run, table_name: str, monitor: ObservedMonitor, refresh: ObservedRefresh | None
) -> _Health | None:
    """Ready=False while the service sets the monitor up or after it failed; None when it is active."""
    previous = run.recorded.monitor_status
    if monitor.status in PENDING_STATES:
        message = f"monitor on {table_name} is {monitor.status}: Databricks is still setting it up"
        return _Health(c.Verdict(False, c.MONITOR_PENDING, message), (), run.request.poll_seconds)
    if monitor.status != ACTIVE:
        reason = monitor.failure_message or "Databricks gave no reason"
        message = f"monitor on {table_name} is {monitor.status}: {reason}"
        notes = (Note(c.MONITOR_ERROR, message, warning=True),) if previous != monitor.status else ()
        return _Health(c.Verdict(False, c.MONITOR_ERROR, message), notes, None)
    if previous is not None and previous != ACTIVE:
        run.notes.append(Note("MonitorActive", f"monitor on {table_name} is active (dashboard {monitor.dashboard_id})"))
    return None


def _latest_refresh(
    run: _Run, monitor: ObservedMonitor, table_id: str
) -> tuple[ObservedRefresh | None, datetime | None]:
    """The latest refresh: listed when the monitor turns active or the spec changes, while one runs, and hourly."""
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


def _refresh_retry(run: _Run, refresh: ObservedRefresh | None) -> float | None:
    return run.request.poll_seconds if refresh is not None and not refresh.finished else None


def _report(run: _Run, table_name: str, table_id: str, monitor: ObservedMonitor) -> Json:
    """The monitor's status fields."""
    return {
        "tableName": table_name,
        "tableId": table_id,
        "monitorStatus": monitor.status,
        "dashboardId": monitor.dashboard_id,
        "profileMetricsTable": monitor.profile_metrics_table,
        "driftMetricsTable": monitor.drift_metrics_table,
        "url": run.monitors.table_url(table_name),
        "drift": [],
    }


def _refresh_status(refresh: ObservedRefresh | None) -> Json | None:
    return refresh.as_status() if refresh is not None else None


def _stamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _outcome(run: _Run, table_name: str, table_id: str, schema_id: str, monitor: ObservedMonitor) -> Outcome:
    refresh, checked = _latest_refresh(run, monitor, table_id)
    observed = _report(run, table_name, table_id, monitor)
    observed.update(
        outputSchemaId=schema_id,
        managedFields=set_fields(run.spec),
        lastRefresh=_refresh_status(refresh),
        refreshesCheckedAt=_stamp(checked),
    )
    synced = c.Verdict(True, c.RECONCILED, "")
    health = _monitor_health(run, table_name, monitor, refresh)
    if health is not None:
        return Outcome(
            ready=health.ready,
            synced=synced,
            observed=observed,
            notes=(*run.notes, *health.notes),
            retry_after=health.retry_after,
            drift_corrections=run.corrections,
        )
    return Outcome(
        ready=c.Verdict(True, c.RECONCILED, f"monitor on {table_name} matches the spec"),
        synced=synced,
        observed=observed,
        notes=tuple(run.notes),
        retry_after=_refresh_retry(run, refresh),
        drift_corrections=run.corrections,
    )
