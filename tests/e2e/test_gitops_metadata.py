"""What Argo CD writes to metadata never triggers work; only spec changes do."""

from __future__ import annotations

import time

import pytest

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

QUIET_SECONDS = 8  # long enough for any reconcile a metadata change would cause; drift (1h) is far away


def test_tracking_annotations_and_labels_cause_no_external_call(kubectl: Kubectl, emulator: Emulator) -> None:
    kubectl("create", "secret", "generic", "dbx-quiet", f"--from-literal=token={DEFAULT_TOKEN}")
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "quiet"},
            "spec": {
                "databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "dbx-quiet"}},
                "driftInterval": "1h",
            },
        }
    )
    kubectl.wait_condition("workspace", "quiet")
    registered = f"main.{kubectl.namespace.replace('-', '_')}.quiet"
    emulator.seed_model_version(registered, source="models:/m-quiet", run_id="run-quiet")
    model = {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": "quiet"},
        "spec": {"workspaceRef": {"name": "quiet"}, "registeredName": registered, "adopt": True},
    }
    kubectl.apply(model)
    kubectl.wait_condition("mlmodel", "quiet")
    generation = kubectl.get("mlmodel", "quiet")["metadata"]["generation"]

    calls_for_model = "/api/2.0/mlflow/unity-catalog/registered-models/get"
    time.sleep(2)
    emulator.reset_counters()
    kubectl("annotate", "mlmodel", "quiet", "argocd.argoproj.io/tracking-id=app:mlops.gitops.dev/MLModel:x/quiet")
    kubectl("label", "mlmodel", "quiet", "app.kubernetes.io/instance=app")
    time.sleep(QUIET_SECONDS)
    assert emulator.counters(prefix=calls_for_model)["reads"] == 0
    obj = kubectl.get("mlmodel", "quiet")
    assert obj["metadata"]["generation"] == generation
    assert obj["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"].endswith("/quiet")  # never rewritten

    # The positive control: a spec change does reach the workspace.
    model["spec"]["description"] = "changed"
    kubectl.apply(model)
    wait_until(lambda: emulator.counters(prefix=calls_for_model)["reads"] > 0, timeout=30, what="a reconcile")
    kubectl.wait_condition("mlmodel", "quiet")
    spec = kubectl.get("mlmodel", "quiet")["spec"]
    defaults = {"deletionPolicy": "Retain", "managementPolicy": "Manage", "permissionsMode": "Listed"}  # the CRD's
    assert spec == {**model["spec"], **defaults}  # spec never written
