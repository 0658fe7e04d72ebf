"""The MLModel reconcile's state: the registry it talks to, its input, and what it has done so far."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller.kinds.mlmodel.gates import Evidence
from controller.kinds.mlmodel.model import MLModelSpec, PromotionStatus
from controller.kinds.mlmodel.observed import CopySource, ObservedModel, ObservedVersion, SourceRequest
from controller.reconciling.catalog_grants import GrantChange
from controller.reconciling.permissions import Levels
from controller.reconciling.run import Run


class Registry(Protocol):
    """What the reconcile needs from a model registry (MLflow or Unity Catalog)."""

    creates_versions: bool
    """False where versions are made only by training (Unity Catalog): declared versions are then found, not made."""

    def get_model(self, name: str) -> ObservedModel | None: ...
    def create_model(self, name: str, *, description: str | None, tags: dict[str, str]) -> None: ...
    def set_description(self, name: str, description: str) -> None: ...
    def set_tag(self, name: str, key: str, value: str) -> None: ...
    def delete_tag(self, name: str, key: str) -> None: ...
    def list_versions(self, name: str) -> list[ObservedVersion]: ...
    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion: ...
    def tag_version(self, name: str, version: int, key: str, value: str) -> None: ...
    def set_alias(self, name: str, alias: str, version: int) -> None: ...
    def delete_alias(self, name: str, alias: str) -> None: ...
    def delete_model(self, name: str) -> None: ...
    def source_uri(self, source: SourceRequest) -> str: ...
    def model_url(self, name: str) -> str: ...
    def evidence(self, name: str, version: ObservedVersion) -> Evidence: ...
    def get_grants(self, name: str) -> Levels | None: ...  # None: an MLflow registry, which has no grants
    def update_grants(self, name: str, changes: Sequence[GrantChange]) -> None: ...

    deployment_jobs: bool
    """Whether the registry runs a deployment job for each new version (Unity Catalog, with MLflow 3)."""

    def set_deployment_job(self, name: str, job_id: str) -> None: ...  # "" removes it


# Which Registry methods only read and which write: `mlopsctl plan` passes reads through and records writes
# instead of making them (a unit test fails when a method of the Protocol is in neither set).
REGISTRY_READS = frozenset({"get_model", "list_versions", "source_uri", "model_url", "evidence", "get_grants"})
REGISTRY_WRITES = frozenset(
    {"create_model", "set_description", "set_tag", "delete_tag", "create_version", "tag_version", "set_alias"}
    | {"delete_alias", "delete_model", "update_grants", "set_deployment_job"}
)


class SourceRegistry(Protocol):
    """What copying a version needs from the registry it is copied from (another Workspace's)."""

    @property
    def location(self) -> str:
        """The registry's address (tracking URI or workspace host): part of a copy's fingerprint and lineage."""
        ...

    def get_model(self, name: str) -> ObservedModel | None: ...
    def get_version(self, name: str, version: int) -> ObservedVersion | None: ...
    def copy_source(self, name: str, version: ObservedVersion) -> CopySource: ...


class SourceNotReady(Exception):
    """The Workspace a version is copied from cannot be used now (missing or not connected); says why."""


def no_sources(workspace: str) -> SourceRegistry:
    raise SourceNotReady(f"Workspace {workspace} cannot be reached from here")


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    spec_changed: bool  # generation differs from the last reconciled one
    promotion: Mapping[str, PromotionStatus] = field(default_factory=dict)  # status.promotion as last written
    managed_permissions: tuple[str, ...] = ()  # status.permissions.managed
    deployment_job_id: int | None = None  # the job id of spec.deploymentJobRef's MLJob; None until it has one
    deployment_job_set: str | None = None  # status.deploymentJobId: the job this resource set earlier


@dataclass(kw_only=True)
class ModelRun(Run):
    """What one reconcile has done and found so far."""

    spec: MLModelSpec
    request: Request
    registry: Registry
    sources: Callable[[str], SourceRegistry] = no_sources
    """The registry of another Workspace, by name, for versions copied from it; raises SourceNotReady."""
    permissions: dict[str, Any] | None = None  # status.permissions to write; None: not looked at

    @property
    def name(self) -> str:
        return self.spec.registered_name
