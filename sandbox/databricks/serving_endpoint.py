"""A serving endpoint's stored state, and how it reads back.

What is stored is what was accepted; reads leave out what Databricks never returns
(plaintext secrets, `burst_scaling_enabled`) and add what it derives: every config
lists its served entities both as `served_entities` and in the legacy
`served_models` form, whichever form the request used.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from sandbox.databricks.state import Json

# Accepted on write, never returned on read.
_WRITE_ONLY_ENTITY_FIELDS = ("burst_scaling_enabled",)
_SECRET_SUFFIX = "_plaintext"  # noqa: S105 - a field-name suffix, not a credential
# The fields of the SDK's ServedModelOutput taken over from a served entity unchanged.
_SERVED_MODEL_FIELDS = (
    "name",
    "creator",
    "creation_timestamp",
    "state",
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "environment_vars",
    "instance_profile_arn",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "provisioned_model_units",
)
_SUMMARY_FIELDS = ("name", "entity_name", "entity_version", "external_model")


@dataclasses.dataclass
class Pending:
    config: Json
    start_ms: int
    due: float


@dataclasses.dataclass
class Endpoint:
    name: str
    id: str
    creator: str
    created_ms: int
    updated_ms: int
    tags: dict[str, str | None]
    ai_gateway: Json | None = None
    route_optimized: bool | None = None
    description: str | None = None
    email_notifications: Json | None = None
    rate_limits: list[Json] = dataclasses.field(default_factory=list)
    config: Json | None = None
    pending: Pending | None = None
    config_update: str = "NOT_UPDATING"
    last_version: int = 0

    @property
    def ready(self) -> str:
        entities = (self.config or {}).get("served_entities") or []
        ok = entities and all(e["state"]["deployment"] == "DEPLOYMENT_READY" for e in entities)
        return "READY" if ok else "NOT_READY"

    def tag_list(self) -> list[Json]:
        return [{"key": k, **({"value": v} if v is not None else {})} for k, v in sorted(self.tags.items())]

    def detailed(self) -> Json:
        """As `get`, `create` and `update_config` answer (ServingEndpointDetailed)."""
        out = self._header()
        out["permission_level"] = "CAN_MANAGE"
        if self.config is not None:
            out["config"] = _config_view(self.config)
        if self.pending is not None:
            out["pending_config"] = {**_config_view(self.pending.config), "start_time": self.pending.start_ms}
        if self.email_notifications is not None:
            out["email_notifications"] = copy.deepcopy(self.email_notifications)
        return out

    def summary(self) -> Json:
        """As `list` answers (ServingEndpoint): the config names what is served, nothing more."""
        out = self._header()
        if self.config is not None:
            served = self.config["served_entities"]
            entities = [_entity_view({k: e[k] for k in _SUMMARY_FIELDS if k in e}) for e in served]
            out["config"] = {"served_entities": entities}
            models = [_as_served_model(e, ("name",)) for e in entities if "entity_name" in e]
            if models:
                out["config"]["served_models"] = models
        return out

    def _header(self) -> Json:
        out: Json = {
            "name": self.name,
            "id": self.id,
            "creator": self.creator,
            "creation_timestamp": self.created_ms,
            "last_updated_timestamp": self.updated_ms,
            "state": {"config_update": self.config_update, "ready": self.ready},
        }
        if self.tags:
            out["tags"] = self.tag_list()
        if self.ai_gateway:
            out["ai_gateway"] = copy.deepcopy(self.ai_gateway)
        if self.route_optimized is not None:
            out["route_optimized"] = self.route_optimized
        if self.description is not None:
            out["description"] = self.description
        return out


def _config_view(config: Json) -> Json:
    out = copy.deepcopy(config)
    out["served_entities"] = [_entity_view(e) for e in config["served_entities"]]
    models = [_as_served_model(e, _SERVED_MODEL_FIELDS) for e in out["served_entities"] if "entity_name" in e]
    if models:
        out["served_models"] = models
    return out


def _entity_view(entity: Json) -> Json:
    out = {k: copy.deepcopy(v) for k, v in entity.items() if k not in _WRITE_ONLY_ENTITY_FIELDS}
    if "external_model" in out:
        out["external_model"] = _without_secrets(out["external_model"])
    return out


def _as_served_model(entity: Json, fields: tuple[str, ...]) -> Json:
    """A served entity of a registered model in the legacy `served_models` form."""
    model = {k: copy.deepcopy(entity[k]) for k in fields if k in entity}
    model["model_name"] = entity["entity_name"]
    if "entity_version" in entity:
        model["model_version"] = entity["entity_version"]
    return model


def _without_secrets(value: Any) -> Any:
    """The value with every `*_plaintext` key left out, at any depth: keys given in plaintext are stored as secrets."""
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if not k.endswith(_SECRET_SUFFIX)}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value
