"""Finalizers only where deleting a resource must call out: deletionPolicy Delete, not ObserveOnly.

A Retain resource deletes at once, even with no controller running; a Delete one waits for the controller,
which deletes its external object first. Changing the policy adds or removes the finalizer.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.mlflow_server import MlflowServer
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

FINALIZER = "mlops.gitops.dev/finalizer"


def test_a_retained_model_deletes_without_the_controller_and_a_deleted_one_waits_for_it(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    kept, disposable = f"{kubectl.namespace}-kept", f"{kubectl.namespace}-disposable"
    kubectl.apply(_model("kept", kept))
    kubectl.apply(_model("disposable", disposable, deletionPolicy="Delete"))
    for name in ("kept", "disposable"):
        kubectl.wait_condition("mlmodel", name)
    assert _finalizers(kubectl, "kept") == []
    assert _finalizers(kubectl, "disposable") == [FINALIZER]

    controller.stop()  # the kubectl fixture starts it again
    kubectl("delete", "mlmodel", "kept", "--timeout=10s")  # nothing holds it
    assert not kubectl.exists("mlmodel", "kept")
    assert client.get_registered_model(kept).name == kept  # Retain: the registered model stays

    kubectl("delete", "mlmodel", "disposable", "--wait=false")
    assert kubectl.get("mlmodel", "disposable")["metadata"].get("deletionTimestamp")  # held by the finalizer
    assert client.search_registered_models(f"name = '{disposable}'")  # nothing deleted it yet

    controller.start()
    wait_until(lambda: not kubectl.exists("mlmodel", "disposable"), timeout=60, what="disposable deleted")
    assert not client.search_registered_models(f"name = '{disposable}'")


def test_switching_the_policies_adds_and_removes_the_finalizer(kubectl: Kubectl, workspace: str) -> None:
    kubectl.apply(_model("switched", f"{kubectl.namespace}-switched", deletionPolicy="Delete"))
    kubectl.wait_condition("mlmodel", "switched")
    _wait_finalizers(kubectl, "switched", [FINALIZER])

    for change, expected in (
        ({"deletionPolicy": "Retain"}, []),
        ({"deletionPolicy": "Delete"}, [FINALIZER]),
        ({"managementPolicy": "ObserveOnly"}, []),  # ObserveOnly never deletes anything
        ({"managementPolicy": "Manage"}, [FINALIZER]),
    ):
        kubectl("patch", "mlmodel", "switched", "--type=merge", "-p", _spec_patch(change))
        _wait_finalizers(kubectl, "switched", expected)

    kubectl("patch", "mlmodel", "switched", "--type=merge", "-p", _spec_patch({"deletionPolicy": "Retain"}))
    _wait_finalizers(kubectl, "switched", [])
    kubectl.wait_condition("mlmodel", "switched")  # still reconciled as before


def test_an_older_finalizer_on_a_retained_model_is_taken_off_when_the_controller_starts(
    kubectl: Kubectl, workspace: str, controller: ControllerProcess
) -> None:
    """The upgrade path: controllers before this one put a finalizer on every resource."""
    controller.stop()
    model = _model("upgraded", f"{kubectl.namespace}-upgraded")
    model["metadata"]["finalizers"] = [FINALIZER]
    kubectl.apply(model)
    assert _finalizers(kubectl, "upgraded") == [FINALIZER]

    controller.start()
    _wait_finalizers(kubectl, "upgraded", [])
    kubectl.wait_condition("mlmodel", "upgraded")
    kubectl("delete", "mlmodel", "upgraded", "--timeout=10s")


def _model(name: str, registered: str, **spec: object) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "mlflow"}, "registeredName": registered, **spec},
    }


def _spec_patch(fields: dict[str, str]) -> str:
    return json.dumps({"spec": fields})


def _finalizers(kubectl: Kubectl, name: str) -> list[str]:
    return list(kubectl.get("mlmodel", name)["metadata"].get("finalizers") or [])


def _wait_finalizers(kubectl: Kubectl, name: str, expected: list[str]) -> None:
    wait_until(
        lambda: _finalizers(kubectl, name) == expected or None,
        timeout=30,
        what=f"mlmodel/{name} finalizers {expected}",
    )


def test_a_pending_delete_given_up_by_switching_to_retain_keeps_the_external_object(
    kubectl: Kubectl, workspace: str, mlflow_server: MlflowServer, controller: ControllerProcess
) -> None:
    client = mlflow.MlflowClient(mlflow_server.url)
    registered = f"{kubectl.namespace}-given-up"
    kubectl.apply(_model("given-up", registered, deletionPolicy="Delete"))
    kubectl.wait_condition("mlmodel", "given-up")
    controller.stop()
    kubectl("delete", "mlmodel", "given-up", "--wait=false")
    kubectl("patch", "mlmodel", "given-up", "--type=merge", "-p", _spec_patch({"deletionPolicy": "Retain"}))

    controller.start()
    wait_until(lambda: not kubectl.exists("mlmodel", "given-up"), timeout=60, what="given-up deleted")
    assert client.get_registered_model(registered).name == registered
