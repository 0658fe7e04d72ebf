"""Job settings as the Jobs API stores them: validation, server-side defaults, partial updates.

Settings are kept in the multi-task format whatever version wrote them; `legacy`
converts the 2.0 single-task format on the way in and out.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sandbox.databricks.jobs import legacy
from sandbox.databricks.quartz import cron_problem, timezone_problem
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
_CRON_HELP = (
    "Databricks uses Quartz cron syntax, which is different from the standard cron syntax. "
    "See http://www.quartz-scheduler.org/documentation/quartz-2.1.x/tutorials/crontrigger.html for more details."
)
_QUARTZ_LAST_YEAR = 2099


def too_many_tasks() -> ApiError:
    return invalid("Resources with more than 100 tasks can only be handled by API 2.2 and above")


def normalised(raw: Any, version: str, year: int) -> Json:
    """The settings as stored: validated, in multi-task format, with the server's defaults filled in.

    `year` is the emulator clock's, for a schedule whose last year has passed.
    """
    if not isinstance(raw, dict):
        raise invalid("Job settings must be an object.")
    settings = copy.deepcopy(raw)
    settings.pop("access_control_list", None)
    settings.pop("format", None)  # ignored on writes: the server decides
    settings = legacy.to_multi_task(settings) if version == "2.0" else settings
    if version != "2.0" and legacy.has_legacy_fields(settings):
        raise invalid(f"{legacy.named_fields(settings)}: the single-task format is only accepted by Jobs API 2.0.")
    _check_job(settings, year)
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


def _check_job(settings: Json, year: int) -> None:
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
        _check_schedule(schedule, year)
    continuous = optional(settings, "continuous", dict)
    if continuous is not None:
        _pause_status(continuous)
    runs = _integer(settings, "max_concurrent_runs")
    if runs is not None and not 0 <= runs <= 1000:
        raise invalid("max_concurrent_runs must be between 0 and 1000.")
    _at_least(settings, "timeout_seconds", 0, "")


def _check_schedule(schedule: Json, year: int) -> None:
    expression = require(schedule, "quartz_cron_expression")
    if cron_problem(expression) is not None:
        raise invalid(f"Invalid quartz_cron_expression: {expression}. {_CRON_HELP}")
    if _last_year(expression) < year:
        raise invalid(f"The provided cron expression: {expression} will never fire.")
    timezone = require(schedule, "timezone_id")
    if timezone_problem(timezone) is not None:
        raise invalid(f"Invalid timezone_id: {timezone}. It must be a Java time-zone id, such as UTC or Europe/Berlin.")
    _pause_status(schedule)


def _last_year(expression: str) -> int:
    """The last year a (valid) expression names; only a seventh field limits it."""
    fields = expression.split()
    if len(fields) < 7:
        return _QUARTZ_LAST_YEAR
    last = 0
    for item in fields[6].split(","):
        if item == "*" or "/" in item:
            return _QUARTZ_LAST_YEAR
        last = max(last, int(item.rpartition("-")[2]))
    return last


def _pause_status(block: Json) -> None:
    block.setdefault("pause_status", "UNPAUSED")
    if block["pause_status"] not in ("PAUSED", "UNPAUSED"):
        raise invalid(f"Invalid pause_status '{block['pause_status']}'")


def _check_tasks(tasks: list[Json], clusters: set[str]) -> None:
    keys = {t["task_key"] for t in tasks}
    for index, task in enumerate(tasks):
        if not _TASK_KEY.match(task["task_key"]):
            raise invalid(f"Invalid task_key '{task['task_key']}'.")
        for dep in task.get("depends_on") or []:
            if dep.get("task_key") not in keys:
                raise invalid(f"Task {task['task_key']} depends on {dep.get('task_key')}, which does not exist.")
        cluster = task.get("job_cluster_key")
        if cluster is not None and cluster not in clusters:
            raise invalid(f"Task {task['task_key']} refers to job cluster {cluster}, which does not exist.")
        where = f"tasks[{index}]."
        _at_least(task, "timeout_seconds", 0, where)
        _at_least(task, "min_retry_interval_millis", 0, where)
        _at_least(task, "max_retries", -1, where)  # -1 retries without limit
        task.setdefault("run_if", "ALL_SUCCESS")
        task.setdefault("timeout_seconds", 0)
        task.setdefault("email_notifications", {})
        if isinstance(task.get("notebook_task"), dict):
            task["notebook_task"].setdefault("source", "WORKSPACE")


def _at_least(block: Json, field: str, lowest: int, where: str) -> None:
    value = _integer(block, field)
    if value is not None and value < lowest:
        raise invalid(f"Invalid value for {where}{field}: {value}. It must be {lowest} or more.")


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
