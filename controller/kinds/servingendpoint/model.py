"""ServingEndpoint: a Databricks Model Serving endpoint.

Its served entities are in entity_model.py and its rollout in rollout_model.py; the entities' shapes are
reachable from here too, as the kind's readers know them.
"""

from __future__ import annotations

from typing import Annotated, Literal

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
from controller.kinds.servingendpoint.entity_model import ENDPOINT_NAME_PATTERN
from controller.kinds.servingendpoint.entity_model import ModelAliasRef as ModelAliasRef
from controller.kinds.servingendpoint.entity_model import ServedEntity as ServedEntity
from controller.kinds.servingendpoint.entity_model import ServedEntityStatus as ServedEntityStatus
from controller.kinds.servingendpoint.rollout_model import MAX_ROLLED_ENTITY_NAME, Rollout, RolloutStatus

TagValue = Annotated[str, Field(json_schema_extra=tag_value_rules(CLOUD_TAG_VALUE_LENGTH))]


class InferenceTable(CamelModel):
    """Where requests and responses are logged (AI gateway inference table)."""

    catalog: str = Field(min_length=1, max_length=255)
    """The Unity Catalog catalog."""

    schema_: str = Field(alias="schema", min_length=1, max_length=255)
    """The schema in that catalog."""

    table_prefix: str = Field(min_length=1, max_length=200)
    """The prefix of the table name; the payload table is <prefix>_payload."""

    enabled: bool = True
    """Whether capture is on. Moving an enabled table to another catalog, schema or prefix turns capture off
    and on again (Databricks refuses to move it while enabled)."""


class RateLimit(CamelModel):
    """An AI gateway rate limit."""

    calls: int = Field(ge=0)
    """Calls allowed per renewal period."""

    renewal_period: Literal["minute"] = "minute"
    """The renewal period."""

    key: Literal["endpoint", "user", "user_group", "service_principal"] = "endpoint"
    """Whom the limit counts per."""

    principal: str | None = Field(default=None, min_length=1, max_length=256)
    """The user, group or service principal the limit applies to (with key user, user_group or
    service_principal); all of them when unset."""


class EndpointPermission(PermissionEntry):
    """Who may view, query or manage the endpoint."""

    level: Literal["CAN_VIEW", "CAN_QUERY", "CAN_MANAGE"]
    """CAN_VIEW (see it and its metrics), CAN_QUERY (also send requests) or CAN_MANAGE (also change it)."""


class ServingEndpointSpec(ManagedSpec):
    """The desired serving endpoint."""

    model_config = ManagedSpec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.traffic) || self.traffic.all(k, self.servedEntities.exists(e, e.name == k))",
                    "message": "every traffic route must name a served entity",
                    "fieldPath": ".traffic",
                },
                {
                    "rule": "!has(self.rollout)"
                    f" || self.servedEntities.all(e, size(e.name) <= {MAX_ROLLED_ENTITY_NAME})",
                    "message": f"with spec.rollout, served entity names are at most {MAX_ROLLED_ENTITY_NAME} characters"
                    " (the canary's name adds -canary)",
                    "fieldPath": ".servedEntities",
                },
                {
                    "rule": "!has(self.rollout) || size(self.servedEntities) == 1 || has(self.traffic)",
                    "message": "with spec.rollout and more than one served entity, traffic must give each its share",
                    "fieldPath": ".traffic",
                },
                {
                    "rule": "self.endpointName == oldSelf.endpointName",
                    "message": "endpointName cannot change; create a new resource instead",
                    "fieldPath": ".endpointName",
                },
            ]
        }
    }

    endpoint_name: str = Field(min_length=1, max_length=63, pattern=ENDPOINT_NAME_PATTERN)
    """The endpoint's name in the workspace."""

    served_entities: list[ServedEntity] = Field(
        min_length=1,
        max_length=10,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    """The model versions the endpoint serves (at most ten)."""

    traffic: dict[str, int] = Field(
        default_factory=dict,
        max_length=10,
        json_schema_extra={
            "x-kubernetes-validations": [
                {"rule": "self.all(k, self[k] >= 0 && self[k] <= 100)", "message": "percentages are 0 to 100"},
            ]
        },
    )
    """Served entity name to percentage of traffic. When empty, Databricks routes all traffic to the only
    served entity."""

    inference_table: InferenceTable | None = None
    """Capture requests and responses in a Unity Catalog table (AI gateway). Left as it is when unset."""

    rate_limits: list[RateLimit] | None = Field(default=None, max_length=20)
    """AI gateway rate limits. Left as they are when unset; an empty list removes them."""

    usage_tracking: bool | None = None
    """Record usage in system tables (AI gateway). Left as it is when unset."""

    tags: dict[str, TagValue] = Field(
        default_factory=dict, max_length=64, json_schema_extra=tag_key_rules(CLOUD_TAG_KEY_LENGTH)
    )
    """Tags on the endpoint, passed on to billing (keys up to 128 characters, values up to 256). Tags the
    resource set earlier and no longer lists are removed; tags set by others are left alone."""

    adopt: bool = False
    """Take over an endpoint that already exists and no other resource owns."""

    rollout: Rollout | None = None
    """Roll a new version of a served entity out step by step, with analysis and automatic rollback, instead of
    sending all its traffic to the new version at once."""

    permissions: list[EndpointPermission] | None = Field(
        default=None, max_length=MAX_PERMISSIONS, json_schema_extra=PERMISSIONS_LIST_RULES
    )
    """Who may view, query or manage the endpoint. The principals listed get exactly these levels; one
    removed from the list loses its grant; principals never listed are left alone (see permissionsMode)."""

    permissions_mode: PermissionsMode = "Listed"
    """Listed: manage the grants of the principals permissions lists (and listed before). Authoritative: the
    list is the endpoint's whole set of direct grants; any other is revoked (the controller keeps its own)."""


class ServingEndpointStatus(ManagedStatus):
    """The endpoint as last observed."""

    endpoint_id: str | None = None
    """The endpoint's id (the permissions API uses it)."""

    ready: str | None = None
    """state.ready: READY or NOT_READY."""

    config_update: str | None = None
    """state.config_update: NOT_UPDATING, IN_PROGRESS, UPDATE_FAILED or UPDATE_CANCELED."""

    config_version: int | None = None
    """The active config's version."""

    served_entities: list[ServedEntityStatus] = Field(default_factory=list)
    """Per served entity: version now, version pending, deployment state."""

    served_versions: str = ""
    """Served entities as name=version, for printing."""

    inference_table_name: str | None = None
    """The payload table requests and responses are logged to (catalog.schema.prefix_payload), once capture
    is enabled; a ModelMonitor with endpointRef monitors this table."""

    drift: list[str] = Field(default_factory=list)
    """Differences between spec and endpoint that were found and, under ObserveOnly, left alone."""

    config_attempt: str | None = None
    """Fingerprint of the config last sent, with the spec generation it was sent for. A config whose update
    failed is not sent again for the same generation."""

    rollout: RolloutStatus | None = None
    """The rollout of a new version: phase, step, traffic split and analysis (spec.rollout)."""

    permissions: PermissionsStatus | None = None
    """The principals whose grants spec.permissions manages."""


DEFINITION = KindDefinition(
    kind="ServingEndpoint",
    plural="servingendpoints",
    short_names=("mlse",),
    description="A Databricks Model Serving endpoint serving model versions, optionally following aliases.",
    spec=ServingEndpointSpec,
    status=ServingEndpointStatus,
    printer_columns=(
        PrinterColumn("Endpoint", ".spec.endpointName"),
        PrinterColumn("Serving", ".status.servedVersions"),
        PrinterColumn("Update", ".status.configUpdate"),
        PrinterColumn("URL", ".status.url"),
        PrinterColumn(
            "Rollout",
            ".status.rollout.summary",
            description="Where the rollout of a new version stands (status.rollout.summary)",
        ),
    ),
)
