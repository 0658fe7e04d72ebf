"""Connections to an MLflow tracking server and model registry.

We talk to MLflow's REST stores directly instead of `MlflowClient`: each Workspace
carries its own credentials (MlflowClient reads them from process-wide environment
variables), and the client's extra read before every registry write would double
our calls. Retries are bounded here; the reconcile loop does the real retrying.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from mlflow.exceptions import MlflowException
from mlflow.store.model_registry.rest_store import RestStore as RegistryStore
from mlflow.store.tracking.rest_store import RestStore as TrackingStore
from mlflow.utils.rest_utils import MlflowHostCreds, http_request

from controller import metrics
from controller.clients import errors

# MLflow's defaults (7 retries with backoff, 120 s timeout) block a worker for minutes
# when the server is down. These are read on every request, so setting them here
# bounds every call this process makes.
_BOUNDED_HTTP = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}

_NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "ENDPOINT_NOT_FOUND"}
_ALREADY_EXISTS = {"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"}
_UNAUTHORIZED = {"UNAUTHENTICATED", "PERMISSION_DENIED", "UNAUTHORIZED"}
_TRANSIENT = {"INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"}


@dataclass(frozen=True)
class MlflowCredentials:
    """Bearer token or basic auth; all empty for an open server."""

    token: str | None = None
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class MlflowConnection:
    """The stores for one Workspace."""

    tracking_uri: str
    registry: RegistryStore
    tracking: TrackingStore


def connect(*, tracking_uri: str, registry_uri: str | None, credentials: MlflowCredentials) -> MlflowConnection:
    """Build the stores for one server. Makes no network call."""
    for name, value in _BOUNDED_HTTP.items():
        os.environ.setdefault(name, value)

    def creds_for(uri: str) -> MlflowHostCreds:
        return MlflowHostCreds(
            uri.rstrip("/"),
            username=credentials.username,
            password=credentials.password,
            token=credentials.token,
        )

    registry_host = registry_uri or tracking_uri
    return MlflowConnection(
        tracking_uri=tracking_uri.rstrip("/"),
        registry=RegistryStore(lambda: creds_for(registry_host)),
        tracking=TrackingStore(lambda: creds_for(tracking_uri)),
    )


def server_version(connection: MlflowConnection) -> str | None:
    """The registry server's version, where it tells (GET /version)."""
    response = http_request(connection.registry.get_host_creds(), "/version", "GET")
    return response.text.strip() if response.ok else None


@contextlib.contextmanager
def translated_errors(operation: str) -> Iterator[None]:
    """Re-raise MLflow's exceptions as the controller's error classes, by error code; count the call."""
    try:
        yield
    except MlflowException as exc:
        metrics.EXTERNAL_CALLS.labels(service="mlflow", method=operation, status=str(exc.error_code)).inc()
        raise _translate(exc) from exc
    except OSError as exc:  # requests' connection errors derive from OSError
        metrics.EXTERNAL_CALLS.labels(service="mlflow", method=operation, status="UNREACHABLE").inc()
        raise errors.Unavailable(f"MLflow is unreachable: {exc}") from exc
    metrics.EXTERNAL_CALLS.labels(service="mlflow", method=operation, status="OK").inc()


def _translate(exc: MlflowException) -> errors.ExternalError:
    code = str(exc.error_code)
    message = exc.message
    if code in _NOT_FOUND:
        return errors.NotFound(message, code=code)
    if code in _ALREADY_EXISTS:
        return errors.AlreadyExists(message, code=code)
    if code in _UNAUTHORIZED:
        return errors.Unauthorized(message, code=code)
    if code in _TRANSIENT or exc.get_http_status_code() >= 500:
        return errors.Unavailable(message, code=code)
    return errors.Rejected(message, code=code)
