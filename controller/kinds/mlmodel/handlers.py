"""MLModel, wired: its registry from the referenced Workspace, its request from the resource, its published aliases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from controller.clients.on_demand import on_demand
from controller.kinds.mljob.published import MLJOB
from controller.kinds.mlmodel import reconcile as mlmodel
from controller.kinds.mlmodel.model import DEFINITION, MLModelSpec, MLModelStatus
from controller.kinds.mlmodel.published import MLMODEL
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import connection
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, NotUsable, Ref, Resource

if TYPE_CHECKING:
    from controller.kinds.mlmodel import external, unity_catalog
else:
    # Each imports its SDK: loaded once a Workspace of that kind has connected.
    external = on_demand("controller.kinds.mlmodel.external")
    unity_catalog = on_demand("controller.kinds.mlmodel.unity_catalog")

Model = Resource[MLModelSpec, MLModelStatus]


def _registry(resource: Model) -> mlmodel.Registry:
    """MLflow's registry for an MLflow Workspace, Unity Catalog for a Databricks one; NotUsable otherwise."""
    return _registry_of(resource, lookup.workspace_name(resource))


def _registry_of(resource: Model, workspace: str) -> external.MlflowRegistry | unity_catalog.UnityCatalogRegistry:
    found = connection(resource.find(lookup.WORKSPACE, workspace), resource.namespace, workspace)
    if found.databricks is not None:
        return unity_catalog.UnityCatalogRegistry(found.databricks)
    assert found.mlflow is not None
    return external.MlflowRegistry(found.mlflow)


def _reconcile(resource: Model, registry: mlmodel.Registry) -> Outcome:
    request = mlmodel.Request(
        owner=resource.owner,
        spec_changed=resource.spec_changed,
        promotion=resource.status.promotion,
        managed_permissions=tuple(resource.status.permissions.managed if resource.status.permissions else ()),
        deployment_job_id=_deployment_job_id(resource),
        deployment_job_set=resource.status.deployment_job_id,
    )

    def source(workspace: str) -> mlmodel.SourceRegistry:
        try:
            return _registry_of(resource, workspace)
        except NotUsable as exc:
            raise mlmodel.SourceNotReady(exc.outcome.ready.message) from exc

    return mlmodel.reconcile(resource.spec, registry=registry, request=request, sources=source)


def _deployment_job_id(resource: Model) -> int | None:
    """The job id of spec.deploymentJobRef's MLJob, once it has one."""
    ref = resource.spec.deployment_job_ref
    view = resource.find(MLJOB, ref.name) if ref else None
    return view.job_id if view else None


def _follows(resource: Model) -> Iterable[Ref]:
    """Its Workspace, every Workspace a version is copied from (a copy waits for it to connect), its deployment job."""
    copied = {v.source.from_model.workspace_ref.name for v in resource.spec.versions if v.source.from_model}
    job = resource.spec.deployment_job_ref
    jobs = (("mljobs", job.name),) if job else ()
    return (*lookup.follows(resource), *(("workspaces", name) for name in sorted(copied)), *jobs)


def _delete(resource: Model, connect: Callable[[], mlmodel.Registry]) -> str:
    return mlmodel.delete(resource.spec, connect=connect, owner=resource.owner)


KIND = Kind(
    definition=DEFINITION,
    spec=MLModelSpec,
    status=MLModelStatus,
    connect=_registry,
    reconcile=_reconcile,
    delete=_delete,
    drift_seconds=lookup.drift_seconds,
    external_name=lambda resource: resource.spec.registered_name,
    follows=_follows,
    publishes=MLMODEL,
)
