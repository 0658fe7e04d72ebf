"""Experiments as a user lives with them, on the real MLflow server and on the emulator through the real SDK:
create, tags put back, artifactLocation refused at apply, Delete soft-deletes, a re-created resource restores,
ObserveOnly reports and writes nothing, adopt, Retain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mlflow
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.ml import ExperimentTag

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.mlflow_server import MlflowServer
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

OWNER_TAG = "mlops.gitops.dev/owner"


@dataclass(frozen=True)
class Seen:
    """An experiment as the service itself reports it."""

    experiment_id: str
    stage: str
    location: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Tracking:
    """One service, read and written behind the controller's back with its own client."""

    workspace: str
    name: str  # the experiment name this test uses
    get: Callable[[str], Seen | None]
    create: Callable[[str, dict[str, str]], str]
    set_tag: Callable[[str, str, str], None]
    url_suffix: Callable[[str], str]


def _mlflow(url: str, name: str) -> Tracking:
    client = mlflow.MlflowClient(url)

    def get(name: str) -> Seen | None:
        found = client.get_experiment_by_name(name)
        if found is None:
            return None
        return Seen(found.experiment_id, found.lifecycle_stage, found.artifact_location, dict(found.tags))

    return Tracking(
        workspace="mlflow",
        name=name,
        get=get,
        create=lambda name, tags: client.create_experiment(name, tags=tags),
        set_tag=client.set_experiment_tag,
        url_suffix=lambda experiment_id: f"/#/experiments/{experiment_id}",
    )


def _databricks(w: WorkspaceClient, name: str) -> Tracking:
    def get(name: str) -> Seen | None:
        try:
            found = w.experiments.get_by_name(name).experiment
        except NotFound:
            return None
        assert found is not None
        tags = {str(t.key): str(t.value) for t in found.tags or []}
        return Seen(str(found.experiment_id), str(found.lifecycle_stage), str(found.artifact_location), tags)

    def create(name: str, tags: dict[str, str]) -> str:
        made = w.experiments.create_experiment(name, tags=[ExperimentTag(k, v) for k, v in tags.items()])
        return str(made.experiment_id)

    return Tracking(
        workspace="dbx",
        name=name,
        get=get,
        create=create,
        set_tag=w.experiments.set_experiment_tag,
        url_suffix=lambda experiment_id: f"/ml/experiments/{experiment_id}",
    )


@pytest.fixture(params=["mlflow", "databricks"])
def tracking(request: pytest.FixtureRequest, kubectl: Kubectl) -> Tracking:
    """An MLflow or a Databricks Workspace in the test's namespace, and a client of the service behind it."""
    if request.param == "mlflow":
        request.getfixturevalue("workspace")
        server: MlflowServer = request.getfixturevalue("mlflow_server")
        return _mlflow(server.url, f"{kubectl.namespace}-training")
    request.getfixturevalue("databricks_workspace")
    emulator: Emulator = request.getfixturevalue("emulator")
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    return _databricks(w, f"/Shared/{kubectl.namespace}/training")


def _experiment(tracking: Tracking, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "training"},
        "spec": {"workspaceRef": {"name": tracking.workspace}, "name": tracking.name, **spec},
    }


def _seen(tracking: Tracking) -> Seen:
    found = tracking.get(tracking.name)
    assert found is not None, f"experiment {tracking.name} does not exist"
    return found


def test_create_drift_refusal_soft_delete_and_restore(kubectl: Kubectl, tracking: Tracking) -> None:
    manifest = _experiment(tracking, artifactLocation="s3://ml-artifacts/fraud", tags={"team": "risk"})
    manifest["spec"]["deletionPolicy"] = "Delete"  # type: ignore[index]
    kubectl.apply(manifest)
    status = kubectl.wait_condition("experiment", "training")["status"]
    seen = _seen(tracking)
    assert (seen.stage, seen.location, seen.tags["team"]) == ("active", "s3://ml-artifacts/fraud", "risk")
    assert seen.tags[OWNER_TAG] == f"{kubectl.namespace}/training"
    assert status["experimentId"] == seen.experiment_id
    assert (status["lifecycleStage"], status["artifactLocation"]) == ("active", "s3://ml-artifacts/fraud")
    assert status["url"].endswith(tracking.url_suffix(seen.experiment_id))
    row = kubectl("get", "experiments", "training", "--no-headers").stdout.split()
    assert row[:5] == ["training", tracking.name, seen.experiment_id, "active", "True"], row

    # A tag changed by hand is put back at the next drift check, with an Event.
    tracking.set_tag(seen.experiment_id, "team", "fraud")
    wait_until(lambda: _seen(tracking).tags["team"] == "risk", timeout=20, what="tag team put back")
    events = wait_until(
        lambda: [e for e in kubectl.events("training") if e["reason"] == "DriftCorrected"],
        timeout=10,
        what="a DriftCorrected event",
    )
    assert any("team" in e["message"] for e in events), events

    # The artifact location is set once: the API server refuses a change, naming the field.
    manifest["spec"]["artifactLocation"] = "s3://elsewhere/fraud"  # type: ignore[index]
    refused = kubectl.apply(manifest, check=False)
    assert refused.returncode != 0
    assert "artifactLocation" in refused.stderr, refused.stderr
    assert "cannot change" in refused.stderr, refused.stderr

    # Delete soft-deletes; the resource created again restores the same experiment.
    kubectl("delete", "experiment", "training", "--timeout=30s")
    assert _seen(tracking).stage == "deleted"
    manifest["spec"]["artifactLocation"] = "s3://ml-artifacts/fraud"  # type: ignore[index]
    kubectl.apply(manifest)
    status = kubectl.wait_condition("experiment", "training")["status"]
    assert status["experimentId"] == seen.experiment_id
    assert _seen(tracking).stage == "active"
    assert any(e["reason"] == "Restored" for e in kubectl.events("training"))
    kubectl("delete", "experiment", "training", "--timeout=30s")


def test_observe_only_then_adopt_then_retain(kubectl: Kubectl, tracking: Tracking) -> None:
    experiment_id = tracking.create(tracking.name, {"team": "fraud", "keep": "me"})

    kubectl.apply(_experiment(tracking, tags={"team": "risk"}, managementPolicy="ObserveOnly"))
    status = kubectl.wait_condition("experiment", "training", reason="DriftDetected")["status"]
    assert status["drift"] == ["tag team is 'fraud', spec says 'risk'"]
    assert status["experimentId"] == experiment_id
    seen = _seen(tracking)
    assert seen.tags["team"] == "fraud"
    assert OWNER_TAG not in seen.tags  # ObserveOnly wrote nothing

    kubectl.apply(_experiment(tracking, tags={"team": "risk"}))
    kubectl.wait_condition("experiment", "training", status="False", reason="AdoptionRequired")
    assert _seen(tracking).tags["team"] == "fraud"

    kubectl.apply(_experiment(tracking, tags={"team": "risk"}, adopt=True))
    kubectl.wait_condition("experiment", "training")
    seen = _seen(tracking)
    assert (seen.tags["team"], seen.tags["keep"]) == ("risk", "me")  # a tag the resource never set stays
    assert seen.tags[OWNER_TAG] == f"{kubectl.namespace}/training"

    # Retain (the default): the resource goes, the experiment stays active.
    kubectl("delete", "experiment", "training", "--timeout=30s")
    assert _seen(tracking).stage == "active"


@pytest.mark.parametrize(
    ("spec", "field", "problem"),
    [
        ({"tags": {"mlops.gitops.dev/owner": "other/x"}}, "spec.tags", "set by the controller"),
        ({"tags": {"k" * 251: "v"}}, "spec.tags", "tag keys are at most 250 characters"),
        ({"tags": {"notes": "x" * 5001}}, "spec.tags[notes]", "tag values are at most 5000 characters"),
        ({"name": ""}, "spec.name", "at least 1 chars"),
    ],
)
def test_bad_input_is_refused_at_apply_with_the_field_named(
    kubectl: Kubectl, spec: dict[str, object], field: str, problem: str
) -> None:
    manifest = {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "refused"},
        "spec": {"workspaceRef": {"name": "dbx"}, "name": "/Shared/refused", **spec},
    }
    result = kubectl.apply(manifest, check=False)
    assert result.returncode != 0
    assert field in result.stderr, result.stderr
    assert problem in result.stderr, result.stderr
    assert not kubectl.exists("experiment", "refused")


def test_a_name_databricks_refuses_ends_in_status(kubectl: Kubectl, databricks_workspace: str) -> None:
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Experiment",
            "metadata": {"name": "relative"},
            "spec": {"workspaceRef": {"name": databricks_workspace}, "name": "fraud-training"},
        }
    )
    ready = kubectl.wait_condition("experiment", "relative", status="False", reason="ExternalRejected")
    message = next(c["message"] for c in ready["status"]["conditions"] if c["type"] == "Ready")
    assert "invalid experiment name 'fraud-training'" in message, message
    assert any(e["type"] == "Warning" and "absolute path" in e["message"] for e in kubectl.events("relative"))


def test_steady_state_drift_checks_only_read_by_name(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    name = f"/Shared/{kubectl.namespace}/steady"
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Experiment",
            "metadata": {"name": "steady"},
            "spec": {"workspaceRef": {"name": databricks_workspace}, "name": name, "tags": {"team": "risk"}},
        }
    )
    kubectl.wait_condition("experiment", "steady")
    emulator.reset_counters()

    def observed_at() -> str:
        return str(kubectl.get("experiment", "steady")["status"]["lastObservedAt"])

    for _ in range(2):  # two drift checks (the Workspace's driftInterval is 3 s)
        before = observed_at()
        wait_until(lambda before=before: observed_at() != before, timeout=20, what="another drift check")
    calls = emulator.counters("/api/2.0/mlflow/experiments")["calls"]
    assert set(calls) == {"GET /api/2.0/mlflow/experiments/get-by-name"}, calls
