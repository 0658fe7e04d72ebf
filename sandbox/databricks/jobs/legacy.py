"""The single-task format of Jobs API 2.0: one task's fields at the top of the settings.

A job created through 2.0 with `notebook_task` (or another task type) and its cluster
at the top level is a SINGLE_TASK job. It is stored as one task, as 2.1 and 2.2 show
it; 2.0 shows it, and its runs, the old way again.
"""

from __future__ import annotations

import copy
import re

from sandbox.databricks.state import Json, invalid

TASK_FIELDS = (
    "notebook_task",
    "spark_jar_task",
    "spark_python_task",
    "spark_submit_task",
    "pipeline_task",
    "python_wheel_task",
    "dbt_task",
    "run_job_task",
    "sql_task",
)
CLUSTER_FIELDS = ("existing_cluster_id", "new_cluster", "libraries")
RETRY_FIELDS = ("max_retries", "min_retry_interval_millis", "retry_on_timeout")
FIELDS = TASK_FIELDS + CLUSTER_FIELDS + RETRY_FIELDS
"""What a single-task job has at the top level and a multi-task job has in each task."""


def has_legacy_fields(settings: Json) -> bool:
    return any(field in settings for field in FIELDS)


def named_fields(settings: Json) -> str:
    return ", ".join(field for field in FIELDS if field in settings)


def to_multi_task(settings: Json) -> Json:
    """2.0 settings as stored: top-level task fields moved into one task; a SINGLE_TASK marker kept."""
    if not has_legacy_fields(settings):
        return settings
    if settings.get("tasks"):
        raise invalid(f"{named_fields(settings)} cannot be combined with tasks: use one format.")
    task: Json = {"task_key": task_key(settings.get("name"))}
    for field in FIELDS:
        if field in settings:
            task[field] = settings.pop(field)
    return {**settings, "tasks": [task], "format": "SINGLE_TASK"}


def to_single_task(settings: Json) -> Json:
    """How 2.0 shows a SINGLE_TASK job's settings: its one task's fields at the top level."""
    shown = copy.deepcopy(settings)
    tasks = shown.pop("tasks", None) or [{}]
    shown.update({field: tasks[0][field] for field in FIELDS if field in tasks[0]})
    return shown


def run_parts(task: Json) -> Json:
    """How 2.0 shows a single-task run: `task` (what ran) and `cluster_spec` (where)."""
    parts: Json = {"task": {f: copy.deepcopy(task[f]) for f in TASK_FIELDS if f in task}}
    cluster = {f: copy.deepcopy(task[f]) for f in CLUSTER_FIELDS if f in task}
    if cluster:
        parts["cluster_spec"] = cluster
    return parts


def task_key(name: object) -> str:
    """The key 2.1 and 2.2 show for the one task of a single-task job: its name, made a valid key."""
    key = re.sub(r"[^\w\-.]", "_", name if isinstance(name, str) else "")[:100]
    return key or "Untitled"
