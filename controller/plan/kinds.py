"""How the plan drives each kind: the kind's own declaration, its external client, and which calls write.

The declaration is the one the controller wires (`controller.kinds.<kind>.handlers.KIND`), so the plan calls
the same reconcile and delete with the same request built from the same status. What this table adds is the
part the controller gets from its connection cache: the external client over a Workspace's connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from controller.kinds.experiment.external import for_connection as experiments_for
from controller.kinds.experiment.handlers import KIND as EXPERIMENT
from controller.kinds.experiment.run import EXPERIMENTS_READS, EXPERIMENTS_WRITES, Experiments
from controller.kinds.gitfolder.external import DatabricksRepos
from controller.kinds.gitfolder.handlers import KIND as GITFOLDER
from controller.kinds.gitfolder.run import REPOS_READS, REPOS_WRITES, Repos
from controller.kinds.mljob.external import DatabricksJobs
from controller.kinds.mljob.handlers import KIND as MLJOB
from controller.kinds.mljob.run import JOBS_READS, JOBS_WRITES, Jobs
from controller.kinds.mlmodel.external import MlflowRegistry
from controller.kinds.mlmodel.handlers import KIND as MLMODEL
from controller.kinds.mlmodel.run import REGISTRY_READS, REGISTRY_WRITES, Registry
from controller.kinds.mlmodel.unity_catalog import UnityCatalogRegistry
from controller.kinds.modelmonitor.external import DatabricksMonitors
from controller.kinds.modelmonitor.handlers import KIND as MODELMONITOR
from controller.kinds.modelmonitor.run import MONITORS_READS, MONITORS_WRITES, Monitors
from controller.kinds.servingendpoint.external import DatabricksServing
from controller.kinds.servingendpoint.handlers import KIND as SERVINGENDPOINT
from controller.kinds.servingendpoint.state import SERVING_READS, SERVING_WRITES, Serving
from controller.kinds.workspace.connections import Connection
from controller.kinds.workspace.handlers import KIND as WORKSPACE
from controller.kinds.workspace.reconcile import PROBE_READS, PROBE_WRITES, ConnectionProbe
from controller.plan import simulated
from controller.plan.recording import Recorder, Simulated
from controller.wiring.kind import Kind


class NeedsDatabricks(Exception):
    """The kind works only in a Databricks Workspace."""


@dataclass(frozen=True)
class Planned:
    """One kind as the plan drives it."""

    kind: Kind[Any, Any, Any]
    protocol: type
    """The Protocol the kind's reconcile takes its client as; `reads` and `writes` are declared next to it."""
    client: Callable[[Connection], Any]
    reads: frozenset[str]
    writes: frozenset[str]
    simulated: type[Simulated] = Simulated

    def recorder(self, connection: Connection) -> Recorder:
        """The kind's external client over the connection, recording its writes."""
        real = self.client(connection)
        return Recorder(real, reads=self.reads, writes=self.writes, simulated=self.simulated(real))


def _registry(connection: Connection) -> Any:
    """As MLModel's handlers choose: Unity Catalog in a Databricks Workspace, else the MLflow registry."""
    if connection.databricks is not None:
        return UnityCatalogRegistry(connection.databricks)
    assert connection.mlflow is not None
    return MlflowRegistry(connection.mlflow)


def _on_databricks(make: Callable[[Any], Any]) -> Callable[[Connection], Any]:
    def client(connection: Connection) -> Any:
        if connection.databricks is None:
            raise NeedsDatabricks("needs a Databricks Workspace; this one is an MLflow one")
        return make(connection.databricks)

    return client


PLANNED: tuple[Planned, ...] = (
    Planned(WORKSPACE, ConnectionProbe, Connection.probe, PROBE_READS, PROBE_WRITES),
    Planned(MLMODEL, Registry, _registry, REGISTRY_READS, REGISTRY_WRITES, simulated.SimulatedRegistry),
    Planned(GITFOLDER, Repos, _on_databricks(DatabricksRepos), REPOS_READS, REPOS_WRITES, simulated.SimulatedRepos),
    Planned(MLJOB, Jobs, _on_databricks(DatabricksJobs), JOBS_READS, JOBS_WRITES, simulated.SimulatedJobs),
    Planned(
        SERVINGENDPOINT,
        Serving,
        _on_databricks(DatabricksServing),
        SERVING_READS,
        SERVING_WRITES,
        simulated.SimulatedServing,
    ),
    Planned(
        MODELMONITOR,
        Monitors,
        _on_databricks(DatabricksMonitors),
        MONITORS_READS,
        MONITORS_WRITES,
        simulated.SimulatedMonitors,
    ),
    Planned(
        EXPERIMENT, Experiments, experiments_for, EXPERIMENTS_READS, EXPERIMENTS_WRITES, simulated.SimulatedExperiments
    ),
)
"""Dependencies first: a Workspace before what lives in it, an MLModel and an MLJob before the endpoints that
serve its aliases or run the job in a rollout's analysis, an endpoint before the monitor on its table."""

BY_PLURAL = {planned.kind.definition.plural: planned for planned in PLANNED}
