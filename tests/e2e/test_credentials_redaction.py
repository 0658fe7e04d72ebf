"""No credential leaves the controller: distinctive values in every credential field of a Workspace's
Secret drive every failure path we can reach, then status, Events, logs and metrics are searched for them.

Client ids and MLflow usernames are planted too but not searched for: they name who connects, and the
Workspace shows them as its identity.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator
from sandbox.mlflow_server import MlflowServer
from tests.e2e.refusing_server import RefusingServer
from tests.support import Kubectl, scrape_metrics, wait_until

pytestmark = pytest.mark.e2e


def _canary(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:12]}"


def _basic(user: str, secret: str) -> str:
    return base64.b64encode(f"{user}:{secret}".encode()).decode()


@dataclass(frozen=True)
class Planted:
    """This run's credentials: PATs shaped like Databricks', the rest shaped like nothing."""

    pat: str = field(default_factory=lambda: f"dapi{uuid.uuid4().hex}")
    unreachable_pat: str = field(default_factory=lambda: f"dapi{uuid.uuid4().hex}")
    wrong_pat: str = field(default_factory=lambda: f"dapi{uuid.uuid4().hex}")
    rotated_pat: str = field(default_factory=lambda: f"dapi{uuid.uuid4().hex}")
    client_id: str = field(default_factory=lambda: _canary("sp-id"))
    client_secret: str = field(default_factory=lambda: _canary("sp-secret"))
    wrong_client_secret: str = field(default_factory=lambda: _canary("sp-wrong-secret"))
    mlflow_username: str = field(default_factory=lambda: _canary("mlflow-user"))
    mlflow_password: str = field(default_factory=lambda: _canary("mlflow-password"))
    mlflow_token: str = field(default_factory=lambda: _canary("mlflow-token"))
    mlflow_newline_token: str = field(default_factory=lambda: _canary("mlflow-newline-token"))

    def searched(self) -> dict[str, str]:
        """Every secret, and the HTTP Basic headers that carry one."""
        values = {name: value for name, value in vars(self).items() if name not in ("client_id", "mlflow_username")}
        return values | {
            "mlflow basic header": _basic(self.mlflow_username, self.mlflow_password),
            "oauth basic header": _basic(self.client_id, self.client_secret),
            "wrong oauth basic header": _basic(self.client_id, self.wrong_client_secret),
        }


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _workspaces(
    planted: Planted, emulator: str, mlflow: str, refusing: str
) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    """Workspace name → (its connection spec, its Secret's data): one failure path or newline case each."""
    unreachable = f"http://127.0.0.1:{_closed_port()}"
    return {
        "pat-newline": ({"databricks": {"host": emulator}}, {"token": planted.pat + "\n"}),
        "wrong-pat-newline": ({"databricks": {"host": emulator}}, {"token": planted.wrong_pat + "\n"}),
        "wrong-host": ({"databricks": {"host": mlflow}}, {"token": planted.pat}),
        "unreachable-host": ({"databricks": {"host": unreachable}}, {"token": planted.unreachable_pat}),
        "oauth-refused": (
            {"databricks": {"host": emulator}},
            {"client_id": planted.client_id, "client_secret": planted.wrong_client_secret},
        ),
        "oauth-newline": (
            {"databricks": {"host": emulator}},
            {"client_id": planted.client_id + "\n", "client_secret": planted.client_secret + "\n"},
        ),
        "mlflow-basic-refused": (
            {"mlflow": {"trackingUri": refusing}},
            {"username": planted.mlflow_username, "password": planted.mlflow_password},
        ),
        "mlflow-token-refused": ({"mlflow": {"trackingUri": refusing}}, {"token": planted.mlflow_token}),
        "mlflow-token-newline": ({"mlflow": {"trackingUri": mlflow}}, {"token": planted.mlflow_newline_token + "\n"}),
        "rotated": ({"databricks": {"host": emulator}}, {"token": planted.pat}),
    }


def _apply(kubectl: Kubectl, name: str, connection: dict[str, Any], data: dict[str, str]) -> None:
    encoded = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    kubectl.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": encoded})
    ((kind, settings),) = connection.items()
    spec = {kind: {**settings, "credentialsSecretRef": {"name": name}}, "driftInterval": "2s"}
    kubectl.apply(
        {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": "Workspace", "metadata": {"name": name}, "spec": spec}
    )


def _checked(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    """The Workspace once a check has written its Ready condition for the current generation."""
    obj = kubectl.get("workspace", name)
    ready = kubectl.condition("workspace", name, "Ready")
    return obj if ready.get("observedGeneration") == obj["metadata"]["generation"] else None


def _events(kubectl: Kubectl, name: str, reason: str) -> list[dict[str, Any]]:
    return [event for event in kubectl.events(name) if event.get("reason") == reason]


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_credential_reaches_status_events_logs_or_metrics(
    log_format: str,
    kubectl: Kubectl,
    controller: ControllerProcess,
    emulator: Emulator,
    mlflow_server: MlflowServer,
    tmp_path: Path,
) -> None:
    controller.stop()  # this test's controller runs with its log format; the kubectl fixture restarts this one
    planted = Planted()
    emulator.add_token(planted.pat)
    emulator.add_token(planted.unreachable_pat)
    emulator.add_oauth_client(planted.client_id, planted.client_secret)
    args = ["-n", kubectl.namespace, "--log-format", log_format]
    log_path = tmp_path / "controller.log"
    with (
        RefusingServer() as refusing,
        ControllerProcess(kubeconfig=controller.kubeconfig, log_path=log_path, args=args) as ours,
    ):
        workspaces = _workspaces(planted, emulator.url, mlflow_server.url, refusing.url)
        for name, (connection, data) in workspaces.items():
            _apply(kubectl, name, connection, data)
        for name in workspaces:  # the unreachable host takes the SDK's whole retry budget, twice
            wait_until(partial(_checked, kubectl, name), timeout=120, what=f"the first check of Workspace {name}")

        # A connected Workspace whose token is rotated to a refused one says why in a Warning Event.
        kubectl.wait_condition("workspace", "rotated")
        wrong = base64.b64encode(f"{planted.rotated_pat}\n".encode()).decode()
        kubectl("patch", "secret", "rotated", "-p", json.dumps({"data": {"token": wrong}}))
        kubectl.wait_condition("workspace", "rotated", status="False", timeout=60)
        wait_until(lambda: _events(kubectl, "rotated", "ConnectionFailed"), timeout=30, what="the failure's Event")

        # A resource in it fails on its own calls, and its delete fails and is retried by kopf.
        model = {"workspaceRef": {"name": "rotated"}, "registeredName": "main.leak.model", "deletionPolicy": "Delete"}
        kubectl.apply(
            {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": "MLModel", "metadata": {"name": "m"}, "spec": model}
        )
        kubectl.wait_condition("mlmodel", "m", status="False", timeout=60)
        kubectl("delete", "mlmodel", "m", "--wait=false")
        kubectl.wait_condition("mlmodel", "m", status="False", reason="DeleteFailed", timeout=60)

        sinks = {
            "resources": kubectl("get", "mlops", "-o", "yaml").stdout,
            "events": kubectl("get", "events", "-o", "yaml").stdout,
            "metrics": wait_until(lambda: scrape_metrics(ours.metrics_port), timeout=30, what="the metrics endpoint"),
        }
        kubectl("patch", "mlmodel", "m", "--type=merge", "-p", '{"metadata": {"finalizers": null}}')
    sinks[f"{log_format} log"] = ours.log()

    leaks = [
        f"{what} in {sink}"
        for sink, text in sinks.items()
        for what, value in planted.searched().items()
        if value in text
    ]
    assert not leaks, f"credentials found: {', '.join(leaks)}"
    refused = kubectl.condition("workspace", "mlflow-token-refused", "Ready")["message"]
    assert "Authorization: Bearer ***" in refused  # the refusing server's echo, masked
    assert "Authorization: Basic ***" in sinks[f"{log_format} log"]
    if log_format == "json":
        assert any(line.startswith("{") and json.loads(line).get("message") for line in ours.log().splitlines())

    # Whitespace around a credential is not part of it: it connects, and a Warning Event says so.
    for name, identity in [("pat-newline", "emulator-user@example.com"), ("oauth-newline", planted.client_id)]:
        assert kubectl.get("workspace", name)["status"]["identity"] == identity
    assert kubectl.get("workspace", "mlflow-token-newline")["status"]["connected"] is True
    for name in ("pat-newline", "wrong-pat-newline", "oauth-newline", "mlflow-token-newline"):
        notice = wait_until(
            partial(_events, kubectl, name, "CredentialsNormalized"), timeout=30, what=f"{name}'s notice"
        )
        assert notice[0]["type"] == "Warning"
        assert "surrounding whitespace" in notice[0]["message"]
    for name in ("wrong-pat-newline", "wrong-host", "unreachable-host", "oauth-refused", "mlflow-basic-refused"):
        assert kubectl.condition("workspace", name, "Ready")["status"] == "False"
