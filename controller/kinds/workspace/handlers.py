"""Workspace, wired: check the connection on change and every drift interval; publish it to the other kinds."""

from __future__ import annotations

from datetime import UTC, datetime

from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import CONNECTIONS
from controller.kinds.workspace.model import DEFINITION, WorkspaceSpec, WorkspaceStatus
from controller.kinds.workspace.reconcile import reconcile
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Resource

Workspace = Resource[WorkspaceSpec, WorkspaceStatus]


def _check(resource: Workspace) -> Outcome:
    return reconcile(
        lambda: CONNECTIONS.get(resource.namespace, resource.name, resource.spec).probe(),
        now=datetime.now(UTC),
        was_connected=resource.status.connected,
    )


def _forget(resource: Workspace) -> str:
    """A Workspace has no external object: deleting it only drops the cached connection."""
    CONNECTIONS.forget(resource.namespace, resource.name)
    return f"dropped the connection of Workspace {resource.name}"


KIND = Kind(
    definition=DEFINITION,
    spec=WorkspaceSpec,
    status=WorkspaceStatus,
    reconcile=_check,
    delete=_forget,
    drift_seconds=lambda resource: resource.spec.drift_seconds,
    external_name=lambda resource: f"the connection of Workspace {resource.name}",
    publishes=lookup.WORKSPACE,
)
