"""MLJob: a Databricks job declared by its Jobs API 2.2 settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from controller.api.common import (
    CLOUD_TAG_KEY_LENGTH,
    CLOUD_TAG_VALUE_LENGTH,
    MAX_PERMISSIONS,
    PERMISSIONS_LIST_RULES,
    CamelModel,
    ManagedSpec,
    ManagedStatus,
    PermissionEntry,
    PermissionsMode,
    PermissionsStatus,
    tag_key_rules,
    tag_value_rules,
)
from controller.api.crd import KindDefinition, PrinterColumn

MAX_USER_TAGS = 22
"""Databricks allows 25 tags on a job; the controller adds three naming the resource."""

TagValue = Annotated[str, Field(json_schema_extra=tag_value_rules(CLOUD_TAG_VALUE_LENGTH))]


class JobTask(CamelModel):
    """One task in Databricks' JSON form; every field besides task_key is passed through as written."""

    model_config = CamelModel.model_config | {"extra": "allow", "alias_generator": None}

    task_key: str = Field(min_length=1, max_length=100)
    """The task's unique key in the job; other tasks depend on it by this key."""


class JobSettings(CamelModel):
    """Jobs API 2.2 job settings in Databricks' own JSON form (snake_case), as the UI or API shows them."""

    model_config = CamelModel.model_config | {"extra": "allow", "alias_generator": None}

    name: str = Field(min_length=1, max_length=4096)
    """The job's name. Names are not unique in Databricks; the controller tracks the job by id."""

    tasks: list[JobTask] = Field(
        min_length=1,
        max_length=1000,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["task_key"]},
    )
    """The job's tasks, each with a unique task_key. Their order does not matter."""

    tags: dict[str, TagValue] | None = Field(
        default=None, max_length=MAX_USER_TAGS, json_schema_extra=tag_key_rules(CLOUD_TAG_KEY_LENGTH)
    )
    """Tags on the job, passed on to its clusters' cloud resources (keys up to 128 characters, values up to
    256). The controller adds its own tags naming this resource."""


class LastRun(CamelModel):
    """The run the controller started most recently (runOnChange)."""

    run_id: int
    """The run's id."""

    state: str
    """Life-cycle state: PENDING, RUNNING, TERMINATED, ..."""

    result: str | None = None
    """Result once terminated: SUCCESS, FAILED, ..."""

    url: str | None = None
    """The run's page."""


class JobPermission(PermissionEntry):
    """Who may view, run or manage the job, or own it."""

    level: Literal["CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"]
    """CAN_VIEW, CAN_MANAGE_RUN (also start and cancel runs), CAN_MANAGE (also change the job) or IS_OWNER (a
    user or service principal; a job has exactly one owner)."""


_ONE_OWNER: dict[str, Any] = {
    "x-kubernetes-validations": [
        *PERMISSIONS_LIST_RULES["x-kubernetes-validations"],
        {
            "rule": "self.filter(a, a.level == 'IS_OWNER').size() <= 1",
            "message": "a job has one owner: at most one entry with level IS_OWNER",
        },
        {
            "rule": "self.all(a, a.level != 'IS_OWNER' || !has(a.group))",
            "message": "a group cannot own a job: IS_OWNER is for a user or a service principal",
        },
    ]
}


class MLJobSpec(ManagedSpec):
    """The desired job."""

    settings: JobSettings
    """The job settings (Jobs API 2.2), applied with a full reset on change."""

    run_on_change: bool = False
    """Start a run whenever the settings change (once per change, by idempotency token)."""

    adopt: bool = False
    """Take over a job made outside the controller: the only job named settings.name that no resource owns gets
    this resource's tags, and from then on is managed like a job the controller created. Without it (or when no
    such job exists) the controller creates its own job; job names are not unique in Databricks."""

    permissions: list[JobPermission] | None = Field(
        default=None, max_length=MAX_PERMISSIONS, json_schema_extra=_ONE_OWNER
    )
    """Who may view, run or manage the job. The principals listed get exactly these levels; one removed from the
    list loses its grant; principals never listed are left alone (see permissionsMode). Without an IS_OWNER
    entry the job keeps its owner."""

    permissions_mode: PermissionsMode = "Listed"
    """Listed: manage the grants of the principals permissions lists (and listed before). Authoritative: the
    list is the job's whole set of direct grants besides its owner; any other is revoked (the controller keeps
    its own)."""


class MLJobStatus(ManagedStatus):
    """The job as last observed."""

    job_id: int | None = None
    """The Databricks job id."""

    last_run: LastRun | None = None
    """The latest run the controller started, refreshed until it ends."""

    applied_settings_hash: str | None = None
    """Fingerprint of the spec settings the job was last made to match."""

    job_settings_hash: str | None = None
    """Fingerprint of the job's settings as Databricks returned them right after; any other value later means the
    job was changed outside this resource."""

    drift: list[str] = Field(default_factory=list)
    """Settings that differ from the spec and, under ObserveOnly, were left alone."""

    permissions: PermissionsStatus | None = None
    """The principals whose grants spec.permissions manages."""


DEFINITION = KindDefinition(
    kind="MLJob",
    plural="mljobs",
    short_names=("mlj",),
    description="A Databricks job (training, batch scoring, deployment) declared by its job settings.",
    spec=MLJobSpec,
    status=MLJobStatus,
    printer_columns=(
        PrinterColumn("Job", ".status.jobId", type="integer"),
        PrinterColumn("Last Run", ".status.lastRun.state"),
        PrinterColumn("URL", ".status.url", priority=1),
    ),
)
