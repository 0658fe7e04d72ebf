"""A rollout's analysis with a job check (an MLJob run per step) on the real API server, the emulator behind the SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.jobs import RunResultState

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import adopted_model, rolling_endpoint
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

RUN_NOW = "POST /api/2.2/jobs/run-now"
CONFIG_WRITES = "PUT /api/2.0/serving-endpoints/{name}/config"
RUN_SECONDS = 4.0  # how long each emulated job run stays RUNNING: long enough to restart the controller inside it
HANG_SECONDS = 3.0  # how long Databricks holds the first run-now before it starts the run
POLICY: dict[str, object] = {
    "steps": [{"traffic": 20}, {"analysis": {}}, {"traffic": 60}, {"analysis": {}}],
    "analysis": {
        "interval": "1s",
        "count": 1,
        "metrics": [
            {"name": "errors", "endpointMetric": "error_rate", "max": 0.01},
            {"name": "offline-eval", "jobRef": {"name": "fraud-eval"}},
        ],
    },
    "onFailure": "Rollback",
}


def evaluation_job(name: str) -> dict[str, object]:
    """MLJob `fraud-eval`: the offline evaluation a rollout runs, declaring the parameters the check passes."""
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLJob",
        "metadata": {"name": "fraud-eval"},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "settings": {
                "name": name,
                "parameters": [{"name": "model", "default": ""}, {"name": "version", "default": ""}],
                "tasks": [
                    {
                        "task_key": "evaluate",
                        "spark_python_task": {
                            "python_file": "/Workspace/Repos/risk/fraud/evaluate.py",
                            "parameters": ["{{job.parameters.model}}", "{{job.parameters.version}}"],
                        },
                    }
                ],
            },
            "deletionPolicy": "Delete",
        },
    }


@pytest.fixture
def slow_runs(emulator: Emulator) -> Iterator[None]:
    before = emulator.timings.run_running
    emulator.set_timings(run_running=RUN_SECONDS)
    yield
    emulator.set_timings(run_running=before)
    emulator.set_run_result("SUCCESS")


@pytest.mark.usefixtures("slow_runs")
def test_the_job_check_runs_once_per_step_across_a_restart_and_a_failed_run_aborts(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, controller: ControllerProcess
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.fraud"
    name = f"{ns}-fraud"
    for _ in range(3):
        emulator.seed_model_version(model, source="models:/m", run_id="run")
    kubectl.apply(evaluation_job(f"{ns}-fraud-eval"))
    job_id = kubectl.wait_condition("mljob", "fraud-eval", timeout=60)["status"]["jobId"]
    kubectl.apply(adopted_model("fraud", model, champion=1))
    kubectl.apply(rolling_endpoint(name, POLICY))
    kubectl.wait_condition("servingendpoint", "fraud", timeout=60)

    # A good version. The first analysis's run-now is held by Databricks; the controller dies waiting for the
    # answer, so the run id never reaches the status. The restarted controller asks again with the same
    # idempotency token and gets that same run: one run per analysis step.
    emulator.reset_counters()
    emulator.inject_fault("hang", count=1, path_prefix=RUN_NOW.split()[1], method="POST", seconds=HANG_SECONDS)
    kubectl.apply(adopted_model("fraud", model, champion=2))
    wait_until(lambda: emulator.counters()["calls"].get(RUN_NOW), timeout=60, what="the first analysis's run-now")
    controller.kill()
    assert not _job_run_ids(kubectl)
    controller.start()
    wait_until(lambda: _rollout(kubectl).get("phase") == "Completed", timeout=120, what="version 2 complete")
    assert emulator.counters()["calls"].get(RUN_NOW) == 3  # the held one, the same again after the restart, step 2
    runs = list(w.jobs.list_runs(job_id=job_id))
    assert len(runs) == 2, runs
    for run in runs:
        assert run.run_id is not None
        parameters = {p.name: p.value for p in w.jobs.get_run(run.run_id).job_parameters or []}
        assert parameters == {"model": model, "version": "2"}
        assert run.state is not None
        assert run.state.result_state == RunResultState.SUCCESS
    passed = [e for e in kubectl.events("fraud") if e["reason"] == "AnalysisPassed"]
    assert len(passed) == 2, passed

    # A version whose evaluation run fails: aborted at the first analysis, back on version 2 in one update.
    emulator.set_run_result("FAILED")
    emulator.reset_counters()
    kubectl.apply(adopted_model("fraud", model, champion=3))
    aborted = kubectl.wait_condition("servingendpoint", "fraud", status="False", reason="RolloutAborted", timeout=60)
    wait_until(lambda: _split(w, name) == {"champion": ("2", 100)}, timeout=30, what="traffic back on version 2")
    counted = emulator.counters()["calls"]
    assert (counted.get(RUN_NOW), counted.get(CONFIG_WRITES)) == (1, 2)  # the 20% split, then the rollback
    rollout = aborted["status"]["rollout"]
    assert (rollout["phase"], rollout["step"], rollout["summary"]) == (
        "Aborted",
        1,
        "aborted: offline-eval run FAILED",
    )
    failed_run = rollout["analysis"]["jobRunIds"]["offline-eval"]
    assert {p.name: p.value for p in w.jobs.get_run(failed_run).job_parameters or []} == {
        "model": model,
        "version": "3",
    }
    ready = next(c for c in aborted["status"]["conditions"] if c["type"] == "Ready")
    assert "check offline-eval: the job run ended FAILED" in ready["message"]
    events = [e for e in kubectl.events("fraud") if e["reason"] == "RolloutAborted"]
    assert any("offline-eval" in e["message"] for e in events), events

    # The evaluation is fixed and the spec changed: version 3 rolls out again with new runs, not the failed one.
    emulator.set_run_result("SUCCESS")
    emulator.reset_counters()
    kubectl.apply(rolling_endpoint(name, {**POLICY, "onFailure": "Pause"}))
    wait_until(lambda: _rollout(kubectl).get("phase") == "Completed", timeout=120, what="version 3 complete")
    assert emulator.counters()["calls"].get(RUN_NOW) == 2
    assert _split(w, name) == {"champion": ("3", 100)}
    kubectl("delete", "servingendpoints", "--all", "--timeout=60s")


def _rollout(kubectl: Kubectl) -> dict[str, Any]:
    return dict((kubectl.get("servingendpoint", "fraud").get("status") or {}).get("rollout") or {})


def _job_run_ids(kubectl: Kubectl) -> dict[str, int]:
    return dict((_rollout(kubectl).get("analysis") or {}).get("jobRunIds") or {})


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
