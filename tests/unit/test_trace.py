"""`mlopsctl trace`: the tree around a resource, built from the kinds' declarations, as text and as JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from controller.trace import render
from controller.trace.command import target
from controller.trace.graph import Objects, build
from controller.trace.node import Node

API = "mlops.gitops.dev/v1alpha1"
NS = "risk"


def resource(
    kind: str,
    name: str,
    spec: dict[str, Any],
    *,
    ready: str | None = "True",
    reason: str = "Reconciled",
    message: str = "",
    generation: int = 1,
    observed: int = 1,
    **status: Any,
) -> dict[str, Any]:
    conditions = []
    if ready is not None:
        for type_ in ("Ready", "Synced"):
            conditions.append(
                {"type": type_, "status": ready, "reason": reason, "message": message,
                 "lastTransitionTime": "2026-12-01T10:00:00Z", "observedGeneration": observed}
            )  # fmt: skip
    return {
        "apiVersion": API,
        "kind": kind,
        "metadata": {"name": name, "namespace": NS, "uid": f"uid-{kind}-{name}", "generation": generation},
        "spec": spec,
        "status": {"observedGeneration": observed, "conditions": conditions, **status},
    }


def workspace(name: str = "dbx") -> dict[str, Any]:
    return resource(
        "Workspace", name, {"databricks": {"host": "https://adb-1.azuredatabricks.net",
                                           "credentialsSecretRef": {"name": "dbx-credentials"}}},
        reason="Connected", connected=True, identity="sp-ml",
    )  # fmt: skip


def model(name: str = "fraud", **extra: Any) -> dict[str, Any]:
    spec = {"workspaceRef": {"name": "dbx"}, "registeredName": "main.risk.fraud", "aliases": {"champion": 7}}
    return resource("MLModel", name, spec, aliasSummary="champion=7", latestVersion=7, **extra)


def endpoint(name: str = "fraud", model_name: str = "fraud", **extra: Any) -> dict[str, Any]:
    spec = {
        "workspaceRef": {"name": "dbx"},
        "endpointName": name,
        "servedEntities": [
            {"name": "champion", "modelRef": {"name": model_name, "alias": "champion"}},
            {"name": "pinned", "entityName": "main.risk.fraud", "entityVersion": 3},
        ],
        "traffic": {"champion": 90, "pinned": 10},
    }
    return resource("ServingEndpoint", name, spec, **extra)


def monitor(name: str = "fraud", endpoint_name: str = "fraud") -> dict[str, Any]:
    spec = {
        "workspaceRef": {"name": "dbx"},
        "endpointRef": {"name": endpoint_name},
        "outputSchema": "main.risk",
        "assetsDir": "/Workspace/Shared/monitors/fraud",
        "inferenceLog": {"problemType": "classification", "predictionColumn": "prediction",
                         "modelIdColumn": "model_id", "timestampColumn": "timestamp", "granularities": ["1 day"]},
    }  # fmt: skip
    return resource("ModelMonitor", name, spec, tableName="main.risk.fraud_payload", monitorStatus="ACTIVE")


def job(name: str = "retrain") -> dict[str, Any]:
    spec = {"workspaceRef": {"name": "dbx"}, "settings": {"name": name, "tasks": [{"task_key": "t"}]}}
    return resource("MLJob", name, spec, jobId=42, url="https://adb-1.azuredatabricks.net/jobs/42")


PLURALS = {
    "Workspace": "workspaces",
    "MLModel": "mlmodels",
    "ServingEndpoint": "servingendpoints",
    "MLJob": "mljobs",
    "ModelMonitor": "modelmonitors",
}


def objects(*items: dict[str, Any]) -> Objects:
    return {(PLURALS[obj["kind"]], obj["metadata"]["name"]): obj for obj in items}


def names(nodes: tuple[Node, ...]) -> list[str]:
    return [f"{node.kind}/{node.name}" for node in nodes]


SERVING_V6_WANTS_V7 = {
    "ready": "False",
    "reason": "UpdateInProgress",
    "message": "Databricks is applying config version 4",
    "url": "https://adb-1.azuredatabricks.net/ml/endpoints/fraud",
    "servedVersions": "champion=6,pinned=3",
    "servedEntities": [
        {"name": "champion", "entityName": "main.risk.fraud", "entityVersion": 6, "desiredVersion": 7,
         "pendingVersion": 7, "deployment": "DEPLOYMENT_CREATING"},
        {"name": "pinned", "entityName": "main.risk.fraud", "entityVersion": 3, "desiredVersion": 3,
         "deployment": "DEPLOYMENT_READY"},
    ],
}  # fmt: skip


def test_an_endpoint_depends_on_its_workspace_and_models_and_is_watched_by_its_monitor() -> None:
    everything = objects(workspace(), model(), endpoint(), monitor(), job(), endpoint("other", model_name="other"))
    root = build(("servingendpoints", "fraud"), everything)
    assert names(root.depends_on) == ["Workspace/dbx", "MLModel/fraud"]
    assert names(root.depends_on[1].depends_on) == ["Workspace/dbx"]
    assert names(root.dependents) == ["ModelMonitor/fraud"]
    assert root.dependents[0].depends_on == ()  # a dependent's own dependencies are not the question here


def test_a_model_lists_the_endpoints_that_follow_it_and_their_monitors() -> None:
    everything = objects(workspace(), model(), endpoint(), endpoint("canary"), monitor(), endpoint("other", "other"))
    root = build(("mlmodels", "fraud"), everything)
    assert names(root.depends_on) == ["Workspace/dbx"]
    assert names(root.dependents) == ["ServingEndpoint/canary", "ServingEndpoint/fraud"]
    assert names(root.dependents[1].dependents) == ["ModelMonitor/fraud"]
    assert root.all_healthy()


def test_a_workspace_lists_every_resource_in_it_in_dependency_order() -> None:
    root = build(("workspaces", "dbx"), objects(workspace(), monitor(), job(), endpoint(), model()))
    assert names(root.dependents) == ["MLModel/fraud", "ServingEndpoint/fraud", "MLJob/retrain", "ModelMonitor/fraud"]


def test_a_missing_reference_is_a_node_that_is_not_found_and_makes_the_tree_not_ready() -> None:
    root = build(("servingendpoints", "fraud"), objects(endpoint(model_name="gone")))
    assert [(n.kind, n.name, n.found) for n in root.depends_on] == [
        ("Workspace", "dbx", False),
        ("MLModel", "gone", False),
    ]
    assert root.healthy
    assert not root.all_healthy()


def test_ready_computed_for_an_older_generation_is_not_ready() -> None:
    root = build(("mlmodels", "fraud"), objects(workspace(), model(generation=2)))
    assert root.ready == "True"
    assert not root.current
    assert not root.all_healthy()


def test_a_resource_never_reconciled_is_not_ready() -> None:
    root = build(("mlmodels", "fraud"), objects(workspace(), model(ready=None)))
    assert (root.ready, root.message, root.all_healthy()) == (None, "not reconciled yet", False)


def test_the_tree_shows_why_an_endpoint_is_not_serving_the_version_its_alias_points_at() -> None:
    everything = objects(workspace(), model(), endpoint(**SERVING_V6_WANTS_V7), monitor())
    text = render.tree(build(("servingendpoints", "fraud"), everything), namespace=NS)
    assert text == (
        "NAME                      READY  SYNCED  REASON            MESSAGE                                  EXTERNAL\n"
        "ServingEndpoint/fraud     False  False   UpdateInProgress  Databricks is applying config version 4  Endpoint=fraud Serving=champion=6,pinned=3 https://adb-1.azuredatabricks.net/ml/endpoints/fraud\n"  # noqa: E501
        "│ entity champion         serving v6, wants v7 (fraud@champion), updating to v7, 90% of traffic, DEPLOYMENT_CREATING\n"  # noqa: E501
        "│ entity pinned           serving v3, wants v3 (pinned), 10% of traffic, DEPLOYMENT_READY\n"
        "├─ depends on\n"
        "│  ├─ Workspace/dbx       True   True    Connected                                                  Connected=true Identity=sp-ml\n"  # noqa: E501
        "│  └─ MLModel/fraud       True   True    Reconciled                                                 Registered=main.risk.fraud Aliases=champion=7 Latest=7\n"  # noqa: E501
        "│     └─ Workspace/dbx    True   True    Connected                                                  Connected=true Identity=sp-ml\n"  # noqa: E501
        "└─ used by\n"
        "   └─ ModelMonitor/fraud  True   True    Reconciled                                                 Table=main.risk.fraud_payload Monitor=ACTIVE\n"  # noqa: E501
    )  # fmt: skip


def test_a_missing_reference_shows_as_missing_in_the_tree() -> None:
    text = render.tree(
        build(("servingendpoints", "fraud"), objects(workspace(), endpoint(model_name="gone"))), namespace=NS
    )
    assert "└─ MLModel/gone     Missing" in text
    assert "not found in namespace risk" in text
    assert "wants ? (gone@champion not resolved)" in text


def test_the_rollout_summary_is_shown_when_the_endpoint_has_one() -> None:
    rolling = endpoint(**SERVING_V6_WANTS_V7, rollout={"phase": "Progressing", "summary": "step 2/6 canary v7 10%"})
    root = build(("servingendpoints", "fraud"), objects(rolling))
    lines = [line.split(None, 2) for line in render.tree(root, namespace=NS).splitlines()]
    assert ["│", "rollout", "step 2/6 canary v7 10%"] in lines
    assert json.loads(render.to_json(root, namespace=NS))["resource"]["rollout"] == {
        "summary": "step 2/6 canary v7 10%"
    }
    assert (
        "rollout"
        not in json.loads(render.to_json(build(("servingendpoints", "fraud"), objects(endpoint())), namespace=NS))[
            "resource"
        ]
    )


def test_the_json_carries_the_same_tree_for_tools() -> None:
    everything = objects(workspace(), model(), endpoint(**SERVING_V6_WANTS_V7), monitor())
    out = json.loads(render.to_json(build(("servingendpoints", "fraud"), everything), namespace=NS))
    assert out["namespace"] == NS
    assert out["ready"] is False
    resource = out["resource"]
    assert {k: resource[k] for k in ("kind", "name", "found", "ready", "synced", "reason", "current", "url")} == {
        "kind": "ServingEndpoint", "name": "fraud", "found": True, "ready": "False", "synced": "False",
        "reason": "UpdateInProgress", "current": True, "url": "https://adb-1.azuredatabricks.net/ml/endpoints/fraud",
    }  # fmt: skip
    assert resource["columns"] == {"Endpoint": "fraud", "Serving": "champion=6,pinned=3"}
    assert resource["servedEntities"][0] == {
        "name": "champion", "follows": {"model": "fraud", "alias": "champion"}, "entityName": "main.risk.fraud",
        "servedVersion": 6, "desiredVersion": 7, "pendingVersion": 7, "deployment": "DEPLOYMENT_CREATING",
        "message": "", "traffic": 90,
    }  # fmt: skip
    assert [(d["kind"], d["name"]) for d in resource["dependsOn"]] == [("Workspace", "dbx"), ("MLModel", "fraud")]
    assert [(d["kind"], d["name"]) for d in resource["dependsOn"][1]["dependsOn"]] == [("Workspace", "dbx")]
    assert [(d["kind"], d["name"]) for d in resource["dependents"]] == [("ModelMonitor", "fraud")]


def test_a_missing_reference_in_json_is_found_false() -> None:
    out = json.loads(
        render.to_json(build(("servingendpoints", "fraud"), objects(endpoint(model_name="gone"))), namespace=NS)
    )
    assert out["resource"]["dependsOn"][1] == {
        "kind": "MLModel",
        "name": "gone",
        "found": False,
        "dependsOn": [],
        "dependents": [],
    }


def test_ready_is_coloured_only_when_asked() -> None:
    root = build(("mlmodels", "fraud"), objects(workspace(), model()))
    assert "\033[" not in render.tree(root, namespace=NS)
    assert f"{render.COLOURS['True']}True " in render.tree(root, namespace=NS, colour=True)


@pytest.mark.parametrize(
    ("resource", "name", "expected"),
    [
        ("servingendpoint/fraud", None, ("servingendpoints", "fraud")),
        ("ServingEndpoint/fraud", None, ("servingendpoints", "fraud")),
        ("mlse/fraud", None, ("servingendpoints", "fraud")),
        ("servingendpoint.mlops.gitops.dev/fraud", None, ("servingendpoints", "fraud")),
        ("mlmodels", "fraud", ("mlmodels", "fraud")),
    ],
)
def test_the_resource_is_named_as_kubectl_names_it(resource: str, name: str | None, expected: tuple[str, str]) -> None:
    assert target(resource, name) == expected


@pytest.mark.parametrize(
    ("resource", "name", "problem"),
    [
        ("deployment/fraud", None, "unknown kind 'deployment'"),
        ("mlmodel", None, "name the resource"),
        ("mlmodel/fraud", "other", "not both"),
    ],
)
def test_a_bad_target_says_what_is_wrong(resource: str, name: str | None, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        target(resource, name)
