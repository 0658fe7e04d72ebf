"""Jobs API 2.2 through the real SDK: settings defaults, list/paging, reset/update, runs and idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist
from databricks.sdk.service.jobs import (
    CronSchedule,
    JobParameterDefinition,
    JobSettings,
    NotebookTask,
    Run,
    RunIf,
    RunLifeCycleState,
    RunLifecycleStateV2State,
    RunResultState,
    Task,
    TaskDependency,
    TerminationCodeCode,
)

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration


def task(key: str, *depends: str) -> Task:
    return Task(
        task_key=key,
        notebook_task=NotebookTask(notebook_path=f"/Repos/risk/{key}"),
        depends_on=[TaskDependency(task_key=d) for d in depends] or None,
    )


def terminated(run: Run) -> bool:
    return run.state is not None and run.state.life_cycle_state == RunLifeCycleState.TERMINATED


def test_create_get_fills_server_defaults(w: WorkspaceClient) -> None:
    job_id = w.jobs.create(
        name="fraud-retrain",
        tasks=[task("train", "prepare"), task("prepare")],
        schedule=CronSchedule(quartz_cron_expression="0 0 3 * * ?", timezone_id="UTC"),
        tags={"mlops.gitops.dev/uid": "abc"},
    ).job_id
    assert isinstance(job_id, int)
    job = w.jobs.get(job_id)
    assert job.job_id == job_id
    assert job.creator_user_name == "emulator-user@example.com"
    settings = job.settings
    assert [t.task_key for t in settings.tasks] == ["prepare", "train"]
    assert settings.tasks[0].run_if == RunIf.ALL_SUCCESS
    assert settings.max_concurrent_runs == 1
    assert settings.timeout_seconds == 0
    assert settings.schedule.pause_status.value == "UNPAUSED"
    assert settings.tags == {"mlops.gitops.dev/uid": "abc"}


def test_names_are_not_unique_and_list_filters_by_exact_name(w: WorkspaceClient) -> None:
    first = w.jobs.create(name="Retrain", tasks=[task("a")]).job_id
    second = w.jobs.create(name="retrain", tasks=[task("a")]).job_id
    w.jobs.create(name="retrain-other", tasks=[task("a")])
    assert first != second
    found = list(w.jobs.list(name="RETRAIN"))
    assert sorted(j.job_id for j in found) == sorted([first, second])
    assert not found[0].settings.tasks
    expanded = list(w.jobs.list(name="retrain", expand_tasks=True))
    assert expanded[0].settings.tasks[0].task_key == "a"


def test_list_pages_through_every_job(w: WorkspaceClient, emu: Emulator) -> None:
    ids = [w.jobs.create(name=f"job-{i}").job_id for i in range(5)]
    emu.reset_counters()
    assert [j.job_id for j in w.jobs.list(limit=2)] == ids
    assert emu.counters()["calls"]["GET /api/2.2/jobs/list"] == 3


def test_get_follows_pages_of_more_than_100_tasks(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = w.jobs.create(name="big", tasks=[task(f"t{i:03d}") for i in range(130)]).job_id
    emu.reset_counters()
    job = w.jobs.get(job_id)
    assert len(job.settings.tasks) == 130
    assert emu.counters()["calls"]["GET /api/2.2/jobs/get"] == 2


def test_list_with_expand_tasks_holds_the_settings_get_returns(w: WorkspaceClient, emu: Emulator) -> None:
    """What lets a drift check read its job and find duplicates in one list call."""
    params = [JobParameterDefinition(name="version", default="1")]
    small = w.jobs.create(name="same", tasks=[task("b"), task("a", "b")], parameters=params, tags={"k": "v"}).job_id
    big = w.jobs.create(name="same", tasks=[task(f"t{i:03d}") for i in range(130)]).job_id
    emu.reset_counters()
    listed = {j.job_id: j.settings for j in w.jobs.list(name="same", expand_tasks=True)}
    # One list; the SDK completes the job with more than 100 tasks from its two pages of get.
    assert emu.counters()["calls"] == {"GET /api/2.2/jobs/list": 1, "GET /api/2.2/jobs/get": 2}
    assert listed == {small: w.jobs.get(small).settings, big: w.jobs.get(big).settings}


def test_reset_replaces_and_update_merges(w: WorkspaceClient) -> None:
    job_id = w.jobs.create(name="j", tasks=[task("a"), task("b")], tags={"x": "1"}).job_id
    w.jobs.reset(job_id, new_settings=JobSettings(name="j2", tasks=[task("c")]))
    job = w.jobs.get(job_id)
    assert job.settings.name == "j2"
    assert [t.task_key for t in job.settings.tasks] == ["c"]
    assert job.settings.tags is None


def test_update_merges_tasks_by_key(w: WorkspaceClient) -> None:
    job_id = w.jobs.create(name="j", tasks=[task("a"), task("b")]).job_id
    w.jobs.update(job_id, new_settings=JobSettings(tasks=[task("c", "a")], max_concurrent_runs=3))
    settings = w.jobs.get(job_id).settings
    assert [t.task_key for t in settings.tasks] == ["a", "b", "c"]
    assert settings.max_concurrent_runs == 3
    w.jobs.update(job_id, fields_to_remove=["tasks/b", "max_concurrent_runs"])
    settings = w.jobs.get(job_id).settings
    assert [t.task_key for t in settings.tasks] == ["a", "c"]
    assert settings.max_concurrent_runs == 1


def test_delete_then_get_is_resource_does_not_exist(w: WorkspaceClient) -> None:
    job_id = w.jobs.create(name="gone").job_id
    w.jobs.delete(job_id)
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get(job_id)
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        w.jobs.reset(job_id, new_settings=JobSettings(name="x"))


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([task("a", "missing")], "depends on missing"),
        ([task("a"), task("a")], "unique"),
        ([Task(task_key="")], "task_key"),
    ],
)
def test_invalid_settings_are_refused(w: WorkspaceClient, tasks: list[Task], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        w.jobs.create(name="bad", tasks=tasks)


def test_run_life_cycle_and_status(w: WorkspaceClient, wait_for: Any) -> None:
    job_id = w.jobs.create(
        name="j", tasks=[task("train")], parameters=[JobParameterDefinition(name="version", default="1")]
    ).job_id
    started = w.jobs.run_now(job_id, job_parameters={"version": "7"}).response
    run = w.jobs.get_run(started.run_id)
    assert run.state.life_cycle_state == RunLifeCycleState.PENDING
    assert run.status.state == RunLifecycleStateV2State.PENDING
    assert run.job_parameters[0].value == "7"
    run = wait_for(
        lambda: w.jobs.get_run(started.run_id), lambda r: r.state.life_cycle_state != RunLifeCycleState.PENDING
    )
    assert run.state.life_cycle_state in (RunLifeCycleState.RUNNING, RunLifeCycleState.TERMINATED)
    run = wait_for(lambda: w.jobs.get_run(started.run_id), terminated)
    assert run.state.result_state == RunResultState.SUCCESS
    assert run.status.state == RunLifecycleStateV2State.TERMINATED
    assert run.status.termination_details.code == TerminationCodeCode.SUCCESS
    assert run.tasks[0].task_key == "train"
    assert run.end_time >= run.start_time
    assert run.run_page_url.endswith(f"/jobs/{job_id}/runs/{started.run_id}")


def test_failed_result_and_runs_list(w: WorkspaceClient, emu: Emulator) -> None:
    emu.set_run_result("FAILED")
    job_id = w.jobs.create(name="j", tasks=[task("train")]).job_id
    run_id = w.jobs.run_now(job_id).response.run_id
    assert [r.run_id for r in w.jobs.list_runs(job_id=job_id, active_only=True)] == [run_id]
    emu.advance_clock(5)
    run = w.jobs.get_run(run_id)
    assert run.state.result_state == RunResultState.FAILED
    assert run.status.termination_details.code == TerminationCodeCode.RUN_EXECUTION_ERROR
    assert list(w.jobs.list_runs(job_id=job_id, active_only=True)) == []
    assert [r.run_id for r in w.jobs.list_runs(job_id=job_id, completed_only=True)] == [run_id]


def test_cancel_run(w: WorkspaceClient) -> None:
    run_id = w.jobs.run_now(w.jobs.create(name="j").job_id).response.run_id
    w.jobs.cancel_run(run_id)
    assert w.jobs.get_run(run_id).state.result_state == RunResultState.CANCELED


def test_idempotency_token_returns_the_same_run(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = w.jobs.create(name="j").job_id
    first = w.jobs.run_now(job_id, idempotency_token="cr-uid-gen-4").response
    again = w.jobs.run_now(job_id, idempotency_token="cr-uid-gen-4").response
    other = w.jobs.run_now(job_id, idempotency_token="cr-uid-gen-5").response
    assert first.run_id == again.run_id != other.run_id
    assert (first.number_in_job, other.number_in_job) == (1, 2)
    assert len(list(w.jobs.list_runs(job_id=job_id))) == 2
    with pytest.raises(InvalidParameterValue):
        w.jobs.run_now(job_id, idempotency_token="x" * 65)


def test_run_errors(w: WorkspaceClient) -> None:
    with pytest.raises(InvalidParameterValue, match="Job 424242 does not exist"):
        w.jobs.run_now(424242)
    with pytest.raises(ResourceDoesNotExist):
        w.jobs.get_run(424242)
    job_id = w.jobs.create(name="j").job_id
    with pytest.raises(InvalidParameterValue, match="not defined"):
        w.jobs.run_now(job_id, job_parameters={"nope": "1"})
