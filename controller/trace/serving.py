"""What a trace shows beyond readiness: for a ServingEndpoint, each served entity's versions and the rollout.

"Why is my endpoint not serving version 7?" is answered here: per served entity the version served, the
version the spec asks for (resolved from the alias it follows) and the one an update is moving to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from controller.kinds.servingendpoint.model import (
    DEFINITION,
    ServedEntity,
    ServedEntityStatus,
    ServingEndpointSpec,
    ServingEndpointStatus,
)
from controller.wiring.kind import read_status


@dataclass(frozen=True)
class Details:
    """Kind-specific lines under a resource (label, text) and the same facts for JSON."""

    notes: tuple[tuple[str, str], ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


def details_of(kind: str, obj: Mapping[str, Any]) -> Details:
    return _endpoint(obj) if kind == DEFINITION.kind else Details()


def _endpoint(obj: Mapping[str, Any]) -> Details:
    try:
        spec = ServingEndpointSpec.model_validate(obj.get("spec") or {})
    except ValidationError:
        return Details()
    raw_status = obj.get("status") or {}
    by_name = {entity.name: entity for entity in read_status(ServingEndpointStatus, raw_status).served_entities}
    entities = [_entity(e, by_name.get(e.name), spec.traffic.get(e.name)) for e in spec.served_entities]
    notes = [(f"entity {entity['name']}", _entity_line(entity)) for entity in entities]
    data: dict[str, Any] = {"servedEntities": entities}
    # Only the summary: the rollout's own fields belong to its status and `kubectl describe`.
    summary = (raw_status.get("rollout") or {}).get("summary")
    if summary:
        notes.append(("rollout", str(summary)))
        data["rollout"] = {"summary": str(summary)}
    return Details(notes=tuple(notes), data=data)


def _entity(spec: ServedEntity, status: ServedEntityStatus | None, traffic: int | None) -> dict[str, Any]:
    ref = spec.model_ref
    return {
        "name": spec.name,
        "follows": {"model": ref.name, "alias": ref.alias} if ref else None,
        "entityName": (status.entity_name if status else None) or spec.entity_name,
        "servedVersion": status.entity_version if status else None,
        "desiredVersion": status.desired_version if status else spec.entity_version,
        "pendingVersion": status.pending_version if status else None,
        "deployment": status.deployment if status else None,
        "message": status.message if status else "",
        "traffic": traffic,
    }


def _entity_line(entity: Mapping[str, Any]) -> str:
    served, desired, pending = entity["servedVersion"], entity["desiredVersion"], entity["pendingVersion"]
    follows = entity["follows"]
    source = f"{follows['model']}@{follows['alias']}" if follows else "pinned"
    parts = [
        f"serving v{served}" if served is not None else "not serving yet",
        f"wants v{desired} ({source})" if desired is not None else f"wants ? ({source} not resolved)",
    ]
    if pending is not None and pending != served:
        parts.append(f"updating to v{pending}")
    if entity["traffic"] is not None:
        parts.append(f"{entity['traffic']}% of traffic")
    if entity["deployment"]:
        parts.append(entity["deployment"])
    if entity["message"]:
        parts.append(entity["message"])
    return ", ".join(parts)
