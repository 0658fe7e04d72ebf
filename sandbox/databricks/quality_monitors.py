"""The legacy quality-monitor API (`/api/2.1/unity-catalog/tables/{table_name}/monitor`, `w.quality_monitors`).

It addresses a monitor by table name and speaks in its own shapes (`MonitorInfo`:
`*_col` columns, `PROBLEM_TYPE_*`, granularities such as "1 day", `MONITOR_STATUS_*`),
translated here to and from the Data Quality monitors of `MonitorStore`. An update is
a PUT of the whole config; `assets_dir`, `warehouse_id` and `skip_builtin_dashboard`
are given on create only and are not read back.
"""

from __future__ import annotations

import copy

from sandbox.databricks.catalog import Catalog
from sandbox.databricks.catalog_objects import Table
from sandbox.databricks.monitor_store import GRANULARITIES, REFRESH, STATUS, Monitor, MonitorStore
from sandbox.databricks.state import Json, Request, Route, int_param, invalid, require

_TO_GRANULARITY = {g.replace("_", " ").lower(): f"AGGREGATION_GRANULARITY_{g}" for g in GRANULARITIES}
_FROM_GRANULARITY = {v: k for k, v in _TO_GRANULARITY.items()}
_COLUMNS = {
    "timestamp_col": "timestamp_column",
    "prediction_col": "prediction_column",
    "model_id_col": "model_id_column",
    "label_col": "label_column",
}
_PAUSE = "CRON_SCHEDULE_PAUSE_STATUS_"
_METRIC_TYPE = ("CUSTOM_METRIC_TYPE_", "DATA_PROFILING_CUSTOM_METRIC_TYPE_")
_PROBLEM_TYPE = ("PROBLEM_TYPE_", "INFERENCE_PROBLEM_TYPE_")
_CREATE_ONLY = ("assets_dir", "warehouse_id", "skip_builtin_dashboard")
_SAME_NAME = ("baseline_table_name", "slicing_exprs", "snapshot")
_LEGACY_ONLY = ("data_classification_config",)


class QualityMonitors:
    """REST handlers of the legacy API over the monitors of `store`."""

    def __init__(self, store: MonitorStore, catalog: Catalog) -> None:
        self._store = store
        self._catalog = catalog

    def _monitor(self, req: Request) -> tuple[Table, Monitor]:
        table = self._catalog.table(req.params["table_name"])
        return table, self._store.get("table", table.table_id)

    def create(self, req: Request) -> Json:
        table = self._catalog.table(req.params["table_name"])
        require(req.body, "assets_dir")
        self._store.ensure_absent("table", table.table_id)
        config, legacy = self._config(req.body)
        config.update({k: copy.deepcopy(req.body[k]) for k in _CREATE_ONLY if req.body.get(k) is not None})
        mon = self._store.create_table_monitor(table, config, req.principal)
        mon.legacy = legacy
        return self._info(mon)

    def get(self, req: Request) -> Json:
        return self._info(self._monitor(req)[1])

    def update(self, req: Request) -> Json:
        _, mon = self._monitor(req)
        config, legacy = self._config(req.body)
        config.update({k: mon.config[k] for k in _CREATE_ONLY if k in mon.config})
        paused = (mon.config.get("schedule") or {}).get("pause_status")
        if "schedule" in config and paused:
            # pause_status is the UI's to change: a PUT that leaves it out keeps it.
            config["schedule"].setdefault("pause_status", paused)
        self._store.update(mon, config, req.principal)
        mon.legacy = legacy
        return self._info(mon)

    def delete(self, req: Request) -> Json:
        self._store.delete(self._monitor(req)[1])
        return {}

    def run_refresh(self, req: Request) -> Json:
        _, mon = self._monitor(req)
        return self._refresh(mon, self._store.start_refresh(mon).refresh_id)

    def get_refresh(self, req: Request) -> Json:
        _, mon = self._monitor(req)
        return self._refresh(mon, int_param(req.params["refresh_id"], "refresh_id"))

    def list_refreshes(self, req: Request) -> Json:
        _, mon = self._monitor(req)
        # The most recent 25, newest first.
        listed = [self._refresh(mon, r.refresh_id) for r in reversed(mon.refreshes[-25:])]
        return {"refreshes": listed} if listed else {}

    def routes(self) -> list[Route]:
        one = "/api/2.1/unity-catalog/tables/{table_name}/monitor"
        return [
            Route("POST", one, self.create),
            Route("GET", one, self.get),
            Route("PUT", one, self.update),
            Route("DELETE", one, self.delete),
            Route("POST", f"{one}/refreshes", self.run_refresh),
            Route("GET", f"{one}/refreshes", self.list_refreshes),
            Route("GET", f"{one}/refreshes/{{refresh_id}}", self.get_refresh),
        ]

    # ---- translation ----

    def _config(self, body: Json) -> tuple[Json, Json]:
        """A `data_profiling_config` from a legacy create or update body, and the settings only this API has."""
        schema = self._catalog.schema(require(body, "output_schema_name"))
        config: Json = {"output_schema_id": schema.schema_id}
        config.update({k: copy.deepcopy(body[k]) for k in _SAME_NAME if body.get(k) is not None})
        legacy: Json = {k: copy.deepcopy(body[k]) for k in _LEGACY_ONLY if body.get(k) is not None}
        log = body.get("inference_log")
        if isinstance(log, dict):
            problem_type = log.get("problem_type")
            if not isinstance(problem_type, str) or not problem_type.startswith(_PROBLEM_TYPE[0]):
                raise invalid(f"Invalid inference_log.problem_type '{problem_type}'.")
            config["inference_log"] = {**_profile(log), "problem_type": _renamed(problem_type, _PROBLEM_TYPE)}
            if log.get("prediction_proba_col") is not None:
                legacy["prediction_proba_col"] = log["prediction_proba_col"]
        if isinstance(body.get("time_series"), dict):
            config["time_series"] = _profile(body["time_series"])
        if isinstance(schedule := body.get("schedule"), dict):
            config["schedule"] = {k: schedule[k] for k in ("quartz_cron_expression", "timezone_id") if k in schedule}
            if schedule.get("pause_status") in ("PAUSED", "UNPAUSED"):
                config["schedule"]["pause_status"] = _PAUSE + schedule["pause_status"]
        notifications = body.get("notifications") or {}
        if notifications.get("on_failure") is not None:
            config["notification_settings"] = {"on_failure": copy.deepcopy(notifications["on_failure"])}
        if (tagged := notifications.get("on_new_classification_tag_detected")) is not None:
            legacy["on_new_classification_tag_detected"] = copy.deepcopy(tagged)
        if body.get("custom_metrics"):
            config["custom_metrics"] = [
                {**copy.deepcopy(m), "type": _renamed(m.get("type"), _METRIC_TYPE)} for m in body["custom_metrics"]
            ]
        return config, legacy

    def _info(self, mon: Monitor) -> Json:
        """The monitor as `MonitorInfo`."""
        config = self._store.config_view(mon)
        schema = self._catalog.schema_by_id(config["output_schema_id"])
        out: Json = {
            "table_name": config["monitored_table_name"],
            "status": "MONITOR_STATUS_" + config["status"].removeprefix(STATUS),
            "profile_metrics_table_name": config["profile_metrics_table_name"],
            "drift_metrics_table_name": config["drift_metrics_table_name"],
            "monitor_version": config["monitor_version"],
            "assets_dir": config["assets_dir"],
        }
        if schema is not None:
            out["output_schema_name"] = schema.full_name
        out.update({k: config[k] for k in ("dashboard_id", "baseline_table_name", "slicing_exprs") if config.get(k)})
        out.update({k: mon.legacy[k] for k in _LEGACY_ONLY if k in mon.legacy})
        if "snapshot" in config:
            out["snapshot"] = config["snapshot"]
        if config.get("latest_monitor_failure_message"):
            out["latest_monitor_failure_msg"] = config["latest_monitor_failure_message"]
        if "inference_log" in config:
            log = config["inference_log"]
            out["inference_log"] = _legacy_profile(log)
            out["inference_log"]["problem_type"] = _renamed(log["problem_type"], _PROBLEM_TYPE[::-1])
            if "prediction_proba_col" in mon.legacy:
                out["inference_log"]["prediction_proba_col"] = mon.legacy["prediction_proba_col"]
        if "time_series" in config:
            out["time_series"] = _legacy_profile(config["time_series"])
        if "schedule" in config:
            schedule = dict(config["schedule"])
            schedule["pause_status"] = schedule["pause_status"].removeprefix(_PAUSE)
            out["schedule"] = schedule
        notifications = {}
        if on_failure := (config.get("notification_settings") or {}).get("on_failure"):
            notifications["on_failure"] = {k: v for k, v in on_failure.items() if k == "email_addresses"}
        if "on_new_classification_tag_detected" in mon.legacy:
            notifications["on_new_classification_tag_detected"] = mon.legacy["on_new_classification_tag_detected"]
        if notifications:
            out["notifications"] = notifications
        if config.get("custom_metrics"):
            out["custom_metrics"] = [
                {**m, "type": _renamed(m.get("type"), _METRIC_TYPE[::-1])} for m in config["custom_metrics"]
            ]
        return out

    def _refresh(self, mon: Monitor, refresh_id: int) -> Json:
        """A refresh as `MonitorRefreshInfo`."""
        view = self._store.refresh_view(mon, self._store.find_refresh(mon, refresh_id))
        out: Json = {k: view[k] for k in ("refresh_id", "start_time_ms", "end_time_ms") if k in view}
        out["state"] = view["state"].removeprefix(REFRESH)
        out["trigger"] = view["trigger"].removeprefix("MONITOR_REFRESH_TRIGGER_")
        return out


def _profile(legacy: Json) -> Json:
    """An inference-log or time-series profile's columns and granularities in the Data Quality API's names."""
    out = {new: legacy[old] for old, new in _COLUMNS.items() if legacy.get(old) is not None}
    granularities = legacy.get("granularities")
    if not isinstance(granularities, list) or not granularities:
        raise invalid("Missing required field: granularities")
    for value in granularities:
        if value not in _TO_GRANULARITY:
            raise invalid(f"Invalid granularity '{value}'.")
    out["granularities"] = [_TO_GRANULARITY[g] for g in granularities]
    return out


def _legacy_profile(profile: Json) -> Json:
    out = {old: profile[new] for old, new in _COLUMNS.items() if new in profile}
    out["granularities"] = [_FROM_GRANULARITY[g] for g in profile["granularities"]]
    return out


def _renamed(value: object, prefixes: tuple[str, str]) -> object:
    """An enum value with its prefix swapped (PROBLEM_TYPE_X ↔ INFERENCE_PROBLEM_TYPE_X); others unchanged."""
    old, new = prefixes
    if isinstance(value, str) and value.startswith(old):
        return new + value.removeprefix(old)
    return value
