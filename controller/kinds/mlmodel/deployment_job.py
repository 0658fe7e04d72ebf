"""Deployment jobs (MLflow 3 on Unity Catalog): the run of the model's deployment job for one version.

The registry reports it on each version as `deployment_job_state` (MLflow's UC proto
`ModelVersionDeploymentJobState`: job_id, run_id, job_state, run_state, current_task_name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from controller.api.common import CamelModel

SUCCEEDED = "SUCCEEDED"
"""The run state (`DeploymentJobRunState`) of a run that evaluated, approved and deployed the version."""

ENDED = frozenset({SUCCEEDED, "FAILED", "NO_VALID_DEPLOYMENT_JOB_FOUND"})
"""Run states that will not change any more; the others (PENDING, RUNNING, APPROVAL) are still under way."""


@dataclass(frozen=True)
class DeploymentRun:
    """The deployment job's run for one version, as the registry reports it."""

    job_id: str
    run_id: str
    run_state: str
    current_task: str = ""


def parse(raw: Mapping[str, Any] | None) -> DeploymentRun | None:
    """A version's `deployment_job_state`; None when the registry reports none (no deployment job ran for it)."""
    if not raw or not (raw.get("job_id") or raw.get("run_id")):
        return None
    return DeploymentRun(
        job_id=str(raw.get("job_id") or ""),
        run_id=str(raw.get("run_id") or ""),
        run_state=str(raw.get("run_state") or "DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED"),
        current_task=str(raw.get("current_task_name") or ""),
    )


class DeploymentRunStatus(CamelModel):
    """The deployment job's run for one version (status.deploymentRuns)."""

    version: int
    """The model version the run is for."""

    job_id: str
    """The deployment job."""

    run_id: str = ""
    """The job run; empty when the registry names no run."""

    run_state: str
    """PENDING, RUNNING, APPROVAL, SUCCEEDED, FAILED or NO_VALID_DEPLOYMENT_JOB_FOUND, as the registry reports it."""

    current_task: str = ""
    """The task the run is at, while it runs."""


def runs_status(versions: Iterable[tuple[int, DeploymentRun | None]]) -> list[dict[str, Any]]:
    """status.deploymentRuns: every version the registry reports a deployment job run for, newest first."""
    return [
        DeploymentRunStatus(
            version=version,
            job_id=run.job_id,
            run_id=run.run_id,
            run_state=run.run_state,
            current_task=run.current_task,
        ).model_dump(by_alias=True, exclude_defaults=True)
        for version, run in sorted(versions, key=lambda item: -item[0])
        if run is not None
    ]
