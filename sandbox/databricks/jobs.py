"""Jobs API 2.2: jobs (names are not unique) and runs progressing over time.

A run is PENDING for `Timings.run_pending` seconds, RUNNING for
`Timings.run_running`, then TERMINATED with the result set by
`set_run_result` (SUCCESS by default). Both the deprecated `state` and the
newer `status` objects are returned, as 2.2 does.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from sandbox.databricks.state import (
    ApiError,
    Clock,
    Json,
    Request,
    Route,
    Timings,
    int_param,
    invalid,
    optional,
    page,
    require,
)

PAGE = 100
"""Arrays longer than this (tasks, job_clusters, parameters, environments) are split across pages."""
_PAGED_ARRAYS = (
    ("tasks", "task_key"),
    ("job_clusters", "job_cluster_key"),
    ("environments", "environment_key"),
    ("parameters", "name"),
)
_TASK_KEY = re.compile(r"^[\w\-.]{1,100}$")
RESULTS = ("SUCCESS", "FAILED", "TIMEDOUT", "CANCELED")
_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS", ""),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR", "Task failed with an error (emulated)."),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR", "The run timed out (emulated)."),
    "CANCELED": ("USER_CANCELED", "SUCCESS", "The run was canceled."),
}


def _job_missing(job_id: int) -> ApiError:
    # Databricks answers 400 (not 404) here; the SDK turns it into ResourceDoesNotExist on jobs/get.
    return invalid(f"Job {job_id} does not exist.")


@dataclasses.dataclass
class Job:
    job_id: int
    created_ms: int
    creator: str
    settings: Json
    runs: int = 0


@dataclasses.dataclass
class Run:
    run_id: int
    job_id: int
    number_in_job: int
    created: float
    creator: str
    settings: Json
    job_parameters: list[Json]
    result: str
    canceled_at: float | None = None


class Jobs:
    """State and REST handlers of `/api/2.2/jobs`."""

    def __init__(self, clock: Clock, timings: Timings) -> None:
        self._clock = clock
        self._timings = timings
        self.jobs: dict[int, Job] = {}
        self.runs: dict[int, Run] = {}
        self.tokens: dict[str, int] = {}
        self.next_result = "SUCCESS"
        self.base_url = ""
        self._next_job = 1001
        self._next_run = 900001

    def set_run_result(self, result: str) -> None:
        """The result every later run ends with (SUCCESS, FAILED, TIMEDOUT, CANCELED)."""
        if result not in RESULTS:
            raise invalid(f"Invalid run result '{result}'. Valid: {', '.join(RESULTS)}")
        self.next_result = result

    # ---- settings validation and server-side defaults ----

    def _settings(self, raw: Any) -> Json:
        if not isinstance(raw, dict):
            raise invalid("Job settings must be an object.")
        settings = copy.deepcopy(raw)
        settings.pop("access_control_list", None)
        name = optional(settings, "name", str)
        if name is not None and len(name.encode()) > 4096:
            raise invalid("Job name must be at most 4096 bytes.")
        tags = optional(settings, "tags", dict) or {}
        if len(tags) > 25:
            raise invalid("A job can have at most 25 tags.")
        if settings.get("schedule") is not None and settings.get("continuous") is not None:
            raise invalid("A job can have either a schedule or continuous, not both.")
        if settings.get("triggers") and any(settings.get(k) for k in ("schedule", "continuous", "trigger")):
            raise invalid("triggers cannot be combined with schedule, continuous or trigger.")
        schedule = optional(settings, "schedule", dict)
        if schedule is not None:
            require(schedule, "quartz_cron_expression")
            require(schedule, "timezone_id")
            schedule.setdefault("pause_status", "UNPAUSED")
            if schedule["pause_status"] not in ("PAUSED", "UNPAUSED"):
                raise invalid(f"Invalid pause_status '{schedule['pause_status']}'")
        runs = optional(settings, "max_concurrent_runs", int)
        if runs is not None and not 0 <= runs <= 1000:
            raise invalid("max_concurrent_runs must be between 0 and 1000.")
        clusters = self._keyed(settings, "job_clusters", "job_cluster_key")
        tasks = self._keyed(settings, "tasks", "task_key")
        if len(tasks) > 1000:
            raise invalid("A job can have at most 1000 tasks.")
        keys = {t["task_key"] for t in tasks}
        for task in tasks:
            if not _TASK_KEY.match(task["task_key"]):
                raise invalid(f"Invalid task_key '{task['task_key']}'.")
            for dep in task.get("depends_on") or []:
                if dep.get("task_key") not in keys:
                    raise invalid(f"Task {task['task_key']} depends on {dep.get('task_key')}, which does not exist.")
            cluster = task.get("job_cluster_key")
            if cluster is not None and cluster not in {c["job_cluster_key"] for c in clusters}:
                raise invalid(f"Task {task['task_key']} refers to job cluster {cluster}, which does not exist.")
            task.setdefault("run_if", "ALL_SUCCESS")
            task.setdefault("timeout_seconds", 0)
            task.setdefault("email_notifications", {})
            if isinstance(task.get("notebook_task"), dict):
                task["notebook_task"].setdefault("source", "WORKSPACE")
        settings.setdefault("format", "MULTI_TASK")
        settings.setdefault("max_concurrent_runs", 1)
        settings.setdefault("timeout_seconds", 0)
        settings.setdefault("email_notifications", {})
        settings.setdefault("webhook_notifications", {})
        return settings

    @staticmethod
    def _keyed(settings: Json, field: str, key: str) -> list[Json]:
        items = optional(settings, field, list) or []
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict) or not item.get(key):
                raise invalid(f"Missing required field: {field}.{key}")
            if item[key] in seen:
                raise invalid(f"{field}.{key} must be unique; '{item[key]}' is used twice.")
            seen.add(item[key])
        return items

    # ---- lookups and rendering ----

    def _job(self, value: Any) -> Job:
        job_id = int_param(value, "job_id")
        job = self.jobs.get(job_id)
        if job is None:
            raise _job_missing(job_id)
        return job

    def _run(self, value: Any) -> Run:
        run_id = int_param(value, "run_id")
        run = self.runs.get(run_id)
        if run is None:
            raise invalid(f"Run {run_id} does not exist.")
        return run

    def _base(self, job: Job) -> Json:
        return {
            "job_id": job.job_id,
            "created_time": job.created_ms,
            "creator_user_name": job.creator,
            "run_as_user_name": job.creator,
        }

    def _page_of(self, job: Job, number: int) -> Json:
        settings = copy.deepcopy(job.settings)
        more = False
        longest = max(len(job.settings.get(field) or []) for field, _ in _PAGED_ARRAYS)
        for field, _ in _PAGED_ARRAYS:
            items = job.settings.get(field) or []
            if field == "tasks":
                items = sorted(items, key=lambda t: str(t["task_key"]))
            chunk = items[number * PAGE : (number + 1) * PAGE]
            more = more or len(items) > (number + 1) * PAGE
            if chunk or longest > PAGE:
                settings[field] = copy.deepcopy(chunk)
            else:
                settings.pop(field, None)
        out = {**self._base(job), "settings": settings}
        if more:
            out["has_more"] = True
            out["next_page_token"] = str(number + 1)
        return out

    def _run_view(self, run: Run) -> Json:
        now = self._clock.now()
        started = run.created + self._timings.run_pending
        ends = started + self._timings.run_running
        result: str | None = None
        if run.canceled_at is not None and run.canceled_at < ends:
            life, end, result = "TERMINATED", run.canceled_at, "CANCELED"
        elif now < started:
            life, end = "PENDING", None
        elif now < ends:
            life, end = "RUNNING", None
        else:
            life, end, result = "TERMINATED", ends, run.result
        state: Json = {
            "life_cycle_state": life,
            "state_message": "",
            "user_cancelled_or_timedout": result == "CANCELED",
        }
        status: Json = {"state": life}
        if result is not None:
            state["result_state"] = result
            code, kind, message = _TERMINATION[result]
            state["state_message"] = message
            status["termination_details"] = {"code": code, "type": kind, "message": message}
        created_ms = int(run.created * 1000)
        timing: Json = {"start_time": created_ms, "setup_duration": 0, "execution_duration": 0, "cleanup_duration": 0}
        if end is not None:
            timing.update(
                end_time=int(end * 1000),
                run_duration=int((end - run.created) * 1000),
                execution_duration=int(max(0.0, end - started) * 1000),
            )
        tasks = [
            {
                "task_key": t["task_key"],
                "run_id": run.run_id * 1000 + i,
                "state": dict(state),
                "status": copy.deepcopy(status),
                "attempt_number": 0,
                **{k: v for k, v in t.items() if k.endswith("_task")},
                **timing,
            }
            for i, t in enumerate(run.settings.get("tasks") or [])
        ]
        return {
            "run_id": run.run_id,
            "job_id": run.job_id,
            "number_in_job": run.number_in_job,
            "original_attempt_run_id": run.run_id,
            "attempt_number": 0,
            "creator_user_name": run.creator,
            "run_name": run.settings.get("name") or "Untitled",
            "run_page_url": f"{self.base_url}/jobs/{run.job_id}/runs/{run.run_id}",
            "run_type": "JOB_RUN",
            "trigger": "ONE_TIME",
            "format": "MULTI_TASK",
            "state": state,
            "status": status,
            "tasks": tasks,
            "job_parameters": copy.deepcopy(run.job_parameters),
            **timing,
        }

    # ---- job handlers ----

    def create(self, req: Request) -> Json:
        settings = self._settings(req.body)
        job = Job(self._next_job, self._clock.now_ms(), req.principal, settings)
        self._next_job += 1
        self.jobs[job.job_id] = job
        return {"job_id": job.job_id}

    def get(self, req: Request) -> Json:
        job = self._job(req.arg("job_id"))
        token = req.arg("page_token")
        if token is not None and not token.isdigit():
            raise invalid(f"Invalid page token: {token}")
        return self._page_of(job, int(token or 0))

    def list_jobs(self, req: Request) -> Json:
        limit = int_param(req.arg("limit") or "20", "limit")
        if not 1 <= limit <= 100:
            raise invalid("limit must be between 1 and 100.")
        name = (req.arg("name") or "").lower()
        expand = req.flag("expand_tasks")
        matching: list[Json] = []
        for job in sorted(self.jobs.values(), key=lambda j: j.job_id):
            if name and (job.settings.get("name") or "").lower() != name:
                continue
            entry = self._page_of(job, 0)
            entry.pop("next_page_token", None)
            if not expand:
                entry.pop("has_more", None)
                for field in ("tasks", "job_clusters"):
                    entry["settings"].pop(field, None)
            matching.append(entry)
        offset = req.arg("offset")
        token = req.arg("page_token") or (offset if offset and offset != "0" else None)
        items, next_token = page(matching, token, limit)
        out: Json = {"has_more": next_token is not None}
        if items:
            out["jobs"] = items
        if next_token:
            out["next_page_token"] = next_token
        return out

    def reset(self, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        if req.body.get("new_settings") is None:
            raise invalid("Missing required field: new_settings")
        job.settings = self._settings(req.body["new_settings"])
        return {}

    def update(self, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        merged = copy.deepcopy(job.settings)
        new = optional(req.body, "new_settings", dict) or {}
        for field, value in new.items():
            keyed = dict(_PAGED_ARRAYS).get(field)
            if keyed is None or not isinstance(value, list):
                merged[field] = copy.deepcopy(value)
                continue
            items = {i[keyed]: i for i in merged.get(field) or []}
            for item in value:
                if not isinstance(item, dict) or not item.get(keyed):
                    raise invalid(f"Missing required field: {field}.{keyed}")
                items[item[keyed]] = copy.deepcopy(item)
            merged[field] = list(items.values())
        for path in optional(req.body, "fields_to_remove", list) or []:
            field, _, key = str(path).partition("/")
            if key and field in dict(_PAGED_ARRAYS):
                keyed = dict(_PAGED_ARRAYS)[field]
                merged[field] = [i for i in merged.get(field) or [] if i.get(keyed) != key]
            else:
                merged.pop(field, None)
        job.settings = self._settings(merged)
        return {}

    def delete(self, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        del self.jobs[job.job_id]
        return {}

    # ---- run handlers ----

    def run_now(self, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        token = optional(req.body, "idempotency_token", str)
        if token is not None:
            if len(token) > 64:
                raise invalid("idempotency_token must be at most 64 characters.")
            if token in self.tokens and self.tokens[token] in self.runs:
                existing = self.runs[self.tokens[token]]
                return {"run_id": existing.run_id, "number_in_job": existing.number_in_job}
        overrides = optional(req.body, "job_parameters", dict) or {}
        declared = {p["name"]: p.get("default") for p in job.settings.get("parameters") or []}
        unknown = set(overrides) - set(declared)
        if unknown:
            raise invalid(f"Job parameters not defined on the job: {', '.join(sorted(unknown))}")
        job.runs += 1
        run = Run(
            run_id=self._next_run,
            job_id=job.job_id,
            number_in_job=job.runs,
            created=self._clock.now(),
            creator=req.principal,
            settings=copy.deepcopy(job.settings),
            job_parameters=[{"name": n, "default": d, "value": str(overrides.get(n, d))} for n, d in declared.items()],
            result=self.next_result,
        )
        self._next_run += 1
        self.runs[run.run_id] = run
        if token is not None:
            self.tokens[token] = run.run_id
        return {"run_id": run.run_id, "number_in_job": run.number_in_job}

    def get_run(self, req: Request) -> Json:
        return self._run_view(self._run(req.arg("run_id")))

    def cancel_run(self, req: Request) -> Json:
        run = self._run(req.body.get("run_id"))
        if run.canceled_at is None:
            run.canceled_at = self._clock.now()
        return {}

    def list_runs(self, req: Request) -> Json:
        limit = int_param(req.arg("limit") or "25", "limit")
        if not 1 <= limit <= 25:
            raise invalid("limit must be between 1 and 25.")
        job_id = req.arg("job_id")
        wanted = int_param(job_id, "job_id") if job_id else None
        views = [
            self._run_view(r)
            for r in sorted(self.runs.values(), key=lambda r: -r.run_id)
            if wanted is None or r.job_id == wanted
        ]
        if req.flag("active_only"):
            views = [v for v in views if v["state"]["life_cycle_state"] != "TERMINATED"]
        if req.flag("completed_only"):
            views = [v for v in views if v["state"]["life_cycle_state"] == "TERMINATED"]
        if not req.flag("expand_tasks"):
            for view in views:
                view.pop("tasks")
        items, token = page(views, req.arg("page_token"), limit)
        out: Json = {"has_more": token is not None}
        if items:
            out["runs"] = items
        if token:
            out["next_page_token"] = token
        return out

    def routes(self) -> list[Route]:
        base = "/api/2.2/jobs"
        return [
            Route("POST", f"{base}/create", self.create),
            Route("GET", f"{base}/get", self.get),
            Route("GET", f"{base}/list", self.list_jobs),
            Route("POST", f"{base}/reset", self.reset),
            Route("POST", f"{base}/update", self.update),
            Route("POST", f"{base}/delete", self.delete),
            Route("POST", f"{base}/run-now", self.run_now),
            Route("GET", f"{base}/runs/get", self.get_run),
            Route("GET", f"{base}/runs/list", self.list_runs),
            Route("POST", f"{base}/runs/cancel", self.cancel_run),
        ]
