"""Promotion gates on a real MLflow server: a version earns its alias, or the alias stays where it is."""

from __future__ import annotations

from typing import Any

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from sandbox.training import log_run_metrics, register_versions
from tests.support import Kubectl, metric_sum, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = 3  # tests/e2e/conftest.py's DRIFT_INTERVAL


def model(name: str, workspace: str, aliases: dict[str, int], promotion: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {
            "workspaceRef": {"name": workspace},
            "registeredName": name,
            "adopt": True,
            "aliases": aliases,
            "promotion": promotion,
        },
    }


def events(kubectl: Kubectl, name: str, reason: str) -> list[dict[str, Any]]:
    return [e for e in kubectl.events(name) if e["reason"] == reason]


def test_version_below_threshold_or_missing_a_metric_is_not_promoted_while_other_aliases_move(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    name = f"gated-{kubectl.namespace}"
    client = mlflow.MlflowClient(mlflow_server.url)
    [v1] = register_versions(mlflow_server.url, name, 1, metrics={"val_auc": 0.92})
    [v2] = register_versions(mlflow_server.url, name, 1, metrics={"val_auc": 0.80})
    [v3] = register_versions(mlflow_server.url, name, 1, metrics={"val_auc": 0.95})
    kubectl.apply(model(name, workspace, {"champion": v1}, {}))
    kubectl.wait_condition("mlmodel", name)

    gates = {
        "metrics": [
            {"name": "val_auc", "min": 0.9},
            {"name": "val_auc", "notWorseThan": "current", "tolerance": 0.01},
            {"name": "precision", "min": 0.5},
        ]
    }
    kubectl.apply(model(name, workspace, {"champion": v2, "challenger": v3}, {"champion": gates}))
    obj = kubectl.wait_condition("mlmodel", name, status="False", reason="PromotionBlocked")
    message = kubectl.condition("mlmodel", name, "Ready")["message"]
    assert f"alias champion stays at version {v1}: version {v2} failed" in message
    assert f"val_auc 0.8 (from the logged model of version {v2}) is below 0.9" in message
    assert f"val_auc 0.8 is worse by more than 0.01 than version {v1}'s 0.92 (needs >= 0.91)" in message
    assert f"version {v2} has no metric precision" in message
    assert kubectl.condition("mlmodel", name, "Synced")["status"] == "True"

    # The alias stayed; the other alias moved.
    assert client.get_registered_model(name).aliases == {"champion": str(v1), "challenger": str(v3)}
    entry = obj["status"]["promotion"]["champion"]
    assert (entry["target"], entry["current"], entry["state"]) == (v2, v1, "Blocked")
    assert [(g["gate"], g["passed"], g["measured"], g["required"]) for g in entry["gates"]] == [
        ("metric val_auc min", False, "0.8", ">= 0.9"),
        ("metric val_auc not worse than current", False, "0.8", ">= 0.91"),
        ("metric precision min", False, "", ">= 0.5"),
    ]
    assert metric_sum(controller.metrics_port, "mlops_promotions_blocked", namespace=kubectl.namespace) == 1

    # Judged again at every drift check, but one Event for one blocked target.
    wait_until(lambda: events(kubectl, name, "PromotionBlocked"), timeout=10, what="a PromotionBlocked event")
    previous = kubectl.get("mlmodel", name)["status"]["lastObservedAt"]
    wait_until(
        lambda: kubectl.get("mlmodel", name)["status"]["lastObservedAt"] != previous,
        timeout=4 * DRIFT_SECONDS,
        what="a later drift check",
    )
    [blocked] = events(kubectl, name, "PromotionBlocked")
    assert blocked["type"] == "Warning"
    assert blocked.get("count", 1) == 1

    # The run's metric is the fallback when the logged model has none: training logs precision late.
    run_id = client.get_model_version(name, str(v2)).run_id
    log_run_metrics(mlflow_server.url, run_id, {"precision": 0.7})
    wait_until(
        lambda: (
            [
                g["passed"]
                for g in kubectl.get("mlmodel", name)["status"]["promotion"]["champion"]["gates"]
                if g["gate"] == "metric precision min"
            ]
            == [True]
        ),
        timeout=4 * DRIFT_SECONDS,
        what="the precision gate passing from the run's metric",
    )
    assert client.get_registered_model(name).aliases["champion"] == str(v1)


def test_setting_the_approval_tag_in_the_registry_lets_the_promotion_through(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    name = f"approved-{kubectl.namespace}"
    client = mlflow.MlflowClient(mlflow_server.url)
    v1, v2 = register_versions(mlflow_server.url, name, 2, metrics={"val_auc": 0.93})
    gates = {
        "requireTags": {"validation_status": "approved"},
        "metrics": [{"name": "val_auc", "notWorseThan": "current"}],
    }
    kubectl.apply(model(name, workspace, {"champion": v1}, {}))
    kubectl.wait_condition("mlmodel", name)
    kubectl.apply(model(name, workspace, {"champion": v2}, {"champion": gates}))
    kubectl.wait_condition("mlmodel", name, status="False", reason="PromotionBlocked")
    message = kubectl.condition("mlmodel", name, "Ready")["message"]
    assert f"version {v2} has no tag validation_status (required 'approved')" in message
    assert "not worse than current" not in message  # 0.93 against version 1's 0.93 passes

    client.set_model_version_tag(name, str(v2), "validation_status", "pending")
    wait_until(
        lambda: "validation_status='pending'" in kubectl.condition("mlmodel", name, "Ready")["message"],
        timeout=4 * DRIFT_SECONDS,
        what="the changed tag judged",
    )
    client.set_model_version_tag(name, str(v2), "validation_status", "approved")  # a reviewer, in the registry
    wait_until(
        lambda: client.get_registered_model(name).aliases.get("champion") == str(v2),
        timeout=4 * DRIFT_SECONDS,
        what="champion promoted within a drift interval",
    )
    obj = kubectl.wait_condition("mlmodel", name)
    entry = obj["status"]["promotion"]["champion"]
    assert (entry["target"], entry["current"], entry["state"]) == (v2, v1, "Promoted")
    assert all(g["passed"] for g in entry["gates"])
    passed = wait_until(lambda: events(kubectl, name, "PromotionPassed"), timeout=10, what="a PromotionPassed event")
    assert f"alias champion: version {v2} passed its gates" in passed[0]["message"]
    assert len(events(kubectl, name, "PromotionBlocked")) == 1  # blocked once for this target, whatever the tag
    assert metric_sum(controller.metrics_port, "mlops_promotions_blocked", namespace=kubectl.namespace) == 0


def test_policy_for_an_alias_not_in_spec_or_a_gate_without_a_bound_is_refused_at_apply(
    kubectl: Kubectl, workspace: str
) -> None:
    bad = model("refused", workspace, {"champion": 1}, {"challenger": {"requireTags": {"ok": "yes"}}})
    result = kubectl.apply(bad, check=False)
    assert result.returncode != 0
    assert "spec.promotion: Invalid value" in result.stderr
    assert "a promotion policy must name an alias in spec.aliases" in result.stderr

    unbounded = model("refused", workspace, {"champion": 1}, {"champion": {"metrics": [{"name": "val_auc"}]}})
    result = kubectl.apply(unbounded, check=False)
    assert result.returncode != 0
    assert "set exactly one of min, max or notWorseThan" in result.stderr
    assert "spec.promotion[champion].metrics[0]" in result.stderr
