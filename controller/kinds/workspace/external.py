"""Connection checks against MLflow and Databricks.

Each probe is made over a connection that exists already, so the SDK it uses has been imported;
this module imports neither itself, as the connection factory loads it for both kinds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from controller.clients.on_demand import on_demand
from controller.kinds.workspace.reconcile import Identity

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from controller.clients import databricks, mlflow
else:
    databricks = on_demand("controller.clients.databricks")
    mlflow = on_demand("controller.clients.mlflow")


class MlflowProbe:
    """Lists one registered model (proves the registry answers and accepts the credentials)."""

    def __init__(
        self, connection: mlflow.MlflowConnection, *, username: str | None, notices: tuple[str, ...] = ()
    ) -> None:
        self._conn = connection
        self._username = username
        self.notices = notices

    def check(self) -> Identity:
        with mlflow.translated_errors("check_connection"):
            self._conn.registry.search_registered_models(max_results=1)
            version = mlflow.server_version(self._conn)
        return Identity(identity=self._username, server_version=version)


class DatabricksProbe:
    """Asks the workspace who the credentials belong to."""

    def __init__(self, client: WorkspaceClient, *, notices: tuple[str, ...] = ()) -> None:
        self._client = client
        self.notices = notices

    def check(self) -> Identity:
        with databricks.translated_errors():
            me = self._client.current_user.me()
        return Identity(identity=me.user_name or me.display_name or me.id, server_version=None)
