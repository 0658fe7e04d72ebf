"""Job settings as the Jobs API stores them: validation, server-side defaults, partial updates.

Settings are kept in the multi-task format whatever version wrote them; `legacy`
converts the 2.0 single-task format on the way in and out.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sandbox.databricks.jobs import legacy
from sandbox.databricks.state import ApiError, Json, invalid, optional, require

KEYED_ARRAYS = {
    "tasks": "task_key",
    "job_clusters": "job_cluster_key",
    "environments": "environment_key",
    "parameters": "name",
}
"""Arrays whose items `jobs/update` merges by key, and that 2.2 pages 100 at a time."""
MAX_TASKS = 1000
LEGACY_MAX_TASKS = 100
_TASK_KEY = re.compile(r"^[\w\-.]{1,100}$")
# Map fields (proto3 `map<...>`): serialised without the key when empty, as empty arrays are.
_MAP_FIELDS = frozenset({"tags", "base_parameters", "named_parameters", "spark_conf", "spark_env_vars", "custom_tags"})


def too_many_tasks() -> ApiError:
    return invalid("Resources with more than 100 tasks can only be handled by API 2.2 and above")


def normalised(raw: Any, version: str) -> Json:
    """The settings as stored: validated, in multi-task format, with the server's defaults filled in."""
    if not isinstance(raw, dict):
        raise invalid("Job settings must be an object.")
    settings = copy.deepcopy(raw)
    settings.pop("access_control_list", None)
    settings.pop("format", None)  # ignored on writes: the server decides
    settings = legacy.to_multi_task(settings) if version == "2.0" else settings
    if version != "2.0" and legacy.has_legacy_fields(settings):
        raise invalid(f"{legacy.named_fields(settings)}: the single-task format is only accepted by Jobs API 2.0.")
    _check_job(settings)
    tasks = _keyed(settings, "tasks")
    if len(tasks) > (MAX_TASKS if version == "2.2" else LEGACY_MAX_TASKS):
        raise invalid(f"A job can have at most {MAX_TASKS} tasks.") if version == "2.2" else too_many_tasks()
    _check_tasks(tasks, {c["job_cluster_key"] for c in _keyed(settings, "job_clusters")})
    for field in ("environments", "parameters"):
        _keyed(settings, field)
    if version == "2.2":
        settings.setdefault("queue", {"enabled": True})  # 2.2 queues new jobs by default; 2.0 and 2.1 do not
    settings.setdefault("format", "MULTI_TASK")
    settings.setdefault("max_concurrent_runs", 1)
    settings.setdefault("timeout_seconds", 0)
    settings.setdefault("email_notifications", {})
    settings.setdefault("webhook_notifications", {})
    stored: Json = without_empty(settings)
    return stored


def merged(current: Json, new_settings: Json, fields_to_remove: list[Any]) -> Json:
    """`jobs/update`: top-level fields replaced, keyed arrays merged by key, then the removals applied."""
    result = copy.deepcopy(current)
    for field, value in new_settings.items():
        key = KEYED_ARRAYS.get(field)
        if key is None or not isinstance(value, list):
            result[field] = copy.deepcopy(value)
            continue
        items = {i[key]: i for i in result.get(field) or []}
        for item in value:
            if not isinstance(item, dict) or not item.get(key):
                raise invalid(f"Missing required field: {field}.{key}")
            items[item[key]] = copy.deepcopy(item)
        result[field] = list(items.values())
    for path in fields_to_remove:
        field, _, name = str(path).partition("/")
        if name and field in KEYED_ARRAYS:
            result[field] = [i for i in result.get(field) or [] if i.get(KEYED_ARRAYS[field]) != name]
        else:
            result.pop(field, None)
    return result


def without_empty(value: Any, key: str = "") -> Any:
    """Proto3 JSON, as the service writes it: no empty arrays, and no empty maps."""
    if isinstance(value, dict):
        kept = {k: without_empty(v, k) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v != [] and not (v == {} and k in _MAP_FIELDS)}
    if isinstance(value, list):
        return [without_empty(v, key) for v in value]
    return value


def _check_job(settings: Json) -> None:
    name = optional(settings, "name", str)
    if name is not None and len(name.encode()) > 4096:
        raise invalid("Job name must be at most 4096 bytes.")
    if len(optional(settings, "tags", dict) or {}) > 25:
        raise invalid("A job can have at most 25 tags.")
    if settings.get("schedule") is not None and settings.get("continuous") is not None:
        raise invalid("A job can have either a schedule or continuous, not both.")
    if settings.get("triggers") and any(settings.get(k) for k in ("schedule", "continuous", "trigger")):
        raise invalid("triggers cannot be combined with schedule, continuous or trigger.")
    schedule = optional(settings, "schedule", dict)
    if schedule is not None:
        require(schedule, "quartz_cron_expression")
        require(schedule, "timezone_id")
        _pause_status(schedule)
    continuous = optional(settings, "continuous", dict)
    if continuous is not None:
        _pause_status(continuous)
    runs = _integer(settings, "max_concurrent_runs")
    if runs is not None and not 0 <= runs <= 1000:
        raise invalid("max_concurrent_runs must be between 0 and 1000.")


def _pause_status(block: Json) -> None:
    block.setdefault("pause_status", "UNPAUSED")
    if block["pause_status"] not in ("PAUSED", "UNPAUSED"):
        raise invalid(f"Invalid pause_status '{block['pause_status']}'")


def _check_tasks(tasks: list[Json], clusters: set[str]) -> None:
    keys = {t["task_key"] for t in tasks}
    for task in tasks:
        if not _TASK_KEY.match(task["task_key"]):
            raise invalid(f"Invalid task_key '{task['task_key']}'.")
        for dep in task.get("depends_on") or []:
            if dep.get("task_key") not in keys:
                raise invalid(f"Task {task['task_key']} depends on {dep.get('task_key')}, which does not exist.")
        cluster = task.get("job_cluster_key")
        if cluster is not None and cluster not in clusters:
            raise invalid(f"Task {task['task_key']} refers to job cluster {cluster}, which does not exist.")
        task.setdefault("run_if", "ALL_SUCCESS")
        task.setdefault("timeout_seconds", 0)
        task.setdefault("email_notifications", {})
        if isinstance(task.get("notebook_task"), dict):
            task["notebook_task"].setdefault("source", "WORKSPACE")


def _integer(block: Json, field: str) -> int | None:
    value = block.get(field)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise invalid(f"Invalid value for field '{field}'")
    return value


def _keyed(settings: Json, field: str) -> list[Json]:
    key = KEYED_ARRAYS[field]
    items = optional(settings, field, list) or []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not item.get(key):
            raise invalid(f"Missing required field: {field}.{key}")
        if item[key] in seen:
            raise invalid(f"{field}.{key} must be unique; '{item[key]}' is used twice.")
        seen.add(item[key])
    return items
