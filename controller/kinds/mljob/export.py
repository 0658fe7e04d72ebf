"""A job as an MLJob spec that adopts it as it is (for `mlopsctl import`).

The settings are Databricks' own, without the defaults the server fills in (so the manifest holds
what a person chose) and without the controller's tags. `adopt: true` takes over the only unmanaged
job with the name: one tag update, no reset, when the settings match.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from controller.api.common import ObjectRef
from controller.kinds.mljob.finding import UID_TAG
from controller.kinds.mljob.model import JobSettings, MLJobSpec
from controller.kinds.mljob.observed import ObservedJob
from controller.reconciling.ownership import TAG_PREFIX

Json = dict[str, Any]

SERVER_DEFAULTS: Json = {
    "format": "MULTI_TASK",
    "max_concurrent_runs": 1,
    "timeout_seconds": 0,
    "queue": {"enabled": True},
}
"""Job settings Databricks stores when a create leaves them out (Jobs API 2.2)."""
TASK_DEFAULTS: Json = {"run_if": "ALL_SUCCESS", "timeout_seconds": 0}
SCHEDULE_BLOCKS = ("schedule", "trigger", "continuous")


def spec_of(job: ObservedJob, *, workspace: str, unknown: list[str]) -> MLJobSpec | list[str]:
    """The spec adopting the job, or why the kind cannot express it.

    `unknown` lists the settings the SDK would drop when sending them (the kind refuses those).
    """
    if unknown:
        return [f"its settings hold fields the Jobs API client does not know: {', '.join(unknown)}"]
    if job.tags.get(UID_TAG):
        return [f"it carries another resource's uid tag ({job.tags[UID_TAG]})"]
    settings = _without_defaults(job.settings)
    try:
        return MLJobSpec(
            workspace_ref=ObjectRef(name=workspace),
            settings=JobSettings.model_validate(settings),
            adopt=True,
        )
    except ValidationError as exc:
        return [f"settings.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]


def _without_defaults(settings: Json) -> Json:
    kept: Json = {k: v for k, v in settings.items() if SERVER_DEFAULTS.get(k, _NONE) != v and not _empty(v)}
    tags = {k: v for k, v in (settings.get("tags") or {}).items() if not k.startswith(TAG_PREFIX)}
    kept.pop("tags", None)
    if tags:
        kept["tags"] = tags
    if "tasks" in kept:
        kept["tasks"] = [_task(t) for t in kept["tasks"]]
    for block in SCHEDULE_BLOCKS:
        if isinstance(kept.get(block), dict) and kept[block].get("pause_status") == "UNPAUSED":
            kept[block] = {k: v for k, v in kept[block].items() if k != "pause_status"}
    return kept


def _task(task: Json) -> Json:
    return {k: v for k, v in task.items() if TASK_DEFAULTS.get(k, _NONE) != v and not _empty(v)}


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


_NONE = object()
