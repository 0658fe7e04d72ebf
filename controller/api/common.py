"""Building blocks shared by every kind's spec and status.

Our own fields are camelCase (what Kubernetes users expect); Python code uses
snake_case names and pydantic maps between the two. Field docstrings become the
descriptions `kubectl explain` shows, so every field carries one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

DeletionPolicy = Literal["Retain", "Delete"]
ManagementPolicy = Literal["Manage", "ObserveOnly"]
ConditionStatus = Literal["True", "False", "Unknown"]

# Kubernetes object names (RFC 1123 subdomain) as the API server checks them.
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"

RESERVED_TAG_PREFIX = "mlops.gitops.dev/"
"""Tag keys under the API group are the controller's own (owner, managed-by, what it manages)."""

CLOUD_TAG_KEY_LENGTH = 128
CLOUD_TAG_VALUE_LENGTH = 256
"""Databricks passes job and endpoint tags on to cloud resources and billing: AWS allows keys of 128 and values
of 256 characters, Azure keys of 512 and values of 256, so these fit both."""


def tag_key_rules(max_length: int) -> dict[str, Any]:
    """CEL rules for a map of tags: no empty key, none too long, none of the controller's own.

    Rules rather than pydantic constraints: the API server refuses new input, while objects stored before
    a rule existed still parse in the controller (and can still be deleted).
    """
    return {
        "x-kubernetes-validations": [
            {"rule": "self.all(k, size(k) > 0)", "message": "tag keys cannot be empty"},
            {
                "rule": f"self.all(k, size(k) <= {max_length})",
                "message": f"tag keys are at most {max_length} characters",
            },
            {
                "rule": f"self.all(k, !k.startsWith('{RESERVED_TAG_PREFIX}'))",
                "message": f"tags starting with {RESERVED_TAG_PREFIX} are set by the controller",
            },
        ]
    }


def tag_value_rules(max_length: int) -> dict[str, Any]:
    """The CEL rule for one tag value (the API server names the tag's key)."""
    return {
        "x-kubernetes-validations": [
            {"rule": f"size(self) <= {max_length}", "message": f"tag values are at most {max_length} characters"}
        ]
    }


class CamelModel(BaseModel):
    """Base for every API object: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_attribute_docstrings=True,
    )


class ObjectRef(CamelModel):
    """A reference to another object of this controller in the same namespace."""

    name: str = Field(min_length=1, max_length=253, pattern=K8S_NAME_PATTERN)
    """Name of the referenced object, in the same namespace."""


class ManagedSpec(CamelModel):
    """Fields every managed kind has."""

    workspace_ref: ObjectRef
    """The Workspace (connection to Databricks or MLflow) this object lives in."""

    deletion_policy: DeletionPolicy = "Retain"
    """What happens to the external object when this resource is deleted: Retain leaves it
    untouched, Delete removes it."""

    management_policy: ManagementPolicy = "Manage"
    """Manage makes the external object match the spec. ObserveOnly only reads it and reports
    differences in status, never writing anything (for adopting existing assets read-only)."""


class Condition(CamelModel):
    """One aspect of the object's state, in the Kubernetes condition convention."""

    type: str
    """Condition type: Ready (the external object matches the spec and is usable) or Synced
    (the last reconcile reached the external system and applied what it could)."""

    status: ConditionStatus
    """True, False or Unknown."""

    reason: str
    """A CamelCase word that says why, for machines and dashboards."""

    message: str = ""
    """A human-readable explanation, including the external system's own error text."""

    last_transition_time: datetime
    """When status last changed."""

    observed_generation: int = 0
    """The metadata.generation this condition was computed for."""


class ManagedStatus(CamelModel):
    """Status fields every managed kind has. Written by the controller only."""

    observed_generation: int | None = None
    """The metadata.generation the controller last reconciled."""

    conditions: list[Condition] = Field(default_factory=list, max_length=8)
    """Ready and Synced conditions."""

    applied_generation: int | None = None
    """The spec generation last applied in full. A difference found after that was made outside the spec
    (drift); one found before is the user's change still being applied."""

    last_observed_at: datetime | None = None
    """When the controller last read the external object."""

    url: str | None = None
    """A link to the external object's page, where one exists."""


PermissionsMode = Literal["Listed", "Authoritative"]
MAX_PERMISSIONS = 50
PRINCIPAL_NAME_LENGTH = 256


def _listed_once(field_name: str, words: str) -> dict[str, str]:
    return {
        "rule": f"self.filter(a, has(a.{field_name})).all(a, self.filter(b, has(b.{field_name}) && "
        f"b.{field_name} == a.{field_name}).size() == 1)",
        "message": f"each {words} is listed once",
    }


PERMISSIONS_LIST_RULES: dict[str, Any] = {
    "x-kubernetes-validations": [
        _listed_once("user", "user"),
        _listed_once("group", "group"),
        _listed_once("servicePrincipal", "service principal"),
    ]
}
"""CEL rules for a spec.permissions list: a principal appears once (one level each)."""


class PrincipalEntry(CamelModel):
    """One user, group or service principal."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "[has(self.user), has(self.group), has(self.servicePrincipal)].filter(x, x).size() == 1",
                    "message": "set exactly one of user, group or servicePrincipal",
                }
            ]
        }
    }

    user: str | None = Field(default=None, min_length=1, max_length=PRINCIPAL_NAME_LENGTH)
    """A user, by user name (their e-mail address in most workspaces)."""

    group: str | None = Field(default=None, min_length=1, max_length=PRINCIPAL_NAME_LENGTH)
    """A group, by its display name (`users` and `admins` are built in)."""

    service_principal: str | None = Field(default=None, min_length=1, max_length=PRINCIPAL_NAME_LENGTH)
    """A service principal, by its application id."""

    @property
    def principal_ref(self) -> tuple[str, str]:
        """(`user` | `group` | `servicePrincipal`, name)."""
        if self.user is not None:
            return "user", self.user
        if self.group is not None:
            return "group", self.group
        return "servicePrincipal", self.service_principal or ""


class PermissionEntry(PrincipalEntry):
    """One principal and its permission level. Each kind narrows `level` to the levels its object has."""

    level: str
    """The permission level the principal holds."""


class GrantEntry(PrincipalEntry):
    """One principal and its Unity Catalog privileges. Each kind narrows `privileges` to its securable's."""

    privileges: Sequence[str] = Field(min_length=1, max_length=16, json_schema_extra={"x-kubernetes-list-type": "set"})
    """The privileges the principal holds."""

    @property
    def level(self) -> str:
        """The privileges as one comparable value (sorted, comma-separated)."""
        return ",".join(sorted(set(self.privileges)))


class PermissionsStatus(CamelModel):
    """What spec.permissions left on the external object."""

    managed: list[str] = Field(default_factory=list, max_length=MAX_PERMISSIONS * 2)
    """The principals this resource manages the grants of (`user:NAME`, `group:NAME`, `servicePrincipal:ID`):
    those the spec lists, and until the change is written those it listed before (to be revoked)."""

    kept_for_controller: str | None = None
    """Set when the spec would lower or remove the controller's own managing grant, which it keeps instead."""
