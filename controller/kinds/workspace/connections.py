"""Turn a Workspace spec and its Secret into a live connection, cached until either changes.

A rotated Secret changes the cache key, so the next reconcile connects with the new
credentials without a restart. Credentials never leave this module except inside
the SDK clients.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from databricks.sdk import WorkspaceClient

from controller.clients import databricks, errors, mlflow
from controller.kinds.workspace.external import DatabricksProbe, MlflowProbe
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kinds.workspace.reconcile import ConnectionProbe

SecretReader = Callable[[str, str], Mapping[str, str] | None]
"""(namespace, name) → the Secret's decoded data, or None when it does not exist."""


@dataclass(frozen=True)
class Connection:
    """A live connection to one Workspace: exactly one of the two is set."""

    mlflow: mlflow.MlflowConnection | None = None
    databricks: WorkspaceClient | None = None
    identity_hint: str | None = None

    def probe(self) -> ConnectionProbe:
        if self.databricks is not None:
            return DatabricksProbe(self.databricks)
        assert self.mlflow is not None
        return MlflowProbe(self.mlflow, username=self.identity_hint)


class Connections:
    """A thread-safe cache of connections keyed by workspace spec and credentials."""

    def __init__(self, read_secret: SecretReader) -> None:
        self._read_secret = read_secret
        self._cache: dict[tuple[str, str], tuple[str, Connection]] = {}
        self._lock = threading.Lock()

    def get(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection:
        """The connection for a Workspace; raises errors.Misconfigured when credentials are incomplete."""
        secret = self._secret(namespace, spec)
        key = _fingerprint(spec, secret)
        with self._lock:
            cached = self._cache.get((namespace, name))
            if cached is not None and cached[0] == key:
                return cached[1]
        connection = _connect(spec, secret)
        with self._lock:
            self._cache[(namespace, name)] = (key, connection)
        return connection

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._cache.pop((namespace, name), None)

    def _secret(self, namespace: str, spec: WorkspaceSpec) -> Mapping[str, str]:
        ref = spec.databricks.credentials_secret_ref if spec.databricks else None
        if spec.mlflow is not None:
            ref = spec.mlflow.credentials_secret_ref
        if ref is None:
            return {}
        data = self._read_secret(namespace, ref.name)
        if data is None:
            raise errors.Misconfigured(f"Secret {namespace}/{ref.name} does not exist")
        return data


def _connect(spec: WorkspaceSpec, secret: Mapping[str, str]) -> Connection:
    if spec.databricks is not None:
        return Connection(databricks=databricks.connect(host=spec.databricks.host, credentials=_dbx_creds(secret)))
    assert spec.mlflow is not None
    creds = mlflow.MlflowCredentials(
        token=secret.get("token"), username=secret.get("username"), password=secret.get("password")
    )
    if bool(creds.username) != bool(creds.password):
        raise errors.Misconfigured("the MLflow credentials Secret needs both username and password")
    connection = mlflow.connect(
        tracking_uri=spec.mlflow.tracking_uri, registry_uri=spec.mlflow.registry_uri, credentials=creds
    )
    return Connection(mlflow=connection, identity_hint=creds.username)


def _dbx_creds(secret: Mapping[str, str]) -> databricks.DatabricksCredentials:
    if secret.get("token"):
        return databricks.DatabricksCredentials(token=secret["token"])
    if secret.get("client_id") and secret.get("client_secret"):
        return databricks.DatabricksCredentials(client_id=secret["client_id"], client_secret=secret["client_secret"])
    raise errors.Misconfigured(
        "the Databricks credentials Secret needs `token` (PAT) or `client_id` and `client_secret` (OAuth M2M)"
    )


def _fingerprint(spec: WorkspaceSpec, secret: Mapping[str, str]) -> str:
    payload = json.dumps([spec.model_dump(mode="json"), sorted(secret.items())])
    return hashlib.sha256(payload.encode()).hexdigest()
