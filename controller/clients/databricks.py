"""Connections to a Databricks workspace through the databricks-sdk, and its errors in our terms."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.errors import (
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    TooManyRequests,
    Unauthenticated,
)
from databricks.sdk.errors import (
    TemporarilyUnavailable as SdkTemporarilyUnavailable,
)
from databricks.sdk.errors.base import DatabricksError

from controller import metrics
from controller.clients import errors

# The SDK retries 429/503 for up to 300 s and waits 60 s per request by default; a
# reconcile must never block a worker that long. The reconcile loop retries instead.
RETRY_TIMEOUT_SECONDS = 20
HTTP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class DatabricksCredentials:
    """A personal access token, or an OAuth M2M service principal's client id and secret."""

    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def auth_type(self) -> str:
        return "pat" if self.token else "oauth-m2m"


def connect(*, host: str, credentials: DatabricksCredentials) -> WorkspaceClient:
    """A client for one workspace. OAuth M2M reads the workspace's discovery document here."""
    with translated_errors():
        config = Config(
            host=host,
            token=credentials.token,
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            auth_type=credentials.auth_type,
            retry_timeout_seconds=RETRY_TIMEOUT_SECONDS,
            http_timeout_seconds=HTTP_TIMEOUT_SECONDS,
        )
        client = WorkspaceClient(config=config)
    _count_requests(client)
    return client


def _count_requests(client: WorkspaceClient) -> None:
    """Count every HTTP request the SDK makes, its own retries included.

    The SDK offers no request hook, so ours goes on its requests.Session.
    """
    session: requests.Session = client.api_client._api_client._session
    session.hooks["response"].append(_count_response)


def _count_response(response: requests.Response, *args: object, **kwargs: object) -> None:
    method = response.request.method or "?"
    metrics.EXTERNAL_CALLS.labels(
        service="databricks",
        method=f"{method} {_api_area(response.request.path_url)}",
        status=str(response.status_code),
    ).inc()


def _api_area(path: str) -> str:
    """/api/2.0/serving-endpoints/fraud/config → /api/2.0/serving-endpoints: bounded label values, no names."""
    parts = path.split("?", 1)[0].split("/")
    keep = 5 if len(parts) > 3 and parts[3] in ("unity-catalog", "mlflow", "preview", "data-quality") else 4
    return "/".join(parts[:keep])


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise the SDK's errors as the controller's error classes, by class, never by message."""
    try:
        yield
    except DatabricksError as exc:
        raise _translate(exc) from exc
    except TimeoutError as exc:  # the SDK's retry budget ran out on 429/503/connection errors
        raise errors.Unavailable(f"Databricks did not answer in time: {exc.__cause__ or exc}") from exc
    except requests.RequestException as exc:
        raise errors.Unavailable(f"Databricks is unreachable: {exc}") from exc
    except ValueError as exc:  # the SDK's config validation (e.g. OAuth discovery failed)
        raise errors.Unauthorized(f"cannot authenticate to Databricks: {exc}") from exc


def _translate(exc: DatabricksError) -> errors.ExternalError:
    code = exc.error_code or ""
    message = str(exc)
    if isinstance(exc, NotFound):
        return errors.NotFound(message, code=code)
    if isinstance(exc, ResourceAlreadyExists):
        return errors.AlreadyExists(message, code=code)
    if isinstance(exc, (TooManyRequests, SdkTemporarilyUnavailable, ResourceConflict)):
        retry_after = float(exc.retry_after_secs) if exc.retry_after_secs else None
        return errors.Unavailable(message, code=code, retry_after=retry_after)
    if isinstance(exc, (Unauthenticated, PermissionDenied)):
        return errors.Unauthorized(message, code=code)
    status = getattr(exc, "status_code", None) or 0
    if status >= 500:
        return errors.Unavailable(message, code=code)
    return errors.Rejected(message, code=code)
