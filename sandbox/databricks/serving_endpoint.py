"""A serving endpoint's stored state, and how it reads back."""

from __future__ import annotations

import copy
import dataclasses

from sandbox.databricks.state import Json

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
            out["config"] = copy.deepcopy(self.config)
        if self.pending is not None:
            out["pending_config"] = {**copy.deepcopy(self.pending.config), "start_time": self.pending.start_ms}
        if self.email_notifications is not None:
            out["email_notifications"] = copy.deepcopy(self.email_notifications)
        return out

    def summary(self) -> Json:
        """As `list` answers (ServingEndpoint): the config names what is served, nothing more."""
        out = self._header()
        if self.config is not None:
            served = self.config["served_entities"]
            entities = [{k: copy.deepcopy(e[k]) for k in _SUMMARY_FIELDS if k in e} for e in served]
            out["config"] = {"served_entities": entities}
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
