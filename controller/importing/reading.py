"""Read what a Workspace holds, through the kinds' own external clients (reads only: nothing is written)."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.kinds.mljob.external import DatabricksJobs
from controller.kinds.mljob.observed import ObservedJob
from controller.kinds.mlmodel.external import MlflowRegistry
from controller.kinds.mlmodel.observed import ObservedModel
from controller.kinds.mlmodel.unity_catalog import UnityCatalogRegistry
from controller.kinds.modelmonitor.external import DatabricksMonitors
from controller.kinds.modelmonitor.observed import Json
from controller.kinds.servingendpoint.external import DatabricksServing
from controller.kinds.workspace.connections import Connection

MLMODELS, SERVINGENDPOINTS, MLJOBS, MODELMONITORS = "mlmodels", "servingendpoints", "mljobs", "modelmonitors"
DATABRICKS_ONLY = (SERVINGENDPOINTS, MLJOBS, MODELMONITORS)


@dataclass(frozen=True)
class Monitor:
    """A monitor's `data_profiling_config` and the names its ids stand for (None: not found)."""

    config: Json
    table_name: str | None
    output_schema: str | None


@dataclass
class Estate:
    """Everything read, kind by kind (a kind not asked for stays empty)."""

    models: list[ObservedModel] = field(default_factory=list)
    endpoints: list[Json] = field(default_factory=list)
    jobs: list[tuple[ObservedJob, list[str]]] = field(default_factory=list)
    """Each job with the settings the Jobs API client would drop (which MLJob refuses)."""
    monitors: list[Monitor] = field(default_factory=list)


def read(connection: Connection, plurals: set[str]) -> Estate:
    """List every asset of the asked-for kinds; errors are the clients' (controller.clients.errors)."""
    estate = Estate()
    w = connection.databricks
    if MLMODELS in plurals:
        if w is not None:
            estate.models = UnityCatalogRegistry(w).list_models()
        else:
            assert connection.mlflow is not None
            estate.models = MlflowRegistry(connection.mlflow).list_models()
    if w is None:
        return estate
    if SERVINGENDPOINTS in plurals:
        serving = DatabricksServing(w)
        found = (serving.endpoint_document(name) for name in serving.list_endpoint_names())
        estate.endpoints = [doc for doc in found if doc is not None]
    if MLJOBS in plurals:
        jobs = DatabricksJobs(w)
        estate.jobs = [(job, jobs.unknown_fields(job.settings)) for job in jobs.list_all_jobs()]
    if MODELMONITORS in plurals:
        monitors = DatabricksMonitors(w)
        estate.monitors = [_named(monitors, config) for config in monitors.list_monitors()]
    return estate


def _named(monitors: DatabricksMonitors, config: Json) -> Monitor:
    """The monitored table and the output schema by name. The API gives the schema only by id; its name is
    the one the monitor's metric tables are in, confirmed by looking that schema's id up."""
    metrics_table = str(config.get("profile_metrics_table_name") or "")
    schema = metrics_table.rsplit(".", 1)[0] if metrics_table.count(".") == 2 else None
    if schema is not None and monitors.schema_id(schema) != config.get("output_schema_id"):
        schema = None
    table = config.get("monitored_table_name")
    return Monitor(config=config, table_name=str(table) if table else None, output_schema=schema)
