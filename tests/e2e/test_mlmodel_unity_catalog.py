"""MLModel on Unity Catalog through a Databricks Workspace: versions made by training, aliases from Git."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e


def test_uc_model_adopted_aliases_managed_and_drift_corrected(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    schema = kubectl.namespace.replace("-", "_")
    name = f"main.{schema}.fraud"
    first = emulator.seed_model_version(name, source="models:/m-first", run_id="run-first")
    second = emulator.seed_model_version(name, source="models:/m-second", run_id="run-second")

    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "MLModel",
            "metadata": {"name": "fraud"},
            "spec": {
                "workspaceRef": {"name": databricks_workspace},
                "registeredName": name,
                "adopt": True,
                "description": "Card-fraud classifier",
                "tags": {"team": "risk"},
                "versions": [{"name": "nov", "source": {"run": {"runId": "run-second"}}}],
                "aliases": {"champion": "nov", "challenger": first},
            },
        }
    )
    status = kubectl.wait_condition("mlmodel", "fraud")["status"]
    assert status["aliases"] == {"champion": second, "challenger": first}
    assert status["latestVersion"] == second
    assert status["versions"] == [{"name": "nov", "version": second, "status": "READY", "message": ""}]
    model = w.registered_models.get(name, include_aliases=True)
    assert model.comment == "Card-fraud classifier"
    assert {a.alias_name: a.version_num for a in model.aliases or []} == {"champion": second, "challenger": first}

    w.registered_models.set_alias(name, "champion", first)  # someone promotes by hand
    wait_until(
        lambda: (
            {
                a.alias_name: a.version_num for a in w.registered_models.get(name, include_aliases=True).aliases or []
            }.get("champion")
            == second
        ),
        timeout=30,
        what="champion moved back",
    )


def test_uc_version_not_yet_registered_waits(kubectl: Kubectl, databricks_workspace: str, emulator: Emulator) -> None:
    schema = kubectl.namespace.replace("-", "_")
    name = f"main.{schema}.pending"
    emulator.seed_schema(f"main.{schema}")
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "MLModel",
            "metadata": {"name": "pending"},
            "spec": {
                "workspaceRef": {"name": databricks_workspace},
                "registeredName": name,
                "versions": [{"name": "next", "source": {"run": {"runId": "run-next"}}}],
                "aliases": {"champion": "next"},
                "deletionPolicy": "Delete",
            },
        }
    )
    kubectl.wait_condition("mlmodel", "pending", status="False", reason="WaitingForModelVersion")
    version = emulator.seed_model_version(name, source="models:/m-next", run_id="run-next")
    obj = kubectl.wait_condition("mlmodel", "pending", timeout=60)
    assert obj["status"]["aliases"] == {"champion": version}

    kubectl("delete", "mlmodel", "pending", "--timeout=30s")
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    assert name not in {m.full_name for m in w.registered_models.list(catalog_name="main", schema_name=schema)}
