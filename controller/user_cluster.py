"""The Kubernetes API as a person or a CI job reaches it from `mlopsctl`: their kubeconfig, else the pod's.

The controller itself connects through kopf; the CLI commands (trace, rollout, plan, import) connect
here, so that how a kubeconfig is found, which namespace is the default, and how an unreachable or
refusing API server is reported are the same for all of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

REQUEST_TIMEOUT_SECONDS = 15.0
DEFAULT_NAMESPACE = "default"


class ClusterError(Exception):
    """The API server could not be reached or refused a call; the message says which and why."""


class UserCluster:
    """An API client built from the kubeconfig given, else KUBECONFIG/~/.kube/config, else in-cluster."""

    def __init__(self, kubeconfig: Path | None) -> None:
        self._kubeconfig = str(kubeconfig) if kubeconfig else None
        try:
            self.api = config.new_client_from_config(config_file=self._kubeconfig)
        except config.ConfigException as exc:
            if self._kubeconfig:
                raise ClusterError(f"cannot use kubeconfig {self._kubeconfig}: {exc}") from exc
            try:
                config.load_incluster_config()
            except config.ConfigException:
                raise ClusterError(f"no kubeconfig found and not in a cluster: {exc}") from exc
            self.api = client.ApiClient()
        self.objects = client.CustomObjectsApi(self.api)
        self.core = client.CoreV1Api(self.api)

    def default_namespace(self) -> str:
        """The kubeconfig context's namespace, as kubectl uses it."""
        try:
            _, current = config.list_kube_config_contexts(config_file=self._kubeconfig)
        except config.ConfigException:
            return DEFAULT_NAMESPACE
        return str(current.get("context", {}).get("namespace") or DEFAULT_NAMESPACE)


@contextmanager
def refusals(what: str) -> Iterator[None]:
    """Turn the client's exceptions into a ClusterError that says what was being done (`what`: "list
    servingendpoints in namespace x"). Catch a 404 you expect inside the block, before it gets here."""
    try:
        yield
    except ApiException as exc:
        raise ClusterError(f"cannot {what}: {exc.status} {exc.reason}") from exc
    except (HTTPError, OSError) as exc:  # unreachable: urllib3 raises these, not ApiException
        raise ClusterError(f"cannot reach the API server to {what}: {exc}") from exc
