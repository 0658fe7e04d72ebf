"""From a Workspace reference to a usable connection, for every kind that lives in a Workspace.

No kopf here: the handlers wiring and the deletion path both come through these functions.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk import WorkspaceClient

from controller.clients import errors
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connections import Connection, Connections
from controller.kube import SecretReader
from controller.status import conditions as c
from controller.status.outcome import Outcome
from controller.wiring.kind import Resource

CONNECTIONS = Connections(SecretReader())


class NotUsable(Exception):
    """A referenced Workspace cannot be used now; `outcome` says why, for the resource's status."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.ready.message)
        self.outcome = outcome


def connection(view: lookup.WorkspaceView | None, namespace: str, name: str) -> Connection:
    """The live connection to a referenced Workspace, or NotUsable: missing, not connected, or credentials failing."""
    waiting = lookup.waiting(name, view)
    if waiting is not None:
        raise NotUsable(waiting)
    assert view is not None
    assert view.spec is not None
    try:
        return CONNECTIONS.get(namespace, name, view.spec)
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


def for_deletion(resource: Resource[Any, Any], *, kind: str) -> WorkspaceClient:
    """For deletion: the Databricks client, or errors.Unavailable (the delete is retried) while there is none."""
    try:
        return databricks_of(resource, kind=kind)
    except NotUsable as exc:
        raise errors.Unavailable(str(exc)) from exc
