"""Jobs API through the real SDK (2.2): settings defaults, list/paging, reset/update, runs and idempotency;
and the 2.0 and 2.1 paths as older clients call them, raw, with each version's shape."""

from __future__ import annotations

from typing import Any

import pytest
import requests
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

from sandbox.databricks import DEFAULT_TOKEN, Emulator

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
TOO_MANY_TASKS = "Resources with more than 100 tasks can only be handled by API 2.2 and above"


def task(key: str, *depends: str) -> Task:
    return Task(
        task_key=key,
        notebook_task=NotebookTask(notebook_path=f"/Repos/risk/{key}"),
        depends_on=[TaskDependency(task_key=d) for d in depends] or None,
    )


def raw(emu: Emulator, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
    """One call as a client without the SDK makes it; the JSON answer (an error body too)."""
    answer = requests.request(method, emu.url + path, headers=AUTH, json=body, params=query, timeout=10)
    return answer.status_code, answer.json()


def empty_arrays(value: Any, path: str = "") -> list[str]:
    """Where a JSON document holds `[]`: proto3 JSON, as Databricks writes it, leaves those keys out."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in empty_arrays(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [path] if not value else [p for i, v in enumerate(value) for p in empty_arrays(v, f"{path}[{i}]")]
    return []


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


# ---- API versions: 2.2 pages, 2.1 shows all, 2.0 keeps the single-task format ----


def test_every_version_serves_the_same_job(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = w.jobs.create(name="shared", tasks=[task("b"), task("a", "b")]).job_id
    for version in ("2.0", "2.1", "2.2"):
        status, job = raw(emu, "GET", f"/api/{version}/jobs/get", job_id=job_id)
        assert status == 200, job
        assert job["job_id"] == job_id
        assert [t["task_key"] for t in job["settings"]["tasks"]] == ["a", "b"]
        assert job["settings"]["format"] == "MULTI_TASK"
        status, listed = raw(emu, "GET", f"/api/{version}/jobs/list", name="shared", expand_tasks="true")
        assert [j["job_id"] for j in listed["jobs"]] == [job_id]
    status, other = raw(emu, "POST", "/api/2.1/jobs/create", {"name": "older", "tasks": [{"task_key": "t"}]})
    assert status == 200, other
    # Jobs API 2.2 queues new jobs unless told otherwise; 2.0 and 2.1 do not.
    assert w.jobs.get(job_id).settings.queue.enabled is True
    assert w.jobs.get(other["job_id"]).settings.queue is None


def test_2_0_keeps_a_single_task_job_in_its_own_format(w: WorkspaceClient, emu: Emulator) -> None:
    legacy = {
        "name": "nightly etl",
        "existing_cluster_id": "0923-164208-meows279",
        "notebook_task": {"notebook_path": "/Repos/etl/nightly"},
        "libraries": [{"jar": "dbfs:/jars/etl.jar"}],
        "max_retries": 2,
        "timeout_seconds": 600,
    }
    status, created = raw(emu, "POST", "/api/2.0/jobs/create", legacy)
    assert status == 200, created
    job_id = created["job_id"]
    _, job = raw(emu, "GET", "/api/2.0/jobs/get", job_id=job_id)
    settings = job["settings"]
    assert settings["format"] == "SINGLE_TASK"
    assert "tasks" not in settings
    assert settings["notebook_task"]["notebook_path"] == "/Repos/etl/nightly"
    assert (settings["existing_cluster_id"], settings["max_retries"], settings["timeout_seconds"]) == (
        "0923-164208-meows279",
        2,
        600,
    )
    # 2.1 and 2.2 show the same job as one task, in the multi-task format.
    newer = w.jobs.get(job_id).settings
    assert newer.format.value == "MULTI_TASK"
    assert [(t.task_key, t.existing_cluster_id, t.max_retries) for t in newer.tasks] == [
        ("nightly_etl", "0923-164208-meows279", 2)
    ]
    assert newer.tasks[0].libraries[0].jar == "dbfs:/jars/etl.jar"
    assert newer.timeout_seconds == 600
    # 2.0 updates the job in its own format; it stays a single-task job.
    status, _ = raw(emu, "POST", "/api/2.0/jobs/update", {"job_id": job_id, "new_settings": {"max_retries": 5}})
    assert status == 200
    _, job = raw(emu, "GET", "/api/2.0/jobs/get", job_id=job_id)
    assert (job["settings"]["format"], job["settings"]["max_retries"]) == ("SINGLE_TASK", 5)
    # Its runs are single-task runs in 2.0: `task` and `cluster_spec`, no `tasks`.
    run_id = w.jobs.run_now(job_id).response.run_id
    _, run = raw(emu, "GET", "/api/2.0/jobs/runs/get", run_id=run_id)
    assert run["format"] == "SINGLE_TASK"
    assert "tasks" not in run
    assert run["task"] == {"notebook_task": {"notebook_path": "/Repos/etl/nightly", "source": "WORKSPACE"}}
    assert run["cluster_spec"]["existing_cluster_id"] == "0923-164208-meows279"
    assert [t.task_key for t in w.jobs.get_run(run_id).tasks] == ["nightly_etl"]


def test_only_2_0_takes_the_single_task_format(emu: Emulator) -> None:
    body = {"name": "x", "notebook_task": {"notebook_path": "/x"}}
    for version in ("2.1", "2.2"):
        status, error = raw(emu, "POST", f"/api/{version}/jobs/create", body)
        assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
        assert "notebook_task" in error["message"]
    status, error = raw(emu, "POST", "/api/2.0/jobs/create", {**body, "tasks": [{"task_key": "t"}]})
    assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_more_than_100_tasks_need_2_2(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = w.jobs.create(name="big", tasks=[task(f"t{i:03d}") for i in range(130)]).job_id
    for version in ("2.0", "2.1"):
        assert raw(emu, "GET", f"/api/{version}/jobs/get", job_id=job_id) == (
            400,
            {"error_code": "INVALID_PARAMETER_VALUE", "message": TOO_MANY_TASKS},
        )
        tasks = [{"task_key": f"t{i}"} for i in range(101)]
        status, error = raw(emu, "POST", f"/api/{version}/jobs/create", {"name": "big", "tasks": tasks})
        assert (status, error["message"]) == (400, TOO_MANY_TASKS)
    # 2.2 pages them; an array with nothing on a page is left out there.
    _, first = raw(emu, "GET", "/api/2.2/jobs/get", job_id=job_id)
    assert (len(first["settings"]["tasks"]), first["next_page_token"]) == (100, "1")
    assert "has_more" not in first
    _, second = raw(emu, "GET", "/api/2.2/jobs/get", job_id=job_id, page_token=first["next_page_token"])
    assert len(second["settings"]["tasks"]) == 30
    assert "next_page_token" not in second
    run_id = w.jobs.run_now(job_id).response.run_id
    _, run = raw(emu, "GET", "/api/2.2/jobs/runs/get", run_id=run_id)
    assert (len(run["tasks"]), run["next_page_token"]) == (100, "1")
    assert len(w.jobs.get_run(run_id).tasks) == 130  # the SDK follows the pages
    _, listed = raw(emu, "GET", "/api/2.2/jobs/runs/list", job_id=job_id, expand_tasks="true")
    assert (len(listed["runs"][0]["tasks"]), listed["runs"][0]["has_more"]) == (100, True)
    assert raw(emu, "GET", "/api/2.1/jobs/runs/get", run_id=run_id)[1]["message"] == TOO_MANY_TASKS


def test_answers_hold_only_what_the_sdk_models_know(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = w.jobs.create(name="plain", tags={}).job_id
    run_id = w.jobs.run_now(job_id).response.run_id
    _, job = raw(emu, "GET", "/api/2.2/jobs/get", job_id=job_id)
    _, listed = raw(emu, "GET", "/api/2.2/jobs/list", expand_tasks="true")
    _, run = raw(emu, "GET", "/api/2.2/jobs/runs/get", run_id=run_id)
    _, runs = raw(emu, "GET", "/api/2.2/jobs/runs/list", job_id=job_id, expand_tasks="true")
    assert "format" not in run  # runs carry no format in 2.2
    assert "run_as_user_name" not in listed["jobs"][0]  # a listed job is a BaseJob
    assert job["run_as_user_name"] == "emulator-user@example.com"
    assert "tags" not in job["settings"]  # an empty map is left out, as an empty array is
    assert [empty_arrays(answer) for answer in (job, listed, run, runs)] == [[], [], [], []]
    # Older versions still say which format a run has.
    assert raw(emu, "GET", "/api/2.1/jobs/runs/get", run_id=run_id)[1]["format"] == "MULTI_TASK"


def test_listing_limits(w: WorkspaceClient, emu: Emulator) -> None:
    job_id = w.jobs.create(name="j").job_id
    status, error = raw(emu, "GET", "/api/2.1/jobs/list", offset=1025)
    assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert error["message"].startswith("The supplied offset 1025 has exceeded the value of 1000 allowed")
    for _ in range(3):
        w.jobs.run_now(job_id)
    assert len(raw(emu, "GET", "/api/2.2/jobs/runs/list", limit=0)[1]["runs"]) == 3  # 0 asks for the most
    status, error = raw(emu, "GET", "/api/2.2/jobs/runs/list", active_only="true", completed_only="true")
    assert (status, error["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
