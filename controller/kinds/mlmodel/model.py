"""MLModel: a registered model, the versions it must have, and where its aliases point."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from controller.api.common import (
    MAX_PERMISSIONS,
    PERMISSIONS_LIST_RULES,
    CamelModel,
    GrantEntry,
    ManagedSpec,
    ManagedStatus,
    ObjectRef,
    PermissionsMode,
    PermissionsStatus,
    tag_key_rules,
    tag_value_rules,
)
from controller.api.crd import KindDefinition, PrinterColumn
from controller.kinds.mlmodel.deployment_job import DeploymentRunStatus
from controller.kinds.mlmodel.sources import VersionSource

HANDLE_PATTERN = r"^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$"

# The same spec may go to MLflow or to Unity Catalog, so each limit is the smaller of the two: keys as
# MLflow's registry (250; Unity Catalog 255), values as Unity Catalog (1000; MLflow 100,000).
TAG_KEY_LENGTH = 250
TAG_VALUE_LENGTH = 1000

TagValue = Annotated[str, Field(json_schema_extra=tag_value_rules(TAG_VALUE_LENGTH))]


class VersionSpec(CamelModel):
    """A model version this resource guarantees exists, created once from its source."""

    name: str = Field(min_length=1, max_length=63, pattern=HANDLE_PATTERN)
    """A stable handle for this version, which aliases can point at."""

    source: VersionSource
    """The model to register. The same source is never registered twice."""

    description: str | None = Field(default=None, max_length=5000)
    """The version's description."""


class MetricGate(CamelModel):
    """A metric the target version must reach: a bound, or no worse than the version the alias holds now."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "[has(self.min), has(self.max), has(self.notWorseThan)].filter(x, x).size() == 1",
                    "message": "set exactly one of min, max or notWorseThan",
                },
                {
                    "rule": "!has(self.tolerance) || has(self.notWorseThan)",
                    "message": "tolerance applies only to notWorseThan",
                    "fieldPath": ".tolerance",
                },
                {
                    "rule": "!has(self.greaterIsBetter) || has(self.notWorseThan)",
                    "message": "greaterIsBetter applies only to notWorseThan",
                    "fieldPath": ".greaterIsBetter",
                },
            ]
        }
    }

    name: str = Field(min_length=1, max_length=250)
    """The metric's key, as logged to the version's MLflow 3 logged model or to its run (e.g. val_auc)."""

    min: float | None = None
    """The lowest value that passes (inclusive)."""

    max: float | None = None
    """The highest value that passes (inclusive)."""

    not_worse_than: Literal["current"] | None = None
    """current: compare with the version the alias points at in the registry now."""

    tolerance: float | None = Field(default=None, ge=0)
    """With notWorseThan: how much worse than the current version still passes (absolute; default 0)."""

    greater_is_better: bool | None = None
    """With notWorseThan: whether a higher value is better (default true; false for a loss or an error rate)."""


class PromotionPolicy(CamelModel):
    """Gates a version must pass before an alias is moved to it. All must pass."""

    require_tags: dict[str, TagValue] = Field(
        default_factory=dict, max_length=20, json_schema_extra=tag_key_rules(TAG_KEY_LENGTH)
    )
    """Tags the target version must carry with exactly these values (set by a reviewer or a CI job)."""

    metrics: list[MetricGate] = Field(default_factory=list, max_length=20)
    """Metric gates, judged on the target version's logged model, else its run."""

    require_deployment_job: bool = False
    """Unity Catalog: the registered model's deployment job run for the target version must have SUCCEEDED."""


class ModelGrant(GrantEntry):
    """Unity Catalog privileges of one principal on the registered model."""

    privileges: list[Literal["EXECUTE", "APPLY_TAG", "MANAGE", "ALL_PRIVILEGES"]] = Field(
        min_length=1, max_length=4, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """EXECUTE (load and serve its versions), APPLY_TAG (tag it), MANAGE (also its grants), ALL_PRIVILEGES."""


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
                    "rule": "!has(self.promotion) || self.promotion.all(k, has(self.aliases) && k in self.aliases)",
                    "message": "a promotion policy must name an alias in spec.aliases",
                    "fieldPath": ".promotion",
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

    promotion: dict[str, PromotionPolicy] = Field(default_factory=dict, max_length=32)
    """Alias name to the gates a version must pass before that alias is moved to it. A version that fails
    leaves the alias where it is (Ready=False, PromotionBlocked) and is judged again at every drift check."""

    deployment_job_ref: ObjectRef | None = None
    """Unity Catalog: the MLJob run for each new version as the model's deployment job (removing it clears it)."""

    adopt: bool = False
    """Take over a registered model that already exists and no other resource owns."""

    permissions: list[ModelGrant] | None = Field(
        default=None, max_length=MAX_PERMISSIONS, json_schema_extra=PERMISSIONS_LIST_RULES
    )
    """Unity Catalog grants on the model (Databricks Workspaces only; an MLflow one reports Unsupported). The
    principals listed hold exactly these privileges; one removed from the list loses them; principals never
    listed are left alone (see permissionsMode). The model's owner has its rights by ownership, not a grant."""

    permissions_mode: PermissionsMode = "Listed"
    """Listed: manage the grants of the principals permissions lists (and listed before). Authoritative: the
    list is the model's whole set of grants; any other is revoked."""


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

    copied_from: str | None = None
    """For a version copied from another registry: the source model, version and registry it was copied from."""


class GateStatus(CamelModel):
    """One gate's verdict on a target version."""

    gate: str
    """The gate, e.g. "tag validation_status" or "metric val_auc not worse than current"."""

    passed: bool
    """Whether the target version passed it."""

    measured: str = ""
    """What the version has (a tag value or metric value); empty when it has none."""

    required: str = ""
    """What the gate requires, e.g. "approved" or ">= 0.91"."""

    message: str = ""
    """Why it failed, or what it compared."""


class PromotionStatus(CamelModel):
    """Where a gated alias stands."""

    target: int
    """The version the spec points the alias at."""

    current: int | None = None
    """The version the alias pointed at in the registry when the target was judged (none: a first promotion)."""

    state: Literal["Blocked", "Promoted", "Passed"]
    """Blocked: the target failed a gate and the alias stays at current. Promoted: the alias points at the
    target. Passed: the target passed its gates but the alias has not been moved yet (see the conditions)."""

    gates: list[GateStatus] = Field(default_factory=list)
    """Each gate's verdict when the target was judged (empty when the alias was already at the target)."""


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

    promotion: dict[str, PromotionStatus] = Field(default_factory=dict)
    """Per gated alias: its target version, the version it holds, and each gate's verdict."""

    deployment_job_id: str | None = None
    """The deployment job this resource set on the registered model."""

    deployment_runs: list[DeploymentRunStatus] = Field(default_factory=list)
    """Per version, the run of the model's deployment job for it (Unity Catalog), newest version first."""

    permissions: PermissionsStatus | None = None
    """The principals whose grants spec.permissions manages (`principal:NAME`: Unity Catalog names a principal
    by one string)."""


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
