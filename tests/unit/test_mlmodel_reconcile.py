"""The MLModel reconcile over an in-memory registry: each case names the behaviour it pins down."""

from __future__ import annotations

from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.mlmodel import reconcile as r
from controller.kinds.mlmodel.model import MLModelSpec
from controller.reconciling import ownership as own
from tests.unit.fake_registry import FakeRegistry

OWNER = "risk/fraud"
OURS = {own.OWNER_TAG: OWNER, own.MANAGED_BY_TAG: own.CONTROLLER_NAME}


def spec(**fields: Any) -> MLModelSpec:
    return MLModelSpec.model_validate({"workspaceRef": {"name": "w"}, "registeredName": "fraud", **fields})


def run(registry: FakeRegistry, model: MLModelSpec, *, spec_changed: bool = True) -> r.Outcome:
    return r.reconcile(model, registry=registry, request=r.Request(owner=OWNER, spec_changed=spec_changed))


def test_creates_model_with_ownership_tags_description_and_tags() -> None:
    registry = FakeRegistry()
    outcome = run(registry, spec(description="d", tags={"team": "risk"}))
    model = registry.models["fraud"]
    assert (model.description, model.tags["team"], model.tags[own.OWNER_TAG]) == ("d", "risk", OWNER)
    assert outcome.ready.ok
    assert outcome.ready.reason == "Reconciled"
    assert [n.reason for n in outcome.notes] == ["Created"]


def test_second_reconcile_writes_nothing() -> None:
    registry = FakeRegistry()
    model = spec(
        description="d",
        tags={"team": "risk"},
        versions=[{"name": "a", "source": {"modelId": "m-1"}}],
        aliases={"champion": "a"},
    )
    run(registry, model)
    registry.writes.clear()
    outcome = run(registry, model, spec_changed=False)
    assert registry.writes == []
    assert outcome.notes == ()
    assert outcome.drift_corrections == 0


@pytest.mark.parametrize(
    ("seeded", "adopt", "reason", "writes"),
    [
        ({own.OWNER_TAG: "other/model"}, True, "OwnedByAnother", []),
        ({}, False, "AdoptionRequired", []),
    ],
    ids=["owned-by-another-cr", "unowned-without-adopt"],
)
def test_refuses_models_it_may_not_take(seeded: dict[str, str], adopt: bool, reason: str, writes: list[str]) -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=1, tags=seeded)
    outcome = run(registry, spec(adopt=adopt, aliases={"champion": 1}))
    assert (outcome.ready.ok, outcome.ready.reason) == (False, reason)
    assert outcome.synced.ok  # nothing failed: the user must decide
    assert registry.writes == writes


def test_adopts_unowned_model_when_asked() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=2)
    outcome = run(registry, spec(adopt=True, aliases={"champion": 2}))
    assert outcome.ready.ok
    assert registry.models["fraud"].tags[own.OWNER_TAG] == OWNER
    assert registry.models["fraud"].aliases == {"champion": 2}
    assert "Adopted" in [n.reason for n in outcome.notes]


def test_alias_moved_out_of_band_is_corrected_as_drift() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=2, tags=OURS, aliases={"champion": 1})
    outcome = run(registry, spec(aliases={"champion": 2}), spec_changed=False)
    assert registry.models["fraud"].aliases == {"champion": 2}
    assert outcome.drift_corrections == 1
    assert [n.message for n in outcome.notes if n.reason == "DriftCorrected"] == [
        "pointed alias champion at version 2 (was 1)"
    ]


def test_alias_move_after_spec_change_is_an_update_not_drift() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=2, tags=OURS, aliases={"champion": 1})
    outcome = run(registry, spec(aliases={"champion": 2}), spec_changed=True)
    assert outcome.drift_corrections == 0
    assert [n.reason for n in outcome.notes] == ["Updated"]


def test_removes_only_aliases_and_tags_it_set() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=2, tags=OURS)
    run(registry, spec(tags={"a": "1", "b": "2"}, aliases={"champion": 1, "challenger": 2}))
    registry.set_alias("fraud", "candidate", 2)  # set by a training pipeline
    registry.set_tag("fraud", "owner-team", "ml")
    run(registry, spec(tags={"a": "1"}, aliases={"champion": 1}))
    model = registry.models["fraud"]
    assert model.aliases == {"champion": 1, "candidate": 2}
    assert "b" not in model.tags
    assert model.tags["owner-team"] == "ml"


def test_versions_found_by_fingerprint_are_not_registered_again() -> None:
    registry = FakeRegistry()
    model = spec(versions=[{"name": "a", "source": {"modelId": "m-1"}}, {"name": "b", "source": {"modelId": "m-2"}}])
    run(registry, model)
    run(registry, model)
    run(registry, spec(versions=[{"name": "renamed", "source": {"modelId": "m-1"}}]))
    assert [v.source for v in registry.versions["fraud"]] == ["models:/m-1", "models:/m-2"]


def test_version_registered_by_training_from_the_same_source_is_adopted() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", tags=OURS)
    registry.versions["fraud"].append(r.ObservedVersion(version=1, status="READY", source="models:/m-1", run_id=None))
    outcome = run(registry, spec(versions=[{"name": "a", "source": {"modelId": "m-1"}}], aliases={"champion": "a"}))
    assert len(registry.versions["fraud"]) == 1
    assert r.FINGERPRINT_TAG in registry.versions["fraud"][0].tags
    assert registry.models["fraud"].aliases == {"champion": 1}
    assert outcome.ready.ok


def test_missing_version_target_waits_and_applies_everything_else() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=1, tags=OURS)
    outcome = run(registry, spec(description="new", aliases={"champion": 5, "challenger": 1}))
    assert (outcome.ready.ok, outcome.ready.reason) == (False, "WaitingForModelVersion")
    assert "version 5 does not exist" in outcome.ready.message
    assert outcome.synced.ok
    assert outcome.retry_after is not None
    assert registry.models["fraud"].aliases == {"challenger": 1}
    assert registry.models["fraud"].description == "new"


def test_unregistrable_source_is_reported_with_the_registry_message() -> None:
    registry = FakeRegistry(missing_sources={"model:m-gone"})
    outcome = run(registry, spec(versions=[{"name": "a", "source": {"modelId": "m-gone"}}], aliases={"champion": "a"}))
    assert (outcome.ready.ok, outcome.synced.ok) == (False, False)
    assert "Logged model m-gone not found" in outcome.synced.message
    assert outcome.observed["versions"] == [
        {"name": "a", "status": "Failed", "message": "Logged model m-gone not found"}
    ]


def test_registry_down_is_unavailable_and_retried() -> None:
    registry = FakeRegistry(down=True)
    outcome = run(registry, spec())
    assert (outcome.ready.reason, outcome.synced.ok) == ("ExternalUnavailable", False)
    assert outcome.retry_after is not None


def test_observe_only_reports_differences_and_writes_nothing() -> None:
    registry = FakeRegistry()
    registry.seed("fraud", versions=2, aliases={"champion": 1}, description="old")
    outcome = run(
        registry,
        spec(
            managementPolicy="ObserveOnly",
            description="new",
            aliases={"champion": 2},
            versions=[{"name": "a", "source": {"modelId": "m-9"}}],
        ),
    )
    assert registry.writes == []
    assert outcome.ready.reason == "DriftDetected"
    assert len(outcome.observed["drift"]) == 3


def test_observe_only_of_a_missing_model_is_not_ready() -> None:
    outcome = run(FakeRegistry(), spec(managementPolicy="ObserveOnly"))
    assert (outcome.ready.ok, outcome.ready.reason) == (False, "ExternalObjectMissing")


@pytest.mark.parametrize(
    ("policy", "owner", "deleted"),
    [("Delete", OWNER, True), ("Retain", OWNER, False), ("Delete", "other/cr", False)],
    ids=["delete-own", "retain", "delete-never-touches-others"],
)
def test_deletion_policy(policy: str, owner: str, deleted: bool) -> None:
    registry = FakeRegistry()
    registry.seed("fraud", tags={own.OWNER_TAG: owner})
    r.delete(spec(deletionPolicy=policy), connect=lambda: registry, owner=OWNER)
    assert ("fraud" not in registry.models) == deleted


def test_retain_never_connects() -> None:
    def connect() -> FakeRegistry:
        raise AssertionError("Retain must not reach the registry")

    assert "kept" in r.delete(spec(), connect=connect, owner=OWNER)


def test_where_training_registers_versions_they_are_found_by_run_and_never_created() -> None:
    registry = FakeRegistry(creates_versions=False)
    registry.seed("fraud", tags=OURS)
    model = spec(versions=[{"name": "nov", "source": {"run": {"runId": "r-7"}}}], aliases={"champion": "nov"})
    waiting = run(registry, model)
    assert (waiting.ready.ok, waiting.ready.reason, waiting.synced.ok) == (False, "WaitingForModelVersion", True)
    assert registry.versions["fraud"] == []

    registry.versions["fraud"].append(r.ObservedVersion(version=4, status="READY", source="models:/m-7", run_id="r-7"))
    ready = run(registry, model)
    assert ready.ready.ok
    assert registry.models["fraud"].aliases == {"champion": 4}


@pytest.mark.parametrize(
    "error",
    [
        errors.Rejected("Registered model name 'fraud' is not valid"),
        errors.AlreadyExists("Registered Model (name=fraud) already exists."),
    ],
    ids=["rejected", "already-exists"],
)
def test_a_refused_create_model_ends_in_status_not_an_exception(error: errors.ExternalError) -> None:
    registry = FakeRegistry()
    registry.refuse["create_model"] = error
    outcome = run(registry, spec(description="d"))
    assert (outcome.ready.ok, outcome.synced.ok, outcome.ready.reason) == (False, False, "ExternalRejected")
    assert str(error) in outcome.ready.message
    assert [n.reason for n in outcome.notes if n.warning] == ["ExternalRejected"]
