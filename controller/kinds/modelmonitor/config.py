"""The spec in the Data Quality API's form (`data_profiling_config`), and how a monitor differs from it.

Only fields the user set are compared (the service fills in the rest); one the resource set
earlier and no longer lists is cleared. An update sends only what differs, with a field mask.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.modelmonitor.observed import Json, ObservedMonitor

INFERENCE_LOG = "inferenceLog"
MASK_ROOT = "data_profiling_config"

_PROBLEM_TYPES = {
    "classification": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
    "regression": "INFERENCE_PROBLEM_TYPE_REGRESSION",
}


@dataclass(frozen=True)
class _Field:
    """An optional spec field: compared and written only when the user set it."""

    name: str  # camelCase, as status.managedFields and messages show it
    attribute: str  # the spec's attribute, to tell whether the user set it
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


_OPTIONAL = {
    f.name: f
    for f in (
        _Field(
            name="schedule",
            attribute="schedule",
            # Cron and time zone only: a schedule paused in the UI stays paused.
            mask=("schedule.quartz_cron_expression", "schedule.timezone_id"),
            clear=("schedule",),
            wanted=_schedule,
            current=_current_schedule,
            payload=lambda spec: {"schedule": _schedule(spec)},
        ),
        _Field(
            name="slicingExpressions",
            attribute="slicing_expressions",
            mask=("slicing_exprs",),
            clear=("slicing_exprs",),
            wanted=lambda spec: list(spec.slicing_expressions),
            current=lambda config: list(config.get("slicing_exprs") or []),
            payload=lambda spec: {"slicing_exprs": list(spec.slicing_expressions)},
        ),
        _Field(
            name="baselineTableName",
            attribute="baseline_table_name",
            mask=("baseline_table_name",),
            clear=("baseline_table_name",),
            wanted=lambda spec: spec.baseline_table_name,
            current=lambda config: config.get("baseline_table_name"),
            payload=lambda spec: {"baseline_table_name": spec.baseline_table_name},
        ),
        _Field(
            name="notifications",
            attribute="notifications",
            mask=("notification_settings.on_failure",),
            clear=("notification_settings.on_failure",),
            wanted=lambda spec: sorted(_emails(spec)),
            current=_current_emails,
            payload=lambda spec: {"notification_settings": {"on_failure": {"email_addresses": _emails(spec)}}},
        ),
    )
}


def set_fields(spec: ModelMonitorSpec) -> list[str]:
    """The optional fields the user wrote, by their camelCase names."""
    return [f.name for f in _OPTIONAL.values() if f.attribute in spec.model_fields_set]


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
        config.update(_OPTIONAL[name].payload(spec))
    return config


def immutable_changes(spec: ModelMonitorSpec, monitor: ObservedMonitor, schema_id: str) -> list[str]:
    """How the monitor differs in what cannot change in place (the table aside: a monitor is on one)."""
    changed = []
    if monitor.assets_dir != spec.assets_dir:
        changed.append(f"assetsDir (the monitor's is {monitor.assets_dir}, the spec says {spec.assets_dir})")
    if monitor.output_schema_id != schema_id:
        changed.append(
            f"outputSchema (the monitor writes to schema id {monitor.output_schema_id}, "
            f"{spec.output_schema} is {schema_id})"
        )
    return changed


def differences(spec: ModelMonitorSpec, config: Json) -> list[tuple[str, str]]:
    """(field, how it differs) for every field the user set that the monitor does not hold."""
    found: list[tuple[str, str]] = []
    current_log = config.get("inference_log") or {}
    log_diffs = [key for key, value in inference_log(spec).items() if not _same_log_value(key, value, current_log)]
    if log_diffs:
        found.append((INFERENCE_LOG, "inferenceLog " + ", ".join(log_diffs) + " differ"))
    for name in set_fields(spec):
        f = _OPTIONAL[name]
        wanted, current = f.wanted(spec), f.current(config)
        if wanted != current:
            found.append((name, f"{name} is {current!r}, the spec says {wanted!r}"))
    return found


def _same_log_value(key: str, wanted: Any, current_log: Json) -> bool:
    if key == "granularities":  # a set: the service may return them in another order
        return sorted(wanted) == sorted(current_log.get(key) or [])
    return bool(wanted == current_log.get(key))


def dropped(spec: ModelMonitorSpec, managed_fields: tuple[str, ...], config: Json) -> list[str]:
    """Optional fields this resource set earlier, no longer in the spec, that the monitor still holds."""
    kept = set_fields(spec)
    return [
        name
        for name in managed_fields
        if name in _OPTIONAL and name not in kept and _OPTIONAL[name].current(config) not in (None, [])
    ]


def update(
    spec: ModelMonitorSpec, monitor: ObservedMonitor, fields: list[str], cleared: list[str]
) -> tuple[Json, list[str]]:
    """The partial config and update mask that write `fields` from the spec and clear `cleared`."""
    config: Json = {"output_schema_id": monitor.output_schema_id}
    mask: list[str] = []
    for name in fields:
        if name == INFERENCE_LOG:
            log = inference_log(spec)
            label = (monitor.config.get("inference_log") or {}).get("label_column")
            if "label_column" not in log and label is not None:  # not set by the user: keep the monitor's
                log["label_column"] = label
            config["inference_log"] = log
            mask.append("inference_log")
        else:
            config.update(_OPTIONAL[name].payload(spec))
            mask.extend(_OPTIONAL[name].mask)
    for name in cleared:
        mask.extend(_OPTIONAL[name].clear)
    return config, [f"{MASK_ROOT}.{path}" for path in mask]
