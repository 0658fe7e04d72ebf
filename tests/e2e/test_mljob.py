"""MLJobs against the Databricks emulator through the real SDK: the example, drift, runs, faults, call costs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.jobs import JobSettings

from controller.clients.databricks import HTTP_TIMEOUT_SECONDS
from controller.kinds.mljob.reconcile import UID_TAG
from controller.reconciling.ownership import MANAGED_BY_TAG, OWNER_TAG
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import DRIFT_INTERVAL
from tests.support import EXAMPLES, Kubectl, Timeout, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = float(DRIFT_INTERVAL.removesuffix("s"))
JOBS_API = "/api/2.2/jobs"


def test_example_job_follows_git_corrects_drift_and_runs_once_per_change(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    example = (EXAMPLES / "databricks/mljob.yaml").read_text()
    kubectl.apply(example)
    mljob = kubectl.wait_condition("mljob", "fraud-retrain")
    job_id = mljob["status"]["jobId"]
    first_run = mljob["status"]["lastRun"]["runId"]

    row = kubectl("get", "mljobs", "fraud-retrain", "--no-headers").stdout.split()
    assert row[:2] == ["fraud-retrain", str(job_id)], row
    assert mljob["status"]["url"] == f"{emulator.url}/jobs/{job_id}"
    settings = w.jobs.get(job_id).settings
    assert settings is not None
    assert settings.tags == {
        "team": "risk",
        OWNER_TAG: f"{kubectl.namespace}/fraud-retrain",
        MANAGED_BY_TAG: "mlops-gitops-controller",
        UID_TAG: mljob["metadata"]["uid"],
    }
    assert _run_count(w, job_id) == 1  # runOnChange: the creation is the first change

    # Someone edits the job in the UI: a setting the spec sets, and one it leaves to the server.
    w.jobs.update(job_id, new_settings=JobSettings(max_concurrent_runs=5, timeout_seconds=600))
    wait_until(
        lambda: _settings(w, job_id).max_concurrent_runs == 1 and _settings(w, job_id).timeout_seconds == 0,
        timeout=3 * DRIFT_SECONDS,
        what="the job put back",
    )
    events = wait_until(
        lambda: [e for e in kubectl.events("fraud-retrain") if e["reason"] == "DriftCorrected"],
        timeout=10,
        what="a DriftCorrected event",
    )
    assert f"reset job {job_id}" in events[0]["message"]
    assert _run_count(w, job_id) == 1  # putting drift back is no spec change: no run

    # A change in Git: the job is reset and exactly one more run starts.
    kubectl.apply(example.replace("fraud/train.py", "fraud/train_v2.py"))
    wait_until(
        lambda: any(
            t.spark_python_task and t.spark_python_task.python_file.endswith("train_v2.py")
            for t in _settings(w, job_id).tasks or []
        ),
        timeout=20,
        what="the new train.py path in the job",
    )
    kubectl.wait_condition("mljob", "fraud-retrain")
    finished = wait_until(
        lambda: _last_run_if_finished(kubectl, "fraud-retrain", after=first_run),
        timeout=30,
        what="the run on change to finish",
    )
    assert finished["result"] == "SUCCESS"
    assert _run_count(w, job_id) == 2
    assert "TERMINATED" in kubectl("get", "mljobs", "fraud-retrain").stdout

    # deletionPolicy Delete: the job goes with the resource.
    kubectl("delete", "mljob", "fraud-retrain", "--timeout=30s")
    with pytest.raises(NotFound):
        w.jobs.get(job_id)


def test_jobs_converge_under_faults_then_cost_one_read_per_drift_interval(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    policies = {"keep": "Retain", "drop": "Delete", "other": "Delete"}
    # 30% of Jobs API calls fail: 15% with 429, and 15% of all (0.15 / 0.85 of the rest) with 503.
    emulator.inject_fault(429, probability=0.15, path_prefix=JOBS_API)
    emulator.inject_fault(503, probability=0.15 / 0.85, path_prefix=JOBS_API)
    try:
        for name, policy in policies.items():
            kubectl.apply(_mljob(name, f"{kubectl.namespace}-{name}", deletionPolicy=policy))
        ready = {name: kubectl.wait_condition("mljob", name, timeout=90) for name in policies}
    finally:
        emulator.clear_faults()

    for name, mljob in ready.items():
        tagged = [j.job_id for j in w.jobs.list() if _tags(j.settings).get(UID_TAG) == mljob["metadata"]["uid"]]
        assert tagged == [mljob["status"]["jobId"]], f"{name}: jobs {tagged}"

    # Steady state. A window just under N intervals holds at most N due times of a resource.
    intervals = 3
    resources = len(kubectl("get", "mljobs", "-A", "--no-headers").stdout.splitlines())
    emulator.reset_counters()
    time.sleep(intervals * DRIFT_SECONDS - 0.5)
    counters = emulator.counters(prefix=JOBS_API)
    print(f"steady state over {intervals} drift intervals, {resources} MLJobs: {counters}")
    assert counters["writes"] == 0, counters
    assert counters["reads"] <= intervals * resources, counters
    assert counters["calls"].get(f"GET {JOBS_API}/list", 0) >= len(policies), counters  # the drift checks did run

    kubectl("delete", "mljob", "keep", "drop", "other", "--timeout=30s")
    assert w.jobs.get(ready["keep"]["status"]["jobId"]).job_id == ready["keep"]["status"]["jobId"]
    for name in ("drop", "other"):
        with pytest.raises(NotFound):
            w.jobs.get(ready[name]["status"]["jobId"])


def test_creates_carried_out_after_the_client_gave_up_leave_one_job_per_mljob(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    """A create that outlives the client's timeout is sent again, and the first one still makes a job, after the
    look for duplicates that follows the create. A drift check finds that job by its uid tag and deletes it."""
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    names = [f"late-{i}" for i in range(5)]
    hang = HTTP_TIMEOUT_SECONDS + 5  # lands after the re-sent create has been answered and looked after
    emulator.inject_fault("hang", seconds=hang, count=len(names), path_prefix=f"{JOBS_API}/create")
    try:
        for name in names:
            kubectl.apply(_mljob(name, f"{kubectl.namespace}-{name}", deletionPolicy="Delete"))
        for name in names:
            kubectl.wait_condition("mljob", name, timeout=90)
    finally:
        emulator.clear_faults()

    seen: dict[str, dict[str, Any]] = {}

    def one_job_each() -> bool:
        tagged = _jobs_by_uid(w)
        for name in names:
            mljob = kubectl.get("mljob", name)
            seen[name] = {
                "jobId": mljob["status"]["jobId"],
                "tagged": tagged.get(mljob["metadata"]["uid"], []),
                "removed": [e for e in kubectl.events(name) if e["reason"] == "DuplicateRemoved"],
            }
        return all(s["tagged"] == [s["jobId"]] and s["removed"] for s in seen.values())

    try:
        wait_until(one_job_each, timeout=hang + 10 * DRIFT_SECONDS, what="one job per MLJob, its duplicate removed")
    except Timeout as exc:
        jobs = {name: found["tagged"] for name, found in seen.items()}
        raise AssertionError(f"{exc}; jobs per MLJob: {jobs}") from None
    for name, found in seen.items():
        event = found["removed"][0]
        assert event["type"] == "Warning", event
        assert f"a duplicate of job {found['jobId']}" in event["message"], (name, event)


def test_invalid_settings_are_refused_at_apply_or_with_databricks_message(
    kubectl: Kubectl, databricks_workspace: str
) -> None:
    reserved = _mljob("reserved", "reserved", tags={"mlops.gitops.dev/owner": "someone/else"})
    refused = kubectl.apply(reserved, check=False)
    assert refused.returncode != 0
    assert "set by the controller" in refused.stderr

    broken = _mljob("broken", f"{kubectl.namespace}-broken")
    broken["spec"]["settings"]["tasks"][0]["depends_on"] = [{"task_key": "missing"}]
    kubectl.apply(broken)
    mljob = kubectl.wait_condition("mljob", "broken", status="False", reason="ExternalRejected")
    ready = next(c for c in mljob["status"]["conditions"] if c["type"] == "Ready")
    assert "depends on missing, which does not exist" in ready["message"]
    assert kubectl.condition("mljob", "broken", "Synced")["status"] == "False"
    kubectl("delete", "mljob", "broken", "--timeout=30s")


def _mljob(name: str, job_name: str, *, tags: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "name": job_name,
        "tasks": [{"task_key": "score", "notebook_task": {"notebook_path": "/Repos/risk/score"}}],
        "max_concurrent_runs": 1,
    }
    if tags:
        settings["tags"] = tags
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLJob",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "dbx"}, "settings": settings, **spec},
    }


def _settings(w: WorkspaceClient, job_id: int) -> JobSettings:
    settings = w.jobs.get(job_id).settings
    assert settings is not None
    return settings


def _tags(settings: JobSettings | None) -> dict[str, str]:
    return dict(settings.tags or {}) if settings else {}


def _jobs_by_uid(w: WorkspaceClient) -> dict[str, list[int]]:
    """Every job's id under the resource uid it is tagged with."""
    found: dict[str, list[int]] = {}
    for job in w.jobs.list():
        uid = _tags(job.settings).get(UID_TAG)
        if uid is not None and job.job_id is not None:
            found.setdefault(uid, []).append(job.job_id)
    return found


def _run_count(w: WorkspaceClient, job_id: int) -> int:
    return len(list(w.jobs.list_runs(job_id=job_id)))


def _last_run_if_finished(kubectl: Kubectl, name: str, *, after: int) -> dict[str, Any] | None:
    """The resource's last run once it is a newer run than `after` and has finished."""
    last = (kubectl.get("mljob", name).get("status") or {}).get("lastRun") or {}
    return last if last.get("runId", after) != after and last.get("state") == "TERMINATED" else None
