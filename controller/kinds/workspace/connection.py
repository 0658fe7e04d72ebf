"""From a Workspace reference to a usable connection, for every kind that lives in a Workspace.

No kopf here: the handlers wiring and the deletion path both come through these functions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from controller.clients import errors
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connections import Connection, Connections
from controller.kube import SecretReader
from controller.status import conditions as c
from controller.status.outcome import Outcome
from controller.wiring.kind import NotUsable, Resource

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from controller.kinds.workspace.model import WorkspaceSpec

CONNECTIONS = Connections(SecretReader())


class ConnectionSource(Protocol):
    def get(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection: ...


_STANDING_IN: list[ConnectionSource] = []


@contextlib.contextmanager
def connected_through(source: ConnectionSource) -> Iterator[None]:
    """Within: Workspaces are reached through `source`, not the controller's cache (`mlopsctl plan`, whose
    connections use the CLI's credentials, for the Workspace an MLModel copies a version from)."""
    _STANDING_IN.append(source)
    try:
        yield
    finally:
        _STANDING_IN.pop()


def connection(view: lookup.WorkspaceView | None, namespace: str, name: str) -> Connection:
    """The live connection to a referenced Workspace, or NotUsable: missing, not connected, or credentials failing."""
    waiting = lookup.waiting(name, view)
    if waiting is not None:
        raise NotUsable(waiting)
    assert view is not None
    assert view.spec is not None
    try:
        return (_STANDING_IN[-1] if _STANDING_IN else CONNECTIONS).get(namespace, name, view.spec)
    except errors.ExternalError as exc:
        verdict = c.Verdict(False, c.CONNECTION_FAILED, f"Workspace {name}: {exc}")
        raise NotUsable(Outcome(ready=verdict, synced=verdict, retry_after=lookup.RETRY_SECONDS)) from exc


def databricks(view: lookup.WorkspaceView | None, namespace: str, name: str, *, kind: str) -> WorkspaceClient:
    """The client for a referenced Databricks Workspace, or NotUsable (an MLflow Workspace is Unsupported)."""
    found = connection(view, namespace, name)
    if found.databricks is None:
        verdict = c.Verdict(False, c.UNSUPPORTED, f"{kind} needs a Databricks Workspace; {name} is an MLflow one")
        raise NotUsable(Outcome(ready=verdict, synced=verdict))
    return found.databricks


def databricks_of(resource: Resource[Any, Any], *, kind: str) -> WorkspaceClient:
    """The client of the Databricks Workspace a resource refers to, or NotUsable."""
    name = lookup.workspace_name(resource)
    return databricks(lookup.referenced(resource), resource.namespace, name, kind=kind)
