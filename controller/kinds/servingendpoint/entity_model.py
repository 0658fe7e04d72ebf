"""ServingEndpoint's served entities: what one entity serves (spec), and what it serves now (status)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from controller.api.common import CamelModel, ObjectRef

ENDPOINT_NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
WorkloadType = Literal[
    "CPU",
    "CPU_MEDIUM",
    "CPU_LARGE",
    "GPU_SMALL",
    "GPU_MEDIUM",
    "GPU_LARGE",
    "GPU_XLARGE",
    "GPU_XLARGE_8",
    "MULTIGPU_MEDIUM",
]


class ModelAliasRef(ObjectRef):
    """An MLModel in the same namespace and one of its aliases: the entity follows the alias."""

    alias: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")
    """The alias whose version is served."""


class ServedEntity(CamelModel):
    """One model version served by the endpoint."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.modelRef) != (has(self.entityName) && has(self.entityVersion))",
                    "message": "set either modelRef, or both entityName and entityVersion",
                },
                {
                    "rule": "!has(self.modelRef) || !has(self.entityName)",
                    "message": "entityName comes from the referenced MLModel when modelRef is set",
                },
            ]
        }
    }

    name: str = Field(min_length=1, max_length=63, pattern=ENDPOINT_NAME_PATTERN)
    """The served entity's name, unique in the endpoint; traffic routes refer to it. Named explicitly so a
    new version does not rename it."""

    model_ref: ModelAliasRef | None = None
    """Serve the version an MLModel's alias points at, and follow it when the alias moves."""

    entity_name: str | None = Field(default=None, min_length=1, max_length=256)
    """The registered model to serve (catalog.schema.model on Unity Catalog), when not using modelRef."""

    entity_version: int | None = Field(default=None, ge=1)
    """The version to serve, when not using modelRef."""

    workload_size: str = Field(default="Small", min_length=1, max_length=32)
    """Provisioned concurrency: Small, Medium, Large, or a custom size."""

    workload_type: WorkloadType = "CPU"
    """The compute type."""

    scale_to_zero: bool = False
    """Scale to zero replicas when idle."""

    environment_vars: dict[str, str] = Field(default_factory=dict, max_length=64)
    """Environment variables for the model server; values may use {{secrets/scope/key}}. Variables set on the
    endpoint and missing here are removed."""

    @model_validator(mode="after")
    def _one_source(self) -> ServedEntity:
        """The CRD's CEL rules, for objects made in code."""
        if (self.model_ref is None) != (self.entity_name is not None and self.entity_version is not None):
            raise ValueError("set either modelRef, or both entityName and entityVersion")
        return self


class ServedEntityStatus(CamelModel):
    """What the endpoint serves for one entity."""

    name: str
    """The served entity's name."""

    entity_name: str | None = None
    """The registered model served."""

    entity_version: int | None = None
    """The version served now."""

    pending_version: int | None = None
    """The version an update in progress moves to."""

    desired_version: int | None = None
    """The version the spec asks for: entityVersion, or the version modelRef's alias points at (unset while
    it cannot be resolved)."""

    deployment: str | None = None
    """Deployment state (DEPLOYMENT_READY, DEPLOYMENT_CREATING, DEPLOYMENT_FAILED, ...)."""

    message: str = ""
    """Databricks' deployment state message while the entity is not deployed (creating, failed, aborted);
    empty once it is ready."""
