"""Experiment, wired: MLflow's tracking for an MLflow Workspace, the workspace's for a Databricks one."""

from __future__ import annotations

from collections.abc import Callable

from controller.kinds.experiment import reconcile as experiment
from controller.kinds.experiment.external import for_connection
from controller.kinds.experiment.model import DEFINITION, ExperimentSpec, ExperimentStatus
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import connection
from controller.status.outcome import Outcome
from controller.wiring.kind import Kind, Resource

Experiment = Resource[ExperimentSpec, ExperimentStatus]


def _connect(resource: Experiment) -> experiment.Experiments:
    return for_connection(connection(lookup.referenced(resource), resource.namespace, lookup.workspace_name(resource)))


def _reconcile(resource: Experiment, experiments: experiment.Experiments) -> Outcome:
    request = experiment.Request(
        owner=resource.owner,
        spec_changed=resource.spec_changed,
        known_id=resource.status.experiment_id,
        identity=lookup.identity(resource),
        managed_permissions=tuple(resource.status.permissions.managed if resource.status.permissions else ()),
    )
    return experiment.reconcile(resource.spec, experiments=experiments, request=request)


def _delete(resource: Experiment, connect: Callable[[], experiment.Experiments]) -> str:
    return experiment.delete(resource.spec, connect=connect, owner=resource.owner)


KIND = Kind(
    definition=DEFINITION,
    spec=ExperimentSpec,
    status=ExperimentStatus,
    connect=_connect,
    reconcile=_reconcile,
    delete=_delete,
    drift_seconds=lookup.drift_seconds,
    external_name=lambda resource: f"experiment {resource.spec.name}",
    follows=lookup.follows,
)
