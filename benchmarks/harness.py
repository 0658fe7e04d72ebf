"""What every benchmark stands on: a local API server with the CRDs, kubectl, the controller process,
its RSS, the MLModel and Workspace documents, and MLModels applied and listed until Ready."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from benchmarks import readiness
from sandbox.cluster import LocalCluster, repo_root
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator

API_VERSION = "mlops.gitops.dev/v1alpha1"
CHUNK = 500  # documents per `kubectl apply`: thousands in one go are slow and near the request size limits
PAGE = 500  # items per page when listing


class Kubectl:
    """`kubectl` against one kubeconfig; an AlreadyExists refusal is no error (namespaces made twice)."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self._env = {**os.environ, "KUBECONFIG": str(kubeconfig)}

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            ["kubectl", *args], input=stdin, env=self._env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 and "AlreadyExists" not in result.stderr:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout


@contextmanager
def cluster(work: Path) -> Iterator[tuple[Kubectl, Emulator]]:
    """A local API server with the CRDs applied and Established, and a Databricks emulator."""
    with LocalCluster(work_dir=work / "cluster") as local, Emulator() as emulator:
        kubectl = Kubectl(local.kubeconfig_path)
        kubectl("apply", "--server-side", "-f", str(repo_root() / "crds"))
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        yield kubectl, emulator


def controller(
    kubectl: Kubectl,
    log_path: Path,
    *,
    args: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    python: str | None = None,
) -> ControllerProcess:
    """The controller as `make bench` runs it: from MLOPS_CONTROLLER_PYTHON (the runtime-only venv) if set."""
    return ControllerProcess(
        python=python or os.environ.get("MLOPS_CONTROLLER_PYTHON", sys.executable),
        kubeconfig=kubectl.kubeconfig,
        log_path=log_path,
        extra_env=extra_env,
        args=args,
        verbose=False,  # measured at the log level it runs with in a cluster: DEBUG logs every body it sees
    )


def rss_mib(controller: ControllerProcess) -> float:
    pid = controller.pid
    assert pid is not None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def workspace(kubectl: Kubectl, emulator: Emulator, namespace: str, interval: float) -> None:
    """A namespace with a Databricks Workspace `dbx` on the emulator, drift-checked every `interval` s."""
    kubectl("create", "namespace", namespace)
    kubectl("create", "secret", "generic", "dbx", "-n", namespace, f"--from-literal=token={DEFAULT_TOKEN}")
    document = {
        "apiVersion": API_VERSION,
        "kind": "Workspace",
        "metadata": {"name": "dbx", "namespace": namespace},
        "spec": {
            "databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "dbx"}},
            "driftInterval": f"{interval:.0f}s",
        },
    }
    kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump(document))


def mlmodel(namespace: str, name: str, registered: str) -> dict[str, Any]:
    """An MLModel on Unity Catalog adopting `registered`, alias `champion` on version 1."""
    return {
        "apiVersion": API_VERSION,
        "kind": "MLModel",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "registeredName": registered,
            "adopt": True,
            "aliases": {"champion": 1},
        },
    }


def seed(emulator: Emulator, documents: Sequence[dict[str, Any]]) -> None:
    """Version 1 of each MLModel's registered model, in the emulator's registry."""
    for document in documents:
        emulator.seed_model_version(
            document["spec"]["registeredName"], source=f"models:/{document['metadata']['name']}"
        )


def counts(text: str) -> list[int]:
    """`500,2000` → [500, 2000]: whole numbers above zero, each once, in ascending order."""
    found: set[int] = set()
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        try:
            number = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a whole number (expected e.g. 500,2000)") from None
        if number < 1:
            raise argparse.ArgumentTypeError(f"{number} is not a count of resources (at least 1)")
        found.add(number)
    if not found:
        raise argparse.ArgumentTypeError("no count given (expected e.g. 500,2000)")
    return sorted(found)


def custom_objects(kubeconfig: Path) -> Any:
    return client.CustomObjectsApi(config.new_client_from_config(config_file=str(kubeconfig)))


def list_mlmodels(api: Any, namespace: str) -> Iterator[dict[str, Any]]:
    """Every MLModel in `namespace`, listed in pages (thousands in one answer weigh on a 2-core machine)."""
    token = None
    while True:
        page: dict[str, Any] = api.list_namespaced_custom_object(
            "mlops.gitops.dev", "v1alpha1", namespace, "mlmodels", limit=PAGE, _continue=token
        )
        yield from page["items"]
        token = page["metadata"].get("continue")
        if not token:
            return


def delete_all(kubectl: Kubectl, plural: str, namespace: str, *, timeout: float = 600) -> None:
    """Every `plural` in `namespace` deleted with one deletecollection call (`kubectl delete --all` sends one
    DELETE per object and took minutes for 2,000), then listed until none is left (finalizers run first)."""
    api = custom_objects(kubectl.kubeconfig)
    api.delete_collection_namespaced_custom_object("mlops.gitops.dev", "v1alpha1", namespace, plural)
    deadline = time.monotonic() + timeout
    while api.list_namespaced_custom_object("mlops.gitops.dev", "v1alpha1", namespace, plural, limit=1)["items"]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{plural} in {namespace} still there {timeout:.0f}s after their deletion")
        time.sleep(1)


def apply_until_ready(
    kubectl: Kubectl,
    namespace: str,
    documents: Sequence[dict[str, Any]],
    *,
    timeout: float,
    poll: float = readiness.POLL_SECONDS,
) -> readiness.Convergence:
    """Apply `documents` (in chunks of CHUNK) while listing every `poll` s until all are Ready (`readiness`)."""
    api = custom_objects(kubectl.kubeconfig)

    def apply() -> None:
        for first in range(0, len(documents), CHUNK):
            chunk = documents[first : first + CHUNK]
            kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(chunk))

    return readiness.converge(
        apply,
        lambda: list_mlmodels(api, namespace),
        (str(document["metadata"]["name"]) for document in documents),
        timeout=timeout,
        poll=poll,
    )
