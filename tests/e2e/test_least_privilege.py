"""The controller runs on the chart's ServiceAccount token, not as an admin; the token grants no more than it needs.

The session controller (an admin) is paused meanwhile, so only the ServiceAccount's controller acts on the
test's resources.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.e2e.chart import Release, can_i
from tests.e2e.conftest import workspace_manifest
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

# RBAC's refusal ("User ... cannot list resource ...") and kopf's fallback warnings; not other 403s such as
# "namespace is being terminated", which a cluster-wide controller meets in namespaces other tests delete.
REFUSED = re.compile(r"cannot \w+ resource|not enough permissions", re.IGNORECASE)


@pytest.fixture
def admin_controller_paused(controller: ControllerProcess) -> Iterator[None]:
    """Stop the session's admin controller so two controllers never act on the same objects."""
    controller.stop()
    yield
    controller.start()


@pytest.fixture
def other_namespace(kubectl: Kubectl) -> Iterator[Kubectl]:
    """A namespace the chart is not told to watch, with credentials of its own."""
    other = Kubectl(kubectl.kubeconfig, f"other-{kubectl.namespace}")
    Kubectl(kubectl.kubeconfig)("create", "namespace", other.namespace)
    other("create", "secret", "generic", "creds", "--from-literal=token=not-yours")
    yield other
    Kubectl(kubectl.kubeconfig)("delete", "namespace", other.namespace, "--wait=false")


def install(kubectl: Kubectl, *, namespaced: bool) -> Iterator[Release]:
    suffix = uuid.uuid4().hex[:6]
    values = {"watchNamespaces": "{" + kubectl.namespace + "}"} if namespaced else {}
    release = Release.install(kubectl.kubeconfig, f"lp-{suffix}", f"lp-{suffix}", values)
    yield release
    release.uninstall()


@pytest.fixture
def namespaced_release(kubectl: Kubectl) -> Iterator[Release]:
    yield from install(kubectl, namespaced=True)


@pytest.fixture
def cluster_wide_release(kubectl: Kubectl) -> Iterator[Release]:
    yield from install(kubectl, namespaced=False)


def assert_refused(result: subprocess.CompletedProcess[str], verb: str, resource: str) -> None:
    """A real request with the token, refused by RBAC (not merely absent)."""
    assert result.returncode != 0
    assert "Forbidden" in result.stderr, result.stderr
    assert f'cannot {verb} resource "{resource}"' in result.stderr, result.stderr


def run_model_lifecycle(kubectl: Kubectl, mlflow_server: MlflowServer) -> None:
    """A user's first day, as in the admin tests: credentials, a Workspace, a model, a drift, a delete."""
    name = f"{kubectl.namespace}-least-privilege"
    client = mlflow.MlflowClient(mlflow_server.url)
    register_versions(mlflow_server.url, name, 2)
    # The MLflow server here needs no credentials; naming a Secret makes the controller read it.
    kubectl("create", "secret", "generic", "mlflow-creds", "--from-literal=token=unused-by-this-server")
    workspace = workspace_manifest("mlflow", mlflow_server.url)
    workspace["spec"]["mlflow"]["credentialsSecretRef"] = {"name": "mlflow-creds"}  # type: ignore[index]
    kubectl.apply(workspace)
    kubectl.wait_condition("workspace", "mlflow")
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "MLModel",
            "metadata": {"name": "model"},
            "spec": {
                "workspaceRef": {"name": "mlflow"},
                "registeredName": name,
                "adopt": True,
                "aliases": {"champion": 2},
                "deletionPolicy": "Delete",
            },
        }
    )
    ready = kubectl.wait_condition("mlmodel", "model")
    assert ready["status"]["aliases"] == {"champion": 2}
    assert client.get_registered_model(name).aliases == {"champion": "2"}

    client.set_registered_model_alias(name, "champion", "1")  # out of band: corrected, with an Event
    wait_until(
        lambda: [e for e in kubectl.events("model") if e["reason"] == "DriftCorrected"],
        timeout=30,
        what="a DriftCorrected event posted with the ServiceAccount's rights",
    )
    assert client.get_registered_model(name).aliases == {"champion": "2"}

    kubectl("delete", "mlmodel", "model", "--timeout=30s")  # the finalizer runs deletionPolicy: Delete
    assert not client.search_registered_models(f"name = '{name}'")


def test_namespaced_controller_on_the_service_account_token(
    kubectl: Kubectl,
    other_namespace: Kubectl,
    namespaced_release: Release,
    mlflow_server: MlflowServer,
    admin_controller_paused: None,
    tmp_path: Path,
) -> None:
    token = namespaced_release.service_account_kubeconfig(tmp_path / "sa.kubeconfig")
    log = tmp_path / "controller.log"
    # A Workspace in a namespace the chart does not grant: never reconciled, its Secret never read.
    other_namespace.apply(
        {
            **workspace_manifest("elsewhere", mlflow_server.url),
            "spec": {"mlflow": {"trackingUri": mlflow_server.url, "credentialsSecretRef": {"name": "creds"}}},
        }
    )
    with ControllerProcess(kubeconfig=token, log_path=log, args=["-n", kubectl.namespace]):
        run_model_lifecycle(kubectl, mlflow_server)
        untouched = other_namespace.get("workspace", "elsewhere")
    assert not untouched.get("status")
    assert not untouched["metadata"].get("finalizers")
    refused = [line for line in log.read_text().splitlines() if REFUSED.search(line)]
    assert not refused, "\n".join(refused)

    # The token itself: Secrets are readable by name in the watched namespace only, and never listable.
    assert can_i(token, "get", "secrets", namespace=kubectl.namespace)
    assert not can_i(token, "get", "secrets", namespace=other_namespace.namespace)
    assert not can_i(token, "get", "secrets", namespace=namespaced_release.namespace)
    for verb in ("list", "watch"):
        assert not can_i(token, verb, "secrets", namespace=kubectl.namespace)
        assert not can_i(token, verb, "secrets")
    assert_refused(Kubectl(token, other_namespace.namespace)("get", "secret", "creds", check=False), "get", "secrets")
    assert_refused(Kubectl(token, kubectl.namespace)("get", "secrets", check=False), "list", "secrets")
    assert not can_i(token, "list", "mlmodels.mlops.gitops.dev", namespace=other_namespace.namespace)
    # Nothing cluster-wide at all in namespaced mode.
    for verb, resource in [("list", "namespaces"), ("list", "customresourcedefinitions"), ("get", "nodes")]:
        assert not can_i(token, verb, resource)
    # The controller never creates, replaces or deletes users' resources: Git owns them.
    for verb in ("create", "update", "delete"):
        assert not can_i(token, verb, "mlmodels.mlops.gitops.dev", namespace=kubectl.namespace)
    assert can_i(token, "create", "leases.coordination.k8s.io", namespace=namespaced_release.namespace)
    assert not can_i(token, "create", "leases.coordination.k8s.io", namespace=kubectl.namespace)


def test_cluster_wide_controller_on_the_service_account_token(
    kubectl: Kubectl,
    cluster_wide_release: Release,
    mlflow_server: MlflowServer,
    admin_controller_paused: None,
    tmp_path: Path,
) -> None:
    token = cluster_wide_release.service_account_kubeconfig(tmp_path / "sa.kubeconfig")
    log = tmp_path / "controller.log"
    with ControllerProcess(kubeconfig=token, log_path=log):
        run_model_lifecycle(kubectl, mlflow_server)
    refused = [line for line in log.read_text().splitlines() if REFUSED.search(line)]
    assert not refused, "\n".join(refused)

    # Cluster-wide, a credentials Secret may sit in any namespace, so `get` is granted everywhere; listing never.
    assert can_i(token, "get", "secrets", namespace="kube-system")
    for verb in ("list", "watch"):
        assert not can_i(token, verb, "secrets")
    assert_refused(Kubectl(token, "kube-system")("get", "secrets", check=False), "list", "secrets")
    for verb in ("create", "update", "delete"):
        assert not can_i(token, verb, "mlmodels.mlops.gitops.dev")
    assert not can_i(token, "list", "namespaces")
