"""MLModel: a registered model, the versions it must have, and where its aliases point."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from controller.api.common import CamelModel, ManagedSpec, ManagedStatus, tag_key_rules, tag_value_rules
from controller.api.crd import KindDefinition, PrinterColumn

ALIAS_NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
HANDLE_PATTERN = r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$"

# The same spec may go to MLflow or to Unity Catalog, so each limit is the smaller of the two: keys as
# MLflow's registry (250; Unity Catalog 255), values as Unity Catalog (1000; MLflow 100,000).
TAG_KEY_LENGTH = 250
TAG_VALUE_LENGTH = 1000

TagValue = Annotated[str, Field(json_schema_extra=tag_value_rules(TAG_VALUE_LENGTH))]


class RunSource(CamelModel):
    """A model logged by an MLflow run."""

    run_id: str = Field(min_length=1, max_length=64)
    """The MLflow run that logged the model."""

    artifact_path: str = Field(default="model", min_length=1, max_length=256)
    """The name (artifact path) the model was logged under in that run."""


class VersionSource(CamelModel):
    """Where a version's model comes from: an MLflow 3 logged model, or a run's model."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.modelId) != has(self.run)",
                    "message": "set exactly one of modelId or run",
                }
            ]
        }
    }

    model_id: str | None = Field(default=None, min_length=1, max_length=64)
    """An MLflow 3 logged model id (m-...). Preferred: the version is registered from it."""

    run: RunSource | None = None
    """A run and the artifact path its model was logged under."""


class VersionSpec(CamelModel):
    """A model version this resource guarantees exists, created once from its source."""

    name: str = Field(min_length=1, max_length=63, pattern=HANDLE_PATTERN)
    """A stable handle for this version, which aliases can point at."""

    source: VersionSource
    """The model to register. The same source is never registered twice."""

    description: str | None = Field(default=None, max_length=5000)
    """The version's description."""


class MLModelSpec(ManagedSpec):
    """The desired registered model."""

    model_config = ManagedSpec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.aliases) || self.aliases.all(k, type(self.aliases[k]) == int"
                    " || (has(self.versions) && self.versions.exists(v, v.name == self.aliases[k])))",
                    "message": "an alias that names a version handle must name one of spec.versions",
                    "fieldPath": ".aliases",
                },
                {
                    "rule": "self.registeredName == oldSelf.registeredName",
                    "message": "registeredName cannot change; create a new resource instead",
                    "fieldPath": ".registeredName",
                },
            ]
        }
    }

    registered_name: str = Field(min_length=1, max_length=256, pattern=r"^[^/:\s]+$")
    """The registry's name: catalog.schema.model on Unity Catalog, a plain name on MLflow."""

    description: str | None = Field(default=None, max_length=5000)
    """The registered model's description. Left as it is when unset."""

    tags: dict[str, TagValue] = Field(
        default_factory=dict, max_length=64, json_schema_extra=tag_key_rules(TAG_KEY_LENGTH)
    )
    """Tags set on the registered model (keys up to 250 characters, values up to 1000). Tags the resource set
    earlier and no longer lists are removed; tags set by others are left alone."""

    versions: list[VersionSpec] = Field(
        default_factory=list,
        max_length=100,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    """Versions to register from their sources (where the registry allows creating them)."""

    aliases: dict[str, int | str] = Field(
        default_factory=dict,
        max_length=32,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(k, k.matches('^[A-Za-z0-9_-]+$'))",
                    "message": "alias names may contain only letters, digits, '_' and '-'",
                },
                {
                    "rule": "self.all(k, !k.matches('^(?i)latest$') && !k.matches('^[vV][0-9]+$'))",
                    "message": "alias names 'latest' and 'v<number>' are reserved by MLflow",
                },
                {
                    "rule": "self.all(k, type(self[k]) == string || int(self[k]) > 0)",
                    "message": "an alias points to a version number (a positive integer) or a version handle",
                },
            ]
        },
    )
    """Alias name to version: a version number that already exists, or a handle from versions.
    Aliases the resource set earlier and no longer lists are removed; others are left alone."""

    adopt: bool = False
    """Take over a registered model that already exists and no other resource owns."""


class VersionStatus(CamelModel):
    """What the registry holds for one declared version."""

    name: str
    """The handle from spec.versions."""

    version: int | None = None
    """The version number the registry gave it."""

    status: str
    """The registry's status (READY, PENDING_REGISTRATION, FAILED_REGISTRATION), or Failed when it could not
    be registered."""

    message: str = ""
    """Why registering failed, with the registry's message."""


class MLModelStatus(ManagedStatus):
    """The registered model as last observed."""

    registered_name: str | None = None
    """The registry's name of the model."""

    latest_version: int | None = None
    """The highest version number in the registry."""

    aliases: dict[str, int] = Field(default_factory=dict)
    """Every alias in the registry, with the version it points at."""

    alias_summary: str = ""
    """Aliases as alias=version, for printing."""

    versions: list[VersionStatus] = Field(default_factory=list)
    """The declared versions and what the registry holds for them."""

    drift: list[str] = Field(default_factory=list)
    """Differences between spec and the registry that were found and, under ObserveOnly, left alone."""


DEFINITION = KindDefinition(
    kind="MLModel",
    plural="mlmodels",
    short_names=("mlm",),
    description="A registered model in MLflow or Unity Catalog: description, tags, versions and aliases.",
    spec=MLModelSpec,
    status=MLModelStatus,
    printer_columns=(
        PrinterColumn("Registered", ".spec.registeredName"),
        PrinterColumn("Aliases", ".status.aliasSummary"),
        PrinterColumn("Latest", ".status.latestVersion", type="integer"),
    ),
)
