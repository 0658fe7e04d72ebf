"""What other kinds read of a Workspace (its published entry), and why a resource must wait for it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from controller.api.common import ObjectRef
from controller.kinds.workspace.model import WorkspaceSpec
from controller.status import conditions as c
from controller.status.outcome import Outcome
from controller.wiring.kind import Published, Ref, Resource

RETRY_SECONDS = 10.0
DEFAULT_DRIFT_SECONDS = 300.0


@dataclass(frozen=True)
class WorkspaceView:
    """What other kinds need to know of a Workspace: its spec and whether it is connected."""

    spec: WorkspaceSpec | None
    connected: bool
    message: str
    has_connected: bool = False  # some check succeeded, even if the latest failed
    identity: str | None = None  # who the credentials belong to (status.identity): spec.permissions never locks it out

    @property
    def drift_seconds(self) -> float:
        return self.spec.drift_seconds if self.spec else DEFAULT_DRIFT_SECONDS


def view(spec: Mapping[str, Any], status: Mapping[str, Any]) -> WorkspaceView:
    """The Workspace's published entry."""
    ready = c.find(list(status.get("conditions") or []), c.READY) or {}
    try:
        parsed: WorkspaceSpec | None = WorkspaceSpec.model_validate(dict(spec))
    except ValidationError:
        parsed = None
    connected = bool(status.get("connected"))
    return WorkspaceView(
        spec=parsed,
        connected=connected,
        message=str(ready.get("message", "")),
        has_connected=connected or bool(status.get("lastConnectedAt")),
        identity=status.get("identity") or None,
    )


WORKSPACE = Published("workspaces", view)


class InWorkspace(Protocol):
    """A spec that lives in a Workspace."""

    @property
    def workspace_ref(self) -> ObjectRef: ...


def workspace_name(resource: Resource[Any, Any]) -> str:
    spec: InWorkspace = resource.spec
    return spec.workspace_ref.name


def referenced(resource: Resource[Any, Any]) -> WorkspaceView | None:
    """The Workspace the resource refers to, as last published; None when it does not exist."""
    return resource.find(WORKSPACE, workspace_name(resource))


def drift_seconds(resource: Resource[Any, Any]) -> float:
    """The referenced Workspace's driftInterval (the default while it does not exist)."""
    found = referenced(resource)
    return found.drift_seconds if found else DEFAULT_DRIFT_SECONDS


def identity(resource: Resource[Any, Any]) -> str | None:
    """Who the resource's Workspace connects as, once it has connected."""
    found = referenced(resource)
    return found.identity if found else None


def follows(resource: Resource[Any, Any]) -> Iterable[Ref]:
    """Every resource in a Workspace follows it: it is woken when the Workspace connects."""
    return (("workspaces", workspace_name(resource)),)


def waiting(name: str, found: WorkspaceView | None) -> Outcome | None:
    """An Outcome saying why the resource waits for its Workspace, or None when it may go ahead.

    A Workspace's connection check is evidence, not a gate: once it has connected, a failing check
    (a slow or refused probe) does not hold back the resources in it; their own calls succeed or fail
    on their own, and the Workspace reports its failing check in its own conditions.
    """
    if found is None:
        message = f"Workspace {name} does not exist"
    elif found.spec is None:
        message = f"Workspace {name} has an invalid spec"
    elif not found.connected and not found.has_connected:
        message = f"Workspace {name} is not connected: {found.message or 'not checked yet'}"
    else:
        return None
    verdict = c.Verdict(False, c.WAITING_FOR_WORKSPACE, message)
    return Outcome(ready=verdict, synced=verdict, retry_after=RETRY_SECONDS)
