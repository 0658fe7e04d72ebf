"""Events as a user reads them with `kubectl describe`: from the controller, and one per waiting state.

A resource that waits is reconciled again every few seconds until what it waits for appears; its
Ready condition says why at each look, and one Event marks the moment it started waiting.
"""

from __future__ import annotations

from typing import Any

import pytest

from controller.reconciling.ownership import CONTROLLER_NAME
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

API = "mlops.gitops.dev/v1alpha1"
LOOKS = 3  # reconciles seen while waiting before the Events are counted
WAIT_SECONDS = 90.0  # WaitingForWorkspace is looked at every 10 s: three looks take about 30 s

WAITING: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("mlmodel", "unversioned"): (
        "WaitingForModelVersion",
        {
            "kind": "MLModel",
            "spec": {"workspaceRef": {"name": "mlflow"}, "registeredName": "{ns}-unversioned", "aliases": {"a": 7}},
        },
    ),
    ("mlmodel", "homeless"): (
        "WaitingForWorkspace",
        {"kind": "MLModel", "spec": {"workspaceRef": {"name": "nowhere"}, "registeredName": "{ns}-homeless"}},
    ),
    ("servingendpoint", "orphan"): (
        "WaitingForDependency",
        {
            "kind": "ServingEndpoint",
            "spec": {
                "workspaceRef": {"name": "dbx"},
                "endpointName": "{ns}-orphan",
                "servedEntities": [{"name": "main", "modelRef": {"name": "missing", "alias": "champion"}}],
            },
        },
    ),
}


def test_a_waiting_resource_posts_one_event_from_the_controller(
    kubectl: Kubectl, workspace: str, databricks_workspace: str
) -> None:
    ns = kubectl.namespace
    for (_, name), (_, manifest) in WAITING.items():
        spec = {
            key: value.replace("{ns}", ns) if isinstance(value, str) else value
            for key, value in manifest["spec"].items()
        }
        kubectl.apply({"apiVersion": API, "kind": manifest["kind"], "metadata": {"name": name}, "spec": spec})

    for (kind, name), (reason, _) in WAITING.items():
        kubectl.wait_condition(kind, name, status="False", reason=reason)
        _looked_at_while_waiting(kubectl, kind, name, reason)

    for (_, name), (reason, _) in WAITING.items():
        events = kubectl.events(name)
        waiting = [e for e in events if e["reason"] == reason]
        assert len(waiting) == 1, (name, waiting)
        assert waiting[0]["type"] == "Normal"
        assert {(e["source"].get("component"), e.get("reportingComponent")) for e in events} == {
            (CONTROLLER_NAME, CONTROLLER_NAME)
        }, name

    # `kubectl describe` shows the source in its From column.
    described = kubectl("describe", "mlmodel", "homeless").stdout
    rows = [line.split() for line in described.split("\nEvents:", 1)[1].splitlines()]
    assert [row[3] for row in rows if row[1:2] == ["WaitingForWorkspace"]] == [CONTROLLER_NAME]


def _looked_at_while_waiting(kubectl: Kubectl, kind: str, name: str, reason: str) -> None:
    """Wait until the resource was reconciled LOOKS times (a new lastObservedAt each), still waiting."""
    seen: set[str] = set()

    def looked() -> bool:
        obj = kubectl.get(kind, name)
        ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
        assert ready["reason"] == reason
        seen.add(obj["status"]["lastObservedAt"])
        return len(seen) >= LOOKS

    wait_until(looked, timeout=WAIT_SECONDS, interval=0.5, what=f"{kind}/{name} looked at {LOOKS} times")
