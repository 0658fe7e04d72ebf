"""A serving endpoint as the ServingEndpoint reconcile sees it: plain, fully typed values.

The AI gateway stays in Databricks' JSON form: the reconcile changes only the parts
the spec sets and sends everything else back as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

IN_PROGRESS = "IN_PROGRESS"
UPDATE_FAILED = "UPDATE_FAILED"
NOT_UPDATING = "NOT_UPDATING"
READY = "READY"
DEPLOYMENT_READY = "DEPLOYMENT_READY"


@dataclass(frozen=True)
class ObservedEntity:
    """One served entity of a config, with its deployment state."""

    name: str
    entity_name: str | None = None
    entity_version: str | None = None
    workload_size: str | None = None
    workload_type: str | None = None
    scale_to_zero: bool | None = None
    environment_vars: dict[str, str] = field(default_factory=dict)
    deployment: str | None = None
    message: str = ""

    @property
    def version(self) -> int | None:
        """The version as a number (None for a non-numeric or missing version)."""
        return int(self.entity_version) if self.entity_version and self.entity_version.isdigit() else None


@dataclass(frozen=True)
class ObservedConfig:
    """An endpoint config: the active one, or the one an update moves to."""

    version: int | None
    entities: tuple[ObservedEntity, ...]
    traffic: dict[str, int]

    def entity(self, name: str) -> ObservedEntity | None:
        return next((e for e in self.entities if e.name == name), None)


@dataclass(frozen=True)
class ObservedEndpoint:
    """A serving endpoint from one `get`."""

    name: str
    id: str | None
    ready: str
    config_update: str
    config: ObservedConfig | None
    pending: ObservedConfig | None = None
    pending_since_ms: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    gateway: Json = field(default_factory=dict)
