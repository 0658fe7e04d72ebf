"""MLJob, wired: its Jobs client from the referenced Workspace and its request from the resource's typed status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from controller.clients.on_demand import on_demand
from controller.kinds.gitfolder.published import GITFOLDER
from controller.kinds.mljob import reconcile as mljob
from controller.kinds.mljob.folders import referenced
from controller.kinds.mljob.model import DEFINITION, MLJobSpec, MLJobStatus
from controller.kinds.mljob.observed import ObservedRun
from controller.kinds.mljob.published import MLJOB
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import databricks_of
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Ref, Resource

if TYPE_CHECKING:
    from controller.kinds.mljob import external
else:
    external = on_demand("controller.kinds.mljob.external")

RUN_POLL_SECONDS = 30.0

Job = Resource[MLJobSpec, MLJobStatus]


def _connect(resource: Job) -> mljob.Jobs:
    client = databricks_of(resource, kind=DEFINITION.kind)
    return external.DatabricksJobs(client)  # imports databricks-sdk, once a Databricks Workspace has connected


def _reconcile(resource: Job, jobs: mljob.Jobs) -> Outcome:
    request = mljob.Request(
        owner=resource.owner,
        uid=resource.uid,
        generation=resource.generation,
        spec_changed=resource.spec_changed,
        recorded=_recorded(resource.status),
        poll_seconds=min(RUN_POLL_SECONDS, lookup.drift_seconds(resource)),
        identity=lookup.identity(resource),
        managed_permissions=tuple(resource.status.permissions.managed if resource.status.permissions else ()),
        folders={name: resource.find(GITFOLDER, name) for name in _folder_refs(resource)},
    )
    return mljob.reconcile(resource.spec, jobs=jobs, request=request)


def _folder_refs(resource: Job) -> list[str]:
    """The GitFolders the tasks run code from."""
    return referenced(resource.spec.settings.model_dump(mode="json", exclude_unset=True))


def _follows(resource: Job) -> Iterable[Ref]:
    return (*lookup.follows(resource), *(("gitfolders", name) for name in _folder_refs(resource)))


def _delete(resource: Job, connect: Callable[[], mljob.Jobs]) -> str:
    return mljob.delete(resource.spec, connect=connect, uid=resource.uid, job_id=resource.status.job_id)


def _recorded(status: MLJobStatus) -> mljob.Recorded:
    """What earlier reconciles left in status."""
    last = status.last_run
    return mljob.Recorded(
        job_id=status.job_id,
        applied_hash=status.applied_settings_hash,
        job_hash=status.job_settings_hash,
        last_run=ObservedRun(run_id=last.run_id, state=last.state, result=last.result, url=last.url) if last else None,
    )


KIND = Kind(
    definition=DEFINITION,
    spec=MLJobSpec,
    status=MLJobStatus,
    connect=_connect,
    reconcile=_reconcile,
    delete=_delete,
    drift_seconds=lookup.drift_seconds,
    external_name=lambda resource: f"job {resource.status.job_id or resource.spec.settings.name}",
    follows=_follows,
    publishes=MLJOB,
)
