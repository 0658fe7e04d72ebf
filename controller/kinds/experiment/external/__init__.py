"""The Experiment's clients: an MLflow server's tracking (`mlflow_server`), a Databricks workspace's
(`databricks_workspace`). Each module imports its own SDK, and is imported once a Workspace of its kind
has connected, so an installation loads only the SDK its Workspaces use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller.clients.on_demand import on_demand
from controller.kinds.experiment.run import Experiments
from controller.kinds.workspace.connections import Connection

if TYPE_CHECKING:
    from controller.kinds.experiment.external import databricks_workspace, mlflow_server
else:
    databricks_workspace = on_demand("controller.kinds.experiment.external.databricks_workspace")
    mlflow_server = on_demand("controller.kinds.experiment.external.mlflow_server")


def for_connection(connection: Connection) -> Experiments:
    """The workspace's MLflow tracking on a Databricks Workspace, the MLflow server on an MLflow one."""
    if connection.databricks is not None:
        return databricks_workspace.DatabricksExperiments(connection.databricks)
    assert connection.mlflow is not None
    return mlflow_server.MlflowExperiments(connection.mlflow)
