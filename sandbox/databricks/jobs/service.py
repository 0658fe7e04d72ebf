"""The Jobs API's REST handlers, under `/api/2.0/jobs`, `/api/2.1/jobs` and `/api/2.2/jobs`.

Jobs have numeric ids; names are not unique. A continuous job that is not paused starts
its runs by itself: whenever jobs are looked at, the runs it would have started by now
are made (see `Runs.keep_running`).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

from sandbox.databricks.jobs import legacy, versions
from sandbox.databricks.jobs import settings as job_settings
from sandbox.databricks.jobs.runs import Run, Runs
from sandbox.databricks.state import ApiError, Clock, Json, Request, Route, Timings, int_param, invalid, optional, page

_CONTINUOUS_BUSY = (
    "A concurrent request to run the continuous job is already in progress. "
    "Please wait for it to complete before issuing a new request."
)
_MAX_OFFSET = 1000


def _job_missing(job_id: int) -> ApiError:
    # Databricks answers 400 (not 404) here; the SDK turns it into ResourceDoesNotExist on jobs/get.
    return invalid(f"Job {job_id} does not exist.")


@dataclasses.dataclass
class Job:
    job_id: int
    created_ms: int
    creator: str
    settings: Json
    continuous_since: float | None = None
    """When the job last became continuous and unpaused (None: it is not)."""

    @property
    def single_task(self) -> bool:
        return self.settings.get("format") == "SINGLE_TASK"


class Jobs:
    """State and REST handlers of the Jobs API."""

    def __init__(self, clock: Clock, timings: Timings) -> None:
        self._clock = clock
        self.jobs: dict[int, Job] = {}
        self.runs = Runs(clock, timings)
        self.base_url = ""
        self._next_job = 1001

    def set_run_result(self, result: str) -> None:
        """The result every later run ends with (SUCCESS, FAILED, TIMEDOUT, CANCELED)."""
        self.runs.set_result(result)

    # ---- helpers ----

    def _normalised(self, raw: Any, version: str) -> Json:
        year = datetime.datetime.fromtimestamp(self._clock.now(), datetime.UTC).year
        return job_settings.normalised(raw, version, year)

    def _job(self, value: Any) -> Job:
        job_id = int_param(value, "job_id")
        job = self.jobs.get(job_id)
        if job is None:
            raise _job_missing(job_id)
        return job

    def _store(self, job: Job, settings: Json) -> None:
        """New settings; a continuous job's own runs start from the moment it is unpaused."""
        if (settings.get("continuous") or {}).get("pause_status") != "UNPAUSED":
            job.continuous_since = None
        elif job.continuous_since is None:
            job.continuous_since = self._clock.now()
        job.settings = settings

    def _keep_running(self) -> None:
        for job in self.jobs.values():
            if job.continuous_since is not None:
                self.runs.keep_running(job.job_id, job.settings, job.creator, job.continuous_since)

    def _base(self, job: Job) -> Json:
        return {"job_id": job.job_id, "created_time": job.created_ms, "creator_user_name": job.creator}

    def _run_view(self, run: Run) -> Json:
        return {**self.runs.view(run), "run_page_url": f"{self.base_url}/jobs/{run.job_id}/runs/{run.run_id}"}

    def _single_task_run(self, run: Run) -> bool:
        return run.settings.get("format") == "SINGLE_TASK"

    # ---- jobs ----

    def create(self, version: str, req: Request) -> Json:
        job = Job(self._next_job, self._clock.now_ms(), req.principal, {})
        self._store(job, self._normalised(req.body, version))
        self._next_job += 1
        self.jobs[job.job_id] = job
        return {"job_id": job.job_id}

    def get(self, version: str, req: Request) -> Json:
        job = self._job(req.arg("job_id"))
        base = {**self._base(job), "run_as_user_name": job.creator}
        return versions.job(base, job.settings, version, versions.page_number(req.arg("page_token")))

    def list_jobs(self, version: str, req: Request) -> Json:
        limit = int_param(req.arg("limit") or "20", "limit")
        if not 1 <= limit <= 100:
            raise invalid("limit must be between 1 and 100.")
        name = (req.arg("name") or "").lower()
        expand = req.flag("expand_tasks")
        matching = [
            versions.listed_job(self._base(job), job.settings, version, expand)
            for job in sorted(self.jobs.values(), key=lambda j: j.job_id)
            if not name or (job.settings.get("name") or "").lower() == name
        ]
        items, next_token = page(matching, req.arg("page_token") or _offset(req.arg("offset")), limit)
        out: Json = {"has_more": next_token is not None}
        if items:
            out["jobs"] = items
        if next_token:
            out["next_page_token"] = next_token
        return out

    def reset(self, version: str, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        if req.body.get("new_settings") is None:
            raise invalid("Missing required field: new_settings")
        self._store(job, self._normalised(req.body["new_settings"], version))
        return {}

    def update(self, version: str, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        current = job.settings
        if version == "2.0" and job.single_task:
            current = legacy.to_single_task(current)  # 2.0 updates it in its own format
        new = optional(req.body, "new_settings", dict) or {}
        removed = optional(req.body, "fields_to_remove", list) or []
        self._store(job, self._normalised(job_settings.merged(current, new, removed), version))
        return {}

    def delete(self, version: str, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        del self.jobs[job.job_id]
        return {}

    # ---- runs ----

    def run_now(self, version: str, req: Request) -> Json:
        job = self._job(req.body.get("job_id"))
        token = optional(req.body, "idempotency_token", str)
        if token is not None:
            if len(token) > 64:
                raise invalid("idempotency_token must be at most 64 characters.")
            if token in self.runs.tokens:
                existing = self.runs.get(self.runs.tokens[token])
                return {"run_id": existing.run_id, "number_in_job": existing.number_in_job}
        overrides = optional(req.body, "job_parameters", dict) or {}
        declared = {p["name"] for p in job.settings.get("parameters") or []}
        unknown = set(overrides) - declared
        if unknown:
            raise invalid(f"Job parameters not defined on the job: {', '.join(sorted(unknown))}")
        trigger = "ONE_TIME"
        if job.continuous_since is not None:
            # Run now restarts an unpaused continuous job; its own start must have got going first.
            latest = self.runs.latest(job.job_id)
            if latest is not None and self.runs.pending(latest):
                raise ApiError(409, "RESOURCE_CONFLICT", _CONTINUOUS_BUSY)
            if latest is not None:
                self.runs.cancel(latest)
            trigger = "CONTINUOUS_RESTART"
        run = self.runs.start(job.job_id, job.settings, req.principal, trigger=trigger, overrides=overrides)
        if token is not None:
            self.runs.tokens[token] = run.run_id
        return {"run_id": run.run_id, "number_in_job": run.number_in_job}

    def get_run(self, version: str, req: Request) -> Json:
        run = self.runs.get(int_param(req.arg("run_id"), "run_id"))
        number = versions.page_number(req.arg("page_token"))
        return versions.run(self._run_view(run), self._single_task_run(run), version, number)

    def cancel_run(self, version: str, req: Request) -> Json:
        self.runs.cancel(self.runs.get(int_param(req.body.get("run_id"), "run_id")))
        return {}

    def list_runs(self, version: str, req: Request) -> Json:
        limit = int_param(req.arg("limit") or "20", "limit")
        if not 0 <= limit <= 25:
            raise invalid("limit must be between 0 and 25.")
        if req.flag("active_only") and req.flag("completed_only"):
            raise invalid("active_only and completed_only cannot both be true.")
        job_id = req.arg("job_id")
        wanted = int_param(job_id, "job_id") if job_id else None
        runs = [
            r
            for r in sorted(self.runs.runs.values(), key=lambda r: -r.run_id)
            if (wanted is None or r.job_id == wanted)
            and not (req.flag("active_only") and not self.runs.active(r))
            and not (req.flag("completed_only") and self.runs.active(r))
        ]
        expand = req.flag("expand_tasks")
        views = [versions.listed_run(self._run_view(r), self._single_task_run(r), version, expand) for r in runs]
        items, token = page(views, req.arg("page_token") or _offset(req.arg("offset")), limit or 25)
        out: Json = {"has_more": token is not None}
        if items:
            out["runs"] = items
        if token:
            out["next_page_token"] = token
        return out

    # ---- routes ----

    def routes(self) -> list[Route]:
        operations: list[tuple[str, str, Callable[[str, Request], Json]]] = [
            ("POST", "create", self.create),
            ("GET", "get", self.get),
            ("GET", "list", self.list_jobs),
            ("POST", "reset", self.reset),
            ("POST", "update", self.update),
            ("POST", "delete", self.delete),
            ("POST", "run-now", self.run_now),
            ("GET", "runs/get", self.get_run),
            ("GET", "runs/list", self.list_runs),
            ("POST", "runs/cancel", self.cancel_run),
        ]
        return [
            Route(method, f"/api/{version}/jobs/{path}", self._handler(version, operation))
            for version in versions.VERSIONS
            for method, path, operation in operations
        ]

    def _handler(self, version: str, operation: Callable[[str, Request], Json]) -> Callable[[Request], Json]:
        def handle(req: Request) -> Json:
            self._keep_running()  # the runs continuous jobs started by now, before anything is read or changed
            return operation(version, req)

        return handle


def _offset(value: str | None) -> str | None:
    """The deprecated `offset`, as a page token; Databricks refuses one past 1000."""
    if not value or value == "0":
        return None
    if value.isdigit() and int(value) > _MAX_OFFSET:
        raise invalid(
            f"The supplied offset {value} has exceeded the value of {_MAX_OFFSET} allowed for this parameter."
            "Please use the page_token to iterate through the pages instead."
        )
    return value
