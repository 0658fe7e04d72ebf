"""What each Jobs API version shows of the same job or run.

- 2.2 pages the arrays of `jobs/get` and `runs/get` 100 items at a time (`next_page_token`),
  and cuts them at 100 in listings (`has_more`).
- 2.1 shows every item, and refuses a job or run of more than 100 tasks.
- 2.0 does as 2.1, but shows a SINGLE_TASK job, and its runs, in the single-task format.
- 2.1 and 2.2 always say `format: MULTI_TASK`; runs carry `format` before 2.2 only.
"""

from __future__ import annotations

import copy

from sandbox.databricks.jobs import legacy
from sandbox.databricks.jobs.settings import KEYED_ARRAYS, LEGACY_MAX_TASKS, too_many_tasks
from sandbox.databricks.state import Json, invalid

VERSIONS = ("2.0", "2.1", "2.2")
PAGE = 100


def page_number(token: str | None) -> int:
    if token is not None and not token.isdigit():
        raise invalid(f"Invalid page token: {token}")
    return int(token or 0)


def job(base: Json, settings: Json, version: str, number: int) -> Json:
    """`jobs/get`: page `number` of the job (2.2), or all of it."""
    if version != "2.2":
        return {**base, "settings": _whole(settings, version)}
    shown, more = _page(_sorted_tasks(settings), number)
    out = {**base, "settings": _multi_task(shown)}
    if more:
        out["next_page_token"] = str(number + 1)
    return out


def listed_job(base: Json, settings: Json, version: str, expand: bool) -> Json:
    """An item of `jobs/list`: tasks and job clusters only with `expand_tasks`, cut at 100 in 2.2."""
    if version == "2.2":
        shown, more = _page(_sorted_tasks(settings), 0)
        shown = _multi_task(shown)
    else:
        shown, more = _shown(_sorted_tasks(settings), version), False
    if not expand:
        for field in ("tasks", "job_clusters"):
            shown.pop(field, None)
    out = {**base, "settings": shown}
    if more and expand:
        out["has_more"] = True
    return out


def run(view: Json, single_task: bool, version: str, number: int) -> Json:
    """`runs/get`: page `number` of the run's tasks (2.2), or all of them."""
    tasks = view.get("tasks") or []
    if version != "2.2":
        if len(tasks) > LEGACY_MAX_TASKS:
            raise too_many_tasks()
        return _older_run(view, single_task, version)
    shown = {k: v for k, v in view.items() if k != "tasks"}
    chunk = tasks[number * PAGE : (number + 1) * PAGE]
    if chunk:
        shown["tasks"] = chunk
    if len(tasks) > (number + 1) * PAGE:
        shown["next_page_token"] = str(number + 1)
    return shown


def listed_run(view: Json, single_task: bool, version: str, expand: bool) -> Json:
    """An item of `runs/list`: tasks only with `expand_tasks`, cut at 100 in 2.2."""
    shown = copy.deepcopy(view)
    tasks = shown.pop("tasks", None) or []
    if version != "2.2":
        shown = _older_run({**shown, "tasks": tasks} if tasks else shown, single_task, version)
        if not expand:
            shown.pop("tasks", None)
        return shown
    if expand and tasks:
        shown["tasks"] = tasks[:PAGE]
        if len(tasks) > PAGE:
            shown["has_more"] = True
    return shown


def _older_run(view: Json, single_task: bool, version: str) -> Json:
    shown = copy.deepcopy(view)
    if version == "2.0" and single_task:
        tasks = shown.pop("tasks", None) or [{}]
        shown.update(legacy.run_parts(tasks[0]))
    shown["format"] = "SINGLE_TASK" if version == "2.0" and single_task else "MULTI_TASK"
    return shown


def _whole(settings: Json, version: str) -> Json:
    if len(settings.get("tasks") or []) > LEGACY_MAX_TASKS:
        raise too_many_tasks()
    return _shown(_sorted_tasks(settings), version)


def _shown(settings: Json, version: str) -> Json:
    if version == "2.0" and settings.get("format") == "SINGLE_TASK":
        return legacy.to_single_task(settings)
    return _multi_task(settings)


def _multi_task(settings: Json) -> Json:
    return {**settings, "format": "MULTI_TASK"}


def _sorted_tasks(settings: Json) -> Json:
    shown = copy.deepcopy(settings)
    if shown.get("tasks"):
        shown["tasks"] = sorted(shown["tasks"], key=lambda t: str(t["task_key"]))
    return shown


def _page(settings: Json, number: int) -> tuple[Json, bool]:
    """The settings with page `number` of each keyed array (left out when empty), and whether more follow."""
    shown = dict(settings)
    more = False
    for field in KEYED_ARRAYS:
        items = settings.get(field) or []
        chunk = items[number * PAGE : (number + 1) * PAGE]
        more = more or len(items) > (number + 1) * PAGE
        shown.pop(field, None)
        if chunk:
            shown[field] = chunk
    return shown, more
