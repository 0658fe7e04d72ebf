"""Promotion gates on Unity Catalog: versions trained with runs and logged models in the workspace's MLflow
tracking, judged through the databricks-sdk before an alias moves."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.training import train_on_databricks
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = 3  # tests/e2e/conftest.py's DRIFT_INTERVAL


def aliases(w: WorkspaceClient, name: str) -> dict[str, int | None]:
    return {
        a.alias_name or "": a.version_num for a in w.registered_models.get(name, include_aliases=True).aliases or []
    }


def approve(w: WorkspaceClient, name: str, version: int) -> None:
    """What a reviewer does in Catalog Explorer: tag the version (MLflow-on-UC's call; the SDK has none)."""
    body = {"name": name, "version": str(version), "key": "validation_status", "value": "approved"}
    w.api_client.do("POST", "/api/2.0/mlflow/unity-catalog/model-versions/set-tag", body=body)


def test_uc_alias_waits_for_approval_and_a_better_model_while_others_move(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    schema = kubectl.namespace.replace("-", "_")
    name = f"main.{schema}.fraud"
    experiment = f"/Shared/{schema}"
    v1 = train_on_databricks(emulator, w, name, {"val_auc": 0.92}, experiment=experiment)
    v2 = train_on_databricks(emulator, w, name, {"val_auc": 0.85}, experiment=f"{experiment}-2")
    v3 = train_on_databricks(emulator, w, name, {"val_auc": 0.95}, experiment=f"{experiment}-3")
    spec = {
        "workspaceRef": {"name": databricks_workspace},
        "registeredName": name,
        "adopt": True,
        "aliases": {"champion": v1},
    }
    manifest = {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": "MLModel", "metadata": {"name": "fraud"}}
    kubectl.apply({**manifest, "spec": spec})
    kubectl.wait_condition("mlmodel", "fraud")

    gates = {
        "requireTags": {"validation_status": "approved"},
        "metrics": [{"name": "val_auc", "notWorseThan": "current"}],
    }
    kubectl.apply(
        {**manifest, "spec": {**spec, "aliases": {"champion": v2, "challenger": v3}, "promotion": {"champion": gates}}}
    )
    obj = kubectl.wait_condition("mlmodel", "fraud", status="False", reason="PromotionBlocked")
    message = kubectl.condition("mlmodel", "fraud", "Ready")["message"]
    assert f"version {v2} has no tag validation_status" in message
    assert f"val_auc 0.85 is worse than version {v1}'s 0.92" in message
    assert aliases(w, name) == {"champion": v1, "challenger": v3}
    assert obj["status"]["promotion"]["champion"]["state"] == "Blocked"

    # The reviewer approves version 2, but it is still worse than the champion: it stays blocked.
    set_tag = "/api/2.0/mlflow/unity-catalog/model-versions/set-tag"
    w.api_client.do(
        "POST", set_tag, body={"name": name, "version": str(v2), "key": "validation_status", "value": "approved"}
    )
    wait_until(
        lambda: "no tag" not in kubectl.condition("mlmodel", "fraud", "Ready")["message"],
        timeout=4 * DRIFT_SECONDS,
        what="the approval judged",
    )
    assert kubectl.condition("mlmodel", "fraud", "Ready")["reason"] == "PromotionBlocked"
    assert aliases(w, name)["champion"] == v1

    # Git points champion at the better version 3; approved in the registry, it is promoted.
    kubectl.apply(
        {**manifest, "spec": {**spec, "aliases": {"champion": v3, "challenger": v3}, "promotion": {"champion": gates}}}
    )
    kubectl.wait_condition("mlmodel", "fraud", status="False", reason="PromotionBlocked")
    w.api_client.do(
        "POST", set_tag, body={"name": name, "version": str(v3), "key": "validation_status", "value": "approved"}
    )
    wait_until(lambda: aliases(w, name)["champion"] == v3, timeout=4 * DRIFT_SECONDS, what="champion promoted to v3")
    entry = kubectl.wait_condition("mlmodel", "fraud")["status"]["promotion"]["champion"]
    assert (entry["target"], entry["current"], entry["state"]) == (v3, v1, "Promoted")
    measured = {g["gate"]: g["measured"] for g in entry["gates"]}
    assert measured == {"tag validation_status": "approved", "metric val_auc not worse than current": "0.95"}
