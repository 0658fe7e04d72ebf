"""Versions registered from declared sources: exactly once, even across a controller crash."""

from __future__ import annotations

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from sandbox.training import LoggedModel, log_model
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

FINGERPRINT = "mlops.gitops.dev/source-fingerprint"


def test_versions_from_logged_model_and_run(kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-sourced"
    by_id, by_run = log_model(mlflow_server.url), log_model(mlflow_server.url)
    kubectl.apply(
        _model(
            "sourced",
            name,
            versions=[
                {"name": "nov-retrain", "source": {"modelId": by_id.model_id}, "description": "November"},
                {"name": "dec-retrain", "source": {"run": {"runId": by_run.run_id, "artifactPath": "model"}}},
            ],
            aliases={"champion": "nov-retrain", "challenger": "dec-retrain"},
        )
    )
    status = kubectl.wait_condition("mlmodel", "sourced")["status"]

    versions = {v.version: v for v in client.search_model_versions(f"name = '{name}'")}
    assert len(versions) == 2
    by_handle = {v["name"]: v["version"] for v in status["versions"]}
    nov, dec = versions[str(by_handle["nov-retrain"])], versions[str(by_handle["dec-retrain"])]
    # Both are registered from the logged model (MLflow 3), so they load.
    assert nov.source == f"models:/{by_id.model_id}"
    assert dec.source == f"models:/{by_run.model_id}"
    assert dec.run_id == by_run.run_id
    assert nov.description == "November"
    assert status["aliases"] == {"champion": by_handle["nov-retrain"], "challenger": by_handle["dec-retrain"]}
    assert client.get_registered_model(name).aliases == {
        "champion": str(by_handle["nov-retrain"]),
        "challenger": str(by_handle["dec-retrain"]),
    }
    assert status["url"].startswith(mlflow_server.url)

    # A later reconcile (drift checks run every few seconds) registers nothing new.
    kubectl.apply(_model("sourced", name, versions=_versions_spec(by_id, by_run), aliases={"champion": "dec-retrain"}))
    wait_until(
        lambda: client.get_registered_model(name).aliases.get("champion") == str(by_handle["dec-retrain"]),
        timeout=30,
        what="champion follows the handle",
    )
    # challenger is no longer declared: the alias this resource set is removed.
    wait_until(
        lambda: "challenger" not in client.get_registered_model(name).aliases, timeout=30, what="challenger removed"
    )
    # ... and status, which lists every alias in the registry, no longer lists it either.
    wait_until(
        lambda: kubectl.get("mlmodel", "sourced")["status"]["aliases"] == {"champion": by_handle["dec-retrain"]},
        timeout=30,
        what="status.aliases without challenger",
    )
    assert len(client.search_model_versions(f"name = '{name}'")) == 2


def test_crash_while_registering_never_duplicates(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-crash"
    logged = [log_model(mlflow_server.url) for _ in range(12)]
    versions = [{"name": f"v-{i}", "source": {"modelId": m.model_id}} for i, m in enumerate(logged)]
    kubectl.apply(_model("crash", name, versions=versions))

    def registered() -> int:
        try:
            return len(client.search_model_versions(f"name = '{name}'"))
        except mlflow.exceptions.MlflowException:
            return 0

    wait_until(lambda: registered() >= 1, timeout=60, interval=0.02, what="registration under way")
    controller.kill()
    killed_at = registered()
    controller.start()

    kubectl.wait_condition("mlmodel", "crash", timeout=90)
    found = client.search_model_versions(f"name = '{name}'")
    sources = sorted(v.source for v in found)
    assert sources == sorted(f"models:/{m.model_id}" for m in logged), f"killed with {killed_at} registered"
    assert len({v.tags[FINGERPRINT] for v in found}) == 12


def _versions_spec(by_id: LoggedModel, by_run: LoggedModel) -> list[dict[str, object]]:
    return [
        {"name": "nov-retrain", "source": {"modelId": by_id.model_id}, "description": "November"},
        {"name": "dec-retrain", "source": {"run": {"runId": by_run.run_id, "artifactPath": "model"}}},
    ]


def _model(name: str, registered: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "mlflow"}, "registeredName": registered, **spec},
    }
