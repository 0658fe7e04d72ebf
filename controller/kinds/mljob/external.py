"""The MLJob's external client: jobs and runs through the databricks-sdk's Jobs API 2.2."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.jobs import BaseJob, Job, JobSettings, Run

from controller.clients import errors
from controller.clients.databricks import translated_errors
from controller.clients.object_permissions import ObjectPermissions
from controller.kinds.mljob.observed import ObservedJob, ObservedRun
from controller.reconciling.permissions import Levels

Json = dict[str, Any]


class DatabricksJobs:
    """Implements the reconcile's `Jobs` protocol against one workspace."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._w = client

    def unknown_fields(self, settings: Json) -> list[str]:
        """Fields (or enum values) the SDK would drop silently when sending these settings."""
        try:
            parsed = JobSettings.from_dict(settings)
        except (AttributeError, TypeError, ValueError) as exc:  # e.g. a string where an object belongs
            raise errors.Rejected(f"the settings are not valid Jobs API settings: {exc}") from exc
        return _dropped(settings, parsed.as_dict(), "")

    def get_job(self, job_id: int) -> ObservedJob | None:
        try:
            with translated_errors():
                return _job(self._w.jobs.get(job_id))
        except errors.NotFound:
            return None

    def list_jobs(self, name: str) -> list[ObservedJob]:
        """Jobs with this name (exact, case-insensitive), with the settings `get_job` returns.

        `expand_tasks` adds tasks and job clusters; the SDK reads a job with more than 100 of them again.
        """
        with translated_errors():
            return [_job(j) for j in self._w.jobs.list(name=name, expand_tasks=True, limit=100)]

    def list_all_jobs(self) -> list[ObservedJob]:
        """Every job in the workspace with its settings as `list_jobs` returns them (for `mlopsctl import`)."""
        with translated_errors():
            return sorted((_job(j) for j in self._w.jobs.list(expand_tasks=True, limit=100)), key=lambda j: j.job_id)

    def create_job(self, settings: Json) -> int:
        parsed = JobSettings.from_dict(settings)
        with translated_errors():
            created = self._w.jobs.create(**{f.name: getattr(parsed, f.name) for f in dataclasses.fields(parsed)})
        if created.job_id is None:
            raise errors.Unavailable("Databricks answered the create without a job id")
        return created.job_id

    def reset_job(self, job_id: int, settings: Json) -> None:
        with translated_errors():
            self._w.jobs.reset(job_id, JobSettings.from_dict(settings))

    def update_tags(self, job_id: int, tags: Mapping[str, str]) -> None:
        """A partial update: `jobs/update` replaces the top-level fields it is given, here only the tags."""
        with translated_errors():
            self._w.jobs.update(job_id, new_settings=JobSettings(tags=dict(tags)))

    def delete_job(self, job_id: int) -> None:
        """Delete; a job that is already gone raises NotFound.

        Databricks answers a delete of a missing job with a generic invalid-parameter error,
        so a refused delete is followed by a read that tells the two apart.
        """
        try:
            with translated_errors():
                self._w.jobs.delete(job_id)
        except errors.Rejected:
            if self.get_job(job_id) is None:
                raise errors.NotFound(f"job {job_id} does not exist") from None
            raise

    def run_now(self, job_id: int, *, idempotency_token: str) -> int:
        with translated_errors():
            response = self._w.jobs.run_now(job_id, idempotency_token=idempotency_token).response
        if response is None or response.run_id is None:
            raise errors.Unavailable("Databricks answered run-now without a run id")
        return int(response.run_id)

    def get_run(self, run_id: int) -> ObservedRun | None:
        try:
            with translated_errors():
                return _run(self._w.jobs.get_run(run_id))
        except errors.NotFound:
            return None

    def get_permissions(self, job_id: str) -> Levels:
        return ObjectPermissions(self._w, "jobs").direct(job_id)

    def write_permissions(self, job_id: str, levels: Levels, *, replace: bool) -> None:
        grants = ObjectPermissions(self._w, "jobs")
        (grants.replace if replace else grants.grant)(job_id, levels)

    def job_url(self, job_id: int) -> str:
        return f"{(self._w.config.host or '').rstrip('/')}/jobs/{job_id}"


def _job(job: Job | BaseJob) -> ObservedJob:
    if job.job_id is None:
        raise errors.Unavailable("Databricks returned a job without an id")
    settings = job.settings.as_dict() if job.settings else {}
    return ObservedJob(job_id=job.job_id, settings=settings, created_time=job.created_time or 0)


def _run(run: Run) -> ObservedRun:
    if run.run_id is None:
        raise errors.Unavailable("Databricks returned a run without an id")
    state = run.state.life_cycle_state.value if run.state and run.state.life_cycle_state else None
    result = run.state.result_state.value if run.state and run.state.result_state else None
    if state is None and run.status and run.status.state:  # only the newer status object was returned
        state = run.status.state.value
        details = run.status.termination_details
        result = details.code.value if details and details.code else None
    return ObservedRun(run_id=run.run_id, state=state or "UNKNOWN", result=result, url=run.run_page_url)


def _dropped(sent: Any, kept: Any, path: str) -> list[str]:
    """Paths present in `sent` but missing from its round trip through the SDK's dataclasses."""
    if isinstance(sent, dict):
        if not isinstance(kept, dict):
            return [path]
        found: list[str] = []
        for key, value in sent.items():
            sub = f"{path}.{key}" if path else key
            if key in kept:
                found.extend(_dropped(value, kept[key], sub))
            elif value not in (None, [], {}):
                found.append(sub)
        return found
    if isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        return [p for i, (s, k) in enumerate(zip(sent, kept, strict=True)) for p in _dropped(s, k, f"{path}[{i}]")]
    return []
