"""SIGKILL of the controller at a random point of a rollout, ten times: each rollout resumes where it was and ends
as it should, and no config update is ever sent twice.

Each round moves the alias to a new version (seeded: most are good, some fail the analysis) and kills the
controller process after a random delay while it rolls, then starts it again at once. Every split the endpoint
serves is read from the emulator meanwhile: they must be exactly the steps' splits, in order, each written once
(counted per endpoint from the emulator's answers), ending with the new version alone or, for a bad version,
with the stable version alone. MLOPS_E2E_SEED replays the kills of a run (it prints its seed).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import EndpointStateConfigUpdate

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import adopted_model, rolling_endpoint
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

ROUNDS = 10
BAD_SHARE = 0.3  # of the rounds roll a version that fails the analysis
POLICY = {
    "steps": [{"traffic": 25}, {"pause": "1s"}, {"analysis": {}}, {"traffic": 50}, {"pause": "1s"}],
    "analysis": {
        "interval": "1s",
        "count": 1,
        "metrics": [{"name": "errors", "endpointMetric": "error_rate", "max": 0.05}],
    },
}
KILL_WINDOW = (0.0, 7.0)  # seconds after the alias moves: a good rollout takes about this long here
UPDATE_SECONDS = 0.5  # how long the emulator keeps each config update IN_PROGRESS in this test
CONFIG_WRITE = ("PUT", "/api/2.0/serving-endpoints/{name}/config")
Split = dict[str, tuple[str | None, int]]


@dataclass
class Round:
    version: int
    stable: int
    bad: bool
    kill_after: float
    killed_at: str = ""  # where the rollout stood when the process died
    splits: list[Split] = field(default_factory=list)
    writes: int = 0

    def __str__(self) -> str:
        kind = "bad " if self.bad else "good"
        return (
            f"v{self.stable}->v{self.version} {kind} killed +{self.kill_after:.2f}s at {self.killed_at or '?'}, "
            f"{self.writes} config writes, splits {[_short(s) for s in self.splits]}"
        )


@dataclass(frozen=True)
class Scene:
    kubectl: Kubectl
    emulator: Emulator
    controller: ControllerProcess
    w: WorkspaceClient
    model: str  # registered in Unity Catalog
    endpoint: str  # in Databricks


@pytest.fixture
def fast_updates(emulator: Emulator) -> Iterator[None]:
    before = emulator.timings.endpoint_update
    emulator.set_timings(endpoint_update=UPDATE_SECONDS)
    yield
    emulator.set_timings(endpoint_update=before)


@pytest.mark.timeout(600)
def test_a_killed_controller_resumes_each_rollout_at_its_step_without_writing_twice(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, controller: ControllerProcess, fast_updates: None
) -> None:
    seed = int(os.environ.get("MLOPS_E2E_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    print(f"\nseed {seed} (MLOPS_E2E_SEED={seed} replays these kills)")
    ns = kubectl.namespace
    scene = Scene(
        kubectl,
        emulator,
        controller,
        WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN),
        model=f"main.{ns.replace('-', '_')}.fraud",
        endpoint=f"{ns}-fraud",
    )
    for n in range(1, ROUNDS + 2):
        emulator.seed_model_version(scene.model, source=f"models:/m-{n}", run_id=f"run-{n}")
    kubectl.apply(adopted_model("fraud", scene.model, champion=1))
    kubectl.apply(rolling_endpoint(scene.endpoint, POLICY))
    kubectl.wait_condition("servingendpoint", "fraud", timeout=60)

    rounds: list[Round] = []
    stable = 1
    try:
        for version in range(2, ROUNDS + 2):
            round_ = Round(version, stable, rng.random() < BAD_SHARE, rng.uniform(*KILL_WINDOW))
            rounds.append(round_)
            if round_.bad:
                emulator.set_version_behaviour(scene.model, version, error_rate=0.5)
            _roll(round_, scene)
            _check(round_, kubectl)
            stable = stable if round_.bad else version
    finally:
        for number, done in enumerate(rounds, 1):
            print(f"round {number:2}: {done}")
    kubectl("delete", "servingendpoints", "--all", "--timeout=60s")


def _roll(round_: Round, scene: Scene) -> None:
    """Move the alias, kill and restart the controller on the way, and record the splits until the rollout ends."""
    watcher = _SplitWatcher(scene.w, scene.endpoint)
    with scene.emulator.recording() as answers, watcher:
        scene.kubectl.apply(adopted_model("fraud", scene.model, champion=round_.version))
        time.sleep(round_.kill_after)
        scene.controller.kill()
        round_.killed_at = _where(scene.kubectl)
        scene.controller.start()
        wait_until(lambda: _ended(scene, round_.version), timeout=90, what=f"the end of v{round_.version}")
    round_.splits = watcher.splits
    round_.writes = sum(1 for a in answers if _config_write(a.method, a.template, a.status, a.body, scene.endpoint))


def _config_write(method: str, template: str | None, status: int, body: object, endpoint: str) -> bool:
    """A config update of this endpoint that Databricks accepted."""
    return (method, template) == CONFIG_WRITE and status == 200 and isinstance(body, dict) and body["name"] == endpoint


def _check(round_: Round, kubectl: Kubectl) -> None:
    new, old = round_.version, round_.stable
    first = {"champion": (str(old), 75), "champion-canary": (str(new), 25)}
    if round_.bad:
        expected = [{"champion": (str(old), 100)}, first, {"champion": (str(old), 100)}]
        phase, summary, reason = "Aborted", "aborted: error_rate 0.5 > 0.05", "RolloutAborted"
    else:
        half = {"champion": (str(old), 50), "champion-canary": (str(new), 50)}
        expected = [{"champion": (str(old), 100)}, first, half, {"champion": (str(new), 100)}]
        phase, summary, reason = "Completed", f"complete v{new}", "Reconciled"
    assert round_.splits == expected, round_
    assert round_.writes == len(expected) - 1, f"{round_}: each split written once"
    ready = kubectl.wait_condition("servingendpoint", "fraud", status="False" if round_.bad else "True", timeout=30)
    rollout = ready["status"]["rollout"]
    assert (rollout["phase"], rollout["summary"]) == (phase, summary), round_
    assert (rollout["stableVersion"], rollout["canaryVersion"]) == (old, new), round_
    assert next(c for c in ready["status"]["conditions"] if c["type"] == "Ready")["reason"] == reason, round_


def _ended(scene: Scene, version: int) -> bool:
    """The rollout of `version` completed or aborted, and its last config update is deployed."""
    rollout = _rollout(scene.kubectl)
    if rollout.get("canaryVersion") != version or rollout.get("phase") not in ("Completed", "Aborted"):
        return False
    state = scene.w.serving_endpoints.get(scene.endpoint).state
    return state is not None and state.config_update == EndpointStateConfigUpdate.NOT_UPDATING


def _where(kubectl: Kubectl) -> str:
    rollout = _rollout(kubectl)
    return str(rollout.get("summary") or "no rollout yet")


def _rollout(kubectl: Kubectl) -> dict[str, Any]:
    return dict((kubectl.get("servingendpoint", "fraud").get("status") or {}).get("rollout") or {})


class _SplitWatcher:
    """Every distinct split the endpoint serves, in order, read from the emulator through the SDK in a thread."""

    def __init__(self, w: WorkspaceClient, name: str) -> None:
        self._w, self._name = w, name
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self.splits: list[Split] = []

    def __enter__(self) -> _SplitWatcher:
        self._record()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._record()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            self._record()

    def _record(self) -> None:
        config = self._w.serving_endpoints.get(self._name).config
        assert config is not None
        routes = config.traffic_config.routes or [] if config.traffic_config else []
        percent = {r.served_entity_name: r.traffic_percentage for r in routes}
        entities = config.served_entities or []
        split = {
            str(e.name): (e.entity_version, percent.get(e.name, 100 if len(entities) == 1 else 0)) for e in entities
        }
        if not self.splits or self.splits[-1] != split:
            self.splits.append(split)


def _short(split: Split) -> str:
    return "+".join(f"v{version}:{share}" for version, share in split.values())
