"""Promotion across workspaces on two real MLflow servers: a model trained in staging is copied to production.

Staging is the session's MLflow server (artifacts in a folder it shares with its clients); production is a
second server that proxies artifacts (mlflow-artifacts:), so the copy's files go through its HTTP API.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.entities import LoggedModelStatus

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.e2e.conftest import workspace_manifest
from tests.e2e.stall_proxy import StallProxy
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

PREFIX = "mlops.gitops.dev/"
COPY_EXPERIMENT = "mlops-gitops-controller-copies"


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A second MLflow server, the production registry, serving artifacts through its API."""
    with MlflowServer(work_dir=tmp_path_factory.mktemp("production"), proxied_artifacts=True) as server:
        yield server


def test_promoted_by_a_one_line_change_copied_once_with_lineage_and_loadable(
    kubectl: Kubectl, mlflow_server: MlflowServer, production: MlflowServer
) -> None:
    staged = f"{kubectl.namespace}-fraud-staging"
    served = f"{kubectl.namespace}-fraud"
    v1, v2 = register_versions(mlflow_server.url, staged, 2)
    staging_client, production_client = mlflow.MlflowClient(mlflow_server.url), mlflow.MlflowClient(production.url)
    staging_client.set_model_version_tag(staged, str(v1), "validation_status", "approved")
    _workspaces(kubectl, mlflow_server.url, production.url)
    gated = {"champion": {"metrics": [{"name": "val_auc", "min": 0.9}]}}

    kubectl.apply(_model("fraud", served, {"registeredName": staged, "version": v1}, promotion=gated))
    status = kubectl.wait_condition("mlmodel", "fraud", timeout=90)["status"]

    [copy] = production_client.search_model_versions(f"name = '{served}'")
    source = staging_client.get_model_version(staged, str(v1))
    assert copy.tags[f"{PREFIX}copied-from-location"] == mlflow_server.url
    assert copy.tags[f"{PREFIX}copied-from-model"] == staged
    assert copy.tags[f"{PREFIX}copied-from-version"] == str(v1)
    assert copy.tags[f"{PREFIX}copied-from-run"] == source.run_id
    assert copy.tags["validation_status"] == "approved"
    assert status["versions"] == [
        {
            "name": "promoted",
            "version": int(copy.version),
            "status": "READY",
            "message": "",
            "copiedFrom": f"{staged} version {v1} at {mlflow_server.url}",
        }
    ]
    # The gate judged the copy on the metric measured in staging, and let champion move to it.
    assert status["promotion"]["champion"]["state"] == "Promoted"
    assert production_client.get_registered_model(served).aliases == {"champion": copy.version}
    # The copy is a complete model in production: it loads from production's own artifact store and predicts.
    assert copy.source.startswith("models:/m-")
    stored = production_client.get_logged_model(copy.source.removeprefix("models:/")).artifact_location
    with tempfile.TemporaryDirectory() as folder:
        local = mlflow.artifacts.download_artifacts(stored, dst_path=folder, tracking_uri=production.url)
        loaded = mlflow.pyfunc.load_model(local)
    assert stored.startswith("mlflow-artifacts:")
    assert loaded.predict(pd.DataFrame({"x": [1.0, 2.5]}))["x"].tolist() == [2.0, 5.0]

    # Promote version 2 with a one-line change: one more copy, champion follows the handle.
    kubectl.apply(_model("fraud", served, {"registeredName": staged, "version": v2}, promotion=gated))
    wait_until(
        lambda: (
            len(production_client.search_model_versions(f"name = '{served}'")) == 2
            and production_client.get_registered_model(served).aliases["champion"] != copy.version
        ),
        timeout=60,
        what="version 2 copied and champion moved to it",
    )
    kubectl.wait_condition("mlmodel", "fraud", timeout=60)
    # Drift checks run every few seconds: nothing is copied again.
    observed = kubectl.get("mlmodel", "fraud")["status"]["lastObservedAt"]
    wait_until(
        lambda: kubectl.get("mlmodel", "fraud")["status"]["lastObservedAt"] != observed,
        timeout=30,
        what="a drift check",
    )
    found = production_client.search_model_versions(f"name = '{served}'")
    assert sorted(v.tags[f"{PREFIX}copied-from-version"] for v in found) == sorted([str(v1), str(v2)])


def test_following_the_staging_champion_copies_each_new_version_once(
    kubectl: Kubectl, mlflow_server: MlflowServer, production: MlflowServer
) -> None:
    staged = f"{kubectl.namespace}-churn-staging"
    served = f"{kubectl.namespace}-churn"
    v1, v2 = register_versions(mlflow_server.url, staged, 2)
    staging_client, production_client = mlflow.MlflowClient(mlflow_server.url), mlflow.MlflowClient(production.url)
    staging_client.set_registered_model_alias(staged, "champion", str(v1))
    _workspaces(kubectl, mlflow_server.url, production.url)

    kubectl.apply(_model("churn", served, {"registeredName": staged, "alias": "champion", "follow": True}))
    kubectl.wait_condition("mlmodel", "churn", timeout=90)

    def copied() -> dict[str, str]:
        """Source version → production version, for every copy."""
        return {
            v.tags[f"{PREFIX}copied-from-version"]: v.version
            for v in production_client.search_model_versions(f"name = '{served}'")
        }

    assert list(copied()) == [str(v1)]
    assert production_client.get_registered_model(served).aliases == {"champion": copied()[str(v1)]}

    # Staging's champion moves: the next drift check copies the new version and production's champion follows.
    staging_client.set_registered_model_alias(staged, "champion", str(v2))
    wait_until(
        lambda: production_client.get_registered_model(served).aliases.get("champion") == copied().get(str(v2)),
        timeout=60,
        what="production's champion follows staging's",
    )
    # ... and back: the earlier copy is reused, not made again.
    staging_client.set_registered_model_alias(staged, "champion", str(v1))
    wait_until(
        lambda: production_client.get_registered_model(served).aliases.get("champion") == copied()[str(v1)],
        timeout=60,
        what="production's champion back on the first copy",
    )
    assert sorted(copied()) == sorted([str(v1), str(v2)])
    assert len(production_client.search_model_versions(f"name = '{served}'")) == 2


def test_a_crash_mid_copy_leaves_no_duplicate_and_the_retry_completes_the_files(
    kubectl: Kubectl, mlflow_server: MlflowServer, production: MlflowServer, controller: ControllerProcess
) -> None:
    staged = f"{kubectl.namespace}-big-staging"
    served = f"{kubectl.namespace}-big"
    version, files = _register_many_files(mlflow_server.url, staged, count=120)
    production_client = mlflow.MlflowClient(production.url)
    port = int(production.url.rsplit(":", 1)[1])
    with StallProxy(("127.0.0.1", port)) as proxy:
        # The controller reaches production through a proxy the test can stall, so the kill lands mid-copy.
        _workspaces(kubectl, mlflow_server.url, f"http://127.0.0.1:{proxy.port}")
        kubectl.apply(_model("big", served, {"registeredName": staged, "version": version}))

        staged_copy = wait_until(
            lambda: _staged_copy(production_client, min_files=1), timeout=90, interval=0.02, what="copy under way"
        )
        proxy.stall()
        controller.kill()
        proxy.resume()
        uploaded = _artifact_files(production_client, staged_copy)
        assert 0 < len(uploaded) < files, f"killed after {len(uploaded)} of {files} files"
        assert production_client.search_model_versions(f"name = '{served}'") == []

        controller.start()
        kubectl.wait_condition("mlmodel", "big", timeout=120)

    [copy] = production_client.search_model_versions(f"name = '{served}'")
    assert copy.source == f"models:/{staged_copy}"  # the staged copy was completed, not begun again
    assert len(_artifact_files(production_client, staged_copy)) == files
    assert production_client.get_logged_model(staged_copy).status == LoggedModelStatus.READY


def _register_many_files(tracking_uri: str, name: str, *, count: int) -> tuple[int, int]:
    """Register a version whose model carries `count` data files of 64 KiB; returns it and its file count."""
    import mlflow.pyfunc

    class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input * 2

    client = mlflow.MlflowClient(tracking_uri)
    client.create_registered_model(name)
    mlflow.set_tracking_uri(tracking_uri)
    with tempfile.TemporaryDirectory() as folder:
        for i in range(count):
            (Path(folder) / f"shard-{i:03}.bin").write_bytes(bytes([i % 251]) * 65536)
        with mlflow.start_run() as run:
            info = mlflow.pyfunc.log_model(
                name="model", python_model=Doubler(), artifacts={"data": folder}, pip_requirements=["mlflow"]
            )
    version = client.create_model_version(
        name, f"models:/{info.model_id}", run_id=run.info.run_id, model_id=info.model_id
    )
    total = len(_artifact_files(client, info.model_id))
    return int(version.version), total


def _staged_copy(client: mlflow.MlflowClient, *, min_files: int) -> str | None:
    experiment = client.get_experiment_by_name(COPY_EXPERIMENT)
    if experiment is None:
        return None
    for logged in client.search_logged_models(experiment_ids=[experiment.experiment_id]):
        if logged.status == LoggedModelStatus.PENDING and len(_artifact_files(client, logged.model_id)) >= min_files:
            return str(logged.model_id)
    return None


def _artifact_files(client: mlflow.MlflowClient, model_id: str) -> list[str]:
    """Every file of a logged model, through its server."""
    repository = mlflow.store.artifact.artifact_repository_registry.get_artifact_repository(
        client.get_logged_model(model_id).artifact_location, tracking_uri=client._tracking_client.tracking_uri
    )

    def walk(path: str | None) -> Iterator[str]:
        for item in repository.list_artifacts(path):
            yield from walk(item.path) if item.is_dir else (item.path,)

    return list(walk(None))


def _workspaces(kubectl: Kubectl, staging: str, production: str) -> None:
    kubectl.apply(workspace_manifest("staging", staging))
    kubectl.apply(workspace_manifest("production", production))
    kubectl.wait_condition("workspace", "staging")
    kubectl.wait_condition("workspace", "production")


def _model(name: str, registered: str, source: dict[str, Any], **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {
            "workspaceRef": {"name": "production"},
            "registeredName": registered,
            "versions": [
                {"name": "promoted", "source": {"fromModel": {"workspaceRef": {"name": "staging"}, **source}}}
            ],
            "aliases": {"champion": "promoted"},
            **spec,
        },
    }
