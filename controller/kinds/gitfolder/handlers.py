"""GitFolder, wired: its Repos client from the referenced Workspace and its request from the typed status."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from controller.clients.on_demand import on_demand
from controller.kinds.gitfolder import reconcile as gitfolder
from controller.kinds.gitfolder.model import DEFINITION, GitFolderSpec, GitFolderStatus
from controller.kinds.gitfolder.published import GITFOLDER
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import databricks_of
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Resource

if TYPE_CHECKING:
    from controller.kinds.gitfolder import external
else:
    external = on_demand("controller.kinds.gitfolder.external")

Folder = Resource[GitFolderSpec, GitFolderStatus]


def _connect(resource: Folder) -> gitfolder.Repos:
    client = databricks_of(resource, kind=DEFINITION.kind)
    return external.DatabricksRepos(client)  # imports databricks-sdk, once a Databricks Workspace has connected


def _reconcile(resource: Folder, repos: gitfolder.Repos) -> Outcome:
    status = resource.status
    request = gitfolder.Request(
        owner=resource.owner,
        spec_changed=resource.spec_changed,
        recorded=gitfolder.Recorded(repo_id=status.repo_id, tag=status.tag, head_commit=status.head_commit),
        identity=lookup.identity(resource),
        managed_permissions=tuple(status.permissions.managed if status.permissions else ()),
    )
    return gitfolder.reconcile(resource.spec, repos=repos, request=request)


def _delete(resource: Folder, connect: Callable[[], gitfolder.Repos]) -> str:
    return gitfolder.delete(resource.spec, connect=connect, repo_id=resource.status.repo_id)


KIND = Kind(
    definition=DEFINITION,
    spec=GitFolderSpec,
    status=GitFolderStatus,
    connect=_connect,
    reconcile=_reconcile,
    delete=_delete,
    drift_seconds=lookup.drift_seconds,
    external_name=lambda resource: f"Git folder {resource.spec.path}",
    follows=lookup.follows,
    publishes=GITFOLDER,
)
