"""MLflow 3 deployment jobs: the job a Unity Catalog registered model runs for each new version.

A registered model names its job in `deployment_job_id` (set through MLflow-on-UC's update).
When one of its versions becomes READY, a run of that job starts with the job parameters
`model_name` and `model_version`, and the version reports the run as `deployment_job_state`
(MLflow's UC proto `ModelVersionDeploymentJobState`), following the run over the emulator clock.
"""

from __future__ import annotations

from sandbox.databricks.catalog_objects import Model, Version
from sandbox.databricks.jobs.service import Jobs
from sandbox.databricks.state import Json, invalid

PARAMETERS = ("model_name", "model_version")
"""The job parameters a deployment job receives (Databricks' deployment job template declares both)."""


class DeploymentJobs:
    """Which run of the deployment job each version has, and how it stands."""

    def __init__(self, jobs: Jobs) -> None:
        self._jobs = jobs
        self._runs: dict[str, int] = {}  # version id → run id

    def check(self, job_id: str) -> None:
        """A deployment job must be an existing job of the workspace (the Jobs API's own error otherwise)."""
        if not job_id.isdigit() or int(job_id) not in self._jobs.jobs:
            raise invalid(f"Job {job_id} does not exist.")

    def registered(self, model: Model, version: Version) -> None:
        """A version finished registration: start the model's deployment job for it, once."""
        job_id = model.deployment_job_id
        if not job_id or version.id in self._runs or version.status != "READY":
            return
        job = self._jobs.jobs.get(int(job_id))
        if job is None:
            return
        parameters = {"model_name": model.full_name, "model_version": str(version.version)}
        run = self._jobs.runs.start(job.job_id, job.settings, model.owner, overrides=parameters)
        self._runs[version.id] = run.run_id

    def state(self, model: Model, version: Version) -> Json | None:
        """The version's `deployment_job_state`, or None when no deployment job ran for it."""
        run_id = self._runs.get(version.id)
        if run_id is None:
            return None
        run = self._jobs.runs.get(run_id)
        runs = self._jobs.runs
        if runs.pending(run):
            state = "PENDING"
        elif runs.active(run):
            state = "RUNNING"
        else:
            state = "SUCCEEDED" if run.result == "SUCCESS" and run.canceled_at is None else "FAILED"
        out: Json = {"job_id": str(run.job_id), "run_id": str(run.run_id), "run_state": state}
        connected = model.deployment_job_id == str(run.job_id) and run.job_id in self._jobs.jobs
        out["job_state"] = "CONNECTED" if connected else "NOT_FOUND"
        tasks = run.settings.get("tasks") or []
        if state == "RUNNING" and tasks:
            out["current_task_name"] = str(tasks[0].get("task_key", ""))
        return out
