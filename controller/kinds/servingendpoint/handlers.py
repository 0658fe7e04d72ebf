"""kopf handlers for ServingEndpoint: reconcile on spec change, on resume, on the drift timer, and on promotions.

Every MLModel is kept in the `mlmodel_aliases` index. The timer reconciles an endpoint
when it is due, and also as soon as an alias one of its served entities follows points
somewhere else than the last reconcile saw: a promotion rolls the endpoint within one
timer tick, at no external cost to decide. What the last reconcile saw is kept in
memory (after a restart the resume handler reconciles anyway), so each change of the
index triggers at most one extra reconcile, whatever that reconcile's outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import kopf

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.kinds.servingendpoint import reconcile as endpoint
from controller.kinds.servingendpoint import refs
from controller.kinds.servingendpoint.external import DatabricksServing
from controller.kinds.servingendpoint.model import ServingEndpointSpec
from controller.kinds.workspace import lookup
from controller.kinds.workspace.handlers import NotUsable, databricks, databricks_client
from controller.settings import TIMER_INTERVAL
from controller.status.outcome import Outcome

KIND = "ServingEndpoint"


class _Seen:
    """Per endpoint (uid): the versions its served entities resolved to when it was last reconciled."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[str, dict[str, int | None]] = {}

    def remember(self, uid: str, versions: dict[str, int | None]) -> None:
        with self._lock:
            self._versions[uid] = versions

    def moved(self, uid: str, versions: dict[str, int | None]) -> bool:
        with self._lock:
            seen = self._versions.get(uid)
        return seen is not None and seen != versions

    def forget(self, uid: str) -> None:
        with self._lock:
            self._versions.pop(uid, None)


SEEN = _Seen()


@kopf.index(GROUP, VERSION, "mlmodels")
def mlmodel_aliases(namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[Any, Any]:
    return {(namespace, name): refs.index_entry(spec, status)}


@kopf.on.resume(GROUP, VERSION, "servingendpoints")
@kopf.on.create(GROUP, VERSION, "servingendpoints")
@kopf.on.update(GROUP, VERSION, "servingendpoints", field="spec")
def servingendpoint_changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    _reconcile(body, patch, logger, kwargs["workspaces"], kwargs["mlmodel_aliases"])


@kopf.timer(GROUP, VERSION, "servingendpoints", interval=TIMER_INTERVAL)
def servingendpoint_drift(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    models: kopf.Index[Any, Any] = kwargs["mlmodel_aliases"]
    if handling.is_due(body.meta) or _alias_moved(body, models):
        _reconcile(body, patch, logger, kwargs["workspaces"], models)


@kopf.on.delete(GROUP, VERSION, "servingendpoints")
def servingendpoint_deleted(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    spec = ServingEndpointSpec.model_validate(dict(body.spec))
    namespace = str(body.meta["namespace"])

    def connect() -> endpoint.Serving:
        return DatabricksServing(databricks_client(kwargs["workspaces"], namespace, spec.workspace_ref.name, kind=KIND))

    handling.delete_external(
        body=body,
        patch=patch,
        logger=logger,
        failure=f"deleting {spec.endpoint_name} failed",
        run=lambda: endpoint.delete(spec, connect=connect, owner=_owner(body)),
    )
    SEEN.forget(str(body.meta["uid"]))


def _reconcile(
    body: kopf.Body,
    patch: kopf.Patch,
    logger: kopf.Logger,
    workspaces: kopf.Index[Any, Any],
    models: kopf.Index[Any, Any],
) -> None:
    spec = ServingEndpointSpec.model_validate(dict(body.spec))
    view = lookup.find(workspaces.get((body.meta["namespace"], spec.workspace_ref.name)))
    drift = view.drift_seconds if view else lookup.DEFAULT_DRIFT_SECONDS
    followed = _followed(body, spec, models)
    SEEN.remember(str(body.meta["uid"]), endpoint.desired_versions(spec, followed))

    def run() -> Outcome:
        try:
            serving = DatabricksServing(
                databricks(view, str(body.meta["namespace"]), spec.workspace_ref.name, kind=KIND)
            )
        except NotUsable as exc:
            return exc.outcome
        status = body.status
        request = endpoint.Request(
            owner=_owner(body),
            generation=int(body.meta.get("generation") or 0),
            now=time.time(),
            models=followed,
            applied_generation=status.get("appliedGeneration"),
            desired_versions=_recorded_versions(status),
            config_attempt=status.get("configAttempt"),
        )
        return endpoint.reconcile(spec, serving=serving, request=request)

    handling.reconcile(kind=KIND, body=body, patch=patch, logger=logger, drift_seconds=drift, run=run)


def _alias_moved(body: kopf.Body, models: kopf.Index[Any, Any]) -> bool:
    """Whether a followed alias now resolves to another version than the last reconcile saw."""
    spec = ServingEndpointSpec.model_validate(dict(body.spec))
    if not any(e.model_ref for e in spec.served_entities):
        return False
    return SEEN.moved(str(body.meta["uid"]), endpoint.desired_versions(spec, _followed(body, spec, models)))


def _followed(body: kopf.Body, spec: ServingEndpointSpec, models: kopf.Index[Any, Any]) -> dict[str, refs.ModelView]:
    """The MLModels the served entities refer to, by name, as the index holds them."""
    namespace = body.meta["namespace"]
    found: dict[str, refs.ModelView] = {}
    for entity in spec.served_entities:
        if entity.model_ref is not None:
            view = refs.find(models.get((namespace, entity.model_ref.name)))
            if view is not None:
                found[entity.model_ref.name] = view
    return found


def _recorded_versions(status: Mapping[str, Any]) -> dict[str, int | None]:
    return {str(e.get("name")): e.get("desiredVersion") for e in status.get("servedEntities") or []}


def _owner(body: kopf.Body) -> str:
    return f"{body.meta['namespace']}/{body.meta['name']}"
