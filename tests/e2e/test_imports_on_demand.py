"""Imports on demand: an MLflow-only installation never loads databricks-sdk, a Databricks-only one never loads
mlflow. Each case is a fresh process (`imports_probe`) that loads what `mlopsctl run` loads, then reconciles a
Workspace of one kind and an MLModel in it against the real server, reading the Secret from the API server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.mlflow_server import MlflowServer
from tests.support import REPO, Kubectl


def _probe(kubeconfig: Path, namespace: str, workspace: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.imports_probe", namespace, json.dumps(workspace), json.dumps(model)],
        cwd=REPO,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_an_mlflow_installation_never_imports_databricks_sdk(kubeconfig: Path, mlflow_server: MlflowServer) -> None:
    registered = f"on-demand-{uuid.uuid4().hex[:8]}"
    report = _probe(
        kubeconfig,
        "imports-mlflow",
        {"mlflow": {"trackingUri": mlflow_server.url}},
        {"workspaceRef": {"name": "ws"}, "registeredName": registered},
    )
    assert report["at start"] == [], report
    assert report["workspace"][0] is True, report
    assert report["model"][0] is True, report  # the model was created in the registry: the client really ran
    assert report["after the Workspace"] == ["mlflow"], report
    assert report["after the MLModel"] == ["mlflow"], report


def test_a_databricks_installation_never_imports_mlflow(kubeconfig: Path, emulator: Emulator) -> None:
    namespace = f"imports-{uuid.uuid4().hex[:8]}"
    admin = Kubectl(kubeconfig)
    admin("create", "namespace", namespace)
    Kubectl(kubeconfig, namespace)("create", "secret", "generic", "dbx", f"--from-literal=token={DEFAULT_TOKEN}")
    registered = f"main.imports.m_{uuid.uuid4().hex[:8]}"
    emulator.seed_model_version(registered, source="models:/m-imports")
    try:
        report = _probe(
            kubeconfig,
            namespace,
            {"databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "dbx"}}},
            {"workspaceRef": {"name": "ws"}, "registeredName": registered, "adopt": True, "aliases": {"champion": 1}},
        )
    finally:
        admin("delete", "namespace", namespace, "--wait=false")
    assert report["at start"] == [], report
    assert report["workspace"][0] is True, report
    assert report["model"][0] is True, report  # the alias was set on Unity Catalog: the client really ran
    assert report["after the Workspace"] == ["databricks.sdk"], report
    assert report["after the MLModel"] == ["databricks.sdk"], report
