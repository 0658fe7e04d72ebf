"""ModelMonitor reconcile over a fake Unity Catalog + Data Quality API: a table of named cases."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.modelmonitor import reconcile as modelmonitor
from controller.kinds.modelmonitor.handlers import KIND
from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.modelmonitor.observed import ObservedMonitor, ObservedRefresh
from controller.kinds.servingendpoint.published import EndpointView
from controller.status import conditions as c
from controller.status.outcome import Outcome

Json = dict[str, Any]
OWNER = "risk/fraud"
TABLE = "main.risk.fraud_payload"
OTHER_TABLE = "main.risk.fraud_payload_v2"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
WRITES = ("create_monitor", "update_monitor", "delete_monitor")
IMMUTABLE = ("assets_dir", "output_schema_id")

SPEC: Json = {
    "workspaceRef": {"name": "dbx"},
    "tableName": TABLE,
    "outputSchema": "main.monitoring",
    "assetsDir": "/Workspace/Shared/monitors/fraud",
    "inferenceLog": {
        "problemType": "classification",
        "predictionColumn": "prediction",
        "labelColumn": "label",
        "modelIdColumn": "model_id",
        "timestampColumn": "timestamp",
        "granularities": ["1 day", "1 hour"],
    },
    "schedule": {"cron": "0 0 6 * * ?", "timezone": "UTC"},
    "deletionPolicy": "Delete",
}


class FakeMonitors:
    """Tables, schemas and monitors in memory; the service fills defaults and refuses what Databricks refuses."""

    def __init__(self) -> None:
        self.tables: dict[str, str] = {TABLE: "t-1", OTHER_TABLE: "t-2"}
        self.schemas: dict[str, str] = {"main.monitoring": "s-1", "main.other": "s-2"}
        self.monitors: dict[str, Json] = {}
        self.status: dict[str, tuple[str, str]] = {}
        self.refreshes: dict[str, list[ObservedRefresh]] = {}
        self.calls: list[str] = []
        self.masks: list[list[str]] = []
        self.refuse: dict[str, errors.ExternalError] = {}

    @property
    def writes(self) -> list[str]:
        return [call for call in self.calls if call in WRITES]

    def add(self, table_id: str, config: Json, status: str = "ACTIVE") -> None:
        self.monitors[table_id] = _stored(config)
        self.status[table_id] = (status, "")

    def table_id(self, full_name: str) -> str | None:
        self._call("table_id")
        return self.tables.get(full_name)

    def schema_id(self, full_name: str) -> str | None:
        self._call("schema_id")
        return self.schemas.get(full_name)

    def get_monitor(self, table_id: str) -> ObservedMonitor | None:
        self._call("get_monitor")
        return self._observed(table_id) if table_id in self.monitors else None

    def create_monitor(self, table_id: str, config: Json) -> ObservedMonitor:
        self._call("create_monitor")
        if table_id in self.monitors:
            raise errors.AlreadyExists(f"Monitor for table {table_id} already exists.")
        self.add(table_id, config, status="PENDING")
        return self._observed(table_id)

    def update_monitor(self, table_id: str, config: Json, mask: list[str]) -> ObservedMonitor:
        self._call("update_monitor")
        self.masks.append(mask)
        stored = copy.deepcopy(self.monitors[table_id])
        for path in mask:
            head, *parts = path.split(".")
            assert head == "data_profiling_config", path
            value = _get(config, parts)
            target = stored
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            if value is None:
                target.pop(parts[-1], None)
            else:
                target[parts[-1]] = value
        for key in IMMUTABLE:
            if stored.get(key) != self.monitors[table_id].get(key):
                raise errors.Rejected(f"Field 'data_profiling_config.{key}' cannot be updated.")
        self.monitors[table_id] = _stored(stored)
        return self._observed(table_id)

    def delete_monitor(self, table_id: str) -> None:
        self._call("delete_monitor")
        if self.monitors.pop(table_id, None) is None:
            raise errors.NotFound(f"Monitor for table {table_id} does not exist.")

    def latest_refresh(self, table_id: str) -> ObservedRefresh | None:
        self._call("latest_refresh")
        found = self.refreshes.get(table_id) or []
        return found[-1] if found else None

    def table_url(self, full_name: str) -> str:
        return "https://dbx.example/explore/data/" + full_name.replace(".", "/")

    def _observed(self, table_id: str) -> ObservedMonitor:
        status, message = self.status[table_id]
        name = next(n for n, i in self.tables.items() if i == table_id).split(".")[-1]
        return ObservedMonitor(
            table_id=table_id,
            status=status,
            config=copy.deepcopy(self.monitors[table_id]),
            failure_message=message,
            dashboard_id="dash-1" if status == "ACTIVE" else None,
            profile_metrics_table=f"main.monitoring.{name}_profile_metrics",
            drift_metrics_table=f"main.monitoring.{name}_drift_metrics",
        )

    def _call(self, verb: str) -> None:
        self.calls.append(verb)
        if verb in self.refuse:
            raise self.refuse[verb]


def _stored(config: Json) -> Json:
    """A config as the service keeps it: the schedule's pause status filled in."""
    stored = copy.deepcopy(config)
    if stored.get("schedule"):
        stored["schedule"].setdefault("pause_status", "CRON_SCHEDULE_PAUSE_STATUS_UNPAUSED")
    return stored


def _get(source: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(source, dict):
            return None
        source = source.get(part)
    return copy.deepcopy(source)


def _spec(**changes: Any) -> ModelMonitorSpec:
    raw = copy.deepcopy(SPEC)
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return ModelMonitorSpec.model_validate(raw)


def _config(spec: ModelMonitorSpec, schema_id: str = "s-1") -> Json:
    return modelmonitor.desired_config(spec, output_schema_id=schema_id)


NOTHING_RECORDED = modelmonitor.Recorded()


def _recorded(outcome: Outcome, previous: modelmonitor.Recorded = NOTHING_RECORDED) -> modelmonitor.Recorded:
    """What the handler reads back from status after this outcome was written (status patches merge)."""
    o = outcome.observed
    refresh = o.get("lastRefresh", ...)
    checked = o.get("refreshesCheckedAt", ...)
    return modelmonitor.Recorded(
        table_name=o.get("tableName", previous.table_name),
        table_id=o.get("tableId", previous.table_id),
        output_schema_id=o.get("outputSchemaId", previous.output_schema_id),
        monitor_status=o.get("monitorStatus", previous.monitor_status),
        managed_fields=tuple(o.get("managedFields", previous.managed_fields)),
        last_refresh=previous.last_refresh
        if refresh is ...
        else (ObservedRefresh(refresh["refreshId"], refresh["state"], refresh["message"]) if refresh else None),
        refreshes_checked_at=previous.refreshes_checked_at
        if checked is ...
        else (datetime.fromisoformat(checked) if checked else None),
    )


def _request(**changes: Any) -> modelmonitor.Request:
    base = modelmonitor.Request(owner=OWNER, spec_changed=True, now=NOW, poll_seconds=5.0)
    return replace(base, **changes)


def _ours(fake: FakeMonitors, *, status: str = "ACTIVE", spec: ModelMonitorSpec | None = None) -> modelmonitor.Recorded:
    """An ACTIVE monitor this resource made earlier, and the status that recorded it."""
    fake.add("t-1", _config(spec or _spec()), status=status)
    return modelmonitor.Recorded(
        table_name=TABLE,
        table_id="t-1",
        output_schema_id="s-1",
        monitor_status=status,
        managed_fields=("schedule",),
        refreshes_checked_at=NOW - timedelta(minutes=5),
    )


@dataclass(frozen=True)
class Case:
    """One reconcile: arrange the fake, then check the outcome."""

    arrange: Callable[[FakeMonitors], tuple[ModelMonitorSpec, modelmonitor.Request]]
    ready: bool
    reason: str
    synced: bool = True
    writes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    message: str = ""
    retry: bool = False
    observed: Json = field(default_factory=dict)


def _create(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    return _spec(), _request()


def _table_missing(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    del fake.tables[TABLE]
    return _spec(), _request()


def _endpoint_missing(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    return _spec(tableName=None, endpointRef={"name": "fraud"}), _request(endpoint=None)


def _endpoint_not_ready(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    endpoint = EndpointView(inference_table_name=None, ready=False, capture_declared=True)
    return _spec(tableName=None, endpointRef={"name": "fraud"}), _request(endpoint=endpoint)


def _endpoint_without_capture(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    endpoint = EndpointView(inference_table_name=None, ready=True, capture_declared=False)
    return _spec(tableName=None, endpointRef={"name": "fraud"}), _request(endpoint=endpoint)


def _endpoint_table_not_created(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    endpoint = EndpointView(inference_table_name="main.risk.fraud_new_payload", ready=True, capture_declared=True)
    return _spec(tableName=None, endpointRef={"name": "fraud"}), _request(endpoint=endpoint)


def _endpoint_table(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    endpoint = EndpointView(inference_table_name=OTHER_TABLE, ready=True, capture_declared=True)
    return _spec(tableName=None, endpointRef={"name": "fraud"}), _request(endpoint=endpoint)


def _schema_missing(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    return _spec(outputSchema="main.nowhere"), _request()


def _active(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = replace(_ours(fake), monitor_status="PENDING", refreshes_checked_at=None)
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _error(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake, status="PENDING")
    fake.status["t-1"] = ("ERROR", "Column 'label' does not exist in table main.risk.fraud_payload.")
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _schedule_changed_in_spec(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    return _spec(schedule={"cron": "0 0 7 * * ?", "timezone": "Europe/Paris"}), _request(recorded=recorded)


def _schedule_changed_out_of_band(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    fake.monitors["t-1"]["schedule"]["quartz_cron_expression"] = "0 0 * * * ?"
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _paused_out_of_band(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    fake.monitors["t-1"]["schedule"]["pause_status"] = "CRON_SCHEDULE_PAUSE_STATUS_PAUSED"
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _unset_field_changed_out_of_band(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    fake.monitors["t-1"]["slicing_exprs"] = ["country"]
    fake.monitors["t-1"]["baseline_table_name"] = "main.risk.baseline"
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _field_dropped_from_spec(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    return _spec(schedule=None), _request(recorded=recorded)


def _profile_changed_in_spec(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    log = {**SPEC["inferenceLog"], "granularities": ["1 day"], "problemType": "regression"}
    return _spec(inferenceLog=log, slicingExpressions=["country"]), _request(recorded=recorded)


def _assets_dir_refused(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    return _spec(assetsDir="/Workspace/Shared/monitors/fraud-v2"), _request(recorded=recorded)


def _assets_dir_recreated(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    spec = _spec(assetsDir="/Workspace/Shared/monitors/fraud-v2", onImmutableChange="Recreate")
    return spec, _request(recorded=recorded)


def _output_schema_refused(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    return _spec(outputSchema="main.other"), _request(recorded=recorded)


def _table_refused(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    return _spec(tableName=OTHER_TABLE), _request(recorded=recorded)


def _table_recreated(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    return _spec(tableName=OTHER_TABLE, onImmutableChange="Recreate"), _request(recorded=recorded)


def _table_move_waits_for_new_table(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    spec = _spec(tableName="main.risk.not_yet", onImmutableChange="Recreate")
    return spec, _request(recorded=recorded)


def _observe_drift(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.add("t-2", _config(_spec(), "s-2"))
    fake.monitors["t-2"]["schedule"]["quartz_cron_expression"] = "0 0 * * * ?"
    return _spec(tableName=OTHER_TABLE, managementPolicy="ObserveOnly"), _request()


def _observe_missing(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    return _spec(managementPolicy="ObserveOnly"), _request()


def _observe_match(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.add("t-1", _config(_spec()))
    return _spec(managementPolicy="ObserveOnly"), _request()


def _foreign_monitor(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.add("t-1", {**_config(_spec()), "assets_dir": "/Workspace/Users/someone/monitoring"})
    return _spec(), _request()


def _foreign_monitor_taken_over(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.add("t-1", {**_config(_spec()), "assets_dir": "/Workspace/Users/someone/monitoring"})
    fake.monitors["t-1"].pop("schedule")
    return _spec(assetsDir="/Workspace/Users/someone/monitoring"), _request()


def _lost_create_answer(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.add("t-1", _config(_spec()), status="PENDING")  # made by a create whose answer never arrived
    return _spec(), _request()


def _create_races(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    original = fake.get_monitor

    def appears_after_first_read(table_id: str) -> ObservedMonitor | None:
        found = original(table_id)
        if found is None:
            fake.add(table_id, {**_config(_spec()), "assets_dir": "/Workspace/Users/someone/monitoring"})
        return found

    fake.get_monitor = appears_after_first_read  # type: ignore[method-assign]
    return _spec(), _request()


def _claimed_by_another(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    return _spec(), _request(claimant=lambda table_id: "risk/other" if table_id == "t-1" else None)


def _deleted_out_of_band(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    del fake.monitors["t-1"]
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _table_recreated_with_new_id(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    del fake.monitors["t-1"]  # dropping a table drops its monitor
    fake.tables[TABLE] = "t-9"
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _being_deleted(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake, status="DELETE_PENDING")
    return _spec(assetsDir="/Workspace/Shared/monitors/fraud-v2", onImmutableChange="Recreate"), _request(
        recorded=recorded
    )


def _refresh_running(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    fake.refreshes["t-1"] = [ObservedRefresh("7", "RUNNING")]
    recorded = replace(recorded, last_refresh=ObservedRefresh("7", "PENDING"))
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _refresh_failed(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = replace(_ours(fake), refreshes_checked_at=NOW - timedelta(hours=2))
    fake.refreshes["t-1"] = [ObservedRefresh("8", "FAILED", "table is empty")]
    return _spec(), _request(spec_changed=False, recorded=recorded)


def _unavailable(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.refuse["get_monitor"] = errors.Unavailable("429 Too Many Requests", retry_after=3)
    return _spec(), _request()


def _not_the_creator(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    fake.refuse["update_monitor"] = errors.Unauthorized("Only the creator of the monitor can update it.")
    return _spec(schedule={"cron": "0 0 7 * * ?"}), _request(recorded=recorded)


def _refused_create(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.refuse["create_monitor"] = errors.Rejected("Invalid granularity.")
    return _spec(), _request()


def _gone_before_the_update(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    recorded = _ours(fake)
    fake.refuse["update_monitor"] = errors.NotFound("Monitor for table t-1 does not exist.")
    return _spec(schedule={"cron": "0 0 7 * * ?"}), _request(recorded=recorded)


def _observe_refresh_running(fake: FakeMonitors) -> tuple[ModelMonitorSpec, modelmonitor.Request]:
    fake.add("t-1", _config(_spec()))
    fake.refreshes["t-1"] = [ObservedRefresh("7", "RUNNING")]
    return _spec(managementPolicy="ObserveOnly"), _request()


CASES = {
    "create": Case(
        _create,
        ready=False,
        reason=c.MONITOR_PENDING,
        writes=("create_monitor",),
        notes=("Created",),
        retry=True,
        observed={"monitorStatus": "PENDING", "tableId": "t-1", "outputSchemaId": "s-1", "managedFields": ["schedule"]},
    ),
    "waiting-for-table": Case(
        _table_missing, ready=False, reason=c.WAITING_FOR_INFERENCE_TABLE, retry=True, message=TABLE
    ),
    "waiting-for-endpoint": Case(
        _endpoint_missing, ready=False, reason=c.WAITING_FOR_DEPENDENCY, retry=True, message="ServingEndpoint fraud"
    ),
    "waiting-for-endpoint-table": Case(
        _endpoint_not_ready, ready=False, reason=c.WAITING_FOR_INFERENCE_TABLE, retry=True, message="not Ready"
    ),
    "endpoint-logs-no-table": Case(
        _endpoint_without_capture,
        ready=False,
        reason=c.WAITING_FOR_INFERENCE_TABLE,
        retry=True,
        message="set its spec.inferenceTable",
    ),
    "waiting-for-endpoint-table-in-catalog": Case(
        _endpoint_table_not_created,
        ready=False,
        reason=c.WAITING_FOR_INFERENCE_TABLE,
        retry=True,
        message="main.risk.fraud_new_payload (ServingEndpoint fraud) does not exist yet",
    ),
    "create-on-endpoint-table": Case(
        _endpoint_table,
        ready=False,
        reason=c.MONITOR_PENDING,
        writes=("create_monitor",),
        notes=("Created",),
        retry=True,
        observed={"tableName": OTHER_TABLE, "tableId": "t-2"},
    ),
    "waiting-for-output-schema": Case(
        _schema_missing, ready=False, reason=c.WAITING_FOR_DEPENDENCY, retry=True, message="main.nowhere"
    ),
    "pending-to-active": Case(
        _active,
        ready=True,
        reason=c.RECONCILED,
        notes=("MonitorActive",),
        observed={"monitorStatus": "ACTIVE", "dashboardId": "dash-1", "refreshesCheckedAt": "2025-06-01T12:00:00Z"},
    ),
    "error": Case(
        _error,
        ready=False,
        reason=c.MONITOR_ERROR,
        notes=(c.MONITOR_ERROR,),
        message="ERROR: Column 'label' does not exist",
        observed={"monitorStatus": "ERROR"},
    ),
    "update-schedule": Case(
        _schedule_changed_in_spec, ready=True, reason=c.RECONCILED, writes=("update_monitor",), notes=("Updated",)
    ),
    "drift-schedule": Case(
        _schedule_changed_out_of_band,
        ready=True,
        reason=c.RECONCILED,
        writes=("update_monitor",),
        notes=("DriftCorrected",),
    ),
    "pause-is-not-drift": Case(_paused_out_of_band, ready=True, reason=c.RECONCILED),
    "fields-the-user-did-not-set-are-not-compared": Case(
        _unset_field_changed_out_of_band, ready=True, reason=c.RECONCILED
    ),
    "field-dropped-from-spec-is-cleared": Case(
        _field_dropped_from_spec,
        ready=True,
        reason=c.RECONCILED,
        writes=("update_monitor",),
        notes=("Updated",),
        observed={"managedFields": []},
    ),
    "update-profile-and-slicing": Case(
        _profile_changed_in_spec, ready=True, reason=c.RECONCILED, writes=("update_monitor",), notes=("Updated",)
    ),
    "immutable-assets-dir-refused": Case(
        _assets_dir_refused,
        ready=False,
        synced=False,
        reason=c.IMMUTABLE_FIELD_CHANGED,
        notes=(c.IMMUTABLE_FIELD_CHANGED,),
        message="assetsDir",
    ),
    "immutable-assets-dir-recreated": Case(
        _assets_dir_recreated,
        ready=False,
        reason=c.MONITOR_PENDING,
        writes=("delete_monitor", "create_monitor"),
        notes=("Recreated",),
        retry=True,
    ),
    "immutable-output-schema-refused": Case(
        _output_schema_refused,
        ready=False,
        synced=False,
        reason=c.IMMUTABLE_FIELD_CHANGED,
        notes=(c.IMMUTABLE_FIELD_CHANGED,),
        message="outputSchema",
    ),
    "immutable-table-refused": Case(
        _table_refused,
        ready=False,
        synced=False,
        reason=c.IMMUTABLE_FIELD_CHANGED,
        notes=(c.IMMUTABLE_FIELD_CHANGED,),
        message=f"tableName (the monitor is on {TABLE}, the spec now names {OTHER_TABLE})",
        observed={"tableName": TABLE, "tableId": "t-1"},
    ),
    "immutable-table-recreated": Case(
        _table_recreated,
        ready=False,
        reason=c.MONITOR_PENDING,
        writes=("delete_monitor", "create_monitor"),
        notes=("Recreated",),
        retry=True,
        observed={"tableName": OTHER_TABLE, "tableId": "t-2"},
    ),
    "table-move-keeps-old-monitor-until-new-table-exists": Case(
        _table_move_waits_for_new_table, ready=False, reason=c.WAITING_FOR_INFERENCE_TABLE, retry=True
    ),
    "observe-only-reports-drift": Case(
        _observe_drift, ready=True, reason=c.DRIFT_DETECTED, notes=(c.DRIFT_DETECTED,), message="outputSchema"
    ),
    "observe-only-missing": Case(
        _observe_missing,
        ready=False,
        synced=False,
        reason=c.EXTERNAL_OBJECT_MISSING,
        notes=(c.EXTERNAL_OBJECT_MISSING,),
    ),
    "observe-only-match": Case(_observe_match, ready=True, reason=c.OBSERVED),
    "foreign-monitor-needs-adopt": Case(
        _foreign_monitor,
        ready=False,
        reason=c.ADOPTION_REQUIRED,
        notes=(c.ADOPTION_REQUIRED,),
        message="set spec.assetsDir to that folder",
    ),
    "foreign-monitor-taken-over-by-naming-its-assets-dir": Case(
        _foreign_monitor_taken_over,
        ready=True,
        reason=c.RECONCILED,
        writes=("update_monitor",),
        notes=("Adopted", "Updated"),
    ),
    "monitor-from-a-lost-create-answer-is-ours": Case(
        _lost_create_answer, ready=False, reason=c.MONITOR_PENDING, notes=("Adopted",), retry=True
    ),
    "create-race-lost-to-someone-else": Case(
        _create_races,
        ready=False,
        reason=c.ADOPTION_REQUIRED,
        writes=("create_monitor",),
        notes=(c.ADOPTION_REQUIRED,),
    ),
    "claimed-by-another-resource": Case(
        _claimed_by_another,
        ready=False,
        reason=c.OWNED_BY_ANOTHER,
        notes=(c.OWNED_BY_ANOTHER,),
        message="risk/other",
    ),
    "deleted-out-of-band-is-recreated": Case(
        _deleted_out_of_band,
        ready=False,
        reason=c.MONITOR_PENDING,
        writes=("create_monitor",),
        notes=("DriftCorrected",),
        retry=True,
    ),
    "table-recreated-with-a-new-id": Case(
        _table_recreated_with_new_id,
        ready=False,
        reason=c.MONITOR_PENDING,
        writes=("create_monitor",),
        notes=("Created",),
        retry=True,
        observed={"tableId": "t-9"},
    ),
    "delete-still-running-is-waited-for": Case(
        _being_deleted, ready=False, reason=c.MONITOR_PENDING, retry=True, message="being deleted"
    ),
    "refresh-running-is-followed": Case(
        _refresh_running,
        ready=True,
        reason=c.RECONCILED,
        retry=True,
        observed={"lastRefresh": {"refreshId": "7", "state": "RUNNING", "message": ""}},
    ),
    "refresh-failed-is-reported-and-still-ready": Case(
        _refresh_failed,
        ready=True,
        reason=c.RECONCILED,
        observed={"lastRefresh": {"refreshId": "8", "state": "FAILED", "message": "table is empty"}},
    ),
    "unavailable": Case(
        _unavailable,
        ready=False,
        synced=False,
        reason=c.EXTERNAL_UNAVAILABLE,
        notes=(c.EXTERNAL_UNAVAILABLE,),
        retry=True,
    ),
    "update-by-another-principal-refused": Case(
        _not_the_creator,
        ready=False,
        synced=False,
        reason=c.EXTERNAL_REJECTED,
        writes=("update_monitor",),
        notes=(c.EXTERNAL_REJECTED,),
        message="Only the creator",
    ),
    "create-refused-with-databricks-message": Case(
        _refused_create,
        ready=False,
        synced=False,
        reason=c.EXTERNAL_REJECTED,
        writes=("create_monitor",),
        notes=(c.EXTERNAL_REJECTED,),
        message="Invalid granularity.",
    ),
    "monitor-gone-before-the-update-is-looked-at-again": Case(
        _gone_before_the_update,
        ready=False,
        synced=False,
        reason=c.EXTERNAL_REJECTED,
        writes=("update_monitor",),
        notes=(c.EXTERNAL_REJECTED,),
        retry=True,
        message="does not exist",
    ),
    "observe-only-follows-a-running-refresh": Case(
        _observe_refresh_running,
        ready=True,
        reason=c.OBSERVED,
        retry=True,
        observed={"lastRefresh": {"refreshId": "7", "state": "RUNNING", "message": ""}},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_reconcile(case: Case) -> None:
    fake = FakeMonitors()
    spec, request = case.arrange(fake)
    outcome = modelmonitor.reconcile(spec, monitors=fake, request=request)
    assert (outcome.ready.ok, outcome.ready.reason) == (case.ready, case.reason), outcome.ready
    assert outcome.synced.ok == case.synced, outcome.synced
    assert tuple(fake.writes) == case.writes
    assert tuple(n.reason for n in outcome.notes) == case.notes
    assert case.message in outcome.ready.message
    assert (outcome.retry_after is not None) == case.retry, outcome.retry_after
    for key, value in case.observed.items():
        assert outcome.observed[key] == value, key


def test_a_monitor_changed_meanwhile_is_looked_at_again_soon_and_a_refusal_is_not() -> None:
    retries = []
    for arrange in (_gone_before_the_update, _refused_create):
        fake = FakeMonitors()
        spec, request = arrange(fake)
        retries.append(modelmonitor.reconcile(spec, monitors=fake, request=request).retry_after)
    assert retries == [30.0, None]


def test_created_monitor_carries_the_spec_in_the_apis_form() -> None:
    fake = FakeMonitors()
    spec = _spec(
        slicingExpressions=["country", "amount > 100"],
        baselineTableName="main.risk.fraud_payload_baseline",
        notifications={"onFailure": ["ml-oncall@example.com"]},
    )
    modelmonitor.reconcile(spec, monitors=fake, request=_request())
    assert fake.monitors["t-1"] == {
        "output_schema_id": "s-1",
        "assets_dir": "/Workspace/Shared/monitors/fraud",
        "inference_log": {
            "problem_type": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
            "prediction_column": "prediction",
            "label_column": "label",
            "model_id_column": "model_id",
            "timestamp_column": "timestamp",
            "granularities": ["AGGREGATION_GRANULARITY_1_DAY", "AGGREGATION_GRANULARITY_1_HOUR"],
        },
        "schedule": {
            "quartz_cron_expression": "0 0 6 * * ?",
            "timezone_id": "UTC",
            "pause_status": "CRON_SCHEDULE_PAUSE_STATUS_UNPAUSED",
        },
        "slicing_exprs": ["country", "amount > 100"],
        "baseline_table_name": "main.risk.fraud_payload_baseline",
        "notification_settings": {"on_failure": {"email_addresses": ["ml-oncall@example.com"]}},
    }


def test_updates_send_only_the_fields_that_differ() -> None:
    fake = FakeMonitors()
    recorded = _ours(fake)
    fake.monitors["t-1"]["schedule"]["pause_status"] = "CRON_SCHEDULE_PAUSE_STATUS_PAUSED"
    spec = _spec(schedule={"cron": "0 0 7 * * ?", "timezone": "UTC"})
    modelmonitor.reconcile(spec, monitors=fake, request=_request(recorded=recorded))
    assert fake.masks == [
        [
            "data_profiling_config.schedule.quartz_cron_expression",
            "data_profiling_config.schedule.timezone_id",
        ]
    ]
    schedule = fake.monitors["t-1"]["schedule"]
    assert schedule["quartz_cron_expression"] == "0 0 7 * * ?"
    assert schedule["pause_status"] == "CRON_SCHEDULE_PAUSE_STATUS_PAUSED"  # a pause made in the UI stays


def test_label_column_not_in_spec_is_kept_when_the_profile_changes() -> None:
    fake = FakeMonitors()
    recorded = _ours(fake)
    log = {k: v for k, v in SPEC["inferenceLog"].items() if k != "labelColumn"} | {"granularities": ["1 week"]}
    modelmonitor.reconcile(_spec(inferenceLog=log), monitors=fake, request=_request(recorded=recorded))
    assert fake.monitors["t-1"]["inference_log"]["label_column"] == "label"
    assert fake.monitors["t-1"]["inference_log"]["granularities"] == ["AGGREGATION_GRANULARITY_1_WEEK"]


def test_steady_state_costs_one_read_and_no_write() -> None:
    fake = FakeMonitors()
    spec = _spec(slicingExpressions=["country"], notifications={"onFailure": ["a@example.com"]})
    first = modelmonitor.reconcile(spec, monitors=fake, request=_request())
    recorded = _recorded(first)
    fake.status["t-1"] = ("ACTIVE", "")
    becoming_active = modelmonitor.reconcile(
        spec, monitors=fake, request=_request(spec_changed=False, recorded=recorded)
    )
    assert becoming_active.ready.ok
    recorded = _recorded(becoming_active, recorded)
    fake.calls.clear()
    for minutes in (5, 10, 15):
        now = NOW + timedelta(minutes=minutes)
        outcome = modelmonitor.reconcile(
            spec, monitors=fake, request=_request(spec_changed=False, recorded=recorded, now=now)
        )
        assert outcome.ready.ok
        assert not outcome.notes
        assert outcome.retry_after is None
        recorded = _recorded(outcome, recorded)
    assert fake.calls == ["get_monitor"] * 3


@pytest.mark.parametrize(
    ("spec_changed", "after"),
    [
        pytest.param(False, modelmonitor.REFRESH_CHECK, id="an-hour-later"),
        pytest.param(True, timedelta(seconds=1), id="on-a-spec-change"),
    ],
)
def test_refreshes_are_listed_again(spec_changed: bool, after: timedelta) -> None:
    fake = FakeMonitors()
    recorded = replace(_ours(fake), refreshes_checked_at=NOW)
    fake.refreshes["t-1"] = [ObservedRefresh("3", "SUCCESS")]
    request = _request(spec_changed=spec_changed, recorded=recorded, now=NOW + after)
    outcome = modelmonitor.reconcile(_spec(), monitors=fake, request=request)
    assert [call for call in fake.calls if call != "schema_id"] == ["get_monitor", "latest_refresh"]
    assert outcome.observed["lastRefresh"] == {"refreshId": "3", "state": "SUCCESS", "message": ""}


def test_observe_only_never_writes_even_when_everything_differs() -> None:
    fake = FakeMonitors()
    fake.add("t-1", {**_config(_spec(), "s-2"), "assets_dir": "/elsewhere", "slicing_exprs": ["x"]})
    spec = _spec(managementPolicy="ObserveOnly", slicingExpressions=["country"], schedule={"cron": "0 0 1 * * ?"})
    outcome = modelmonitor.reconcile(spec, monitors=fake, request=_request(spec_changed=False))
    assert fake.writes == []
    assert outcome.ready.reason == c.DRIFT_DETECTED
    assert len(outcome.observed["drift"]) == 4  # assetsDir, outputSchema, schedule, slicingExpressions


@dataclass(frozen=True)
class DeleteCase:
    spec: Json
    recorded: modelmonitor.Recorded
    connects: bool
    remaining: bool
    says: str
    arrange: Callable[[FakeMonitors], None] = lambda fake: fake.add("t-1", _config(_spec()))


RECORDED = modelmonitor.Recorded(table_name=TABLE, table_id="t-1")
DELETE_CASES = {
    "retain-keeps-without-connecting": DeleteCase(
        {"deletionPolicy": "Retain"}, RECORDED, connects=False, remaining=True, says="kept"
    ),
    "observe-only-keeps-without-connecting": DeleteCase(
        {"managementPolicy": "ObserveOnly"}, RECORDED, connects=False, remaining=True, says="kept"
    ),
    "delete-removes-the-monitor": DeleteCase({}, RECORDED, connects=True, remaining=False, says="metric tables"),
    "already-gone": DeleteCase(
        {}, RECORDED, connects=True, remaining=False, says="already gone", arrange=lambda fake: None
    ),
    "unrecorded-but-made-from-this-spec": DeleteCase(
        {}, modelmonitor.Recorded(), connects=True, remaining=False, says="deleted"
    ),
    "unrecorded-and-someone-elses": DeleteCase(
        {},
        modelmonitor.Recorded(),
        connects=True,
        remaining=True,
        says="not made from this resource",
        arrange=lambda fake: fake.add("t-1", {**_config(_spec()), "assets_dir": "/Workspace/Users/someone"}),
    ),
}


@pytest.mark.parametrize("case", DELETE_CASES.values(), ids=DELETE_CASES.keys())
def test_delete(case: DeleteCase) -> None:
    fake = FakeMonitors()
    case.arrange(fake)
    connected: list[bool] = []

    def connect() -> FakeMonitors:
        connected.append(True)
        return fake

    said = modelmonitor.delete(_spec(**case.spec), connect=connect, recorded=case.recorded)
    assert bool(connected) == case.connects
    assert ("t-1" in fake.monitors) == case.remaining
    assert case.says in said


def test_a_failing_delete_raises_so_the_finalizer_stays() -> None:
    fake = FakeMonitors()
    fake.add("t-1", _config(_spec()))
    fake.refuse["delete_monitor"] = errors.Unavailable("503 Service Unavailable")
    with pytest.raises(errors.Unavailable):
        modelmonitor.delete(_spec(), connect=lambda: fake, recorded=RECORDED)
    assert "t-1" in fake.monitors


def test_a_monitor_is_named_by_its_table_or_before_that_by_the_endpoint_it_watches() -> None:
    """The name deletion failures, Events and `mlopsctl plan` use; never "the monitor on None"."""
    meta = {"namespace": "ml", "name": "watch", "uid": "u1", "generation": 1}
    by_endpoint = _spec(tableName=None, endpointRef={"name": "fraud"}).model_dump(by_alias=True, exclude_none=True)
    waiting = KIND.resource(meta, by_endpoint, {}, {})
    assert KIND.external_name(waiting) == "the monitor on the inference table of ServingEndpoint fraud"
    found = KIND.resource(meta, by_endpoint, {"tableName": "main.risk.fraud_payload"}, {})
    assert KIND.external_name(found) == "the monitor on main.risk.fraud_payload"
