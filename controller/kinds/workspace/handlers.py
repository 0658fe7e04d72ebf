"""Workspace, wired: check the connection on change and every drift interval; publish it to the other kinds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import CONNECTIONS
from controller.kinds.workspace.model import DEFINITION, WorkspaceSpec, WorkspaceStatus
from controller.kinds.workspace.reconcile import ConnectionProbe, reconcile
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Resource

Workspace = Resource[WorkspaceSpec, WorkspaceStatus]


def _prober(resource: Workspace) -> Callable[[], ConnectionProbe]:
    """Connecting is what a Workspace checks, so its reconcile makes the connection (and reports its failure)."""
    return lambda: CONNECTIONS.get(resource.namespace, resource.name, resource.spec).probe()


def _check(resource: Workspace, connect: Callable[[], ConnectionProbe]) -> Outcome:
    return reconcile(connect, now=datetime.now(UTC), was_connected=resource.status.connected)


def _forget(resource: Workspace, _connect: object) -> str:
    """A Workspace has no external object: deleting it only drops the cached connection."""
    CONNECTIONS.forget(resource.namespace, resource.name)
    return f"dropped the connection of Workspace {resource.name}"


KIND = Kind(
    definition=DEFINITION,
    spec=WorkspaceSpec,
    status=WorkspaceStatus,
    connect=_prober,
    reconcile=_check,
    delete=_forget,
    drift_seconds=lambda resource: resource.spec.drift_seconds,
    external_name=lambda resource: f"the connection of Workspace {resource.name}",
    publishes=lookup.WORKSPACE,
)
