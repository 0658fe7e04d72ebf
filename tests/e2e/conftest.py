"""The end-to-end harness: a real API server, the real kubectl, and the controller as a process.

By default a local etcd + kube-apiserver is started (built by `bash tests/cluster/build.sh`).
With MLOPS_E2E_KUBECONFIG set, the same tests run against that existing cluster instead;
the CRDs are applied to it and the controller runs locally with that kubeconfig.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cluster import BUILD_COMMAND, LocalCluster, missing_binaries
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator, Timings
from sandbox.mlflow_server import MlflowServer
from tests.e2e.chart import Release
from tests.support import REPO, Kubectl

EXISTING_CLUSTER = "MLOPS_E2E_KUBECONFIG"
CONTROLLER_NAMESPACE = "mlops-e2e"  # where the chart is installed and the controller's Leases live
DRIFT_INTERVAL = "3s"


@pytest.fixture(scope="session")
def kubeconfig() -> Iterator[Path]:
    """The cluster under test, with the CRDs installed and Established."""
    existing = os.environ.get(EXISTING_CLUSTER)
    if existing:
        path = Path(existing)
        _install_crds(path)
        yield path
        return
    if missing := missing_binaries():
        pytest.fail(f"missing {', '.join(map(str, missing))}: run `{BUILD_COMMAND}` first", pytrace=False)
    with LocalCluster() as cluster:
        _install_crds(cluster.kubeconfig_path)
        yield cluster.kubeconfig_path


@pytest.fixture(scope="session")
def controller(kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControllerProcess]:
    """`mlopsctl run` as its own process for the whole session (tests that kill it start it again).

    It runs with a token of the Helm chart's ServiceAccount, as in a real install, so every e2e test
    also proves the chart's RBAC is enough (MLOPS_E2E_AS_ADMIN=1 runs it as the admin instead).
    """
    folder = tmp_path_factory.mktemp("controller")
    identity = kubeconfig
    release = None
    if os.environ.get("MLOPS_E2E_AS_ADMIN"):
        Kubectl(kubeconfig)("create", "namespace", CONTROLLER_NAMESPACE)
    else:
        release = Release.install(kubeconfig, "e2e", CONTROLLER_NAMESPACE)
        identity = release.service_account_kubeconfig(folder / "sa.kubeconfig", duration_seconds=4 * 3600)
    process = ControllerProcess(kubeconfig=identity, log_path=folder / "controller.log")
    with process:
        yield process
        print(f"controller log: {process.log_path}")
    if release is not None:
        release.uninstall()


@pytest.fixture
def kubectl(kubeconfig: Path, controller: ControllerProcess) -> Iterator[Kubectl]:
    """kubectl in a fresh namespace of its own; the controller is running."""
    namespace = f"t-{uuid.uuid4().hex[:8]}"
    admin = Kubectl(kubeconfig)
    admin("create", "namespace", namespace)
    scoped = Kubectl(kubeconfig, namespace)
    yield scoped
    if not controller.running:
        controller.start()
    # No namespace controller runs on the local API server, so a deleted namespace keeps its
    # resources: delete them first (their deletionPolicy needs the Workspaces), then the rest.
    scoped(
        "delete",
        "mlmodels,servingendpoints,mljobs,modelmonitors,experiments,gitfolders",
        "--all",
        "--timeout=30s",
        check=False,
    )
    scoped("delete", "workspaces", "--all", "--timeout=30s", check=False)
    admin("delete", "namespace", namespace, "--wait=false")


@pytest.fixture
def workspace(kubectl: Kubectl, mlflow_server: MlflowServer) -> str:
    """A connected MLflow Workspace named `mlflow` in the test's namespace, with a short drift interval."""
    kubectl.apply(workspace_manifest("mlflow", mlflow_server.url))
    kubectl.wait_condition("workspace", "mlflow")
    return "mlflow"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """The Databricks workspace emulator, reached by the controller through the real databricks-sdk."""
    with Emulator(timings=Timings(endpoint_update=1.0, run_pending=0.5, run_running=1.0, monitor_pending=1.0)) as emu:
        yield emu


@pytest.fixture
def databricks_workspace(kubectl: Kubectl, emulator: Emulator) -> str:
    """A connected Databricks Workspace named `dbx` (PAT in a Secret) in the test's namespace."""
    kubectl("create", "secret", "generic", "dbx-credentials", f"--from-literal=token={DEFAULT_TOKEN}")
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "dbx"},
            "spec": {
                "databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "dbx-credentials"}},
                "driftInterval": DRIFT_INTERVAL,
            },
        }
    )
    kubectl.wait_condition("workspace", "dbx")
    return "dbx"


def workspace_manifest(name: str, tracking_uri: str) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": name},
        "spec": {"mlflow": {"trackingUri": tracking_uri}, "driftInterval": DRIFT_INTERVAL},
    }


def adopted_model(name: str, registered: str, *, champion: int = 1, workspace: str = "dbx") -> dict[str, object]:
    """An MLModel taking over an existing registered model, with alias `champion` on a version."""
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {
            "workspaceRef": {"name": workspace},
            "registeredName": registered,
            "adopt": True,
            "aliases": {"champion": champion},
        },
    }


def rolling_endpoint(endpoint_name: str, rollout: dict[str, object]) -> dict[str, object]:
    """ServingEndpoint `fraud` serving alias champion of MLModel `fraud` under a rollout policy."""
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "ServingEndpoint",
        "metadata": {"name": "fraud"},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "endpointName": endpoint_name,
            "servedEntities": [{"name": "champion", "modelRef": {"name": "fraud", "alias": "champion"}}],
            "rollout": rollout,
            "deletionPolicy": "Delete",
        },
    }


def _install_crds(kubeconfig: Path) -> None:
    admin = Kubectl(kubeconfig)
    admin("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    admin("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
