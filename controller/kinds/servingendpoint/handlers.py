"""ServingEndpoint, wired: its serving client, its request from the typed status, and the MLModels it follows.

A served entity with modelRef follows an MLModel's alias. When that MLModel publishes another version for
the alias, the endpoint is woken at once and reconciles if the version differs from the one its own status
says it last wanted (`servedEntities[].desiredVersion`): a promotion rolls the endpoint without polling.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from controller.clients.on_demand import on_demand
from controller.kinds.mljob.published import MLJOB
from controller.kinds.mlmodel.published import MLMODEL, ModelView
from controller.kinds.servingendpoint import reconcile as endpoint
from controller.kinds.servingendpoint.model import DEFINITION, ServingEndpointSpec, ServingEndpointStatus
from controller.kinds.servingendpoint.published import SERVINGENDPOINT
from controller.kinds.servingendpoint.rollout_model import ROLLOUT_ACTION
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import databricks_of
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Ref, Resource

if TYPE_CHECKING:
    from controller.kinds.servingendpoint import external
else:
    external = on_demand("controller.kinds.servingendpoint.external")

Endpoint = Resource[ServingEndpointSpec, ServingEndpointStatus]


def _followed(resource: Endpoint) -> dict[str, ModelView]:
    """The MLModels the served entities refer to, by name, as they publish themselves."""
    found: dict[str, ModelView] = {}
    for entity in resource.spec.served_entities:
        if entity.model_ref is not None:
            view = resource.find(MLMODEL, entity.model_ref.name)
            if view is not None:
                found[entity.model_ref.name] = view
    return found


def _job_refs(resource: Endpoint) -> list[str]:
    """The MLJobs the rollout's analysis runs."""
    analysis = resource.spec.rollout.analysis if resource.spec.rollout else None
    return sorted({m.job_ref.name for m in analysis.metrics if m.job_ref} if analysis else set())


def _jobs(resource: Endpoint) -> dict[str, int | None]:
    """Each MLJob the analysis runs, with its job id as the MLJob publishes it (None while it has none)."""
    return {name: view.job_id if (view := resource.find(MLJOB, name)) else None for name in _job_refs(resource)}


def _connect(resource: Endpoint) -> endpoint.Serving:
    client = databricks_of(resource, kind=DEFINITION.kind)
    return external.DatabricksServing(client)  # imports databricks-sdk, once a Databricks Workspace has connected


def _reconcile(resource: Endpoint, serving: endpoint.Serving) -> Outcome:
    spec, status = resource.spec, resource.status
    request = endpoint.Request(
        owner=resource.owner,
        generation=resource.generation,
        now=time.time(),
        models=_followed(resource),
        applied_generation=status.applied_generation,
        desired_versions={e.name: e.desired_version for e in status.served_entities},
        config_attempt=status.config_attempt,
        rollout=status.rollout,
        action=resource.annotations.get(ROLLOUT_ACTION),
        jobs=_jobs(resource),
        identity=lookup.identity(resource),
        managed_permissions=tuple(status.permissions.managed if status.permissions else ()),
    )
    return endpoint.reconcile(spec, serving=serving, request=request)


def _delete(resource: Endpoint, connect: Callable[[], endpoint.Serving]) -> str:
    return endpoint.delete(resource.spec, connect=connect, owner=resource.owner)


def _follows(resource: Endpoint) -> Iterable[Ref]:
    models = {e.model_ref.name for e in resource.spec.served_entities if e.model_ref is not None}
    jobs = (("mljobs", name) for name in _job_refs(resource))
    return (*lookup.follows(resource), *(("mlmodels", name) for name in sorted(models)), *jobs)


def _woken(resource: Endpoint) -> bool:
    """A followed alias now resolves to another version than the one status says was last wanted."""
    if resource.waiting:
        return True
    wanted = endpoint.desired_versions(resource.spec, _followed(resource))
    recorded = {e.name: e.desired_version for e in resource.status.served_entities}
    return any(wanted.get(name) != recorded.get(name) for name in wanted)


KIND = Kind(
    definition=DEFINITION,
    spec=ServingEndpointSpec,
    status=ServingEndpointStatus,
    connect=_connect,
    reconcile=_reconcile,
    delete=_delete,
    drift_seconds=lookup.drift_seconds,
    external_name=lambda resource: resource.spec.endpoint_name,
    follows=_follows,
    woken=_woken,
    publishes=SERVINGENDPOINT,
    waking_annotations=(ROLLOUT_ACTION,),
)
