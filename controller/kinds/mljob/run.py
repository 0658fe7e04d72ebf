"""What one MLJob reconcile works with: the Jobs API, its input, what status recorded, its state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.kinds.gitfolder.published import FolderView
from controller.kinds.mljob.diff import fingerprint
from controller.kinds.mljob.model import MLJobSpec
from controller.kinds.mljob.observed import ObservedJob, ObservedRun
from controller.reconciling.permissions import Levels
from controller.reconciling.run import Run

Json = dict[str, Any]


class Jobs(Protocol):
    """What the reconcile needs from the Databricks Jobs API."""

    def unknown_fields(self, settings: Json) -> list[str]: ...
    def get_job(self, job_id: int) -> ObservedJob | None: ...
    def list_jobs(self, name: str) -> list[ObservedJob]: ...  # with full settings, as get_job returns them
    def create_job(self, settings: Json) -> int: ...
    def reset_job(self, job_id: int, settings: Json) -> None: ...
    def update_tags(self, job_id: int, tags: Mapping[str, str]) -> None: ...  # replaces the job's tags only
    def delete_job(self, job_id: int) -> None: ...
    def run_now(self, job_id: int, *, idempotency_token: str) -> int: ...
    def get_run(self, run_id: int) -> ObservedRun | None: ...
    def job_url(self, job_id: int) -> str: ...
    def get_permissions(self, job_id: str) -> Levels: ...
    def write_permissions(self, job_id: str, levels: Levels, *, replace: bool) -> None: ...


# Which Jobs methods only read and which write: `mlopsctl plan` passes reads through and records writes
# instead of making them (a unit test fails when a method of the Protocol is in neither set).
JOBS_READS = frozenset({"unknown_fields", "get_job", "list_jobs", "get_run", "job_url", "get_permissions"})
JOBS_WRITES = frozenset({"create_job", "reset_job", "update_tags", "delete_job", "run_now", "write_permissions"})


@dataclass(frozen=True)
class Recorded:
    """What status remembers from earlier reconciles."""

    job_id: int | None = None
    applied_hash: str | None = None
    job_hash: str | None = None
    last_run: ObservedRun | None = None


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    uid: str  # the resource's metadata.uid: the job's identity tag
    generation: int
    spec_changed: bool  # this generation has not been applied yet
    recorded: Recorded = Recorded()
    poll_seconds: float = 30.0  # how soon to look again while a started run is active
    identity: str | None = None  # who the Workspace connects as (kept from being locked out)
    managed_permissions: tuple[str, ...] = ()  # status.permissions.managed
    folders: Mapping[str, FolderView | None] = field(default_factory=dict)  # the GitFolders tasks refer to


@dataclass(kw_only=True)
class JobRun(Run):
    """What one reconcile has done and found so far."""

    spec: MLJobSpec
    request: Request
    jobs: Jobs
    desired: Json
    last_run: ObservedRun | None = None
    job_hash: str | None = None
    permissions: Json | None = None  # status.permissions to write; None: not looked at

    @property
    def name(self) -> str:
        return self.spec.settings.name

    @property
    def desired_hash(self) -> str:
        return fingerprint(self.desired)
