"""Continuous jobs through the real SDK: the service starts their runs and keeps one going until paused."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import ResourceConflict
from databricks.sdk.service.jobs import (
    BaseRun,
    Continuous,
    JobSettings,
    PauseStatus,
    RunLifeCycleState,
    RunResultState,
    TriggerType,
)

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration
BUSY = "A concurrent request to run the continuous job is already in progress."
CYCLE = 0.5
"""A run's whole life with the fixture's timings: run_pending 0.2 s, then run_running 0.3 s."""


def runs(w: WorkspaceClient, job_id: int) -> list[BaseRun]:
    return list(w.jobs.list_runs(job_id=job_id))


def active(w: WorkspaceClient, job_id: int) -> list[BaseRun]:
    return list(w.jobs.list_runs(job_id=job_id, active_only=True))


def continuous(w: WorkspaceClient, pause: PauseStatus = PauseStatus.UNPAUSED) -> int:
    job_id = w.jobs.create(name="stream", continuous=Continuous(pause_status=pause)).job_id
    assert job_id is not None
    return job_id


def test_an_unpaused_continuous_job_starts_a_run_by_itself_and_keeps_one_going(
    w: WorkspaceClient, emu: Emulator
) -> None:
    job_id = continuous(w)
    assert w.jobs.get(job_id).settings.continuous.pause_status == PauseStatus.UNPAUSED
    [first] = runs(w, job_id)
    assert first.trigger == TriggerType.CONTINUOUS
    assert first.state.life_cycle_state == RunLifeCycleState.PENDING
    emu.advance_clock(CYCLE * 10.5)  # ten runs end meanwhile, each followed at once by the next
    listed = runs(w, job_id)
    assert [r.number_in_job for r in listed] == list(range(11, 0, -1))
    assert [r.run_id for r in active(w, job_id)] == [listed[0].run_id]
    assert {r.trigger for r in listed} == {TriggerType.CONTINUOUS}
    assert all(r.state.result_state == RunResultState.SUCCESS for r in listed[1:])


def test_a_canceled_run_is_followed_by_a_new_one(w: WorkspaceClient) -> None:
    job_id = continuous(w)
    [first] = runs(w, job_id)
    w.jobs.cancel_run(first.run_id)
    assert w.jobs.get_run(first.run_id).state.result_state == RunResultState.CANCELED
    [now_active] = active(w, job_id)
    assert now_active.run_id != first.run_id
    assert now_active.trigger == TriggerType.CONTINUOUS


def test_run_now_conflicts_while_the_services_own_start_is_under_way_then_restarts(
    w: WorkspaceClient, emu: Emulator
) -> None:
    job_id = continuous(w)
    [own] = runs(w, job_id)
    with pytest.raises(ResourceConflict, match=BUSY):
        w.jobs.run_now(job_id)
    emu.advance_clock(0.25)  # the job's own run is RUNNING now
    restart = w.jobs.run_now(job_id).response.run_id
    assert w.jobs.get_run(own.run_id).state.result_state == RunResultState.CANCELED
    [now_active] = active(w, job_id)
    assert (now_active.run_id, now_active.trigger) == (restart, TriggerType.CONTINUOUS_RESTART)
    with pytest.raises(ResourceConflict, match=BUSY):
        w.jobs.run_now(job_id)  # the restart is itself still starting


def test_pausing_stops_new_runs_and_run_now_starts_one_as_for_any_job(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = continuous(w)
    [own] = runs(w, job_id)
    paused = Continuous(pause_status=PauseStatus.PAUSED)
    w.jobs.update(job_id, new_settings=JobSettings(continuous=paused))
    emu.advance_clock(CYCLE * 4)
    assert [r.run_id for r in runs(w, job_id)] == [own.run_id]  # it ran to its end; nothing followed
    assert active(w, job_id) == []
    one_time = w.jobs.run_now(job_id).response.run_id
    assert w.jobs.get_run(one_time).trigger == TriggerType.ONE_TIME
    emu.advance_clock(CYCLE * 2)
    unpaused = Continuous(pause_status=PauseStatus.UNPAUSED)
    w.jobs.reset(job_id, new_settings=JobSettings(name="stream", continuous=unpaused))
    [started] = active(w, job_id)
    assert started.trigger == TriggerType.CONTINUOUS


def test_a_paused_continuous_job_starts_nothing(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = continuous(w, PauseStatus.PAUSED)
    emu.advance_clock(CYCLE * 4)
    assert runs(w, job_id) == []
