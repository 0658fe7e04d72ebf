"""`mlopsctl trace` on the real API server, over the Databricks examples reconciled by the running controller."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator
from sandbox.environment import seed_databricks
from sandbox.examples import example_documents
from tests.support import Kubectl, load_example

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 120.0


@pytest.fixture
def examples_emulator(kubectl: Kubectl) -> Iterator[Emulator]:
    """An emulator of its own: the examples' fixed names must not meet other tests' objects."""
    with Emulator() as emulator:
        emulator.set_timings(endpoint_update=1.0, monitor_pending=1.0)
        seed_databricks(emulator)
        yield emulator
        # Deleted while the emulator still answers: their deletionPolicy reaches it.
        kubectl("delete", "servingendpoints,modelmonitors,mljobs,mlmodels", "--all", "--timeout=60s", check=False)


def test_trace_shows_an_endpoints_dependencies_a_models_dependents_and_exits_by_readiness(
    kubectl: Kubectl, kubeconfig: Path, examples_emulator: Emulator, controller: ControllerProcess, tmp_path: Path
) -> None:
    ours = []
    for document in [*example_documents("databricks", databricks_url=examples_emulator.url), _payload_monitor()]:
        kubectl.apply(document)
        if document["apiVersion"].startswith("mlops.gitops.dev/"):
            ours.append(document)
    for document in ours:
        kubectl.wait_condition(document["kind"].lower(), document["metadata"]["name"], timeout=READY_TIMEOUT)

    trace = _tracer(kubeconfig, kubectl.namespace)
    endpoint = trace("servingendpoint/fraud-detector")
    assert endpoint.returncode == 0, endpoint.stderr
    rows = _rows(endpoint.stdout)
    assert rows["ServingEndpoint/fraud-detector"][:3] == ["True", "True", "Reconciled"]
    assert rows["├─ Workspace/dbx"][:3] == ["True", "True", "Connected"]
    assert rows["└─ MLModel/fraud-detector-uc"][:3] == ["True", "True", "Reconciled"]
    assert "Registered=main.risk.fraud_detector" in rows["└─ MLModel/fraud-detector-uc"]
    assert rows["└─ ModelMonitor/fraud-detector-payload"][:3] == ["True", "True", "Reconciled"]
    assert "serving v2, wants v2 (fraud-detector-uc@champion), 90% of traffic" in rows["entity champion"][0]
    assert "ModelMonitor/fraud-detector " not in endpoint.stdout  # the example's monitor watches a table of its own

    as_json = json.loads(trace("servingendpoints/fraud-detector", "-o", "json").stdout)
    assert (as_json["namespace"], as_json["ready"]) == (kubectl.namespace, True)
    resource = as_json["resource"]
    assert (resource["kind"], resource["name"], resource["ready"], resource["current"]) == (
        "ServingEndpoint", "fraud-detector", "True", True,
    )  # fmt: skip
    assert resource["url"] == f"{examples_emulator.url}/ml/endpoints/fraud-detector"
    assert _tree(resource["dependsOn"]) == [
        ("Workspace/dbx", []),
        ("MLModel/fraud-detector-uc", [("Workspace/dbx", [])]),
    ]
    assert _tree(resource["dependents"]) == [("ModelMonitor/fraud-detector-payload", [])]
    champion, challenger = resource["servedEntities"]
    assert champion | {"message": ""} == {
        "name": "champion", "follows": {"model": "fraud-detector-uc", "alias": "champion"},
        "entityName": "main.risk.fraud_detector", "servedVersion": 2, "desiredVersion": 2, "pendingVersion": None,
        "deployment": "DEPLOYMENT_READY", "message": "", "traffic": 90,
    }  # fmt: skip
    assert (challenger["servedVersion"], challenger["desiredVersion"], challenger["traffic"]) == (1, 1, 10)

    model = json.loads(trace("mlmodel/fraud-detector-uc", "-o", "json").stdout)["resource"]
    assert _tree(model["dependsOn"]) == [("Workspace/dbx", [])]
    assert _tree(model["dependents"]) == [
        ("ServingEndpoint/fraud-detector", [("ModelMonitor/fraud-detector-payload", [])])
    ]

    # A reference to a model that does not exist: shown as missing, and the tree is not Ready (exit 1).
    kubectl.apply(_endpoint_of_missing_model())
    kubectl.wait_condition("servingendpoint", "orphan", status="False", reason="WaitingForDependency")
    orphan = trace("mlse/orphan")
    assert orphan.returncode == 1, orphan.stdout + orphan.stderr
    assert _rows(orphan.stdout)["└─ MLModel/no-such-model"][:2] == ["Missing", "not"]
    assert trace("mlse", "orphan", "-o", "json").returncode == 1
    workspace = trace("workspace/dbx")  # everything in the Workspace, the waiting endpoint included
    assert workspace.returncode == 1
    assert "ServingEndpoint/orphan" in workspace.stdout

    # Usage and API errors: exit 2 with the reason on stderr.
    absent = trace("mlmodel/absent")
    assert (absent.returncode, absent.stdout) == (2, "")
    assert f"MLModel absent not found in namespace {kubectl.namespace}" in absent.stderr
    unknown = trace("deployment/fraud-detector")
    assert unknown.returncode == 2
    assert "unknown kind 'deployment'" in unknown.stderr
    unreachable = trace("mlmodel/fraud-detector-uc", kubeconfig=_unreachable(kubeconfig, tmp_path))
    assert unreachable.returncode == 2
    assert "cannot reach the API server" in unreachable.stderr


def _tracer(kubeconfig: Path, namespace: str) -> Any:
    def trace(*args: str, kubeconfig: Path = kubeconfig) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "controller", "trace", *args, "-n", namespace, "--kubeconfig", str(kubeconfig)]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)

    return trace


def _rows(text: str) -> dict[str, list[str]]:
    """Tree lines by their NAME column (connectors of the line itself kept, the leading indentation not)."""
    rows = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.lstrip("│ ").partition("  ")
        if name.startswith("entity"):
            rows[name] = [rest.strip()]
        else:
            rows[name] = rest.split()
    return rows


def _tree(nodes: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    return [(f"{n['kind']}/{n['name']}", _tree(n["dependsOn"] or n["dependents"])) for n in nodes]


def _payload_monitor() -> dict[str, Any]:
    """The example monitor on the endpoint's inference table instead (as the example's comment describes)."""
    (monitor,) = load_example("databricks/modelmonitor.yaml")
    monitor["metadata"]["name"] = "fraud-detector-payload"
    spec = monitor["spec"]
    del spec["tableName"]
    spec["endpointRef"] = {"name": "fraud-detector"}
    spec["assetsDir"] = "/Workspace/Shared/monitors/risk/fraud-detector-payload"
    spec["slicingExpressions"] = ["served_entity_id"]
    spec["inferenceLog"] = {
        "problemType": "classification",
        "predictionColumn": "response",
        "modelIdColumn": "served_entity_id",
        "timestampColumn": "timestamp_ms",
        "granularities": ["1 day"],
    }
    return monitor


def _endpoint_of_missing_model() -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "ServingEndpoint",
        "metadata": {"name": "orphan"},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "endpointName": "orphan",
            "servedEntities": [{"name": "main", "modelRef": {"name": "no-such-model", "alias": "champion"}}],
        },
    }


def _unreachable(kubeconfig: Path, folder: Path) -> Path:
    """The same kubeconfig pointed at a loopback port nothing listens on."""
    config = yaml.safe_load(kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"
    path = folder / "unreachable.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path
