"""The requireDeploymentJob gate as a table: only a version whose deployment job run SUCCEEDED passes."""

from __future__ import annotations

import pytest

from controller.kinds.mlmodel import deployment_job
from controller.kinds.mlmodel.deployment_job import DeploymentRun
from controller.kinds.mlmodel.gates import Evidence, judge
from controller.kinds.mlmodel.model import PromotionPolicy

REQUIRED = PromotionPolicy.model_validate({"requireDeploymentJob": True})


def target(run: DeploymentRun | None) -> Evidence:
    return Evidence(8, {}, {}, {}, run)


def run(state: str, task: str = "") -> DeploymentRun:
    return DeploymentRun(job_id="1234", run_id="5678", run_state=state, current_task=task)


@pytest.mark.parametrize(
    ("deployment_run", "passed", "measured", "message"),
    [
        (run("SUCCEEDED"), True, "SUCCEEDED", "deployment job run 5678 succeeded"),
        (None, False, "", "version 8 has no deployment job run"),
        (DeploymentRun("1234", "", "PENDING"), False, "", "version 8 has no deployment job run"),
        (run("PENDING"), False, "PENDING", "run 5678 has not finished (PENDING)"),
        (run("RUNNING", "evaluation"), False, "RUNNING", "has not finished (RUNNING at task evaluation)"),
        (run("APPROVAL", "approval"), False, "APPROVAL", "has not finished (APPROVAL at task approval)"),
        (run("FAILED"), False, "FAILED", "version 8's deployment job run 5678 ended FAILED"),
        (run("NO_VALID_DEPLOYMENT_JOB_FOUND"), False, "NO_VALID_DEPLOYMENT_JOB_FOUND", "ended NO_VALID"),
    ],
)
def test_deployment_job_gate(deployment_run: DeploymentRun | None, passed: bool, measured: str, message: str) -> None:
    [result] = judge(REQUIRED, target(deployment_run), None)
    assert result.gate == "deployment job"
    assert (result.passed, result.measured, result.required) == (passed, measured, "SUCCEEDED")
    assert message in result.message


def test_the_gate_is_judged_only_when_required() -> None:
    assert judge(PromotionPolicy(), target(None), None) == []


def test_all_gates_must_pass_with_the_deployment_job() -> None:
    policy = PromotionPolicy.model_validate({"requireDeploymentJob": True, "requireTags": {"review": "ok"}})
    results = judge(policy, Evidence(8, {"review": "ok"}, {}, {}, run("RUNNING")), None)
    assert [(r.gate, r.passed) for r in results] == [("tag review", True), ("deployment job", False)]


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (None, None),
        ({}, None),
        (
            {
                "job_id": "1234",
                "run_id": "5678",
                "job_state": "CONNECTED",
                "run_state": "RUNNING",
                "current_task_name": "evaluation",
            },
            DeploymentRun("1234", "5678", "RUNNING", "evaluation"),
        ),
        (
            {"job_id": "1234", "job_state": "CONNECTED"},
            DeploymentRun("1234", "", "DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED"),
        ),
    ],
)
def test_the_registry_answer_is_read(raw: dict[str, str] | None, parsed: DeploymentRun | None) -> None:
    assert deployment_job.parse(raw) == parsed
