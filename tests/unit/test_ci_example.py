"""examples/ci/validate-manifests.yaml works as copied: its `run:` steps, in order, in a fresh virtualenv,
in a folder laid out like the user's repository (manifests under deploy/).

The one difference from the workflow: it installs mlopsctl from this project's repository at a release
(`git+https://github.com/OWNER/mlops-gitops-controller@TAG`); the test installs a copy of the checkout under
test instead. That is the same source at this commit, which no remote holds yet, and a test reaches no
GitHub. The runtime dependencies come from the package index as in CI, so this test needs the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import REPO
from tests.unit.test_wheel import source_copy

WORKFLOW = REPO / "examples" / "ci" / "validate-manifests.yaml"
REMOTE = "git+https://github.com/OWNER/mlops-gitops-controller@TAG"
INSTALL_SECONDS = 900  # a cold pip install of the runtime dependencies


@dataclass(frozen=True)
class Checkout:
    """The user's repository in CI, with the workflow's environment."""

    folder: Path
    env: dict[str, str]
    steps: list[str]
    results: list[subprocess.CompletedProcess[str]]

    def run(self, step: str) -> subprocess.CompletedProcess[str]:
        # GitHub runs each `run:` with `bash -e {0}` in the checkout.
        return subprocess.run(
            ["bash", "-e", "-c", step],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=INSTALL_SECONDS,
            check=False,
        )


def run_steps(tmp: Path) -> list[str]:
    steps = [step["run"] for step in yaml.safe_load(WORKFLOW.read_text())["jobs"]["validate"]["steps"] if "run" in step]
    local = f"file://{source_copy(tmp)}"
    assert sum(REMOTE in step for step in steps) == 1, "the workflow installs mlopsctl from the repository once"
    return [step.replace(REMOTE, local) for step in steps]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Checkout:
    """The workflow's steps run once, in order, on the examples as deploy/."""
    tmp = tmp_path_factory.mktemp("ci")
    steps = run_steps(tmp)
    venv = tmp / "venv"  # what actions/setup-python gives: a Python with pip, nothing else installed
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
    env.pop("PYTHONPATH", None)
    folder = tmp / "repository"
    for example in ("mlflow", "databricks"):
        shutil.copytree(REPO / "examples" / example, folder / "deploy" / example)
    ran = Checkout(folder, env, steps, [])
    ran.results.extend(ran.run(step) for step in steps)
    return ran


def test_every_step_succeeds_on_valid_manifests(checkout: Checkout) -> None:
    for step, result in zip(checkout.steps, checkout.results, strict=True):
        assert result.returncode == 0, f"{step}\n{result.stdout}\n{result.stderr}"
    installed = shutil.which("mlopsctl", path=checkout.env["PATH"])
    assert installed is not None
    assert installed.startswith(checkout.env["VIRTUAL_ENV"])


def test_the_check_fails_naming_the_field(checkout: Checkout) -> None:
    bad = checkout.folder / "deploy" / "mlflow" / "mlmodel.yaml"
    bad.write_text(bad.read_text().replace("champion: 2", "latest: 2"))
    result = checkout.run(checkout.steps[-1])
    assert result.returncode == 1
    assert "deploy/mlflow/mlmodel.yaml:" in result.stderr
    assert "spec.aliases: alias names 'latest' and 'v<number>' are reserved by MLflow" in result.stderr
