"""`python -m sandbox` (`make sandbox`): the whole system on one machine, with the examples applied.

A local etcd + kube-apiserver, a real MLflow server, the Databricks emulator, and
the controller as its own process. The examples are applied as they are, except
that Workspace URLs point at the local servers. Everything lives under one work
folder (default .sandbox/) and stops on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import yaml

from sandbox.cluster import LocalCluster, repo_root
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator
from sandbox.examples import example_documents
from sandbox.mlflow_server import MlflowServer
from sandbox.rollout_demo import ROLLOUT_ENDPOINT, ROLLOUT_MODEL, show_rollout
from sandbox.training import register_versions

EXAMPLE_FOLDERS = ("mlflow", "databricks")
READY_TIMEOUT = 120.0


def run(*, work_dir: Path, mlflow_port: int, databricks_port: int, once: bool) -> int:
    """Bring everything up, apply the examples, print `kubectl get mlops -A`; serve until Ctrl-C unless `once`."""
    shutil.rmtree(work_dir, ignore_errors=True)
    work_dir.mkdir(parents=True)
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(LocalCluster(work_dir=work_dir / "cluster"))
        _say(f"API server {cluster.server_url} ready in {cluster.startup_seconds:.1f}s")
        mlflow = stack.enter_context(MlflowServer(port=mlflow_port, work_dir=work_dir / "mlflow"))
        _say(f"MLflow {mlflow.url}")
        emulator = stack.enter_context(Emulator(port=databricks_port))
        _say(f"Databricks emulator {emulator.url}")
        with (
            (work_dir / "seed.log").open("w") as seed_log,
            contextlib.redirect_stdout(seed_log),
            contextlib.redirect_stderr(seed_log),
        ):
            _seed(mlflow, emulator)
        kubectl = _Kubectl(cluster.kubeconfig_path)
        kubectl("apply", "--server-side", "-f", str(repo_root() / "crds"))
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        controller = ControllerProcess(kubeconfig=cluster.kubeconfig_path, log_path=work_dir / "controller.log")
        stack.enter_context(controller)
        _say(f"controller running (log: {controller.log_path}, metrics :{controller.metrics_port}/metrics)")
        applied = _apply_examples(kubectl, mlflow_url=mlflow.url, databricks_url=emulator.url)
        _wait_ready(kubectl, applied)
        if show_rollout(kubectl, emulator, _say):
            _wait_ready(kubectl, [("servingendpoint", ROLLOUT_ENDPOINT)])
        print(kubectl("get", "mlops", "-A").stdout, flush=True)
        if once:
            return 0
        _say(f"Ready. In another shell:  export KUBECONFIG={cluster.kubeconfig_path}")
        _say("then try:  kubectl get mlops -A;  .venv/bin/mlopsctl trace mlmodel/fraud-detector")
        patch = '{"spec": {"aliases": {"champion": 1}}}'
        _say(f"promote:   kubectl patch mlmodel fraud-detector --type=merge -p '{patch}'")
        _say(f"rollout:   .venv/bin/mlopsctl rollout status {ROLLOUT_ENDPOINT}  (promote, abort and retry steer it)")
        _say("Ctrl-C stops everything.")
        with contextlib.suppress(KeyboardInterrupt):
            while controller.running:
                time.sleep(1)
    return 0


def _seed(mlflow: MlflowServer, emulator: Emulator) -> None:
    """What training would have produced: model versions in MLflow and in Unity Catalog."""
    register_versions(mlflow.url, "fraud-detector", 2)
    seed_databricks(emulator)


def seed_databricks(emulator: Emulator) -> None:
    """What the Databricks examples expect to exist: two Unity Catalog versions of each model and a table to monitor."""
    for _ in range(2):
        emulator.seed_model_version("main.risk.fraud_detector", source="models:/m-sandbox", run_id="sandbox-run")
    for _ in range(2):  # examples/databricks/rollout.yaml
        emulator.seed_model_version(ROLLOUT_MODEL, source="models:/m-sandbox-scorer", run_id="sandbox-run")
    emulator.seed_table("main.risk.fraud_payload_baseline", columns=["prediction", "label", "model_id", "timestamp"])


def _apply_examples(kubectl: _Kubectl, *, mlflow_url: str, databricks_url: str) -> list[tuple[str, str]]:
    """Apply every example (Workspaces pointed at the local servers); return (kind, name) of ours."""
    applied: list[tuple[str, str]] = []
    for document in example_documents(*EXAMPLE_FOLDERS, mlflow_url=mlflow_url, databricks_url=databricks_url):
        kubectl("apply", "-f", "-", stdin=yaml.safe_dump(document))
        if document["apiVersion"].startswith("mlops.gitops.dev/"):
            applied.append((document["kind"].lower(), document["metadata"]["name"]))
    _say(f"applied {len(applied)} example resources")
    return applied


def _wait_ready(kubectl: _Kubectl, applied: list[tuple[str, str]]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    for kind, name in applied:
        remaining = max(1, int(deadline - time.monotonic()))
        result = kubectl("wait", "--for=condition=Ready", f"{kind}/{name}", f"--timeout={remaining}s", check=False)
        _say(result.stdout.strip() or f"{kind}/{name} not Ready: {result.stderr.strip()}")


class _Kubectl:
    """The real kubectl against the sandbox's API server."""

    def __init__(self, kubeconfig: Path) -> None:
        self._env = {**os.environ, "KUBECONFIG": str(kubeconfig)}

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["kubectl", *args], input=stdin, env=self._env, capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result


def _say(message: str) -> None:
    print(f"sandbox: {message}", flush=True)
