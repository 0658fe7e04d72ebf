"""The wiring every kind shares: who follows whom, when a follower is woken, and the typed view of a resource."""

from __future__ import annotations

from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.mlmodel.published import MLMODEL, ModelView
from controller.kinds.mlmodel.published import view as model_view
from controller.kinds.servingendpoint.handlers import KIND as ENDPOINT
from controller.kinds.workspace.lookup import WORKSPACE
from controller.wiring.dependents import DEPENDENTS, Dependents, Waker

UID = "0b6f3c1e-0000-4c4c-9d9d-000000000001"
SINCE = "2026-12-01T10:00:00Z"


class Recording(Waker):
    def __init__(self) -> None:
        super().__init__()
        self.nudged: list[str] = []

    def nudge(self, uid: str) -> None:
        self.nudged.append(uid)


def test_a_changed_entry_wakes_its_followers_once_and_an_unchanged_one_none() -> None:
    waker = Recording()
    dependents = Dependents(waker)
    dependents.follow("endpoint-1", [("mlmodels", "risk", "fraud")])
    dependents.follow("endpoint-2", [("mlmodels", "risk", "other")])
    dependents.publish(("mlmodels", "risk", "fraud"), {"champion": 1})
    dependents.publish(("mlmodels", "risk", "fraud"), {"champion": 1})
    dependents.publish(("mlmodels", "risk", "fraud"), {"champion": 2})
    assert waker.nudged == ["endpoint-1", "endpoint-1"]


def test_a_follower_that_stops_following_or_is_deleted_is_not_woken() -> None:
    waker = Recording()
    dependents = Dependents(waker)
    dependents.follow("a", [("mlmodels", "risk", "fraud")])
    dependents.follow("b", [("mlmodels", "risk", "fraud")])
    dependents.follow("a", [("mlmodels", "risk", "other")])
    dependents.forget("b")
    dependents.publish(("mlmodels", "risk", "fraud"), 1)
    assert waker.nudged == []
    assert dependents.followers(("mlmodels", "risk", "other")) == {"a"}


def _conditions(ready: str, reason: str, generation: int = 1) -> list[dict[str, Any]]:
    return [
        {"type": t, "status": s, "reason": r, "observedGeneration": generation, "lastTransitionTime": SINCE}
        for t, s, r in (("Ready", ready, reason), ("Synced", "True", "Reconciled"))
    ]


def _endpoint(status: dict[str, Any], models: dict[str, ModelView], generation: int = 1) -> Any:
    meta = {"namespace": "risk", "name": "fraud", "uid": UID, "generation": generation}
    spec = {
        "workspaceRef": {"name": "prod"},
        "endpointName": "fraud",
        "servedEntities": [{"name": "main", "modelRef": {"name": "fraud-model", "alias": "champion"}}],
    }
    indices = {
        MLMODEL.index: {("risk", name): [view] for name, view in models.items()},
        WORKSPACE.index: {},
    }
    return ENDPOINT.resource(meta, spec, status, indices)


def _model(version: int) -> ModelView:
    return ModelView(registered_name="main.risk.fraud", aliases={"champion": version}, ready=True, message="")


def test_an_endpoint_is_woken_by_a_promotion_not_by_an_unrelated_change_of_its_model() -> None:
    status = {
        "conditions": _conditions("True", "Reconciled"),
        "servedEntities": [{"name": "main", "desiredVersion": 2}],
    }
    assert not ENDPOINT.woken(_endpoint(status, {"fraud-model": _model(2)}))
    assert ENDPOINT.woken(_endpoint(status, {"fraud-model": _model(3)}))


def test_a_waiting_resource_is_woken_by_any_change_of_what_it_follows() -> None:
    status = {"conditions": _conditions("False", "WaitingForDependency"), "servedEntities": []}
    assert ENDPOINT.woken(_endpoint(status, {}))


def test_the_typed_view_reads_status_through_the_kinds_model_and_knows_what_was_applied() -> None:
    status = {
        "conditions": _conditions("True", "Reconciled", generation=1),
        "servedEntities": [{"name": "main", "desiredVersion": 2}],
        "appliedGeneration": 1,
    }
    applied = _endpoint(status, {}, generation=1)
    assert applied.status.applied_generation == 1
    assert applied.status.served_entities[0].desired_version == 2
    assert not applied.spec_changed
    assert _endpoint(status, {}, generation=2).spec_changed
    assert applied.owner == "risk/fraud"


def test_a_status_field_the_model_cannot_read_is_left_out_and_the_rest_kept() -> None:
    resource = _endpoint({"servedEntities": "not a list", "appliedGeneration": 4, "configAttempt": "g4-ab"}, {})
    assert resource.status.served_entities == []
    assert (resource.status.applied_generation, resource.status.config_attempt) == (4, "g4-ab")


def test_the_published_model_entry_comes_from_the_typed_status() -> None:
    status = {"aliases": {"champion": 3}, "conditions": _conditions("False", "WaitingForModelVersion")}
    entry = model_view({"registeredName": "main.risk.fraud"}, status)
    assert entry == ModelView("main.risk.fraud", {"champion": 3}, False, "WaitingForModelVersion")


def test_a_generation_counts_as_applied_from_status_and_from_synced_for_older_statuses() -> None:
    synced_at_1 = {"conditions": _conditions("True", "Reconciled", generation=1)}
    assert not _endpoint({**synced_at_1, "appliedGeneration": 1}, {}, generation=1).spec_changed
    assert _endpoint({**synced_at_1, "appliedGeneration": 1}, {}, generation=2).spec_changed
    waiting = _conditions("False", "WaitingForModelVersion", generation=2)
    # Synced=True while waiting, but the generation is not applied in full
    assert _endpoint({"conditions": waiting, "appliedGeneration": 1}, {}, generation=2).spec_changed
    assert not _endpoint(synced_at_1, {}, generation=1).spec_changed  # written before appliedGeneration existed


def test_a_nudged_follower_reads_the_entry_just_published_not_the_lagging_index() -> None:
    key = ("mlmodels", "risk", "fraud-model")
    DEPENDENTS.publish(key, _model(7))
    try:
        resource = _endpoint({"servedEntities": []}, {"fraud-model": _model(6)})
        assert resource.find(MLMODEL, "fraud-model") == _model(7)
    finally:
        DEPENDENTS.withdraw(key)
    assert resource.find(MLMODEL, "fraud-model") == _model(6)


def test_a_workspace_that_cannot_be_used_is_the_outcome_of_a_reconcile_and_a_retry_of_a_delete() -> None:
    resource = _endpoint({"servedEntities": []}, {})  # its Workspace "prod" does not exist
    outcome = ENDPOINT.run(resource)
    assert (outcome.ready.reason, outcome.retry_after) == ("WaitingForWorkspace", 10.0)
    deleting = ENDPOINT.resource(
        {"namespace": "risk", "name": "fraud", "uid": UID},
        {"workspaceRef": {"name": "prod"}, "endpointName": "fraud", "deletionPolicy": "Delete",
         "servedEntities": [{"name": "main", "entityName": "main.risk.fraud", "entityVersion": 1}]},
        {},
        {WORKSPACE.index: {}},
    )  # fmt: skip
    with pytest.raises(errors.Unavailable, match="Workspace prod does not exist"):
        ENDPOINT.remove(deleting)
