"""Connection checks against MLflow and Databricks."""

from __future__ import annotations

from databricks.sdk import WorkspaceClient
from mlflow.utils.rest_utils import http_request

from controller.clients import databricks, mlflow
from controller.kinds.workspace.reconcile import Identity


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
            response = http_request(self._conn.registry.get_host_creds(), "/version", "GET")
        version = response.text.strip() if response.ok else None
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
