"""The README's first command brings everything up and shows every example Ready."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sandbox.cluster import free_loopback_ports
from tests.support import EXAMPLES

pytestmark = pytest.mark.e2e


def test_sandbox_applies_every_example_and_prints_them_ready(tmp_path: Path) -> None:
    mlflow_port, databricks_port = free_loopback_ports(2)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--once",
            "--work-dir",
            str(tmp_path / "sandbox"),
            "--mlflow-port",
            str(mlflow_port),
            "--databricks-port",
            str(databricks_port),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("default ")]
    ready = {row[1]: row for row in rows}
    for document in _example_resources():
        name = f"{document['kind'].lower()}.mlops.gitops.dev/{document['metadata']['name']}"
        assert name in ready, result.stdout
        assert ready[name][-3:-1] == ["True", "True"], f"{name} not Ready and Synced: {ready[name]}"
    # The rollout example's endpoint rolled the new version out step by step, and says so in its Rollout column.
    rollout = [
        line.split(": ", 2)[2] for line in result.stdout.splitlines() if "rollout of chargeback-scorer: " in line
    ]
    assert rollout[-1] == "complete v3", result.stdout
    assert any(summary.startswith("step ") and "canary v3" in summary for summary in rollout), result.stdout
    assert "complete v3" in " ".join(ready["servingendpoint.mlops.gitops.dev/chargeback-scorer"]), result.stdout


def _example_resources() -> list[dict[str, object]]:
    found = []
    for folder in ("mlflow", "databricks"):
        for path in sorted((EXAMPLES / folder).glob("*.yaml")):
            found += [d for d in yaml.safe_load_all(path.read_text()) if d and d["apiVersion"].startswith("mlops.")]
    return found
