"""A Workspace's failing connection check does not take the resources in it down while their own calls work."""

from __future__ import annotations

import time

import pytest

from sandbox.databricks import Emulator
from tests.e2e.conftest import adopted_model
from tests.support import Kubectl

pytestmark = pytest.mark.e2e

PROBE = "/api/2.0/preview/scim/v2/Me"  # what the Workspace's connection check calls
MODELS = 4
WATCH_SECONDS = 12  # four drift intervals of the test Workspace


def _model(name: str, version: int) -> dict[str, object]:
    return adopted_model(name, f"main.evidence.{name.replace('-', '_')}", champion=version)


def test_resources_keep_reconciling_while_the_workspace_check_fails(
    kubectl: Kubectl, emulator: Emulator, databricks_workspace: str
) -> None:
    names = [f"{kubectl.namespace}-m{i}" for i in range(MODELS)]
    for name in names:
        for version in (1, 2):
            emulator.seed_model_version(f"main.evidence.{name.replace('-', '_')}", source=f"models:/{name}-{version}")
        kubectl.apply(_model(name, 1))
    for name in names:
        kubectl.wait_condition("mlmodel", name)

    emulator.inject_fault(503, path_prefix=PROBE)
    try:
        kubectl.wait_condition("workspace", databricks_workspace, status="False", reason="ConnectionFailed")
        for name in names:  # a promotion while the Workspace's own check keeps failing
            kubectl.apply(_model(name, 2))
        reasons: set[str] = set()
        deadline = time.monotonic() + WATCH_SECONDS
        while time.monotonic() < deadline:
            for name in names:
                reasons.add(kubectl.condition("mlmodel", name, "Ready").get("reason", ""))
            time.sleep(0.5)
        assert "WaitingForWorkspace" not in reasons, reasons
        for name in names:
            obj = kubectl.wait_condition("mlmodel", name)
            assert obj["status"]["aliases"] == {"champion": 2}
        workspace = kubectl.get("workspace", databricks_workspace)["status"]
        assert (workspace["connected"], bool(workspace["lastConnectedAt"])) == (False, True)
    finally:
        emulator.clear_faults()
    kubectl.wait_condition("workspace", databricks_workspace)


def test_a_workspace_that_never_connected_holds_its_resources_back(kubectl: Kubectl, emulator: Emulator) -> None:
    kubectl("create", "secret", "generic", "wrong", "--from-literal=token=dapi-not-a-real-token")
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "dbx"},
            "spec": {"databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "wrong"}}},
        }
    )
    name = f"{kubectl.namespace}-waits"
    kubectl.apply(_model(name, 1))
    kubectl.wait_condition("mlmodel", name, status="False", reason="WaitingForWorkspace")
    assert kubectl.condition("mlmodel", name, "Ready")["message"].startswith("Workspace dbx is not connected")
