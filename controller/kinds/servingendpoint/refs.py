"""The MLModels endpoints follow: what the in-memory MLModel index keeps of each.

A served entity with `modelRef` serves the version an MLModel's alias points at. The
controller keeps every MLModel's registered name, aliases (as the registry holds them,
from its status) and readiness in a kopf index, so resolving a reference and noticing
that an alias moved costs no call to the API server or to Databricks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from controller.status import conditions as c


@dataclass(frozen=True)
class ModelView:
    """An MLModel as endpoints see it."""

    registered_name: str
    aliases: dict[str, int]
    ready: bool
    message: str  # Ready's reason and message, to say why an endpoint waits


def index_entry(spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """The value kept in the MLModel index (what `find` reads back)."""
    ready = c.find(list(status.get("conditions") or []), c.READY) or {}
    reason = str(ready.get("reason") or "not reconciled yet")
    message = f"{reason}: {ready['message']}" if ready.get("message") else reason
    return {
        "registeredName": str(spec.get("registeredName") or ""),
        "aliases": {str(k): int(v) for k, v in dict(status.get("aliases") or {}).items()},
        "ready": ready.get("status") == "True",
        "message": message,
    }


def find(entries: Iterable[Mapping[str, Any]] | None) -> ModelView | None:
    """The MLModel from its index entries, or None when it does not exist."""
    for entry in entries or ():
        return ModelView(
            registered_name=str(entry["registeredName"]),
            aliases=dict(entry["aliases"]),
            ready=bool(entry["ready"]),
            message=str(entry["message"]),
        )
    return None
