"""`mlopsctl rollout` and `kubectl get` on the real API server: what a person sees, and that each action changes
what the controller does to the endpoint (the emulator behind the real SDK)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from controller.kinds.servingendpoint.rollout_model import ROLLOUT_ACTION
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import adopted_model, rolling_endpoint
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

CONFIG_WRITES = "PUT /api/2.0/serving-endpoints/{name}/config"
POLICY = {
    "steps": [{"traffic": 20}, {"analysis": {}}, {"pause": "1h"}, {"traffic": 60}, {"pause": "1h"}],
    "analysis": {
        "interval": "1s",
        "count": 2,
        "metrics": [{"name": "errors", "endpointMetric": "error_rate", "max": 0.01}],
    },
}
Split = dict[str, tuple[str | None, int]]


def test_status_shows_the_rollout_and_retry_promote_and_abort_steer_the_endpoint(
    kubectl: Kubectl, kubeconfig: Path, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    ns = kubectl.namespace
    model, endpoint = f"main.{ns.replace('-', '_')}.fraud", f"{ns}-fraud"
    rollout = _cli(kubeconfig, ns)
    for n in (1, 2, 3):
        emulator.seed_model_version(model, source=f"models:/m-{n}", run_id=f"run-{n}")
    kubectl.apply(adopted_model("fraud", model, champion=1))
    kubectl.apply(rolling_endpoint(endpoint, POLICY))
    kubectl.wait_condition("servingendpoint", "fraud", timeout=60)
    shown = rollout("status", "fraud")
    assert (shown.returncode, _field(shown.stdout, "Rollout")) == (0, "none (no new version has been rolled out yet)")

    # A bad version fails the analysis and is rolled back: status names the check, its value and its limit.
    emulator.set_version_behaviour(model, 2, error_rate=0.2)
    kubectl.apply(adopted_model("fraud", model, champion=2))
    kubectl.wait_condition("servingendpoint", "fraud", status="False", reason="RolloutAborted", timeout=60)
    shown = rollout("status", "fraud")
    assert shown.returncode == 1, shown
    assert _field(shown.stdout, "Phase") == "Aborted"
    assert _field(shown.stdout, "Failed check") == "errors (error_rate) measured 0.2, limit <= 0.01"
    assert _column(kubectl) == "aborted: error_rate 0.2 > 0.01"
    refused = rollout("abort", "fraud")
    assert refused.returncode == 1
    assert "abort fraud: the rollout is Aborted, and abort applies to a rollout that is Progressing or Paused" in (
        refused.stderr
    )
    assert ROLLOUT_ACTION not in (kubectl.get("servingendpoint", "fraud")["metadata"].get("annotations") or {})

    # Fixed, retried: the rollout starts again, passes the analysis and waits in the hour-long pause.
    emulator.set_version_behaviour(model, 2, error_rate=0.0)
    wait_until(lambda: _split(w, endpoint) == {"champion": ("1", 100)}, timeout=30, what="the rollback deployed")
    emulator.reset_counters()
    retried = rollout("retry", "fraud")
    assert retried.returncode == 0, retried
    action = kubectl.get("servingendpoint", "fraud")["metadata"]["annotations"][ROLLOUT_ACTION]
    assert action.startswith("retry:")
    assert f"set {ROLLOUT_ACTION}={action}" in retried.stdout
    assert _field(retried.stdout, "Last action") == action
    wait_until(lambda: _rollout(kubectl).get("step") == 2, timeout=60, what="the pause after a passed analysis")
    assert _split(w, endpoint) == {"champion": ("1", 80), "champion-canary": ("2", 20)}
    shown = rollout("status", "fraud")
    assert (shown.returncode, _field(shown.stdout, "Step").split(",")[0]) == (0, "3/5")
    assert _steps(shown.stdout) == ["done", "done", "current", "pending", "pending"]
    assert "Analysis" not in shown.stdout  # the passed analysis belongs to the step before
    assert "analysis" not in _rollout(kubectl)
    assert _column(kubectl) == "step 3/5 canary v2 20%"

    # Promoted by hand: straight to the new version alone, skipping the rest of the steps.
    promoted = rollout("promote", "fraud")
    assert promoted.returncode == 0, promoted
    wait_until(lambda: _rollout(kubectl).get("phase") == "Completed", timeout=60, what="the promotion")
    assert _split(w, endpoint) == {"champion": ("2", 100)}
    assert emulator.counters()["calls"].get(CONFIG_WRITES) == 2  # the 20% split, then version 2 alone
    kubectl.wait_condition("servingendpoint", "fraud", timeout=30)
    assert _column(kubectl) == "complete v2"

    # Aborted by hand in the pause: all the traffic back on the stable version in one update.
    emulator.reset_counters()
    kubectl.apply(adopted_model("fraud", model, champion=3))
    wait_until(lambda: _rollout(kubectl).get("step") == 2, timeout=60, what="version 3 in the pause")
    aborted = rollout("abort", "fraud")
    assert aborted.returncode == 1, aborted  # it now stands Aborted
    assert _field(aborted.stdout, "Phase") == "Aborted"
    assert _field(aborted.stdout, "Failed check") == "aborted by hand"
    wait_until(lambda: _split(w, endpoint) == {"champion": ("2", 100)}, timeout=30, what="traffic back on version 2")
    assert emulator.counters()["calls"].get(CONFIG_WRITES) == 2  # the 20% split, then the rollback
    ready = kubectl.condition("servingendpoint", "fraud", "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "RolloutAborted")
    kubectl("delete", "servingendpoints", "--all", "--timeout=60s")


def test_rollout_on_a_missing_endpoint_is_an_error(kubectl: Kubectl, kubeconfig: Path) -> None:
    for action in ("status", "promote"):
        result = _cli(kubeconfig, kubectl.namespace)(action, "nowhere")
        assert result.returncode == 2
        assert (
            result.stderr == f"mlopsctl rollout: ServingEndpoint nowhere in namespace {kubectl.namespace} not found\n"
        )


def _cli(kubeconfig: Path, namespace: str) -> Any:
    def rollout(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "controller",
            "rollout",
            *args,
            "-n",
            namespace,
            "--kubeconfig",
            str(kubeconfig),
        ]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=90)

    return rollout


def _field(text: str, label: str) -> str:
    found = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{label}:")]
    assert found, f"no {label} in:\n{text}"
    return found[0]


def _steps(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("STEP "))
    return [line.split()[-1] for line in lines[start + 1 : start + 1 + len(POLICY["steps"])]]


def _column(kubectl: Kubectl) -> str:
    """The Rollout column of `kubectl get servingendpoints fraud`, as a person reads it (READY comes next)."""
    header, row = kubectl("get", "servingendpoints", "fraud").stdout.splitlines()
    return row[header.index("ROLLOUT") : header.index("READY")].strip()


def _rollout(kubectl: Kubectl) -> dict[str, Any]:
    return dict((kubectl.get("servingendpoint", "fraud").get("status") or {}).get("rollout") or {})


def _split(w: WorkspaceClient, name: str) -> Split:
    """Served entity → (version, percent of traffic) of the endpoint's active config."""
    config = w.serving_endpoints.get(name).config
    assert config is not None
    routes = (
        {r.served_entity_name: r.traffic_percentage for r in (config.traffic_config.routes or [])}
        if (config.traffic_config)
        else {}
    )
    entities = config.served_entities or []
    return {str(e.name): (e.entity_version, routes.get(e.name, 100 if len(entities) == 1 else 0)) for e in entities}
