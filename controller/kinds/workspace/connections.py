"""Turn a Workspace spec and its Secret into a live connection, cached until either changes.

A rotated Secret changes the cache key, so the next reconcile connects with the new
credentials without a restart. Credentials never leave this module except inside
the SDK clients; every secret value read is registered for redaction the moment it is
read, so no error text quoting it (an SDK's, an HTTP library's) reaches status or logs.
Values are used without surrounding whitespace (`kubectl create secret --from-file`
keeps a file's trailing newline), and the Workspace says so once in a Warning Event.

This is the client factory: an SDK is imported when the first Workspace of its kind connects
(`controller.clients.on_demand`), so an MLflow-only installation never loads databricks-sdk
and a Databricks-only one never loads mlflow.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from controller.clients import errors, redaction
from controller.clients.on_demand import on_demand
from controller.kinds.workspace.external import DatabricksProbe, MlflowProbe
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kinds.workspace.reconcile import ConnectionProbe

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from controller.clients import databricks, mlflow
else:
    databricks = on_demand("controller.clients.databricks")
    mlflow = on_demand("controller.clients.mlflow")

SecretReader = Callable[[str, str], Mapping[str, str] | None]
"""(namespace, name) → the Secret's decoded data, or None when it does not exist."""

CREDENTIAL_KEYS = ("token", "client_id", "client_secret", "username", "password")
SECRET_KEYS = ("token", "client_secret", "password")
"""The keys whose values are secret; the others name who connects (shown as the Workspace's identity)."""


@dataclass(frozen=True)
class Connection:
    """A live connection to one Workspace: exactly one of the two is set."""

    mlflow: mlflow.MlflowConnection | None = None
    databricks: WorkspaceClient | None = None
    identity_hint: str | None = None
    pending_notices: list[str] = field(default_factory=list, compare=False)
    """Warnings about the credentials, said once: by the Workspace's next check (other kinds never probe)."""

    def probe(self) -> ConnectionProbe:
        notices = tuple(self.pending_notices)
        self.pending_notices.clear()
        if self.databricks is not None:
            return DatabricksProbe(self.databricks, notices=notices)
        assert self.mlflow is not None
        return MlflowProbe(self.mlflow, username=self.identity_hint, notices=notices)


class Connections:
    """A thread-safe cache of connections keyed by workspace spec and credentials."""

    def __init__(self, read_secret: SecretReader) -> None:
        self._read_secret = read_secret
        self._cache: dict[tuple[str, str], tuple[str, Connection]] = {}
        self._lock = threading.Lock()

    def get(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection:
        """The connection for a Workspace; raises errors.Misconfigured when credentials are incomplete."""
        secret, notices = self._secret(namespace, spec)
        key = _fingerprint(spec, secret)
        with self._lock:
            cached = self._cache.get((namespace, name))
            if cached is not None and cached[0] == key:
                return cached[1]
        connection = _connect(spec, secret)
        connection.pending_notices.extend(notices)
        with self._lock:
            self._cache[(namespace, name)] = (key, connection)
        return connection

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._cache.pop((namespace, name), None)

    def _secret(self, namespace: str, spec: WorkspaceSpec) -> tuple[Mapping[str, str], list[str]]:
        """The credentials, registered for redaction and stripped; and a notice per value that had whitespace."""
        ref = spec.databricks.credentials_secret_ref if spec.databricks else None
        if spec.mlflow is not None:
            ref = spec.mlflow.credentials_secret_ref
        if ref is None:
            return {}, []
        data = self._read_secret(namespace, ref.name)
        if data is None:
            raise errors.Misconfigured(f"Secret {namespace}/{ref.name} does not exist")
        redaction.register(*(data.get(key) for key in SECRET_KEYS))
        for user, secret in (("username", "password"), ("client_id", "client_secret")):
            if data.get(user) and data.get(secret):  # as an HTTP Basic header carries them
                redaction.register(_basic(data[user].strip(), data[secret].strip()))
        credentials = {key: data[key].strip() for key in CREDENTIAL_KEYS if key in data}
        notices = [
            f"the value of `{key}` in Secret {ref.name} has surrounding whitespace (a trailing newline from "
            "`kubectl create secret --from-file`?); it is used without it"
            for key, value in credentials.items()
            if value != data[key]
        ]
        return credentials, notices


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


def _basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()
