"""The controller's metrics and liveness endpoints listen where `--bind-address` says (the sandbox: loopback)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from sandbox.controller_process import ControllerProcess
from tests.support import wait_until

pytestmark = pytest.mark.e2e

LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
ANY = "00000000"
LISTEN = "0A"


def _listening(port: int) -> set[str]:
    """The local IPv4 addresses with a socket listening on `port`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        address, hex_port = fields[1].split(":")
        if int(hex_port, 16) == port and fields[3] == LISTEN:
            found.add(address)
    return found


def test_the_sandbox_controller_listens_on_loopback_only(controller: ControllerProcess) -> None:
    for port in (controller.metrics_port, controller.health_port):
        wait_until(lambda port=port: _listening(port), timeout=60, what=f"a listener on port {port}")
        assert _listening(port) == {LOOPBACK}, port
    with urllib.request.urlopen(f"http://127.0.0.1:{controller.metrics_port}/metrics", timeout=10) as response:
        assert b"mlops_reconciles_total" in response.read()


def test_all_interfaces_when_asked(kubeconfig: Path, tmp_path: Path) -> None:
    args = ["-n", "no-such-namespace", "--bind-address", "0.0.0.0"]  # noqa: S104 -- what the chart uses
    with ControllerProcess(kubeconfig=kubeconfig, log_path=tmp_path / "controller.log", args=args) as anywhere:
        wait_until(lambda: _listening(anywhere.metrics_port), timeout=60, what="the metrics listener")
        assert _listening(anywhere.metrics_port) == {ANY}
