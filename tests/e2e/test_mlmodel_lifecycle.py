"""An MLModel from the example, as a user lives with it: apply, promote, drift back, delete."""

from __future__ import annotations

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.examples import localized
from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.support import EXAMPLES, Kubectl, load_example, wait_until

pytestmark = pytest.mark.e2e


def test_example_model_follows_git_and_corrects_drift(
    kubectl: Kubectl, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    register_versions(mlflow_server.url, "fraud-detector", 2)  # what training made
    workspace = localized(load_example("mlflow/workspace.yaml")[0], mlflow_url=mlflow_server.url)
    workspace["spec"]["driftInterval"] = "3s"
    kubectl.apply(workspace)

    kubectl("apply", "-f", str(EXAMPLES / "mlflow/mlmodel.yaml"))
    kubectl("wait", "--for=condition=Ready", "mlmodel/fraud-detector", "--timeout=60s")

    row = kubectl("get", "mlmodels", "fraud-detector", "--no-headers").stdout.split()
    assert row[:4] == ["fraud-detector", "fraud-detector", "challenger=1,champion=2", "2"], row
    assert client.get_registered_model("fraud-detector").aliases == {"champion": "2", "challenger": "1"}
    assert client.get_registered_model("fraud-detector").tags["team"] == "risk"

    # Promotion is a one-line change in Git.
    text = (EXAMPLES / "mlflow/mlmodel.yaml").read_text().replace("champion: 2", "champion: 1")
    kubectl("apply", "-f", "-", stdin=text)
    wait_until(
        lambda: client.get_registered_model("fraud-detector").aliases.get("champion") == "1",
        timeout=30,
        what="champion moved to 1 in MLflow",
    )
    kubectl.wait_condition("mlmodel", "fraud-detector")
    assert kubectl.get("mlmodel", "fraud-detector")["status"]["aliases"] == {"champion": 1, "challenger": 1}
    assert "champion=1" in kubectl("get", "mlmodels", "fraud-detector").stdout

    # Someone moves the alias by hand: it is moved back within the drift interval, with an Event.
    client.set_registered_model_alias("fraud-detector", "champion", "2")
    wait_until(
        lambda: client.get_registered_model("fraud-detector").aliases.get("champion") == "1",
        timeout=20,
        what="champion moved back to 1",
    )
    drift_events = wait_until(
        lambda: [e for e in kubectl.events("fraud-detector") if e["reason"] == "DriftCorrected"],
        timeout=10,
        what="a DriftCorrected event",
    )
    assert any("champion" in e["message"] and "(was 2)" in e["message"] for e in drift_events), drift_events
    assert "DriftCorrected" in kubectl("get", "events").stdout

    # Retain: the CR goes, the model stays.
    kubectl("delete", "mlmodel", "fraud-detector", "--timeout=30s")
    assert not kubectl.exists("mlmodel", "fraud-detector")
    assert client.get_registered_model("fraud-detector").aliases == {"champion": "1", "challenger": "1"}


def test_deletion_policy_delete_removes_the_model(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-disposable"
    kubectl.apply(_model("disposable", name, deletionPolicy="Delete", tags={"purpose": "test"}))
    kubectl.wait_condition("mlmodel", "disposable")
    assert client.get_registered_model(name).tags["mlops.gitops.dev/owner"] == f"{kubectl.namespace}/disposable"

    kubectl("delete", "mlmodel", "disposable", "--timeout=30s")
    assert not kubectl.exists("mlmodel", "disposable")
    assert not client.search_registered_models(f"name = '{name}'")


def test_get_mlops_lists_every_kind(kubectl: Kubectl, workspace: str) -> None:
    kubectl.apply(_model("listed", f"{kubectl.namespace}-listed"))
    for document in _one_of_each_databricks_kind():
        kubectl.apply(document)
    output = kubectl("get", "mlops", "-A").stdout
    for resource in ("workspace.mlops", "mlmodel.mlops", "servingendpoint.mlops", "mljob.mlops", "modelmonitor.mlops"):
        assert resource in output, output


def _model(name: str, registered: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "mlflow"}, "registeredName": registered, **spec},
    }


def _one_of_each_databricks_kind() -> list[dict[str, object]]:
    ref = {"name": "dbx"}
    api = "mlops.gitops.dev/v1alpha1"
    return [
        {
            "apiVersion": api,
            "kind": "ServingEndpoint",
            "metadata": {"name": "ep"},
            "spec": {
                "workspaceRef": ref,
                "endpointName": "ep",
                "servedEntities": [{"name": "main", "entityName": "main.risk.m", "entityVersion": 1}],
            },
        },
        {
            "apiVersion": api,
            "kind": "MLJob",
            "metadata": {"name": "job"},
            "spec": {"workspaceRef": ref, "settings": {"name": "job", "tasks": [{"task_key": "train"}]}},
        },
        {
            "apiVersion": api,
            "kind": "ModelMonitor",
            "metadata": {"name": "mon"},
            "spec": {
                "workspaceRef": ref,
                "tableName": "main.risk.payload",
                "outputSchema": "main.mon",
                "assetsDir": "/Workspace/mon",
                "inferenceLog": {
                    "problemType": "classification",
                    "predictionColumn": "p",
                    "modelIdColumn": "m",
                    "timestampColumn": "t",
                    "granularities": ["1 day"],
                },
            },
        },
    ]
