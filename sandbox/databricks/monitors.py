"""Data quality monitors, the current API (`/api/data-quality/v1`).

A monitor is keyed by `(object_type, object_id)`, where the id is the table's
(or schema's) UUID from Unity Catalog. It is PENDING for
`Timings.monitor_pending` seconds, then ACTIVE, or ERROR when the table is gone
or the profile names columns the table does not have. Refreshes go PENDING →
RUNNING → SUCCESS. `assets_dir` and the output schema cannot change in place.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from sandbox.databricks.catalog import Catalog
from sandbox.databricks.catalog_objects import Table
from sandbox.databricks.state import (
    ApiError,
    Clock,
    Json,
    Request,
    Route,
    Timings,
    already_exists,
    conflict,
    int_param,
    invalid,
    new_hex_id,
    not_found,
    page,
    require,
)

_GRANULARITIES = {
    f"AGGREGATION_GRANULARITY_{g}"
    for g in (
        "5_MINUTES",
        "30_MINUTES",
        "1_HOUR",
        "1_DAY",
        "1_WEEK",
        "2_WEEKS",
        "3_WEEKS",
        "4_WEEKS",
        "1_MONTH",
        "1_YEAR",
    )
}
_PROBLEM_TYPES = {"INFERENCE_PROBLEM_TYPE_CLASSIFICATION", "INFERENCE_PROBLEM_TYPE_REGRESSION"}
_PROFILES = ("inference_log", "time_series", "snapshot")
_IMMUTABLE = ("assets_dir", "output_schema_id")
_OUTPUT_ONLY = (
    "status",
    "dashboard_id",
    "profile_metrics_table_name",
    "drift_metrics_table_name",
    "monitor_version",
    "monitored_table_name",
    "latest_monitor_failure_message",
    "effective_warehouse_id",
)
_PAUSE = ("CRON_SCHEDULE_PAUSE_STATUS_PAUSED", "CRON_SCHEDULE_PAUSE_STATUS_UNPAUSED")
_STATUS = "DATA_PROFILING_STATUS_"
_REFRESH = "MONITOR_REFRESH_STATE_"


@dataclasses.dataclass
class Refresh:
    refresh_id: int
    created: float
    trigger: str


@dataclasses.dataclass
class Monitor:
    object_type: str
    object_id: str
    kind: str
    """`data_profiling_config` for tables, `anomaly_detection_config` for schemas."""
    config: Json
    created: float
    creator: str
    settled: tuple[str, str | None] | None = None
    """Final status and failure message, fixed when the pending time is over."""
    refreshes: list[Refresh] = dataclasses.field(default_factory=list)


class Monitors:
    """State and REST handlers of the Data Quality API."""

    def __init__(self, clock: Clock, timings: Timings, catalog: Catalog) -> None:
        self._clock = clock
        self._timings = timings
        self._catalog = catalog
        self.monitors: dict[tuple[str, str], Monitor] = {}
        self._next_refresh = 1

    # ---- state machine ----

    def _status(self, mon: Monitor) -> tuple[str, str | None]:
        if mon.settled is not None:
            return mon.settled
        if self._clock.now() < mon.created + self._timings.monitor_pending:
            return _STATUS + "PENDING", None
        mon.settled = (_STATUS + "ERROR", problem) if (problem := self._problem(mon)) else (_STATUS + "ACTIVE", None)
        return mon.settled

    def _problem(self, mon: Monitor) -> str | None:
        """What makes profiling fail once it starts: the table gone or columns it does not have."""
        if mon.object_type != "table":
            return None
        table = self._catalog.table_by_id(mon.object_id)
        if table is None:
            return f"Table with id {mon.object_id} does not exist."
        known = {c.get("name") for c in table.columns}
        if not known:
            return None
        for profile in ("inference_log", "time_series"):
            settings = mon.config.get(profile) or {}
            for field, column in settings.items():
                if field.endswith("_column") and column not in known:
                    return f"Column '{column}' ({profile}.{field}) does not exist in table {table.full_name}."
        return None

    def _refresh_view(self, mon: Monitor, ref: Refresh) -> Json:
        now = self._clock.now()
        started = ref.created + self._timings.refresh_pending
        ends = started + self._timings.refresh_running
        out: Json = {
            "object_type": mon.object_type,
            "object_id": mon.object_id,
            "refresh_id": ref.refresh_id,
            "trigger": ref.trigger,
            "start_time_ms": int(ref.created * 1000),
        }
        if now < started:
            out["state"] = _REFRESH + "PENDING"
        elif now < ends:
            out["state"] = _REFRESH + "RUNNING"
        else:
            out.update(state=_REFRESH + "SUCCESS", end_time_ms=int(ends * 1000))
        return out

    # ---- validation ----

    def _validate_profiling(self, config: Json) -> None:
        require(config, "output_schema_id")
        if self._catalog.schema_by_id(config["output_schema_id"]) is None:
            raise not_found(f"Schema with id {config['output_schema_id']} does not exist.", "SCHEMA_DOES_NOT_EXIST")
        chosen = [p for p in _PROFILES if config.get(p) is not None]
        if len(chosen) != 1:
            raise invalid("Exactly one of inference_log, time_series or snapshot must be set.")
        if "inference_log" in chosen:
            log = config["inference_log"]
            for field in ("timestamp_column", "prediction_column", "model_id_column"):
                require(log, field)
            if log.get("problem_type") not in _PROBLEM_TYPES:
                raise invalid(f"Invalid inference_log.problem_type '{log.get('problem_type')}'.")
            self._granularities(log)
        if "time_series" in chosen:
            require(config["time_series"], "timestamp_column")
            self._granularities(config["time_series"])
        schedule = config.get("schedule")
        if schedule is not None:
            require(schedule, "quartz_cron_expression")
            require(schedule, "timezone_id")
            schedule.setdefault("pause_status", _PAUSE[1])
            if schedule["pause_status"] not in _PAUSE:
                raise invalid(f"Invalid schedule.pause_status '{schedule['pause_status']}'.")
        emails = ((config.get("notification_settings") or {}).get("on_failure") or {}).get("email_addresses") or []
        if len(emails) > 5:
            raise invalid("At most 5 email addresses can be notified on failure.")

    @staticmethod
    def _granularities(profile: Json) -> None:
        values = profile.get("granularities")
        if not isinstance(values, list) or not values:
            raise invalid("Missing required field: granularities")
        for value in values:
            if value not in _GRANULARITIES:
                raise invalid(f"Invalid granularity '{value}'.")

    # ---- rendering ----

    def _view(self, mon: Monitor) -> Json:
        config = copy.deepcopy(mon.config)
        if mon.kind == "data_profiling_config":
            status, message = self._status(mon)
            config["status"] = status
            if status == _STATUS + "ACTIVE":
                config.setdefault("dashboard_id", new_hex_id())
                mon.config["dashboard_id"] = config["dashboard_id"]
            if message:
                config["latest_monitor_failure_message"] = message
        return {"object_type": mon.object_type, "object_id": mon.object_id, mon.kind: config}

    def _get(self, object_type: str, object_id: str) -> Monitor:
        mon = self.monitors.get((object_type, object_id))
        if mon is None:
            raise not_found(f"Monitor for {object_type} {object_id} does not exist.")
        return mon

    # ---- handlers ----

    def create_monitor(self, req: Request) -> Json:
        body = req.body
        object_type = require(body, "object_type")
        object_id = require(body, "object_id")
        if object_type not in ("table", "schema"):
            raise invalid(f"Invalid object_type '{object_type}': use 'table' or 'schema'.")
        if (object_type, object_id) in self.monitors:
            raise already_exists(f"Monitor for {object_type} {object_id} already exists.")
        if object_type == "schema":
            if self._catalog.schema_by_id(object_id) is None:
                raise not_found(f"Schema with id {object_id} does not exist.", "SCHEMA_DOES_NOT_EXIST")
            kind, config = "anomaly_detection_config", copy.deepcopy(body.get("anomaly_detection_config") or {})
        else:
            table = self._catalog.table_by_id(object_id)
            if table is None:
                raise not_found(f"Table with id {object_id} does not exist.", "TABLE_DOES_NOT_EXIST")
            kind = "data_profiling_config"
            config = copy.deepcopy(body.get("data_profiling_config"))
            if not isinstance(config, dict):
                raise invalid("Missing required field: data_profiling_config")
            for field in _OUTPUT_ONLY:
                config.pop(field, None)
            self._validate_profiling(config)
            self._fill_outputs(config, table, req.principal)
        mon = Monitor(object_type, object_id, kind, config, self._clock.now(), req.principal)
        self.monitors[(object_type, object_id)] = mon
        return self._view(mon)

    def _fill_outputs(self, config: Json, table: Table, creator: str) -> None:
        schema = self._catalog.schema_by_id(config["output_schema_id"])
        assert schema is not None  # checked by _validate_profiling
        short = table.full_name.split(".")[-1]
        config.setdefault("assets_dir", f"/Workspace/Users/{creator}/databricks_lakehouse_monitoring/{table.full_name}")
        config.update(
            monitored_table_name=table.full_name,
            profile_metrics_table_name=f"{schema.full_name}.{short}_profile_metrics",
            drift_metrics_table_name=f"{schema.full_name}.{short}_drift_metrics",
            monitor_version=1,
            effective_warehouse_id=config.get("warehouse_id") or "emulator-warehouse",
        )

    def get_monitor(self, req: Request) -> Json:
        return self._view(self._get(req.params["object_type"], req.params["object_id"]))

    def list_monitor(self, req: Request) -> Json:
        size = int_param(req.arg("page_size") or "100", "page_size") or 100
        views = [self._view(m) for m in self.monitors.values()]
        items, token = page(views, req.arg("page_token"), size)
        out: Json = {"monitors": items}
        if token:
            out["next_page_token"] = token
        return out

    def update_monitor(self, req: Request) -> Json:
        mon = self._get(req.params["object_type"], req.params["object_id"])
        if req.principal != mon.creator:
            raise ApiError(403, "PERMISSION_DENIED", "Only the creator of the monitor can update it.")
        mask = req.arg("update_mask")
        if not mask:
            raise invalid("Missing required field: update_mask")
        updated = copy.deepcopy(mon.config)
        source = req.body.get(mon.kind) or {}
        for path in (p.strip() for p in mask.split(",")):
            if path == "*":
                kept = {k: updated[k] for k in _OUTPUT_ONLY if k in updated}
                updated = {**copy.deepcopy(source), **kept}
                continue
            head, _, rest = path.partition(".")
            if head != mon.kind or not rest:
                raise invalid(f"Invalid update_mask path '{path}'.")
            _set_path(updated, rest.split("."), _get_path(source, rest.split(".")))
        for field in _IMMUTABLE:
            if updated.get(field) != mon.config.get(field):
                raise invalid(f"Field '{mon.kind}.{field}' cannot be updated; delete the monitor and create it again.")
        if mon.kind == "data_profiling_config":
            before = [p for p in _PROFILES if mon.config.get(p) is not None]
            after = [p for p in _PROFILES if updated.get(p) is not None]
            if before != after:
                raise invalid("The profile type (inference_log, time_series, snapshot) cannot be changed.")
            for field in _OUTPUT_ONLY:
                if field in mon.config:
                    updated[field] = mon.config[field]
            self._validate_profiling(updated)
            updated["monitor_version"] = int(mon.config.get("monitor_version", 1)) + 1
        mon.config = updated
        return self._view(mon)

    def delete_monitor(self, req: Request) -> Json:
        mon = self._get(req.params["object_type"], req.params["object_id"])
        del self.monitors[(mon.object_type, mon.object_id)]
        return {}

    def create_refresh(self, req: Request) -> Json:
        mon = self._get(req.params["object_type"], req.params["object_id"])
        if mon.object_type != "table":
            raise invalid("Refreshes are supported for table monitors only.")
        status, _ = self._status(mon)
        if status != _STATUS + "ACTIVE":
            raise ApiError(400, "INVALID_STATE", f"Monitor is not active (status {status}); cannot refresh.")
        for ref in mon.refreshes:
            if self._refresh_view(mon, ref)["state"] != _REFRESH + "SUCCESS":
                raise conflict(f"Refresh {ref.refresh_id} of this monitor is still in progress.")
        ref = Refresh(self._next_refresh, self._clock.now(), "MONITOR_REFRESH_TRIGGER_MANUAL")
        self._next_refresh += 1
        mon.refreshes.append(ref)
        return self._refresh_view(mon, ref)

    def get_refresh(self, req: Request) -> Json:
        mon = self._get(req.params["object_type"], req.params["object_id"])
        wanted = int_param(req.params["refresh_id"], "refresh_id")
        for ref in mon.refreshes:
            if ref.refresh_id == wanted:
                return self._refresh_view(mon, ref)
        raise not_found(f"Refresh {wanted} does not exist.")

    def list_refresh(self, req: Request) -> Json:
        mon = self._get(req.params["object_type"], req.params["object_id"])
        size = int_param(req.arg("page_size") or "25", "page_size") or 25
        views = [self._refresh_view(mon, r) for r in reversed(mon.refreshes)]
        items, token = page(views, req.arg("page_token"), size)
        out: Json = {"refreshes": items}
        if token:
            out["next_page_token"] = token
        return out

    def routes(self) -> list[Route]:
        base = "/api/data-quality/v1/monitors"
        one = f"{base}/{{object_type}}/{{object_id}}"
        return [
            Route("POST", base, self.create_monitor),
            Route("GET", base, self.list_monitor),
            Route("GET", one, self.get_monitor),
            Route("PATCH", one, self.update_monitor),
            Route("DELETE", one, self.delete_monitor),
            Route("POST", f"{one}/refreshes", self.create_refresh),
            Route("GET", f"{one}/refreshes", self.list_refresh),
            Route("GET", f"{one}/refreshes/{{refresh_id}}", self.get_refresh),
        ]


def _get_path(source: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(source, dict):
            return None
        source = source.get(part)
    return copy.deepcopy(source)


def _set_path(target: Json, parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    if value is None:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = value
