"""The rollout state machine over a simulated endpoint: each case names the behaviour it pins down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from controller.kinds.servingendpoint import rollout as r
from controller.kinds.servingendpoint.rollout_model import MetricCheck, Rollout, RolloutStatus

T0 = 1_000_000.0
POLICY = {
    "steps": [
        {"traffic": 10},
        {"pause": "10s"},
        {"analysis": {}},
        {"traffic": 50},
        {"pause": "10s"},
        {"analysis": {}},
    ],
    "analysis": {
        "interval": "5s",
        "count": 2,
        "failureLimit": 0,
        "inconclusiveLimit": 1,
        "metrics": [{"name": "errors", "endpointMetric": "error_rate", "max": 0.01}],
    },
}


@dataclass
class Probe:
    """The canary's health as a test sets it, and job runs by key."""

    values: dict[str, float] = field(default_factory=lambda: {"error_rate": 0.0})
    measured: int = 0
    started: dict[str, int] = field(default_factory=dict)
    results: dict[int, str | None] = field(default_factory=dict)
    job_known: bool = True

    def health(self) -> Mapping[str, float]:
        self.measured += 1
        return dict(self.values)

    def start_job(self, check: MetricCheck, key: str) -> int | None:
        if not self.job_known:
            return None
        return self.started.setdefault(key, 100 + len(self.started))

    def job_result(self, run_id: int) -> str | None:
        return self.results.get(run_id)


@dataclass
class Endpoint:
    """The endpoint as the machine sees it: one target, deployed at once unless `slow`."""

    target: r.Target = field(default_factory=lambda: r.Target(6))
    settled: bool = True
    failed: bool = False
    slow: bool = False
    writes: list[r.Target] = field(default_factory=list)

    def seen(self) -> r.Seen:
        t = self.target
        return r.Seen(
            at=lambda target: target == t,
            settled=self.settled,
            failed=self.failed,
            serving=t.version,
            canary=t.canary,
        )

    def write(self, target: r.Target) -> None:
        self.writes.append(target)
        self.target, self.settled = target, not self.slow


@dataclass
class World:
    """A resource with spec.rollout over an endpoint; `step` runs one reconcile as the orchestrator would."""

    policy: Rollout = field(default_factory=lambda: Rollout.model_validate(POLICY))
    wanted: int = 7
    endpoint: Endpoint = field(default_factory=Endpoint)
    probe: Probe = field(default_factory=Probe)
    status: RolloutStatus | None = None
    action: str | None = None
    generation: int = 1
    now: float = T0
    events: list[str] = field(default_factory=list)

    def step(self, *, crash_before_status: bool = False) -> r.Decision:
        inputs = r.Inputs(
            policy=self.policy,
            entity="champion",
            wanted=self.wanted,
            seen=self.endpoint.seen(),
            recorded=self.status,
            action=self.action,
            generation=self.generation,
            now=self.now,
        )
        d = r.decide(inputs, self.probe)
        if d.target is not None and not self.endpoint.seen().at(d.target) and self.endpoint.settled:
            self.endpoint.write(d.target)
        if not crash_before_status:
            self.status = d.status
            self.events += [n.reason for n in d.notes]
        return d

    def until_quiet(self, *, limit: int = 10) -> r.Decision:
        """Reconcile until a reconcile writes nothing (the endpoint as the last write left it)."""
        for _ in range(limit):
            before = len(self.endpoint.writes)
            d = self.step()
            if len(self.endpoint.writes) == before:
                return d
        raise AssertionError("never settled")

    @property
    def rec(self) -> RolloutStatus:
        assert self.status is not None
        return self.status


def test_a_good_version_goes_through_every_step_in_order_and_ends_on_the_new_version_alone() -> None:
    w = World()
    d = w.until_quiet()
    assert w.endpoint.writes == [r.Target(6, 7, 10)]
    assert (w.rec.phase, w.rec.step, w.rec.summary) == ("Progressing", 1, "step 2/6 canary v7 10%")
    assert d.look_again == 10  # the pause counts from when the 10% split was deployed
    w.now += 10
    d = w.until_quiet()
    assert (w.rec.step, w.rec.analysis and w.rec.analysis.taken) == (2, 1)
    assert d.look_again == 5
    w.now += 5
    w.until_quiet()
    assert w.endpoint.writes[-1] == r.Target(6, 7, 50)
    assert (w.rec.step, w.rec.canary_weight) == (4, 50)
    w.now += 10
    w.until_quiet()
    w.now += 5
    d = w.until_quiet()
    assert w.endpoint.writes == [r.Target(6, 7, 10), r.Target(6, 7, 50), r.Target(7)]
    assert (w.rec.phase, w.rec.summary) == ("Completed", "complete v7")
    assert d.target == r.Target(7)
    assert w.events.count("AnalysisPassed") == 2
    assert w.events[0] == "RolloutStarted"
    assert w.events[-1] == "RolloutCompleted"


def test_a_step_waits_while_its_config_deploys_and_the_pause_counts_from_the_deployment() -> None:
    w = World(endpoint=Endpoint(slow=True))
    w.step()
    assert w.rec.step_started_at is None
    d = w.step()
    assert (w.rec.step, d.look_again, len(w.endpoint.writes)) == (0, None, 1)  # no second write while deploying
    w.now += 30
    w.endpoint.settled = True
    d = w.step()
    assert (w.rec.step, d.look_again) == (1, 10)


def test_a_bad_version_is_rolled_back_in_one_update_at_the_first_failing_measurement() -> None:
    w = World()
    w.probe.values = {"error_rate": 0.05}
    w.until_quiet()
    w.now += 10
    d = w.step()
    assert w.endpoint.writes == [r.Target(6, 7, 10), r.Target(6)]
    assert d.aborted
    assert d.rounds == ["failed"]
    assert (w.rec.phase, w.rec.summary, w.rec.canary_weight) == ("Aborted", "aborted: error_rate 0.05 > 0.01", 0)
    assert "check errors measured 0.05 (limit <= 0.01)" in w.rec.message
    assert "RolloutAborted" in w.events
    # Nothing more: no write, no measurement, the same status, reconcile after reconcile.
    measured, status = w.probe.measured, w.status
    for _ in range(3):
        w.now += 60
        d = w.step()
        assert (d.target, d.notes, d.aborted) == (r.Target(6), [], False)
    assert (len(w.endpoint.writes), w.probe.measured, w.status) == (2, measured, status)


def test_after_an_abort_a_new_generation_or_a_retry_starts_again_and_a_new_version_starts_its_own() -> None:
    for change in ("generation", "retry", "version"):
        w = World()
        w.probe.values = {"error_rate": 0.05}
        w.until_quiet()
        w.now += 10
        w.until_quiet()
        assert w.rec.phase == "Aborted"
        w.probe.values = {"error_rate": 0.0}
        if change == "generation":
            w.generation = 2
        elif change == "retry":
            w.action = "retry:1"
        else:
            w.wanted = 8
        w.until_quiet()
        assert (w.rec.phase, w.rec.step, w.rec.stable_version) == ("Progressing", 1, 6), change
        assert w.endpoint.writes[-1] == r.Target(6, 8 if change == "version" else 7, 10), change


def test_failures_up_to_the_limit_are_tolerated_and_count_conclusive_measurements_decide() -> None:
    w = World(policy=Rollout.model_validate({**POLICY, "analysis": {**POLICY["analysis"], "failureLimit": 1}}))
    w.probe.values = {"error_rate": 0.05}
    w.until_quiet()
    w.now += 10
    w.until_quiet()
    assert (w.rec.phase, w.rec.analysis and w.rec.analysis.failures) == ("Progressing", 1)
    w.probe.values = {"error_rate": 0.0}
    w.now += 5
    w.until_quiet()
    assert (w.rec.phase, w.rec.step, w.rec.canary_weight) == ("Progressing", 4, 50)


def test_no_data_is_never_a_pass_and_too_many_inconclusive_measurements_pause_for_a_person() -> None:
    w = World()
    w.probe.values = {}
    w.until_quiet()
    w.now += 10
    d = w.until_quiet()
    assert (d.rounds, w.rec.phase, w.rec.step) == (["inconclusive"], "Progressing", 2)
    w.now += 5
    d = w.until_quiet()
    assert (d.rounds, w.rec.phase) == (["inconclusive"], "Paused")
    assert "measurements without data (errors)" in w.rec.message
    assert w.endpoint.target == r.Target(6, 7, 10)  # the split is kept
    w.now += 600
    assert w.step().rounds == []  # a paused rollout measures nothing and waits
    w.probe.values = {"error_rate": 0.0}
    w.action = "retry:1"
    w.until_quiet()
    assert (w.rec.phase, w.rec.step, w.rec.last_action) == ("Progressing", 2, "retry:1")


def test_on_failure_pause_keeps_the_split_and_abort_by_hand_then_rolls_back() -> None:
    w = World(policy=Rollout.model_validate({**POLICY, "onFailure": "Pause"}))
    w.probe.values = {"error_rate": 0.05}
    w.until_quiet()
    w.now += 10
    w.until_quiet()
    assert (w.rec.phase, w.endpoint.target) == ("Paused", r.Target(6, 7, 10))
    assert "RolloutPaused" in w.events
    w.action = "abort:a1"
    w.until_quiet()
    assert (w.rec.phase, w.rec.last_action, w.endpoint.target) == ("Aborted", "abort:a1", r.Target(6))


def test_promote_skips_to_the_new_version_in_full_and_an_action_is_acted_on_once() -> None:
    w = World()
    w.until_quiet()
    w.action = "promote:p1"
    w.until_quiet()
    assert (w.rec.phase, w.rec.last_action, w.endpoint.writes[-1]) == ("Completed", "promote:p1", r.Target(7))
    assert "RolloutPromoted" in w.events
    w.wanted = 8
    w.until_quiet()
    assert (w.rec.phase, w.rec.step, w.rec.stable_version) == ("Progressing", 1, 7)  # the same value: not again


def test_a_newer_version_supersedes_the_canary_in_one_update_and_the_steps_restart() -> None:
    w = World()
    w.until_quiet()
    w.now += 10
    w.until_quiet()
    w.now += 5
    w.until_quiet()
    assert w.rec.canary_weight == 50
    w.wanted = 8
    w.until_quiet()
    assert w.endpoint.writes[-1] == r.Target(6, 8, 10)
    assert (w.rec.stable_version, w.rec.canary_version, w.rec.step) == (6, 8, 1)
    assert "RolloutSuperseded" in w.events
    w.wanted = 6  # and back to the stable version: the canary goes, nothing else rolls
    w.until_quiet()
    assert (w.rec.phase, w.endpoint.writes[-1]) == ("Completed", r.Target(6))


@pytest.mark.parametrize(
    ("crash_at", "expected_step"),
    [
        ("the first split written", 1),  # adopted: the 10% split is there, the pause starts
        ("the 50% split written after the analysis passed", 4),
        ("the final config written", 6),
    ],
)
def test_a_crash_between_a_config_write_and_the_status_patch_never_writes_twice(
    crash_at: str, expected_step: int
) -> None:
    w = World()
    if crash_at != "the first split written":
        w.until_quiet()
        w.now += 10
        w.until_quiet()
        if crash_at == "the final config written":
            w.now += 5
            w.until_quiet()
            w.now += 10
            w.until_quiet()
        w.now += 5
    writes = len(w.endpoint.writes)
    w.step(crash_before_status=True)
    assert len(w.endpoint.writes) == writes + 1
    w.until_quiet()  # the restarted controller: status as before the write
    assert len(w.endpoint.writes) == writes + 1, w.endpoint.writes
    assert w.rec.step == expected_step, crash_at


def test_a_restart_mid_rollout_resumes_at_the_same_step_with_nothing_written() -> None:
    w = World()
    w.until_quiet()
    w.now += 3
    recorded = w.rec
    writes = list(w.endpoint.writes)
    d = w.step()
    assert (w.rec.step, w.rec.step_started_at, w.endpoint.writes) == (1, recorded.step_started_at, writes)
    assert d.look_again == 7


def test_a_job_check_runs_once_per_step_and_passes_when_the_run_succeeds() -> None:
    policy = {**POLICY, "analysis": {"count": 1, "metrics": [{"name": "eval", "jobRef": {"name": "fraud-eval"}}]}}
    w = World(policy=Rollout.model_validate(policy))
    w.until_quiet()
    w.now += 10
    d = w.until_quiet()
    assert w.rec.analysis is not None
    assert w.rec.analysis.job_run_ids == {"eval": 100}
    assert d.look_again is not None
    w.step()
    assert len(w.probe.started) == 1  # the same key: never a second run
    w.probe.results[100] = "SUCCESS"
    w.until_quiet()
    assert (w.rec.step, w.rec.canary_weight) == (4, 50)
    w.now += 10
    w.until_quiet()
    w.probe.results[101] = "FAILED"
    w.until_quiet()
    assert (w.rec.phase, w.rec.summary) == ("Aborted", "aborted: eval run FAILED")


def test_a_job_check_waits_while_the_mljob_has_no_job_id() -> None:
    policy = {**POLICY, "analysis": {"count": 1, "metrics": [{"name": "eval", "jobRef": {"name": "fraud-eval"}}]}}
    w = World(policy=Rollout.model_validate(policy), probe=Probe(job_known=False))
    w.until_quiet()
    w.now += 10
    d = w.until_quiet()
    assert (w.rec.phase, w.rec.step, d.look_again) == ("Progressing", 2, 10.0)


def test_a_failed_config_update_of_a_step_fails_the_rollout() -> None:
    w = World()
    w.step(crash_before_status=False)
    w.endpoint.target, w.endpoint.failed = r.Target(6), True  # Databricks kept the old config
    w.step()
    assert (w.rec.phase, w.rec.summary) == ("Aborted", "aborted: deployment failed")


def test_nothing_rolls_when_the_entity_already_serves_the_wanted_version_or_is_new() -> None:
    assert World(wanted=6).step() == r.Decision(None, None)
    new = World(endpoint=Endpoint(target=r.Target(0)))
    new.endpoint.target = r.Target(0)
    inputs = r.Inputs(
        policy=new.policy,
        entity="champion",
        wanted=7,
        seen=r.Seen(at=lambda t: False, settled=True, failed=False, serving=None, canary=None),
        recorded=None,
        action=None,
        generation=1,
        now=T0,
    )
    assert r.decide(inputs, new.probe) == r.Decision(None, None)
