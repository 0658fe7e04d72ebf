"""MLflow 3 deployment jobs on Unity Catalog: an MLJob set as the registered model's deployment job, a run per
trained version, and a promotion gate that waits for that run (real API server, the emulator behind the SDK)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mlflow
import pytest
from databricks.sdk import WorkspaceClient

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = 3  # tests/e2e/conftest.py's DRIFT_INTERVAL
RUN_SECONDS = 60.0  # runs stay RUNNING until the test moves the shared emulator clock past them
UC_MODEL = "/api/2.0/mlflow/unity-catalog/registered-models/get"
MODEL = {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": "MLModel", "metadata": {"name": "fraud"}}


def deployment_job(name: str, workspace: str) -> dict[str, Any]:
    """MLJob `fraud-deploy`: evaluate, approve, deploy; it declares the parameters Databricks passes."""
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLJob",
        "metadata": {"name": "fraud-deploy"},
        "spec": {
            "workspaceRef": {"name": workspace},
            "settings": {
                "name": name,
                "parameters": [{"name": "model_name", "default": ""}, {"name": "model_version", "default": ""}],
                "tasks": [
                    {
                        "task_key": "evaluation",
                        "spark_python_task": {
                            "python_file": "/Workspace/Repos/risk/fraud/evaluate.py",
                            "parameters": ["{{job.parameters.model_name}}", "{{job.parameters.model_version}}"],
                        },
                    }
                ],
            },
            "deletionPolicy": "Delete",
        },
    }


@pytest.fixture
def held_runs(emulator: Emulator) -> Iterator[None]:
    before = emulator.timings.run_running
    emulator.set_timings(run_running=RUN_SECONDS)
    yield
    emulator.set_timings(run_running=before)


def job_of(w: WorkspaceClient, name: str) -> str | None:
    found = w.api_client.do("GET", UC_MODEL, query={"name": name})
    assert isinstance(found, dict)
    job: str | None = found["registered_model"].get("deployment_job_id")
    return job


@pytest.mark.usefixtures("held_runs")
def test_a_trained_version_runs_the_deployment_job_and_the_gate_waits_for_its_success(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    ns = kubectl.namespace
    name = f"main.{ns.replace('-', '_')}.fraud"
    v1 = emulator.seed_model_version(name, source="models:/m-1", run_id="r1")
    spec: dict[str, Any] = {
        "workspaceRef": {"name": databricks_workspace},
        "registeredName": name,
        "adopt": True,
        "deploymentJobRef": {"name": "fraud-deploy"},
    }
    # The MLModel waits for its MLJob, and is woken when the job exists.
    kubectl.apply({**MODEL, "spec": spec})
    kubectl.wait_condition("mlmodel", "fraud", status="False", reason="WaitingForDependency")
    kubectl.apply(deployment_job(f"{ns}-fraud-deploy", databricks_workspace))
    job_id = str(kubectl.wait_condition("mljob", "fraud-deploy")["status"]["jobId"])
    model = kubectl.wait_condition("mlmodel", "fraud")
    assert model["status"]["deploymentJobId"] == job_id
    assert job_of(w, name) == job_id

    # Training registers version 2: Databricks runs the deployment job for it, with its name and number.
    v2 = emulator.seed_model_version(name, source="models:/m-2", run_id="r2")
    runs = list(w.jobs.list_runs(job_id=int(job_id)))
    assert len(runs) == 1
    assert runs[0].run_id is not None
    parameters = {p.name: p.value for p in w.jobs.get_run(runs[0].run_id).job_parameters or []}
    assert parameters == {"model_name": name, "model_version": str(v2)}

    # A gate requiring the deployment job holds champion while the run is under way, and version 1 never ran it.
    gated = {
        **spec,
        "aliases": {"champion": v2, "baseline": v1},
        "promotion": {"champion": {"requireDeploymentJob": True}, "baseline": {"requireDeploymentJob": True}},
    }
    kubectl.apply({**MODEL, "spec": gated})
    obj = kubectl.wait_condition("mlmodel", "fraud", status="False", reason="PromotionBlocked")
    message = kubectl.condition("mlmodel", "fraud", "Ready")["message"]
    assert f"version {v2}'s deployment job run {runs[0].run_id} has not finished" in message
    assert f"version {v1} has no deployment job run" in message
    [running] = obj["status"]["deploymentRuns"]
    assert (running["version"], running["jobId"], running["runId"]) == (v2, job_id, str(runs[0].run_id))
    assert running["runState"] in ("PENDING", "RUNNING")
    champion = obj["status"]["promotion"]["champion"]
    assert champion["state"] == "Blocked"
    assert champion["gates"][0]["measured"] in ("PENDING", "RUNNING")
    assert not w.registered_models.get(name, include_aliases=True).aliases

    # The run succeeds: champion moves within a drift check; baseline stays held.
    emulator.advance_clock(RUN_SECONDS + 5)
    wait_until(
        lambda: kubectl.get("mlmodel", "fraud")["status"].get("aliases", {}).get("champion") == v2,
        timeout=4 * DRIFT_SECONDS,
        what="champion promoted once the deployment job run succeeded",
    )
    entry = kubectl.get("mlmodel", "fraud")["status"]["promotion"]["champion"]
    assert entry["state"] == "Promoted"
    assert [(g["gate"], g["passed"], g["measured"]) for g in entry["gates"]] == [("deployment job", True, "SUCCEEDED")]
    status = kubectl.get("mlmodel", "fraud")["status"]
    assert status["promotion"]["baseline"]["state"] == "Blocked"
    assert [(r["version"], r["runState"]) for r in status["deploymentRuns"]] == [(v2, "SUCCEEDED")]

    # Removing the ref clears the model's deployment job.
    kubectl.apply({**MODEL, "spec": {k: v for k, v in spec.items() if k != "deploymentJobRef"}})
    wait_until(lambda: job_of(w, name) is None, timeout=4 * DRIFT_SECONDS, what="the deployment job cleared")
    assert "deploymentJobId" not in kubectl.wait_condition("mlmodel", "fraud")["status"]


def test_an_mlflow_workspace_reports_the_deployment_job_unsupported_and_applies_the_rest(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer
) -> None:
    name = f"{kubectl.namespace}-fraud"
    [version] = register_versions(mlflow_server.url, name, 1)
    spec = {
        "workspaceRef": {"name": workspace},
        "registeredName": name,
        "adopt": True,
        "aliases": {"champion": version},
        "deploymentJobRef": {"name": "fraud-deploy"},
    }
    kubectl.apply({**MODEL, "spec": spec})
    obj = kubectl.wait_condition("mlmodel", "fraud", status="False", reason="Unsupported")
    assert "deploymentJobRef" in kubectl.condition("mlmodel", "fraud", "Ready")["message"]
    assert obj["status"]["aliases"] == {"champion": version}
    assert mlflow.MlflowClient(mlflow_server.url).get_model_version_by_alias(name, "champion").version == str(version)
