"""When a resource waits for its Workspace: only until the Workspace has connected once."""

from __future__ import annotations

from typing import Any

import pytest

from controller.kinds.workspace.lookup import view, waiting

SPEC = {"mlflow": {"trackingUri": "http://mlflow:5000"}}
SINCE = "2026-12-01T10:00:00Z"


def _status(connected: bool, **fields: Any) -> dict[str, Any]:
    ready = {"type": "Ready", "status": str(connected), "reason": "x", "message": "probe timed out"}
    return {"connected": connected, "conditions": [{**ready, "lastTransitionTime": SINCE}], **fields}


@pytest.mark.parametrize(
    ("status", "waits"),
    [
        (_status(True, lastConnectedAt=SINCE), False),
        (_status(False), True),  # never connected: nothing in it can work yet
        (_status(False, lastConnectedAt=SINCE), False),  # connected before: a failing check is not a gate
        (_status(True), False),  # written before lastConnectedAt existed
    ],
    ids=["connected", "never-connected", "check-failing-after-connecting", "older-status"],
)
def test_a_resource_waits_only_for_a_workspace_that_never_connected(status: dict[str, Any], waits: bool) -> None:
    outcome = waiting("prod", view(SPEC, status))
    assert (outcome is not None) == waits
    if outcome is not None:
        assert (outcome.ready.reason, outcome.ready.message) == (
            "WaitingForWorkspace",
            "Workspace prod is not connected: probe timed out",
        )


def test_a_missing_or_invalid_workspace_is_waited_for() -> None:
    assert waiting("prod", None) is not None
    invalid = view({"mlflow": {}, "databricks": {}}, _status(True, lastConnectedAt=SINCE))
    outcome = waiting("prod", invalid)
    assert outcome is not None
    assert "invalid spec" in outcome.ready.message
