"""examples/ci/plan.yaml's plan step and its gate, run as GitHub runs them (`bash -e` in the checkout), on the
examples laid out as deploy/, against the emulator and a real MLflow server with the runner's credentials only.

mlopsctl comes from this virtualenv (tests/unit/test_ci_example.py proves the install step on its own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.examples import copy_examples
from sandbox.mlflow_server import MlflowServer
from tests.support import REPO
from tests.unit.test_ci_example import Checkout

pytestmark = pytest.mark.e2e

WORKFLOW = REPO / "examples" / "ci" / "plan.yaml"
GATE = "fail when no plan could be made"


def _steps() -> dict[str, dict[str, Any]]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["plan"]["steps"]
    return {step.get("id") or step.get("name") or step.get("run", ""): step for step in steps}


def _checkout(tmp: Path, emulator: Emulator, mlflow_server: MlflowServer, token: str) -> Checkout:
    """The examples as the user's deploy/, pointing at the local services; the step's env as CI sets it."""
    folder = tmp / "repository"
    copy_examples(
        folder / "deploy",
        "mlflow",
        "databricks",
        mlflow_url=mlflow_server.url,
        databricks_url=emulator.url,
        token=None,  # the Secret as the examples have it: the plan connects with the runner's credentials
    )
    outputs = {"GITHUB_OUTPUT": tmp / "output", "GITHUB_STEP_SUMMARY": tmp / "summary"}
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DATABRICKS_TOKEN": token,
        "MLFLOW_TRACKING_TOKEN": "",
        "HOME": str(tmp),  # no ~/.databrickscfg of the machine's
        **{name: str(path) for name, path in outputs.items()},
    }
    for name in ("DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE"):
        env.pop(name, None)
    return Checkout(folder, env, [], [])


def _exit_code(tmp: Path) -> str:
    lines = (tmp / "output").read_text().splitlines()
    return next(line.split("=", 1)[1] for line in lines if line.startswith("exit-code="))


def _gate(checkout: Checkout, code: str) -> int:
    step = _steps()[GATE]["run"].replace("${{ steps.plan.outputs.exit-code }}", code)
    return checkout.run(step).returncode


@pytest.fixture
def empty_workspaces(tmp_path: Path) -> Iterator[tuple[Emulator, MlflowServer]]:
    """A workspace and an MLflow server of their own: the shared ones hold what other tests applied from the
    examples (then owned by those tests' resources), and this test plans for a team that starts from nothing."""
    with Emulator() as emulator, MlflowServer(work_dir=tmp_path / "mlflow") as mlflow_server:
        yield emulator, mlflow_server


def test_the_plan_step_comments_the_changes_and_writes_nothing(
    empty_workspaces: tuple[Emulator, MlflowServer], tmp_path: Path
) -> None:
    emulator, mlflow_server = empty_workspaces
    checkout = _checkout(tmp_path, emulator, mlflow_server, DEFAULT_TOKEN)
    writes = emulator.counters()["writes"]
    result = checkout.run(_steps()["plan"]["run"])
    (tmp_path / "plan.md").write_text((checkout.folder / "plan.md").read_text())
    assert result.returncode == 0, result.stderr
    assert emulator.counters()["writes"] == writes
    assert _exit_code(tmp_path) == "2"  # the examples' resources do not exist yet
    comment = (checkout.folder / "plan.md").read_text()
    assert comment.startswith("### mlopsctl plan\n")
    assert "**Plan: " in comment
    assert "`ServingEndpoint default/fraud-detector`" in comment
    assert comment == (tmp_path / "summary").read_text()
    assert _gate(checkout, "2") == 0
    assert any("gh pr comment" in step.get("run", "") for step in _steps().values())


def test_refused_credentials_fail_the_check_after_the_comment_without_showing_them(
    emulator: Emulator, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    wrong = "dapi" + "0" * 32
    checkout = _checkout(tmp_path, emulator, mlflow_server, wrong)
    result = checkout.run(_steps()["plan"]["run"])
    assert result.returncode == 0, result.stderr  # the comment step still runs
    assert _exit_code(tmp_path) == "1"
    comment = (checkout.folder / "plan.md").read_text()
    assert "cannot be applied" in comment
    assert "ConnectionFailed" in comment
    assert wrong not in comment + result.stderr + result.stdout
    assert _gate(checkout, "1") != 0
