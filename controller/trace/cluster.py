"""Reading a namespace's resources for a trace through the Kubernetes API, with the user's kubeconfig."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from controller.api.crd import GROUP, VERSION
from controller.trace import kinds
from controller.wiring.kind import Ref

REQUEST_TIMEOUT_SECONDS = 15.0
DEFAULT_NAMESPACE = "default"


class ClusterError(Exception):
    """The API server could not be reached or refused a read; the message says which and why."""


class Cluster:
    """The custom objects API as the kubeconfig (or, without one, the pod's service account) allows."""

    def __init__(self, kubeconfig: Path | None) -> None:
        self._kubeconfig = str(kubeconfig) if kubeconfig else None
        try:
            api = config.new_client_from_config(config_file=self._kubeconfig)
        except config.ConfigException as exc:
            if self._kubeconfig:
                raise ClusterError(f"cannot use kubeconfig {self._kubeconfig}: {exc}") from exc
            try:
                config.load_incluster_config()
            except config.ConfigException:
                raise ClusterError(f"no kubeconfig found and not in a cluster: {exc}") from exc
            api = client.ApiClient()
        self._objects = client.CustomObjectsApi(api)

    def default_namespace(self) -> str:
        """The kubeconfig context's namespace, as kubectl uses it."""
        try:
            _, current = config.list_kube_config_contexts(config_file=self._kubeconfig)
        except config.ConfigException:
            return DEFAULT_NAMESPACE
        return str(current.get("context", {}).get("namespace") or DEFAULT_NAMESPACE)

    def namespace_objects(self, namespace: str) -> dict[Ref, Mapping[str, Any]]:
        """Every resource of every kind in the namespace; a kind whose CRD is not installed has none."""
        objects: dict[Ref, Mapping[str, Any]] = {}
        for declared in kinds.DECLARED:
            plural = declared.definition.plural
            for item in self._list(plural, namespace):
                objects[(plural, str(item["metadata"]["name"]))] = item
        return objects

    def _list(self, plural: str, namespace: str) -> list[Mapping[str, Any]]:
        try:
            listed = self._objects.list_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as exc:
            if exc.status == 404:
                return []
            raise ClusterError(f"cannot list {plural} in namespace {namespace}: {exc.status} {exc.reason}") from exc
        except (HTTPError, OSError) as exc:  # unreachable: urllib3 raises these, not ApiException
            raise ClusterError(f"cannot reach the API server to list {plural}: {exc}") from exc
        return list(listed.get("items") or ())
