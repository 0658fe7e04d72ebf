"""The liveness probe fails when the watch goes silent (a stalled connection), and recovers with it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from tests.e2e.conftest import workspace_manifest
from tests.e2e.stall_proxy import StallProxy
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

SILENCE_SECONDS = 6


def test_liveness_fails_while_the_watch_is_stalled(
    kubectl: Kubectl, controller: ControllerProcess, mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    controller.stop()  # the kubectl fixture starts it again
    workspace = workspace_manifest("lively", mlflow_server.url)
    workspace["spec"]["driftInterval"] = "1s"  # type: ignore[index]
    kubectl.apply(workspace)

    config = yaml.safe_load(controller.kubeconfig.read_text())
    server = urllib.parse.urlsplit(config["clusters"][0]["cluster"]["server"])
    with StallProxy((server.hostname or "127.0.0.1", server.port or 443)) as proxy:
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
        proxied = tmp_path / "proxied.kubeconfig"
        proxied.write_text(json.dumps(config))
        args = ["-n", kubectl.namespace, "--watch-silence-seconds", str(SILENCE_SECONDS)]
        with ControllerProcess(kubeconfig=proxied, log_path=tmp_path / "controller.log", args=args) as watched:
            kubectl.wait_condition("workspace", "lively", timeout=60)
            healthz = f"http://127.0.0.1:{watched.health_port}/healthz"
            wait_until(lambda: _status(healthz) == 200, timeout=30, what="healthy")

            proxy.stall()
            wait_until(lambda: _status(healthz) == 500, timeout=60, what="liveness failing while stalled")
            assert "no watch events for Workspace" in watched.log()

            proxy.resume()
            wait_until(lambda: _status(healthz) == 200, timeout=60, what="liveness recovered")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0
