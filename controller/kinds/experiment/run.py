"""What one Experiment reconcile works with: the tracking service, the experiment as observed, its input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from controller.kinds.experiment.model import ExperimentSpec
from controller.reconciling.permissions import Levels
from controller.reconciling.run import Run

ACTIVE = "active"
DELETED = "deleted"


@dataclass(frozen=True)
class ObservedExperiment:
    """An experiment as MLflow or Databricks reports it."""

    experiment_id: str
    name: str
    lifecycle_stage: str
    """active or deleted."""
    artifact_location: str
    tags: dict[str, str]


class Experiments(Protocol):
    """What the reconcile needs from a tracking service (an MLflow server or a Databricks workspace)."""

    def get_by_name(self, name: str) -> ObservedExperiment | None:
        """The experiment with that name in either lifecycle stage, tags included; None when there is none."""
        ...

    def create(self, name: str, *, artifact_location: str | None, tags: dict[str, str]) -> str: ...
    def restore(self, experiment_id: str) -> None: ...
    def set_tag(self, experiment_id: str, key: str, value: str) -> None: ...
    def delete_tag(self, experiment_id: str, key: str) -> None: ...
    def delete(self, experiment_id: str) -> None: ...
    def url(self, experiment_id: str) -> str: ...
    def get_permissions(self, experiment_id: str) -> Levels | None: ...  # None: an MLflow server, no such API
    def write_permissions(self, experiment_id: str, levels: Levels, *, replace: bool) -> None: ...


# Which Experiments methods only read and which write: `mlopsctl plan` passes reads through and records writes
# instead of making them (a unit test fails when a method of the Protocol is in neither set).
EXPERIMENTS_READS = frozenset({"get_by_name", "url", "get_permissions"})
EXPERIMENTS_WRITES = frozenset({"create", "restore", "set_tag", "delete_tag", "delete", "write_permissions"})


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    spec_changed: bool  # this generation has not been applied yet
    known_id: str | None = None  # the experiment id status recorded: one missing now was removed outside
    identity: str | None = None  # who the Workspace connects as (kept from being locked out)
    managed_permissions: tuple[str, ...] = ()  # status.permissions.managed


@dataclass(kw_only=True)
class ExperimentRun(Run):
    """What one reconcile has done and found so far."""

    spec: ExperimentSpec
    request: Request
    experiments: Experiments
    permissions: dict[str, Any] | None = None  # status.permissions to write; None: not looked at

    @property
    def name(self) -> str:
        return self.spec.name
