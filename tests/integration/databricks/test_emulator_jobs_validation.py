"""What the Jobs API refuses, through the real SDK: Quartz cron syntax, Java time-zone ids, negative limits."""

from __future__ import annotations

import re

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue
from databricks.sdk.service.jobs import CronSchedule, NotebookTask, Task

pytestmark = pytest.mark.integration
CRON_HELP = (
    "Databricks uses Quartz cron syntax, which is different from the standard cron syntax. "
    "See http://www.quartz-scheduler.org/documentation/quartz-2.1.x/tutorials/crontrigger.html for more details."
)


def schedule(w: WorkspaceClient, cron: str, timezone: str = "UTC") -> int | None:
    return w.jobs.create(name="s", schedule=CronSchedule(quartz_cron_expression=cron, timezone_id=timezone)).job_id


def task(**limits: int) -> Task:
    return Task(task_key="t", notebook_task=NotebookTask(notebook_path="/t"), **limits)


@pytest.mark.parametrize(
    "cron",
    [
        "0 0 3 ? * MON",
        "0 0/5 14,18 * * ?",
        "0 15 10 L * ?",
        "0 15 10 LW * ?",
        "0 15 10 L-3 * ?",
        "0 0 12 15W * ?",
        "0 15 10 ? * 6#3",
        "0 15 10 ? * 6L",
        "0 0 3 ? JAN-MAR,NOV MON-FRI 2030-2040",
        "*/10 * * * * ?",
    ],
)
def test_quartz_expressions_are_taken(w: WorkspaceClient, cron: str) -> None:
    job_id = schedule(w, cron)
    assert w.jobs.get(job_id).settings.schedule.quartz_cron_expression == cron


@pytest.mark.parametrize(
    "cron",
    [
        "0 30 2,7,11,15 * * *",  # both day fields given: Quartz wants '?' in one of them
        "0 3 * * ?",  # standard five-field cron
        "0 0 3 ? * MON * extra",  # eight fields
        "60 0 3 * * ?",  # seconds run to 59
        "0 0 24 * * ?",  # hours run to 23
        "0 0 3 32 * ?",  # days of the month run to 31
        "0 0 3 ? 13 *",  # months run to 12
        "0 0 3 ? * 8",  # days of the week run to 7
        "0 0 3 ? * FUNDAY",
        "0 0 3 ? * MON#6",  # at most the fifth Monday
        "? 0 3 * * *",  # '?' only in a day field
        "0 0/0 3 * * ?",  # an increment of nothing
        "0 0 3 * * ? 1969",  # years run from 1970
        "@daily",
    ],
)
def test_other_expressions_are_refused_as_databricks_words_it(w: WorkspaceClient, cron: str) -> None:
    with pytest.raises(InvalidParameterValue) as refused:
        schedule(w, cron)
    assert str(refused.value) == f"Invalid quartz_cron_expression: {cron}. {CRON_HELP}"


def test_an_expression_whose_years_are_over_never_fires(w: WorkspaceClient) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape("The provided cron expression: 0 1 0 8 Apr ? 2021 will")):
        schedule(w, "0 1 0 8 Apr ? 2021")


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Berlin", "America/Los_Angeles", "US/Eastern", "PST", "IST"])
def test_java_time_zone_ids_are_taken(w: WorkspaceClient, timezone: str) -> None:
    assert w.jobs.get(schedule(w, "0 0 3 * * ?", timezone)).settings.schedule.timezone_id == timezone


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Europe/Berln", "utc", "+02:00"])
def test_other_time_zones_are_refused(w: WorkspaceClient, timezone: str) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(f"Invalid timezone_id: {timezone}.")):
        schedule(w, "0 0 3 * * ?", timezone)


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"timeout_seconds": -1}, "timeout_seconds"),
        ({"tasks": [task(timeout_seconds=-5)]}, "tasks[0].timeout_seconds"),
        ({"tasks": [task(max_retries=-2)]}, "tasks[0].max_retries"),
        ({"tasks": [task(min_retry_interval_millis=-1)]}, "tasks[0].min_retry_interval_millis"),
    ],
)
def test_negative_limits_are_refused(w: WorkspaceClient, settings: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameterValue, match=f"Invalid value for {re.escape(field)}: -"):
        w.jobs.create(name="limits", **settings)  # type: ignore[arg-type]


def test_max_retries_minus_one_retries_without_limit(w: WorkspaceClient) -> None:
    job_id = w.jobs.create(name="forever", tasks=[task(max_retries=-1)]).job_id
    assert w.jobs.get(job_id).settings.tasks[0].max_retries == -1
