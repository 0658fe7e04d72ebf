"""The README's first command brings everything up, shows every example Ready, and stops everything it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sandbox.cluster import free_loopback_ports
from tests.support import EXAMPLES

pytestmark = pytest.mark.e2e


def test_sandbox_applies_every_example_prints_them_ready_and_stops_everything_on_sigterm(tmp_path: Path) -> None:
    mlflow_port, databricks_port = free_loopback_ports(2)
    work_dir = tmp_path / "sandbox"
    command = [sys.executable, "-m", "sandbox", "--work-dir", str(work_dir)]
    command += ["--mlflow-port", str(mlflow_port), "--databricks-port", str(databricks_port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # until it says it is ready and waits (or ends)
            lines.append(line)
            if "Ctrl-C stops everything." in line:
                break
        output = "".join(lines)
        assert "Ctrl-C stops everything." in output, output
        started = _processes_under(work_dir)
        assert started, "the sandbox's servers run with their state in its work directory"
        # `kill`, `timeout` or a closed terminal: everything it started stops, and the ports are free again.
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0, output + rest
    finally:
        if process.poll() is None:
            process.kill()
        left = _processes_under(work_dir)
        for pid in left:  # never leave them to the next test
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert left == [], "servers left running after SIGTERM"
    for port in (mlflow_port, databricks_port):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    rows = [line.split() for line in output.splitlines() if line.startswith("default ")]
    ready = {row[1]: row for row in rows}
    for document in _example_resources():
        name = f"{document['kind'].lower()}.mlops.gitops.dev/{document['metadata']['name']}"
        assert name in ready, output
        assert ready[name][-3:-1] == ["True", "True"], f"{name} not Ready and Synced: {ready[name]}"
    # The rollout example's endpoint rolled the new version out step by step, and says so in its Rollout column.
    rollout = [line.split(": ", 2)[2] for line in output.splitlines() if "rollout of chargeback-scorer: " in line]
    assert rollout[-1] == "complete v3", output
    assert any(summary.startswith("step ") and "canary v3" in summary for summary in rollout), output
    assert "complete v3" in " ".join(ready["servingendpoint.mlops.gitops.dev/chargeback-scorer"]), output


def _processes_under(work_dir: Path) -> list[int]:
    """Processes whose command line names the work directory (etcd, the API server, MLflow, the controller)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        if str(work_dir) in cmdline:
            found.append(int(entry.name))
    return found


def _example_resources() -> list[dict[str, object]]:
    found = []
    for folder in ("mlflow", "databricks"):
        for path in sorted((EXAMPLES / folder).glob("*.yaml")):
            found += [d for d in yaml.safe_load_all(path.read_text()) if d and d["apiVersion"].startswith("mlops.")]
    return found
