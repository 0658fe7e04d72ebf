"""The monitors behind both monitor APIs: state machine, validation and refreshes.

A monitor is keyed by `(object_type, object_id)`, where the id is the table's (or
schema's) UUID from Unity Catalog, and is kept in the Data Quality API's terms
(`data_profiling_config`); the legacy quality-monitor API translates to and from
them. A table monitor is PENDING for `Timings.monitor_pending` seconds, then ACTIVE,
or ERROR when the table is gone or the profile names columns the table does not
have. Refreshes go PENDING → RUNNING → SUCCESS.
"""

from __future__ import annotations

import copy
import dataclasses

from sandbox.databricks.catalog import Catalog
from sandbox.databricks.catalog_objects import Table
from sandbox.databricks.quartz import cron_problem, timezone_problem
from sandbox.databricks.state import (
    ApiError,
    Clock,
    Json,
    Timings,
    already_exists,
    conflict,
    invalid,
    new_hex_id,
    not_found,
    require,
)

GRANULARITIES = (
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
"""Suffixes of `AGGREGATION_GRANULARITY_*`."""
_GRANULARITY_VALUES = {f"AGGREGATION_GRANULARITY_{g}" for g in GRANULARITIES}
_PROBLEM_TYPES = ("INFERENCE_PROBLEM_TYPE_CLASSIFICATION", "INFERENCE_PROBLEM_TYPE_REGRESSION")
PROFILES = ("inference_log", "time_series", "snapshot")
IMMUTABLE = ("assets_dir", "output_schema_id")
OUTPUT_ONLY = (
    "status",
    "dashboard_id",
    "profile_metrics_table_name",
    "drift_metrics_table_name",
    "monitor_version",
    "monitored_table_name",
    "latest_monitor_failure_message",
    "effective_warehouse_id",
)
PAUSE = ("CRON_SCHEDULE_PAUSE_STATUS_PAUSED", "CRON_SCHEDULE_PAUSE_STATUS_UNPAUSED")
STATUS = "DATA_PROFILING_STATUS_"
REFRESH = "MONITOR_REFRESH_STATE_"
_CRON_HELP = "Databricks uses Quartz cron syntax, which is different from the standard cron syntax"


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
    legacy: Json = dataclasses.field(default_factory=dict)
    """Settings only the legacy API has (e.g. `data_classification_config`), kept for its reads."""


class MonitorStore:
    def __init__(self, clock: Clock, timings: Timings, catalog: Catalog) -> None:
        self._clock = clock
        self._timings = timings
        self._catalog = catalog
        self.monitors: dict[tuple[str, str], Monitor] = {}
        self._next_refresh = 1

    # ---- state machine ----

    def status(self, mon: Monitor) -> tuple[str, str | None]:
        """The monitor's status and failure message (None unless ERROR)."""
        if mon.settled is not None:
            return mon.settled
        if self._clock.now() < mon.created + self._timings.monitor_pending:
            return STATUS + "PENDING", None
        mon.settled = (STATUS + "ERROR", problem) if (problem := self._problem(mon)) else (STATUS + "ACTIVE", None)
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

    def config_view(self, mon: Monitor) -> Json:
        """The monitor's config as read: with its status, and its dashboard once ACTIVE."""
        config = copy.deepcopy(mon.config)
        if mon.kind == "data_profiling_config":
            status, message = self.status(mon)
            config["status"] = status
            if status == STATUS + "ACTIVE":
                config.setdefault("dashboard_id", new_hex_id())
                mon.config["dashboard_id"] = config["dashboard_id"]
            if message:
                config["latest_monitor_failure_message"] = message
        return config

    def refresh_view(self, mon: Monitor, ref: Refresh) -> Json:
        """A refresh in the Data Quality API's terms (state, trigger, times)."""
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
            out["state"] = REFRESH + "PENDING"
        elif now < ends:
            out["state"] = REFRESH + "RUNNING"
        else:
            out.update(state=REFRESH + "SUCCESS", end_time_ms=int(ends * 1000))
        return out

    # ---- operations ----

    def get(self, object_type: str, object_id: str) -> Monitor:
        mon = self.monitors.get((object_type, object_id))
        if mon is None:
            raise not_found(f"Monitor for {object_type} {object_id} does not exist.")
        return mon

    def ensure_absent(self, object_type: str, object_id: str) -> None:
        if (object_type, object_id) in self.monitors:
            raise already_exists(f"Monitor for {object_type} {object_id} already exists.")

    def add(self, mon: Monitor) -> Monitor:
        self.ensure_absent(mon.object_type, mon.object_id)
        self.monitors[(mon.object_type, mon.object_id)] = mon
        return mon

    def create_table_monitor(self, table: Table, config: Json, creator: str) -> Monitor:
        """Checks a `data_profiling_config` and adds the monitor, with the fields the server fills in."""
        config = {k: v for k, v in copy.deepcopy(config).items() if k not in OUTPUT_ONLY}
        self.validate(config)
        schema = self._catalog.schema_by_id(config["output_schema_id"])
        assert schema is not None  # checked by validate
        short = table.full_name.split(".")[-1]
        config.setdefault("assets_dir", f"/Workspace/Users/{creator}/databricks_lakehouse_monitoring/{table.full_name}")
        config.update(
            monitored_table_name=table.full_name,
            profile_metrics_table_name=f"{schema.full_name}.{short}_profile_metrics",
            drift_metrics_table_name=f"{schema.full_name}.{short}_drift_metrics",
            monitor_version=1,
            effective_warehouse_id=config.get("warehouse_id") or "emulator-warehouse",
        )
        return self.add(Monitor("table", table.table_id, "data_profiling_config", config, self._clock.now(), creator))

    def update(self, mon: Monitor, updated: Json, principal: str) -> None:
        """Replaces the monitor's config by `updated` (output fields are kept), refusing what cannot change."""
        if principal != mon.creator:
            raise ApiError(403, "PERMISSION_DENIED", "Only the creator of the monitor can update it.")
        for field in IMMUTABLE:
            if updated.get(field) != mon.config.get(field):
                raise invalid(f"Field '{mon.kind}.{field}' cannot be updated; delete the monitor and create it again.")
        if mon.kind == "data_profiling_config":
            before = [p for p in PROFILES if mon.config.get(p) is not None]
            after = [p for p in PROFILES if updated.get(p) is not None]
            if before != after:
                raise invalid("The profile type (inference_log, time_series, snapshot) cannot be changed.")
            updated.update({k: mon.config[k] for k in OUTPUT_ONLY if k in mon.config})
            self.validate(updated)
            updated["monitor_version"] = int(mon.config.get("monitor_version", 1)) + 1
        mon.config = updated

    def delete(self, mon: Monitor) -> None:
        del self.monitors[(mon.object_type, mon.object_id)]

    def start_refresh(self, mon: Monitor) -> Refresh:
        if mon.object_type != "table":
            raise invalid("Refreshes are supported for table monitors only.")
        status, _ = self.status(mon)
        if status != STATUS + "ACTIVE":
            raise ApiError(400, "INVALID_STATE", f"Monitor is not active (status {status}); cannot refresh.")
        for ref in mon.refreshes:
            if self.refresh_view(mon, ref)["state"] != REFRESH + "SUCCESS":
                raise conflict(f"Refresh {ref.refresh_id} of this monitor is still in progress.")
        ref = Refresh(self._next_refresh, self._clock.now(), "MONITOR_REFRESH_TRIGGER_MANUAL")
        self._next_refresh += 1
        mon.refreshes.append(ref)
        return ref

    def find_refresh(self, mon: Monitor, refresh_id: int) -> Refresh:
        for ref in mon.refreshes:
            if ref.refresh_id == refresh_id:
                return ref
        raise not_found(f"Refresh {refresh_id} does not exist.")

    # ---- validation ----

    def validate(self, config: Json) -> None:
        """Checks a `data_profiling_config`, filling in the schedule's pause status."""
        require(config, "output_schema_id")
        if self._catalog.schema_by_id(config["output_schema_id"]) is None:
            raise not_found(f"Schema with id {config['output_schema_id']} does not exist.", "SCHEMA_DOES_NOT_EXIST")
        chosen = [p for p in PROFILES if config.get(p) is not None]
        if len(chosen) != 1:
            raise invalid("Exactly one of inference_log, time_series or snapshot must be set.")
        if "inference_log" in chosen:
            log = config["inference_log"]
            for field in ("timestamp_column", "prediction_column", "model_id_column"):
                require(log, field)
            if log.get("problem_type") not in _PROBLEM_TYPES:
                raise invalid(f"Invalid inference_log.problem_type '{log.get('problem_type')}'.")
            _granularities(log)
        if "time_series" in chosen:
            require(config["time_series"], "timestamp_column")
            _granularities(config["time_series"])
        if config.get("schedule") is not None:
            _schedule(config["schedule"])
        emails = ((config.get("notification_settings") or {}).get("on_failure") or {}).get("email_addresses") or []
        if len(emails) > 5:
            raise invalid("At most 5 email addresses can be notified on failure.")


def _granularities(profile: Json) -> None:
    values = profile.get("granularities")
    if not isinstance(values, list) or not values:
        raise invalid("Missing required field: granularities")
    for value in values:
        if value not in _GRANULARITY_VALUES:
            raise invalid(f"Invalid granularity '{value}'.")


def _schedule(schedule: Json) -> None:
    expression = require(schedule, "quartz_cron_expression")
    if problem := cron_problem(expression):
        raise invalid(f"Invalid quartz_cron_expression: {expression}. {_CRON_HELP}: {problem}.")
    timezone = require(schedule, "timezone_id")
    if timezone_problem(timezone):
        raise invalid(f"Invalid timezone_id: {timezone}. It must be a Java time-zone id, such as UTC or Europe/Berlin.")
    schedule.setdefault("pause_status", PAUSE[1])
    if schedule["pause_status"] not in PAUSE:
        raise invalid(f"Invalid schedule.pause_status '{schedule['pause_status']}'.")
