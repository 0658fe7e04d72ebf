"""Workspaces connect with credentials from Secrets, say who the controller is, and follow rotation."""

from __future__ import annotations

import base64

import pytest

from sandbox.databricks import Emulator
from tests.support import Kubectl

pytestmark = pytest.mark.e2e


def test_databricks_pat_workspace_reports_identity(kubectl: Kubectl, databricks_workspace: str) -> None:
    status = kubectl.get("workspace", databricks_workspace)["status"]
    assert status["connected"] is True
    assert status["identity"] == "emulator-user@example.com"


def test_oauth_m2m_and_secret_rotation_without_restart(kubectl: Kubectl, emulator: Emulator) -> None:
    emulator.add_oauth_client("sp-rotating", "first-secret")
    kubectl(
        "create",
        "secret",
        "generic",
        "sp",
        "--from-literal=client_id=sp-rotating",
        "--from-literal=client_secret=wrong",
    )
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "sp"},
            "spec": {
                "databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "sp"}},
                "driftInterval": "2s",
            },
        }
    )
    failed = kubectl.wait_condition("workspace", "sp", status="False", timeout=60)
    assert "wrong" not in str(failed["status"])  # the secret never shows in status

    fixed = base64.b64encode(b"first-secret").decode()
    kubectl("patch", "secret", "sp", "-p", f'{{"data": {{"client_secret": "{fixed}"}}}}')
    ready = kubectl.wait_condition("workspace", "sp", timeout=60)
    assert ready["status"]["identity"] == "sp-rotating"


def test_missing_secret_is_reported(kubectl: Kubectl, emulator: Emulator) -> None:
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "nosecret"},
            "spec": {"databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "absent"}}},
        }
    )
    obj = kubectl.wait_condition("workspace", "nosecret", status="False", reason="CredentialsMissing")
    ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
    assert "absent" in ready["message"]
