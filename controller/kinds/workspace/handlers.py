"""kopf handlers for Workspace: check the connection on change and every drift interval."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf
from databricks.sdk import WorkspaceClient

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.clients import errors
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connections import Connection, Connections
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kinds.workspace.reconcile import reconcile
from controller.kube import SecretReader
from controller.settings import TIMER_INTERVAL
from controller.status import conditions as c
from controller.status.outcome import Outcome

CONNECTIONS = Connections(SecretReader())


@kopf.index(GROUP, VERSION, "workspaces")
def workspaces(namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[Any, Any]:
    return {(namespace, name): lookup.index_entry(spec, status)}


@kopf.on.resume(GROUP, VERSION, "workspaces")
@kopf.on.create(GROUP, VERSION, "workspaces")
@kopf.on.update(GROUP, VERSION, "workspaces", field="spec")
def workspace_changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    _check(body, patch, logger)


@kopf.timer(GROUP, VERSION, "workspaces", interval=TIMER_INTERVAL)
def workspace_recheck(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **_: Any) -> None:
    if handling.is_due(body.meta):
        _check(body, patch, logger)


@kopf.on.delete(GROUP, VERSION, "workspaces")
def workspace_deleted(body: kopf.Body, namespace: str | None, name: str, **_: Any) -> None:
    CONNECTIONS.forget(str(namespace), name)
    handling.forget(body.meta)


def _check(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger) -> None:
    spec = WorkspaceSpec.model_validate(dict(body.spec))
    namespace, name = str(body.meta["namespace"]), str(body.meta["name"])
    handling.reconcile(
        kind="Workspace",
        body=body,
        patch=patch,
        logger=logger,
        drift_seconds=spec.drift_seconds,
        run=lambda: reconcile(
            lambda: CONNECTIONS.get(namespace, name, spec).probe(),
            now=datetime.now(UTC),
            was_connected=bool(body.status.get("connected")),
        ),
    )


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


def databricks_client(workspaces: kopf.Index[Any, Any], namespace: str, name: str, *, kind: str) -> WorkspaceClient:
    """For deletion: the Databricks client, or errors.Unavailable (the delete is retried) while there is none."""
    try:
        return databricks(lookup.find(workspaces.get((namespace, name))), namespace, name, kind=kind)
    except NotUsable as exc:
        raise errors.Unavailable(str(exc)) from exc
