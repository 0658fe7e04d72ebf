"""MLModel, wired: its registry from the referenced Workspace, its request from the resource, its published aliases."""

from __future__ import annotations

from collections.abc import Callable

from controller.kinds.mlmodel import reconcile as mlmodel
from controller.kinds.mlmodel.external import MlflowRegistry
from controller.kinds.mlmodel.model import DEFINITION, MLModelSpec, MLModelStatus
from controller.kinds.mlmodel.published import MLMODEL
from controller.kinds.mlmodel.unity_catalog import UnityCatalogRegistry
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import connection
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Resource

Model = Resource[MLModelSpec, MLModelStatus]


def _registry(resource: Model) -> mlmodel.Registry:
    """MLflow's registry for an MLflow Workspace, Unity Catalog for a Databricks one; NotUsable otherwise."""
    found = connection(lookup.referenced(resource), resource.namespace, lookup.workspace_name(resource))
    if found.databricks is not None:
        return UnityCatalogRegistry(found.databricks)
    assert found.mlflow is not None
    return MlflowRegistry(found.mlflow)


def _reconcile(resource: Model, registry: mlmodel.Registry) -> Outcome:
    request = mlmodel.Request(
        owner=resource.owner, spec_changed=resource.spec_changed, promotion=resource.status.promotion
    )
    return mlmodel.reconcile(resource.spec, registry=registry, request=request)


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
    follows=lookup.follows,
    publishes=MLMODEL,
)
