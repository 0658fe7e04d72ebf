"""The Kubernetes API calls the controller makes besides kopf's: Secrets read, the drift scheduler's status writes."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Mapping

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from controller.api.crd import GROUP, VERSION
from controller.clients import errors

SECRET_CACHE_SECONDS = 10.0


class SecretReader:
    """Reads Secrets by name (get only: the chart grants no list or watch), briefly cached."""

    def __init__(self, api: client.CoreV1Api | None = None) -> None:
        self._api = api  # None: from the in-cluster or kubeconfig settings, on first use
        self._cache: dict[tuple[str, str], tuple[float, Mapping[str, str] | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, namespace: str, name: str) -> Mapping[str, str] | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get((namespace, name))
        if cached is not None and now - cached[0] < SECRET_CACHE_SECONDS:
            return cached[1]
        data = self._read(namespace, name)
        with self._lock:
            self._cache[(namespace, name)] = (now, data)
        return data

    def _read(self, namespace: str, name: str) -> Mapping[str, str] | None:
        try:
            secret = self._core().read_namespaced_secret(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            if exc.status == 429 or (exc.status or 0) >= 500:
                raise errors.Unavailable(f"cannot read Secret {namespace}/{name}: {exc.reason}") from exc
            raise errors.Misconfigured(f"cannot read Secret {namespace}/{name}: {exc.reason}") from exc
        except (HTTPError, OSError) as exc:  # the API server unreachable: urllib3 raises these, not ApiException
            raise errors.Unavailable(f"cannot reach the API server to read Secret {namespace}/{name}: {exc}") from exc
        raw = secret.data or {}
        return {key: base64.b64decode(value).decode() for key, value in raw.items()}

    def _core(self) -> client.CoreV1Api:
        if self._api is None:
            _load_config()
            self._api = client.CoreV1Api()
        return self._api


class StatusWriter:
    """Merge-patches a resource's status subresource (as kopf does after a handler), for the drift scheduler."""

    def __init__(self) -> None:
        self._api: client.CustomObjectsApi | None = None

    def patch(self, plural: str, namespace: str, name: str, status: Mapping[str, object]) -> bool:
        """False when the resource is gone (deleted meanwhile); other API errors propagate."""
        if self._api is None:
            _load_config()
            self._api = client.CustomObjectsApi()
        try:
            self._api.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, plural, name, {"status": dict(status)}
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _load_config() -> None:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
