"""One resource in a trace: its readiness and what identifies its external object, read from the object itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.api.crd import KindDefinition
from controller.status import conditions as c
from controller.trace.serving import Details, details_of

URL_PATH = ".status.url"


@dataclass(frozen=True)
class Node:
    """A resource in the tree, or a reference to one that does not exist (`found` False)."""

    kind: str
    name: str
    found: bool
    ready: str | None = None
    """The Ready condition's status (True, False, Unknown); None before the first reconcile."""
    synced: str | None = None
    reason: str = ""
    message: str = ""
    current: bool = False
    """Whether Ready was computed for the resource's current generation (not for an older spec)."""
    url: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    """The kind's own printer columns (what `kubectl get` shows of the external object), as (name, value)."""
    details: Details = field(default_factory=Details)
    depends_on: tuple[Node, ...] = ()
    dependents: tuple[Node, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.found and self.ready == "True" and self.current

    def all_healthy(self) -> bool:
        """Whether this node and every node under it is Ready for its current spec."""
        children = (*self.depends_on, *self.dependents)
        return self.healthy and all(child.all_healthy() for child in children)


def missing(definition: KindDefinition, name: str) -> Node:
    return Node(kind=definition.kind, name=name, found=False)


def observed(definition: KindDefinition, obj: Mapping[str, Any]) -> Node:
    """The node's own facts (no children yet) from the resource as the API server holds it."""
    status = obj.get("status") or {}
    conditions = list(status.get("conditions") or [])
    ready = c.find(conditions, c.READY)
    synced = c.find(conditions, c.SYNCED)
    generation = obj["metadata"].get("generation")
    return Node(
        kind=definition.kind,
        name=str(obj["metadata"]["name"]),
        found=True,
        ready=str(ready["status"]) if ready else None,
        synced=str(synced["status"]) if synced else None,
        reason=str(ready.get("reason", "")) if ready else "",
        message=str(ready.get("message", "")) if ready else "not reconciled yet",
        current=ready is not None and ready.get("observedGeneration") == generation,
        url=status.get("url") or None,
        columns=_columns(definition, obj),
        details=details_of(definition.kind, obj),
    )


def _columns(definition: KindDefinition, obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found = []
    for column in definition.printer_columns:
        if column.json_path == URL_PATH or "[" in column.json_path:
            continue  # the URL has its own field; filtered paths are the shared Ready columns
        value = _at(obj, column.json_path)
        if value is not None and value != "":
            found.append((column.name, _text(value)))
    return tuple(found)


def _at(obj: Mapping[str, Any], path: str) -> Any:
    """A simple JSONPath (`.status.lastRun.state`) as a printer column has it; None where a step is absent."""
    value: Any = obj
    for step in path.strip(".").split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as kubectl prints a boolean column
    return str(value)
