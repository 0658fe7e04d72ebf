"""Where an MLModel's declared version comes from: a logged model, a run's model, or another registry's version."""

from __future__ import annotations

from pydantic import Field

from controller.api.common import CamelModel, ObjectRef

ALIAS_NAME_PATTERN = r"^[A-Za-z0-9_-]+$"


class RunSource(CamelModel):
    """A model logged by an MLflow run."""

    run_id: str = Field(min_length=1, max_length=64)
    """The MLflow run that logged the model."""

    artifact_path: str = Field(default="model", min_length=1, max_length=256)
    """The name (artifact path) the model was logged under in that run."""


class ModelVersionSource(CamelModel):
    """A version of a registered model in another registry (another Workspace), copied into this one."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.version) != has(self.alias)",
                    "message": "set exactly one of version or alias",
                },
                {
                    "rule": "!has(self.follow) || !self.follow || has(self.alias)",
                    "message": "follow applies only to alias",
                    "fieldPath": ".follow",
                },
            ]
        }
    }

    workspace_ref: ObjectRef
    """The Workspace holding the source registry (in this namespace)."""

    registered_name: str = Field(min_length=1, max_length=256, pattern=r"^[^/:\s]+$")
    """The source registered model's name."""

    version: int | None = Field(default=None, ge=1)
    """The source version to copy."""

    alias: str | None = Field(default=None, min_length=1, max_length=255, pattern=ALIAS_NAME_PATTERN)
    """An alias in the source registry: the version it points at is copied."""

    follow: bool = False
    """With alias: when the source alias moves, copy its new version and point this handle at it. Without
    follow, the version the alias pointed at when first copied stays this handle's version."""


class VersionSource(CamelModel):
    """Where a version's model comes from: an MLflow 3 logged model, a run's model, or another registry's version."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "[has(self.modelId), has(self.run), has(self.fromModel)].filter(x, x).size() == 1",
                    "message": "set exactly one of modelId, run or fromModel",
                }
            ]
        }
    }

    model_id: str | None = Field(default=None, min_length=1, max_length=64)
    """An MLflow 3 logged model id (m-...). Preferred: the version is registered from it."""

    run: RunSource | None = None
    """A run and the artifact path its model was logged under."""

    from_model: ModelVersionSource | None = None
    """A version in another Workspace's registry, copied into this registry once (artifacts included)."""
