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
from controller.kinds.workspace.connections import Connections
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kinds.workspace.reconcile import reconcile
from controller.kube import SecretReader
from controller.settings import TIMER_INTERVAL

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


def databricks_client(workspaces: kopf.Index[Any, Any], namespace: str, name: str, *, kind: str) -> WorkspaceClient:
    """The client for a referenced Databricks Workspace; errors.Unavailable while it cannot be used yet."""
    view = lookup.find(workspaces.get((namespace, name)))
    waiting = lookup.waiting(name, view)
    if waiting is not None:
        raise errors.Unavailable(waiting.ready.message)
    assert view is not None
    assert view.spec is not None
    connection = CONNECTIONS.get(namespace, name, view.spec)
    if connection.databricks is None:
        raise errors.Rejected(f"{kind} needs a Databricks Workspace; {name} is an MLflow one")
    return connection.databricks
