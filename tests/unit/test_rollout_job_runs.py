"""A rollout's job check gets a run of its own each time the rollout starts, and keeps it across restarts."""

from __future__ import annotations

from controller.kinds.servingendpoint.rollout_model import Rollout
from tests.unit.test_rollout import POLICY, World

JOB_POLICY = {**POLICY, "analysis": {"count": 1, "metrics": [{"name": "eval", "jobRef": {"name": "fraud-eval"}}]}}


def _to_first_analysis(w: World) -> None:
    w.until_quiet()
    w.now += 10
    w.until_quiet()


def test_a_rollout_started_again_after_an_abort_runs_the_job_again_instead_of_reusing_the_failed_run() -> None:
    w = World(policy=Rollout.model_validate(JOB_POLICY))
    _to_first_analysis(w)
    w.probe.results[100] = "FAILED"
    w.until_quiet()
    assert (w.rec.phase, w.rec.summary) == ("Aborted", "aborted: eval run FAILED")

    w.generation += 1  # the spec changed: the same version is rolled out again
    w.now += 60
    _to_first_analysis(w)
    assert len(w.probe.started) == 2
    assert w.rec.analysis is not None
    assert (w.rec.phase, w.rec.analysis.job_run_ids) == ("Progressing", {"eval": 101})


def test_a_restart_before_the_status_is_written_asks_for_the_same_run() -> None:
    w = World(policy=Rollout.model_validate(JOB_POLICY))
    w.until_quiet()
    w.now += 10
    w.step()  # the pause ends: the analysis step begins
    w.step(crash_before_status=True)  # the run is started, then the process dies
    w.now += 5
    w.step()
    assert len(w.probe.started) == 1
    assert w.rec.analysis is not None
    assert w.rec.analysis.job_run_ids == {"eval": 100}
