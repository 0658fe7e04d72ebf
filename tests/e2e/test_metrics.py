"""/metrics carries live figures for reconciles, external calls, drift corrections and conditions."""

from __future__ import annotations

import urllib.request

import mlflow
import pytest
from prometheus_client.parser import text_string_to_metric_families

from controller.sandbox.controller_process import ControllerProcess
from controller.sandbox.databricks import Emulator
from controller.sandbox.mlflow_server import MlflowServer
from controller.sandbox.training import register_versions
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e


def test_metrics_follow_what_the_controller_does(
    kubectl: Kubectl,
    workspace: str,
    databricks_workspace: str,
    mlflow_server: MlflowServer,
    emulator: Emulator,
    controller: ControllerProcess,
) -> None:
    name = f"{kubectl.namespace}-measured"
    register_versions(mlflow_server.url, name, 2)
    kubectl.apply(_model("measured", workspace, name, aliases={"champion": 2}))
    uc_name = f"main.{kubectl.namespace.replace('-', '_')}.measured"
    emulator.seed_model_version(uc_name, source="models:/m-measured", run_id="run-measured")
    kubectl.apply(_model("measured-uc", databricks_workspace, uc_name, aliases={"champion": 1}))
    kubectl.wait_condition("mlmodel", "measured")
    kubectl.wait_condition("mlmodel", "measured-uc")

    mlflow.MlflowClient(mlflow_server.url).set_registered_model_alias(name, "champion", "1")
    wait_until(
        lambda: _sum(controller, "mlops_drift_corrections_total", kind="MLModel") >= 1,
        timeout=30,
        what="a drift correction counted",
    )

    assert _sum(controller, "mlops_reconciles_total", kind="MLModel", result="ready") >= 2
    assert _sum(controller, "mlops_reconcile_duration_seconds_count", kind="MLModel") >= 2
    assert _sum(controller, "mlops_resources_by_condition", kind="MLModel", status="True") >= 2
    assert _sum(controller, "mlops_external_calls_total", service="mlflow", method="set_alias", status="OK") >= 1
    assert _sum(controller, "mlops_external_calls_total", service="databricks", status="200") >= 1
    methods = _labels(controller, "mlops_external_calls_total", "method", service="databricks")
    assert "PUT /api/2.1/unity-catalog/models" in methods, methods


def _model(name: str, workspace: str, registered: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": workspace}, "registeredName": registered, "adopt": True, **spec},
    }


def _samples(controller: ControllerProcess, metric: str) -> list[tuple[dict[str, str], float]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{controller.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == metric
    ]


def _sum(controller: ControllerProcess, metric: str, **labels: str) -> float:
    return sum(v for found, v in _samples(controller, metric) if labels.items() <= found.items())


def _labels(controller: ControllerProcess, metric: str, label: str, **labels: str) -> set[str]:
    return {found[label] for found, _ in _samples(controller, metric) if labels.items() <= found.items()}
