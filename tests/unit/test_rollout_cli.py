"""`mlopsctl rollout status` as a person reads it: from fixture ServingEndpoints, what each phase prints."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller.cli import main
from controller.rollout_cli import command, render

NOW = datetime(2026, 12, 1, 10, 0, 42, tzinfo=UTC).timestamp()
POLICY = {
    "steps": [{"traffic": 10}, {"pause": "30s"}, {"analysis": {}}, {"traffic": 50}, {"analysis": {}}],
    "analysis": {
        "interval": "30s",
        "count": 3,
        "metrics": [
            {"name": "errors", "endpointMetric": "error_rate", "max": 0.01},
            {"name": "smoke", "jobRef": {"name": "smoke-test"}},
        ],
    },
}
ROLLING = {
    "phase": "Progressing",
    "entity": "champion",
    "stableVersion": 6,
    "canaryVersion": 7,
    "canaryEntity": "champion-canary",
    "step": 1,
    "steps": 5,
    "canaryWeight": 10,
    "stepStartedAt": "2026-12-01T10:00:00.000Z",
    "summary": "step 2/5 canary v7 10%",
}


def endpoint(rollout: dict[str, Any] | None = None, *, policy: dict[str, Any] | None = POLICY) -> dict[str, Any]:
    spec: dict[str, Any] = {"endpointName": "fraud-detector"}
    if policy is not None:
        spec["rollout"] = copy.deepcopy(policy)
    return {
        "metadata": {"name": "fraud", "namespace": "risk"},
        "spec": spec,
        "status": {"rollout": rollout} if rollout is not None else {},
    }


def shown(obj: dict[str, Any]) -> str:
    return render.text(render.view(obj), now=NOW)


def field(text: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(f"{label}:"))


def step_states(text: str) -> list[str]:
    lines = text.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("STEP"))) + 1 :]
    return [line.split()[-1] for line in table[: len(POLICY["steps"])]]


def test_a_rollout_in_progress_shows_where_it_stands_and_the_steps() -> None:
    assert shown(endpoint(ROLLING)) == (
        "Name:           fraud\n"
        "Namespace:      risk\n"
        "Endpoint:       fraud-detector\n"
        "Phase:          Progressing\n"
        "Summary:        step 2/5 canary v7 10%\n"
        "Entity:         champion\n"
        "Stable:         version 6\n"
        "Canary:         version 7 (served entity champion-canary)\n"
        "Canary weight:  10%\n"
        "Step:           2/5, started 42s ago\n"
        "\n"
        "STEP  ACTION                                              STATE\n"
        "1     traffic 10%                                         done\n"
        "2     pause 30s                                           current\n"
        "3     analysis: 3 measurements every 30s (errors, smoke)  pending\n"
        "4     traffic 50%                                         pending\n"
        "5     analysis: 3 measurements every 30s (errors, smoke)  pending\n"
    )


def test_an_abort_names_the_failing_metric_with_its_value_and_limit() -> None:
    aborted = ROLLING | {
        "phase": "Aborted",
        "step": 2,
        "canaryWeight": 0,
        "analysis": {
            "taken": 2,
            "passes": 1,
            "failures": 1,
            "measurements": [
                {"metric": "errors", "value": 0.05, "limit": "<= 0.01", "passed": False},
                {"metric": "smoke", "limit": "SUCCESS"},
            ],
            "jobRunIds": {"smoke": 42},
        },
        "message": "rolled back to version 6: analysis failed at step 3: check errors measured 0.05 (limit <= 0.01)",
        "summary": "aborted: error_rate 0.05 > 0.01",
        "lastAction": "retry:1f2e",
    }
    text = shown(endpoint(aborted))
    assert field(text, "Phase") == "Aborted"
    assert field(text, "Failed check") == "errors (error_rate) measured 0.05, limit <= 0.01"
    assert field(text, "Message").startswith("rolled back to version 6")
    assert field(text, "Canary weight") == "0%"
    assert field(text, "Last action") == "retry:1f2e"
    assert step_states(text) == ["done", "done", "aborted", "pending", "pending"]
    assert text.endswith(
        "Analysis of step 3 (2 taken: 1 passed, 1 failed, 0 without data; needs 3, tolerates 0 failed and 3 without"
        " data)\n"
        "METRIC  VALUE             LIMIT    PASSED\n"
        "errors  0.05              <= 0.01  NO\n"
        "smoke   running (run 42)  SUCCESS  -\n"
    )


def test_a_failed_job_check_is_the_reason_of_its_abort() -> None:
    measurements = [{"metric": "smoke", "result": "FAILED", "limit": "SUCCESS", "passed": False}]
    aborted = ROLLING | {"phase": "Aborted", "step": 2, "analysis": {"measurements": measurements, "jobRunIds": {}}}
    text = shown(endpoint(aborted))
    assert field(text, "Failed check") == "smoke: the job run ended FAILED"
    assert "smoke   FAILED  SUCCESS  NO" in text.splitlines()


def test_an_abort_without_a_failing_measurement_says_why_from_the_summary() -> None:
    aborted = ROLLING | {"phase": "Aborted", "summary": "aborted: deployment failed", "message": "rolled back"}
    assert field(shown(endpoint(aborted)), "Failed check") == "deployment failed"


def test_a_paused_rollout_marks_its_step_paused_and_says_what_it_waits_for() -> None:
    paused = ROLLING | {
        "phase": "Paused",
        "step": 2,
        "message": "paused for a person (promote, abort or retry): analysis inconclusive",
        "analysis": {"taken": 4, "inconclusive": 4, "measurements": [{"metric": "errors", "limit": "<= 0.01"}]},
    }
    text = shown(endpoint(paused))
    assert step_states(text) == ["done", "done", "paused", "pending", "pending"]
    assert field(text, "Message") == "paused for a person (promote, abort or retry): analysis inconclusive"
    assert "errors  no data  <= 0.01  -" in text.splitlines()


def test_a_completed_rollout_has_every_step_done() -> None:
    done = ROLLING | {"phase": "Completed", "step": 5, "canaryWeight": 100, "summary": "complete v7"}
    text = shown(endpoint(done))
    assert field(text, "Step") == "5/5 (complete)"
    assert step_states(text) == ["done"] * 5
    assert "Analysis" not in text


def test_the_final_config_deploying_counts_every_step_done() -> None:
    final = ROLLING | {"step": 5, "stepStartedAt": None}
    text = shown(endpoint(final))
    assert field(text, "Step") == "5/5 done; sending all the entity's traffic to version 7"
    assert step_states(text) == ["done"] * 5


def test_a_step_whose_split_is_still_deploying_has_no_start_time() -> None:
    text = shown(endpoint(ROLLING | {"step": 3, "stepStartedAt": None}))
    assert field(text, "Step") == "4/5 (its traffic split is being deployed)"


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(endpoint(None, policy=None), "none (spec.rollout is not set)", id="no-policy"),
        pytest.param(endpoint(None), "none (no new version has been rolled out yet)", id="not-started"),
    ],
)
def test_no_rollout_says_why(obj: dict[str, Any], expected: str) -> None:
    text = shown(obj)
    assert field(text, "Rollout") == expected
    assert "STEP" not in text


def test_a_spec_changed_since_the_start_is_pointed_out() -> None:
    shorter = POLICY | {"steps": POLICY["steps"][:3]}
    text = shown(endpoint(ROLLING, policy=shorter))
    assert "(spec.rollout now has 3 steps; this rollout started with 5)" in text.splitlines()


def test_an_unreadable_status_is_a_warning_not_a_traceback() -> None:
    text = shown(endpoint({"phase": "Sideways", "entity": "champion"}))
    assert field(text, "Rollout") == "none (no new version has been rolled out yet)"
    assert any(line.startswith("Warning: status.rollout does not parse:") for line in text.splitlines())


@pytest.mark.parametrize(
    ("action", "phase", "acts"),
    [
        ("promote", "Progressing", True),
        ("promote", "Paused", True),
        ("promote", "Aborted", True),
        ("promote", "Completed", False),
        ("abort", "Progressing", True),
        ("abort", "Paused", True),
        ("abort", "Aborted", False),
        ("abort", "Completed", False),
        ("retry", "Progressing", False),
        ("retry", "Paused", True),
        ("retry", "Aborted", True),
        ("retry", "Completed", False),
    ],
)
def test_an_action_is_sent_only_where_the_controller_acts_on_it(action: str, phase: str, acts: bool) -> None:
    moot = command.moot(action, render.view(endpoint(ROLLING | {"phase": phase})))
    assert (moot == "") is acts
    if not acts:
        assert moot.startswith(f"the rollout is {phase}, and {action} applies to a rollout that is ")


def test_an_action_without_a_rollout_is_refused() -> None:
    assert command.moot("abort", render.view(endpoint(None))).startswith("no rollout has started")
    assert command.moot("promote", render.view(endpoint(None, policy=None))) == "spec.rollout is not set"


def test_an_unknown_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rollout", "pause", "fraud"])
    assert exited.value.code == 2
    assert "invalid choice: 'pause'" in capsys.readouterr().err


def test_a_kubeconfig_that_cannot_be_used_is_an_error_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = f"{tmp_path}/nowhere.kubeconfig"
    assert main(["rollout", "status", "fraud", "--kubeconfig", missing]) == command.ERROR
    assert capsys.readouterr().err.startswith(f"mlopsctl rollout: cannot use kubeconfig {missing}")
