"""Experiment: an MLflow experiment, on an MLflow server or in a Databricks workspace."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from controller.api.common import (
    MAX_PERMISSIONS,
    PERMISSIONS_LIST_RULES,
    ManagedSpec,
    ManagedStatus,
    PermissionEntry,
    PermissionsMode,
    PermissionsStatus,
    tag_key_rules,
    tag_value_rules,
)
from controller.api.crd import KindDefinition, PrinterColumn

# MLflow's limits on experiment tags (keys 250 characters, values 5000); Databricks keeps the same ones.
TAG_KEY_LENGTH = 250
TAG_VALUE_LENGTH = 5000

TagValue = Annotated[str, Field(json_schema_extra=tag_value_rules(TAG_VALUE_LENGTH))]


class ExperimentPermission(PermissionEntry):
    """Who may read, edit or manage the experiment (Databricks Workspaces only)."""

    level: Literal["CAN_READ", "CAN_EDIT", "CAN_MANAGE"]
    """CAN_READ (see runs and models), CAN_EDIT (also log runs and change it) or CAN_MANAGE (also its
    permissions)."""


class ExperimentSpec(ManagedSpec):
    """The desired experiment."""

    model_config = ManagedSpec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.name == oldSelf.name",
                    "message": "name cannot change; create a new resource instead",
                    "fieldPath": ".name",
                },
            ]
        }
    }

    name: str = Field(min_length=1, max_length=500)
    """The experiment's name. On Databricks an absolute workspace path such as /Shared/fraud/training or
    /Users/someone@example.com/fraud; on MLflow any name."""

    artifact_location: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self == oldSelf",
                    "message": "artifactLocation is set when the experiment is created and cannot change",
                }
            ]
        },
    )
    """Where the experiment's runs store artifacts (e.g. s3://bucket/fraud). Used only when the experiment is
    created: it cannot change afterwards, and an adopted experiment stored elsewhere is reported, not moved.
    Unset: the server's default."""

    tags: dict[str, TagValue] = Field(
        default_factory=dict, max_length=64, json_schema_extra=tag_key_rules(TAG_KEY_LENGTH)
    )
    """Tags set on the experiment (keys up to 250 characters, values up to 5000). Tags the resource set earlier
    and no longer lists are removed; tags set by others (and MLflow's own mlflow.* tags) are left alone."""

    adopt: bool = False
    """Take over an experiment that already exists and no other resource owns (a deleted one is restored)."""

    permissions: list[ExperimentPermission] | None = Field(
        default=None, max_length=MAX_PERMISSIONS, json_schema_extra=PERMISSIONS_LIST_RULES
    )
    """Who may read, edit or manage the experiment, on a Databricks Workspace (an MLflow one reports
    Unsupported). The principals listed get exactly these levels; one removed from the list loses its grant;
    principals never listed are left alone (see permissionsMode)."""

    permissions_mode: PermissionsMode = "Listed"
    """Listed: manage the grants of the principals permissions lists (and listed before). Authoritative: the
    list is the experiment's whole set of direct grants; any other is revoked (the controller keeps its own)."""


class ExperimentStatus(ManagedStatus):
    """The experiment as last observed."""

    experiment_id: str | None = None
    """The tracking server's id of the experiment."""

    lifecycle_stage: str | None = None
    """active, or deleted (MLflow keeps a deleted experiment restorable)."""

    artifact_location: str | None = None
    """Where the experiment's runs store artifacts."""

    drift: list[str] = Field(default_factory=list)
    """Differences between spec and the experiment that were found and, under ObserveOnly, left alone."""

    permissions: PermissionsStatus | None = None
    """The principals whose grants spec.permissions manages."""


DEFINITION = KindDefinition(
    kind="Experiment",
    plural="experiments",
    short_names=("mlexp",),
    description="An MLflow experiment on an MLflow server or in a Databricks workspace: its name, tags and "
    "artifact location.",
    spec=ExperimentSpec,
    status=ExperimentStatus,
    printer_columns=(
        PrinterColumn("Experiment", ".spec.name"),
        PrinterColumn("ID", ".status.experimentId"),
        PrinterColumn("Stage", ".status.lifecycleStage"),
    ),
)
