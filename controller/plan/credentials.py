"""Connections to the Workspaces a plan reads: with the cluster's Secrets, or with the runner's own credentials.

With a cluster, a Workspace connects exactly as the controller connects it (its Secret, read with the user's
kubeconfig). Without one (`--no-cluster`, a CI runner), the host or tracking URI comes from the Workspace's
manifest and the credentials from the environment: for Databricks the databricks-sdk's own resolution
(DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/SECRET, a ~/.databrickscfg profile), for MLflow MLflow's variables
(MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD). Every secret value is
registered for redaction before any call is made.
"""

from __future__ import annotations

import os

from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from controller.clients import databricks, mlflow, redaction
from controller.kinds.workspace.connections import Connection, Connections
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kube import SecretReader
from controller.user_cluster import UserCluster


class FromCluster:
    """Each Workspace's credentials from its Secret in the cluster, as the controller reads them."""

    def __init__(self, cluster: UserCluster) -> None:
        self._connections = Connections(SecretReader(cluster.core))

    def connect(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection:
        return self._connections.get(namespace, name, spec)


class FromEnvironment:
    """The runner's own credentials, for the host or tracking URI the Workspace's manifest names."""

    def __init__(self, profile: str | None = None) -> None:
        self._profile = profile

    def connect(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection:
        if spec.databricks is not None:
            return Connection(databricks=self._databricks(spec.databricks.host))
        assert spec.mlflow is not None
        env = os.environ
        credentials = mlflow.MlflowCredentials(
            token=env.get("MLFLOW_TRACKING_TOKEN") or None,
            username=env.get("MLFLOW_TRACKING_USERNAME") or None,
            password=env.get("MLFLOW_TRACKING_PASSWORD") or None,
        )
        redaction.register(credentials.token, credentials.password)
        connection = mlflow.connect(
            tracking_uri=spec.mlflow.tracking_uri, registry_uri=spec.mlflow.registry_uri, credentials=credentials
        )
        return Connection(mlflow=connection, identity_hint=credentials.username)

    def _databricks(self, host: str) -> WorkspaceClient:
        with databricks.translated_errors():
            config = Config(
                host=host,
                profile=self._profile,
                retry_timeout_seconds=databricks.RETRY_TIMEOUT_SECONDS,
                http_timeout_seconds=databricks.HTTP_TIMEOUT_SECONDS,
            )
            redaction.register(config.token, config.client_secret, config.password)
            return WorkspaceClient(config=config)


Credentials = FromCluster | FromEnvironment
