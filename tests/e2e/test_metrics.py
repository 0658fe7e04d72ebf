"""/metrics carries live figures for reconciles, external calls, drift corrections and conditions."""

from __future__ import annotations

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator
from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.support import Kubectl, metric_samples, metric_sum, wait_until

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


def _sum(controller: ControllerProcess, metric: str, **labels: str) -> float:
    return metric_sum(controller.metrics_port, metric, **labels)


def _labels(controller: ControllerProcess, metric: str, label: str, **labels: str) -> set[str]:
    samples = metric_samples(controller.metrics_port, metric)
    return {found[label] for found, _ in samples if labels.items() <= found.items()}
