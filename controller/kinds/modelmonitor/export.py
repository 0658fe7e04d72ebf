"""A data-quality monitor as a ModelMonitor spec that manages it as it is (for `mlopsctl import`).

The inverse of `config.desired_config`. Monitors carry no tags: a ModelMonitor takes over the monitor
on its table whose assets directory is its `assetsDir`, so the spec keeps the monitor's own folder.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from controller.api.common import ObjectRef
from controller.kinds.modelmonitor.model import InferenceLog, ModelMonitorSpec, Notifications, Schedule
from controller.kinds.modelmonitor.observed import Json

_PROBLEM_TYPE_PREFIX = "INFERENCE_PROBLEM_TYPE_"
_GRANULARITY_PREFIX = "AGGREGATION_GRANULARITY_"
_UNEXPRESSIBLE = {
    "custom_metrics": "custom metrics",
    "snapshot": "a snapshot profile",
    "time_series": "a time-series profile",
    "warehouse_id": "a warehouse",
    "skip_builtin_dashboard": "skipping the built-in dashboard",
}


def spec_of(config: Json, *, workspace: str, table_name: str, output_schema: str) -> ModelMonitorSpec | list[str]:
    """The spec managing the monitor on `table_name` (its `data_profiling_config`), or why the kind cannot."""
    problems = [
        f"it uses {what}, which ModelMonitor cannot express" for key, what in _UNEXPRESSIBLE.items() if config.get(key)
    ]
    log: Json = config.get("inference_log") or {}
    if not log:
        problems.append("it has no inference-log profile")
    schedule = config.get("schedule") or {}
    if schedule.get("pause_status") == "PAUSED":
        problems.append("its schedule is paused, which ModelMonitor cannot express")
    if problems:
        return problems
    try:
        return ModelMonitorSpec(
            workspace_ref=ObjectRef(name=workspace),
            table_name=table_name,
            output_schema=output_schema,
            assets_dir=config.get("assets_dir") or "",
            inference_log=_inference_log(log),
            **_optional(config),
        )
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]


def _inference_log(log: Json) -> InferenceLog:
    return InferenceLog(
        problem_type=str(log.get("problem_type") or "").removeprefix(_PROBLEM_TYPE_PREFIX).lower(),
        prediction_column=log.get("prediction_column"),
        label_column=log.get("label_column"),
        model_id_column=log.get("model_id_column"),
        timestamp_column=log.get("timestamp_column"),
        granularities=[_granularity(g) for g in log.get("granularities") or []],
    )


def _granularity(value: str) -> str:
    """AGGREGATION_GRANULARITY_1_DAY → "1 day"."""
    return value.removeprefix(_GRANULARITY_PREFIX).replace("_", " ").lower()


def _optional(config: Json) -> dict[str, Any]:
    """The optional fields the monitor has set, so the spec sets exactly those."""
    fields: dict[str, Any] = {}
    schedule = config.get("schedule") or {}
    if schedule.get("quartz_cron_expression"):
        fields["schedule"] = Schedule(
            cron=schedule["quartz_cron_expression"], timezone=schedule.get("timezone_id") or "UTC"
        )
    if config.get("slicing_exprs"):
        fields["slicing_expressions"] = list(config["slicing_exprs"])
    if config.get("baseline_table_name"):
        fields["baseline_table_name"] = config["baseline_table_name"]
    emails = ((config.get("notification_settings") or {}).get("on_failure") or {}).get("email_addresses")
    if emails:
        fields["notifications"] = Notifications(on_failure=list(emails))
    return fields
