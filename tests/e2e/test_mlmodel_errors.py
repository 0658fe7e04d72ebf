"""Bad input and bad days: refused at apply, reported in status, recovered without a restart."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.e2e.conftest import workspace_manifest
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("spec", "field", "problem"),
    [
        ({"aliases": {"latest": 1}}, "spec.aliases", "reserved"),
        ({"aliases": {"V3": 1}}, "spec.aliases", "reserved"),
        ({"aliases": {"champion": 0}}, "spec.aliases", "positive integer"),
        ({"aliases": {"champion": "no-such-handle"}}, "spec.aliases", "must name one of spec.versions"),
        ({"registeredName": "risk/fraud"}, "spec.registeredName", "should match"),
        ({"colour": "blue"}, "spec.colour", "unknown field"),
        (
            {"versions": [{"name": "a", "source": {}}]},
            "spec.versions[0].source",
            "exactly one of modelId, run or fromModel",
        ),
        ({"deletionPolicy": "Orphan"}, "spec.deletionPolicy", "Unsupported value"),
        ({"tags": {"": "risk"}}, "spec.tags", "tag keys cannot be empty"),
        ({"tags": {"k" * 251: "risk"}}, "spec.tags", "tag keys are at most 250 characters"),
        ({"tags": {"notes": "x" * 100 * 1024}}, "spec.tags[notes]", "tag values are at most 1000 characters"),
        ({"tags": {"mlops.gitops.dev/owner": "other/model"}}, "spec.tags", "set by the controller"),
    ],
    ids=[
        "reserved-latest",
        "reserved-vN",
        "version-zero",
        "unknown-handle",
        "slash-in-name",
        "unknown-field",
        "empty-source",
        "bad-policy",
        "empty-tag-key",
        "long-tag-key",
        "100KiB-tag-value",
        "reserved-tag",
    ],
)
def test_invalid_manifest_is_refused_with_the_field_named(
    kubectl: Kubectl, spec: dict[str, object], field: str, problem: str
) -> None:
    manifest = {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": "bad"},
        "spec": {"workspaceRef": {"name": "mlflow"}, "registeredName": "fine", **spec},
    }
    result = kubectl.apply(manifest, check=False)
    assert result.returncode != 0
    assert field in result.stderr, result.stderr
    assert problem in result.stderr, result.stderr
    assert not kubectl.exists("mlmodel", "bad")


def test_a_tag_the_registry_refuses_on_a_new_model_is_in_the_first_status_and_an_event(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    """An empty key or a 100 KiB value no longer gets this far (refused at apply, above). MLflow also refuses
    tag keys outside its character set, which the API server does not check (Unity Catalog's set differs):
    that refusal, at create, must reach status and an Event, not a traceback."""
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-badtag"
    log_before = len(controller.log())
    kubectl.apply(_model("badtag", name, tags={"team!": "risk"}))

    # The first status the controller writes already says why.
    conditions = wait_until(
        lambda: (kubectl.get("mlmodel", "badtag").get("status") or {}).get("conditions"), timeout=30
    )
    ready = next(c for c in conditions if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ExternalRejected")
    assert "Invalid value \"team!\" for parameter 'key'" in ready["message"]
    events = wait_until(lambda: [e for e in kubectl.events("badtag") if e["reason"] == "ExternalRejected"], timeout=10)
    assert events[0]["type"] == "Warning"
    assert "team!" in events[0]["message"]
    assert client.search_registered_models(f"name = '{name}'") == []
    assert "Traceback" not in controller.log()[log_before:]


def test_alias_to_missing_version_is_reported_and_the_rest_applied(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-partial"
    kubectl.apply(_model("partial", name, description="kept", tags={"team": "risk"}, aliases={"champion": 1}))
    ready = kubectl.wait_condition("mlmodel", "partial", status="False", reason="WaitingForModelVersion")
    message = next(c for c in ready["status"]["conditions"] if c["type"] == "Ready")["message"]
    assert "version 1 does not exist" in message
    model = client.get_registered_model(name)
    assert (model.description, model.tags["team"]) == ("kept", "risk")  # everything else is applied

    # Training registers the version: the alias follows without anyone touching the resource.
    register_versions(mlflow_server.url, name, 1)
    kubectl.wait_condition("mlmodel", "partial", timeout=60)
    assert client.get_registered_model(name).aliases == {"champion": "1"}


def test_existing_model_needs_adopt_and_owner_is_respected(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-trained"
    register_versions(mlflow_server.url, name, 1)

    kubectl.apply(_model("first", name, aliases={"champion": 1}))
    kubectl.wait_condition("mlmodel", "first", status="False", reason="AdoptionRequired")
    assert client.get_registered_model(name).aliases == {}  # nothing written without consent

    kubectl.apply(_model("first", name, adopt=True, aliases={"champion": 1}))
    kubectl.wait_condition("mlmodel", "first")

    kubectl.apply(_model("second", name, adopt=True, aliases={"champion": 1}, deletionPolicy="Delete"))
    kubectl.wait_condition("mlmodel", "second", status="False", reason="OwnedByAnother")
    kubectl("delete", "mlmodel", "second", "--timeout=30s")
    assert client.get_registered_model(name).name == name  # not deleted: it was never ours


def test_observe_only_reports_drift_and_writes_nothing(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{kubectl.namespace}-observed"
    register_versions(mlflow_server.url, name, 2)
    client.set_registered_model_alias(name, "champion", "1")

    kubectl.apply(_model("observed", name, managementPolicy="ObserveOnly", aliases={"champion": 2}))
    obj = kubectl.wait_condition("mlmodel", "observed", reason="DriftDetected")
    assert any("alias champion points at 1, spec says 2" in d for d in obj["status"]["drift"])
    assert client.get_registered_model(name).aliases == {"champion": "1"}
    assert client.get_registered_model(name).tags == {}
    wait_until(lambda: [e for e in kubectl.events("observed") if e["reason"] == "DriftDetected"], timeout=10)


def test_mlflow_outage_is_reported_and_recovered_without_restart(kubectl: Kubectl, tmp_path: Path) -> None:
    server = MlflowServer(work_dir=tmp_path / "mlflow")
    with server:
        kubectl.apply(workspace_manifest("flaky", server.url))
        kubectl.apply(_model("outage", "outage-model", workspaceRef={"name": "flaky"}, tags={"a": "b"}))
        kubectl.wait_condition("mlmodel", "outage", timeout=60)
    # MLflow is down now.
    kubectl.wait_condition("workspace", "flaky", status="False", reason="ConnectionFailed", timeout=60)
    kubectl.wait_condition("mlmodel", "outage", "Synced", status="False", timeout=60)

    with MlflowServer(port=server.port, work_dir=tmp_path / "mlflow"):
        kubectl.wait_condition("workspace", "flaky", timeout=60)
        kubectl.wait_condition("mlmodel", "outage", timeout=60)
        kubectl.wait_condition("mlmodel", "outage", "Synced", timeout=60)


def _model(name: str, registered: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "mlflow"}, "registeredName": registered, **spec},
    }
