"""What other kinds read of an MLJob: its job id (a rollout's analysis runs the job for a canary version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.kinds.mljob.model import MLJobStatus
from controller.wiring.kind import Published, read_status


@dataclass(frozen=True)
class JobView:
    """An MLJob as a ServingEndpoint's rollout analysis sees it."""

    job_id: int | None
    """status.jobId: set once the job exists in Databricks."""


def view(spec: Mapping[str, Any], status: Mapping[str, Any]) -> JobView:
    """The MLJob's published entry, from its typed status."""
    return JobView(job_id=read_status(MLJobStatus, status).job_id)


MLJOB = Published("mljobs", view)
