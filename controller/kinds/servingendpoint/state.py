"""What one ServingEndpoint reconcile works with: Model Serving, the request, and the run's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from controller.kinds.mlmodel.published import ModelView
from controller.kinds.servingendpoint.health import EntityHealth
from controller.kinds.servingendpoint.model import ServingEndpointSpec
from controller.kinds.servingendpoint.observed import Json, ObservedEndpoint
from controller.kinds.servingendpoint.rollout_model import RolloutStatus
from controller.reconciling.permissions import Levels
from controller.reconciling.run import Run


class Unset(Enum):
    UNSET = "unset"


UNSET = Unset.UNSET


class Serving(Protocol):
    """What the reconcile needs from Databricks Model Serving (and Unity Catalog, for version states)."""

    def get_endpoint(self, name: str) -> ObservedEndpoint | None: ...
    def create_endpoint(
        self, name: str, *, config: Json, tags: dict[str, str], gateway: Json | None
    ) -> ObservedEndpoint: ...
    def update_config(self, name: str, config: Json) -> ObservedEndpoint: ...
    def patch_tags(self, name: str, *, add: dict[str, str], remove: list[str]) -> dict[str, str]: ...
    def put_ai_gateway(self, name: str, gateway: Json) -> Json: ...
    def delete_endpoint(self, name: str) -> None: ...
    def version_status(self, model: str, version: int) -> str | None: ...
    def endpoint_url(self, name: str) -> str: ...
    def endpoint_health(self, name: str) -> dict[str, EntityHealth]: ...
    def run_job(self, job_id: int, *, params: dict[str, str], idempotency_token: str) -> int: ...
    def job_run_result(self, run_id: int) -> str | None: ...
    def get_permissions(self, endpoint_id: str) -> Levels: ...
    def write_permissions(self, endpoint_id: str, levels: Levels, *, replace: bool) -> None: ...


# Which Serving methods only read and which write: `mlopsctl plan` passes reads through and records writes
# instead of making them (a unit test fails when a method of the Protocol is in neither set).
SERVING_READS = frozenset(
    {"get_endpoint", "version_status", "endpoint_url", "endpoint_health", "job_run_result", "get_permissions"}
)
SERVING_WRITES = frozenset(
    {
        "create_endpoint",
        "update_config",
        "patch_tags",
        "put_ai_gateway",
        "delete_endpoint",
        "run_job",
        "write_permissions",
    }
)


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec: who asks, what status remembers, the followed MLModels."""

    owner: str  # "namespace/name" of the resource
    generation: int
    now: float  # epoch seconds: how long an update has been running decides how soon to look again
    models: Mapping[str, ModelView] = field(default_factory=dict)  # MLModels of this namespace, by name
    applied_generation: int | None = None
    desired_versions: Mapping[str, int | None] = field(default_factory=dict)  # entity → version last wanted
    config_attempt: str | None = None
    rollout: RolloutStatus | None = None  # status.rollout as the last reconcile left it
    action: str | None = None  # the rollout-action annotation's value
    jobs: Mapping[str, int | None] = field(default_factory=dict)  # MLJob name → its job id, for job checks
    identity: str | None = None  # who the Workspace connects as (kept from being locked out)
    managed_permissions: tuple[str, ...] = ()  # status.permissions.managed


@dataclass(kw_only=True)
class EndpointRun(Run):
    """What one reconcile has done and found so far, besides what every kind records."""

    spec: ServingEndpointSpec
    request: Request
    serving: Serving
    versions: dict[str, int | None] = field(default_factory=dict)  # entity → version wanted now (status)
    config_attempt: str | None = None  # the key of the config this reconcile sent
    rollout: Json | Unset | None = UNSET  # status.rollout to write (None: remove it); UNSET: leave it
    permissions: Json | None = None  # status.permissions to write; None: not looked at

    @property
    def name(self) -> str:
        return self.spec.endpoint_name
