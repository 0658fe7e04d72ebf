"""ServingEndpoint rollouts on the real API server, the emulator behind the real SDK: steps, abort, supersede."""

from __future__ import annotations

import time
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import DRIFT_INTERVAL, adopted_model, rolling_endpoint
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

CONFIG_WRITES = "PUT /api/2.0/serving-endpoints/{name}/config"
PAUSE_SECONDS = 4
POLICY = {
    "steps": [
        {"traffic": 20},
        {"pause": f"{PAUSE_SECONDS}s"},
        {"analysis": {}},
        {"traffic": 60},
        {"pause": f"{PAUSE_SECONDS}s"},
        {"analysis": {}},
    ],
    "analysis": {
        "interval": "1s",
        "count": 2,
        "metrics": [
            {"name": "errors", "endpointMetric": "error_rate", "max": 0.01},
            {"name": "latency", "endpointMetric": "latency_p99_ms", "max": 300},
        ],
    },
    "onFailure": "Rollback",
}


def test_a_good_version_goes_step_by_step_a_bad_one_is_rolled_back_and_a_newer_one_supersedes(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.fraud"
    name = f"{ns}-fraud"
    for n in range(1, 6):
        emulator.seed_model_version(model, source=f"models:/m-{n}", run_id=f"run-{n}")
    kubectl.apply(adopted_model("fraud", model, champion=1))
    kubectl.apply(rolling_endpoint(name, POLICY))
    kubectl.wait_condition("servingendpoint", "fraud", timeout=60)
    assert _split(w, name) == {"champion": ("1", 100)}  # a new endpoint serves at once, as without a rollout

    # A good version: each step's split, in order, read from Databricks; then the new version alone.
    emulator.reset_counters()
    kubectl.apply(adopted_model("fraud", model, champion=2))
    splits = _splits_until(w, name, lambda: _rollout(kubectl).get("phase") == "Completed", timeout=60)
    assert splits == [
        {"champion": ("1", 100)},
        {"champion": ("1", 80), "champion-canary": ("2", 20)},
        {"champion": ("1", 40), "champion-canary": ("2", 60)},
        {"champion": ("2", 100)},
    ], splits
    assert emulator.counters()["calls"].get(CONFIG_WRITES) == 3
    done = kubectl.wait_condition("servingendpoint", "fraud", timeout=30)["status"]["rollout"]
    assert (done["summary"], done["stableVersion"], done["canaryVersion"]) == ("complete v2", 1, 2)
    passed = [e for e in kubectl.events("fraud") if e["reason"] == "AnalysisPassed"]
    assert len(passed) == 2, passed

    # A bad version: aborted at the first analysis after the shift, back on the stable version in one update.
    emulator.set_version_behaviour(model, 3, error_rate=0.2)
    emulator.reset_counters()
    kubectl.apply(adopted_model("fraud", model, champion=3))
    aborted = kubectl.wait_condition("servingendpoint", "fraud", status="False", reason="RolloutAborted", timeout=60)
    wait_until(lambda: _split(w, name) == {"champion": ("2", 100)}, timeout=30, what="traffic back on version 2")
    assert emulator.counters()["calls"].get(CONFIG_WRITES) == 2  # the 20% split, then the rollback
    rollout = aborted["status"]["rollout"]
    assert (rollout["phase"], rollout["step"], rollout["summary"]) == ("Aborted", 2, "aborted: error_rate 0.2 > 0.01")
    ready = next(c for c in aborted["status"]["conditions"] if c["type"] == "Ready")
    assert "check errors measured 0.2 (limit <= 0.01)" in ready["message"]
    assert "the endpoint serves version 2 while alias champion of MLModel fraud says 3" in ready["message"]
    assert [e for e in kubectl.events("fraud") if e["reason"] == "RolloutAborted"]
    time.sleep(1)  # the rollback's own update completes
    emulator.reset_counters()
    time.sleep(3 * float(DRIFT_INTERVAL.removesuffix("s")))
    assert emulator.counters(prefix="/api/2.0/serving-endpoints")["writes"] == 0  # nothing written after
    assert _rollout(kubectl)["phase"] == "Aborted"

    # A newer version supersedes a rollout in progress: it becomes the canary in one update, the steps restart.
    kubectl.apply(adopted_model("fraud", model, champion=4))
    wait_until(lambda: _rollout(kubectl).get("step") == 1, timeout=30, what="version 4 paused at 20%")
    emulator.reset_counters()
    kubectl.apply(adopted_model("fraud", model, champion=5))
    wait_until(
        lambda: _split(w, name) == {"champion": ("2", 80), "champion-canary": ("5", 20)},
        timeout=30,
        what="version 5 as the canary",
    )
    assert emulator.counters()["calls"].get(CONFIG_WRITES) == 1
    superseded = _rollout(kubectl)
    assert (superseded["stableVersion"], superseded["canaryVersion"]) == (2, 5)
    assert [e for e in kubectl.events("fraud") if e["reason"] == "RolloutSuperseded"]
    wait_until(lambda: _rollout(kubectl).get("phase") == "Completed", timeout=60, what="version 5 complete")
    assert _split(w, name) == {"champion": ("5", 100)}
    kubectl("delete", "servingendpoints", "--all", "--timeout=60s")


def _rollout(kubectl: Kubectl) -> dict[str, Any]:
    return dict((kubectl.get("servingendpoint", "fraud").get("status") or {}).get("rollout") or {})


def _split(w: WorkspaceClient, name: str) -> dict[str, tuple[str | None, int]]:
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


def _splits_until(
    w: WorkspaceClient, name: str, done: Any, *, timeout: float
) -> list[dict[str, tuple[str | None, int]]]:
    """Every distinct split the endpoint serves, in order, until `done()`."""
    seen: list[dict[str, tuple[str | None, int]]] = []
    deadline = time.monotonic() + timeout
    while True:
        split = _split(w, name)
        if not seen or seen[-1] != split:
            seen.append(split)
        if done() or time.monotonic() > deadline:
            split = _split(w, name)
            if seen[-1] != split:
                seen.append(split)
            return seen
        time.sleep(0.2)
