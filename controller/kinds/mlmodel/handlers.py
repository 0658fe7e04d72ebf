"""kopf handlers for MLModel: reconcile on spec change, on resume, and on the drift timer."""

from __future__ import annotations

from typing import Any

import kopf

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.clients import errors
from controller.kinds.mlmodel import reconcile as mlmodel
from controller.kinds.mlmodel.external import MlflowRegistry
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.unity_catalog import UnityCatalogRegistry
from controller.kinds.workspace import lookup
from controller.kinds.workspace.handlers import NotUsable, connection
from controller.settings import TIMER_INTERVAL
from controller.status.outcome import Outcome

KIND = "MLModel"


@kopf.on.resume(GROUP, VERSION, "mlmodels")
@kopf.on.create(GROUP, VERSION, "mlmodels")
@kopf.on.update(GROUP, VERSION, "mlmodels", field="spec")
def mlmodel_changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    _reconcile(body, patch, logger, kwargs["workspaces"])


@kopf.timer(GROUP, VERSION, "mlmodels", interval=TIMER_INTERVAL)
def mlmodel_drift(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    if handling.is_due(body.meta):
        _reconcile(body, patch, logger, kwargs["workspaces"])


@kopf.on.delete(GROUP, VERSION, "mlmodels")
def mlmodel_deleted(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    workspaces: kopf.Index[Any, Any] = kwargs["workspaces"]  # kopf passes indices by their name
    spec = MLModelSpec.model_validate(dict(body.spec))

    def connect() -> mlmodel.Registry:
        view = lookup.find(workspaces.get((body.meta["namespace"], spec.workspace_ref.name)))
        try:
            return _registry(body, spec, view)
        except NotUsable as exc:
            raise errors.Unavailable(str(exc)) from exc

    handling.delete_external(
        body=body,
        patch=patch,
        logger=logger,
        failure=f"deleting {spec.registered_name} failed",
        run=lambda: mlmodel.delete(spec, connect=connect, owner=_owner(body)),
    )


def _reconcile(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, workspaces: kopf.Index[Any, Any]) -> None:
    spec = MLModelSpec.model_validate(dict(body.spec))
    view = lookup.find(workspaces.get((body.meta["namespace"], spec.workspace_ref.name)))

    def run() -> Outcome:
        try:
            registry = _registry(body, spec, view)
        except NotUsable as exc:
            return exc.outcome
        request = mlmodel.Request(owner=_owner(body), spec_changed=handling.spec_changed(body))
        return mlmodel.reconcile(spec, registry=registry, request=request)

    drift = view.drift_seconds if view else lookup.DEFAULT_DRIFT_SECONDS
    handling.reconcile(kind=KIND, body=body, patch=patch, logger=logger, drift_seconds=drift, run=run)


def _registry(body: kopf.Body, spec: MLModelSpec, view: lookup.WorkspaceView | None) -> mlmodel.Registry:
    """MLflow's registry for an MLflow Workspace, Unity Catalog for a Databricks one; NotUsable otherwise."""
    found = connection(view, str(body.meta["namespace"]), spec.workspace_ref.name)
    if found.databricks is not None:
        return UnityCatalogRegistry(found.databricks)
    assert found.mlflow is not None
    return MlflowRegistry(found.mlflow)


def _owner(body: kopf.Body) -> str:
    return f"{body.meta['namespace']}/{body.meta['name']}"
