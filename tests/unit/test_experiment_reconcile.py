"""The Experiment reconcile over an in-memory tracking service: create, claim, restore, tags, ObserveOnly, delete."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.experiment import reconcile as experiment
from controller.kinds.experiment.model import ExperimentSpec
from controller.kinds.experiment.run import ObservedExperiment
from controller.reconciling.ownership import MANAGED_TAG, OWNER_TAG, ownership_tags
from controller.status import conditions as c
from controller.status.outcome import Outcome

OWNER = "ml/fraud-training"
NAME = "/Shared/fraud/training"


@dataclass
class FakeExperiments:
    by_name: dict[str, ObservedExperiment] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    reads: int = 0
    refuse: dict[str, errors.ExternalError] = field(default_factory=dict)

    def seed(self, *, stage: str = "active", tags: dict[str, str] | None = None, location: str = "dbfs:/x") -> None:
        self.by_name[NAME] = ObservedExperiment("7", NAME, stage, location, dict(tags or {}))

    def _find(self, experiment_id: str) -> ObservedExperiment:
        return next(e for e in self.by_name.values() if e.experiment_id == experiment_id)

    def get_by_name(self, name: str) -> ObservedExperiment | None:
        self.reads += 1
        found = self.by_name.get(name)
        return None if found is None else replace(found, tags=dict(found.tags))

    def create(self, name: str, *, artifact_location: str | None, tags: dict[str, str]) -> str:
        if "create" in self.refuse:
            raise self.refuse["create"]
        self.by_name[name] = ObservedExperiment("8", name, "active", artifact_location or "dbfs:/default", dict(tags))
        self.writes.append(f"create {name}")
        return "8"

    def restore(self, experiment_id: str) -> None:
        found = self._find(experiment_id)
        self.by_name[found.name] = replace(found, lifecycle_stage="active")
        self.writes.append(f"restore {experiment_id}")

    def set_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._find(experiment_id).tags[key] = value
        self.writes.append(f"set_tag {key}")

    def delete_tag(self, experiment_id: str, key: str) -> None:
        del self._find(experiment_id).tags[key]
        self.writes.append(f"delete_tag {key}")

    def delete(self, experiment_id: str) -> None:
        found = self._find(experiment_id)
        self.by_name[found.name] = replace(found, lifecycle_stage="deleted")
        self.writes.append(f"delete {experiment_id}")

    def url(self, experiment_id: str) -> str:
        return f"http://mlflow/#/experiments/{experiment_id}"


def _spec(**fields: Any) -> ExperimentSpec:
    return ExperimentSpec.model_validate({"workspaceRef": {"name": "dbx"}, "name": NAME, **fields})


def _run(
    spec: ExperimentSpec, fake: FakeExperiments, *, spec_changed: bool = False, known_id: str | None = None
) -> Outcome:
    request = experiment.Request(owner=OWNER, spec_changed=spec_changed, known_id=known_id)
    return experiment.reconcile(spec, experiments=fake, request=request)


def _ours(extra: dict[str, str] | None = None, managed: str = '{"tags":["team"]}') -> dict[str, str]:
    return {**ownership_tags(OWNER), MANAGED_TAG: managed, **(extra or {})}


def test_create_sets_spec_tags_ownership_and_the_managed_record() -> None:
    fake = FakeExperiments()
    outcome = _run(_spec(tags={"team": "risk"}, artifactLocation="s3://b/f"), fake, spec_changed=True)
    assert fake.writes == [f"create {NAME}"]
    assert fake.by_name[NAME].tags == _ours({"team": "risk"})
    assert outcome.ready.ok
    assert outcome.ready.reason == c.RECONCILED
    assert outcome.observed["experimentId"] == "8"
    assert outcome.observed["artifactLocation"] == "s3://b/f"
    assert outcome.observed["url"] == "http://mlflow/#/experiments/8"
    assert [n.reason for n in outcome.notes] == ["Created"]


def test_steady_state_is_one_read_and_no_write() -> None:
    fake = FakeExperiments()
    fake.seed(tags=_ours({"team": "risk", "mlflow.ownerEmail": "x@y"}))
    outcome = _run(_spec(tags={"team": "risk"}), fake)
    assert (fake.reads, fake.writes) == (1, [])
    assert outcome.ready.reason == c.RECONCILED
    assert outcome.applied


@pytest.mark.parametrize(
    ("tags", "writes"),
    [
        ({"team": "fraud"}, ["set_tag team"]),  # changed outside
        ({}, ["set_tag team"]),  # removed outside
    ],
)
def test_tag_drift_is_put_back_with_a_drift_note(tags: dict[str, str], writes: list[str]) -> None:
    fake = FakeExperiments()
    fake.seed(tags=_ours(tags))
    outcome = _run(_spec(tags={"team": "risk"}), fake)
    assert fake.writes == writes
    assert fake.by_name[NAME].tags["team"] == "risk"
    assert [n.reason for n in outcome.notes] == ["DriftCorrected"]
    assert outcome.drift_corrections == 1


def test_a_tag_dropped_from_the_spec_is_removed_and_others_tags_stay() -> None:
    fake = FakeExperiments()
    fake.seed(tags=_ours({"team": "risk", "theirs": "x"}))
    _run(_spec(tags={}), fake, spec_changed=True)
    assert fake.writes == ["delete_tag team", f"set_tag {MANAGED_TAG}"]
    assert fake.by_name[NAME].tags["theirs"] == "x"
    assert fake.by_name[NAME].tags[MANAGED_TAG] == '{"tags":[]}'


def test_observe_only_reports_drift_and_writes_nothing() -> None:
    fake = FakeExperiments()
    fake.seed(tags={"team": "fraud"})  # not even owned: ObserveOnly claims nothing
    outcome = _run(_spec(tags={"team": "risk"}, managementPolicy="ObserveOnly"), fake)
    assert fake.writes == []
    assert outcome.ready.ok
    assert outcome.ready.reason == c.DRIFT_DETECTED
    assert outcome.observed["drift"] == ["tag team is 'fraud', spec says 'risk'"]


@pytest.mark.parametrize("stage", [None, "deleted"])
def test_observe_only_never_creates_nor_restores(stage: str | None) -> None:
    fake = FakeExperiments()
    if stage:
        fake.seed(stage=stage, tags=_ours())
    outcome = _run(_spec(managementPolicy="ObserveOnly"), fake)
    assert fake.writes == []
    assert not outcome.ready.ok
    assert outcome.ready.reason == c.EXTERNAL_OBJECT_MISSING


@pytest.mark.parametrize(
    ("tags", "adopt", "reason", "writes"),
    [
        ({}, False, c.ADOPTION_REQUIRED, []),
        ({OWNER_TAG: "ml/other"}, True, c.OWNED_BY_ANOTHER, []),
        (
            {},
            True,
            c.RECONCILED,
            [f"set_tag {OWNER_TAG}", "set_tag mlops.gitops.dev/managed-by", f"set_tag {MANAGED_TAG}"],
        ),
    ],
)
def test_claim(tags: dict[str, str], adopt: bool, reason: str, writes: list[str]) -> None:
    fake = FakeExperiments()
    fake.seed(tags=tags)
    outcome = _run(_spec(adopt=adopt), fake, spec_changed=True)
    assert outcome.ready.reason == reason
    assert fake.writes == writes


def test_recreating_the_resource_restores_its_deleted_experiment() -> None:
    fake = FakeExperiments()
    fake.seed(stage="deleted", tags=_ours({"team": "risk"}))
    outcome = _run(_spec(tags={"team": "risk"}), fake, spec_changed=True)
    assert fake.writes == ["restore 7"]
    assert outcome.observed["lifecycleStage"] == "active"
    assert [n.reason for n in outcome.notes] == ["Restored"]


def test_deleted_outside_is_restored_as_drift() -> None:
    fake = FakeExperiments()
    fake.seed(stage="deleted", tags=_ours({"team": "risk"}))
    outcome = _run(_spec(tags={"team": "risk"}), fake, known_id="7")
    assert fake.writes == ["restore 7"]
    assert [n.reason for n in outcome.notes] == ["DriftCorrected"]


def test_another_resources_deleted_experiment_is_not_restored() -> None:
    fake = FakeExperiments()
    fake.seed(stage="deleted", tags={OWNER_TAG: "ml/other"})
    outcome = _run(_spec(), fake, spec_changed=True)
    assert fake.writes == []
    assert outcome.ready.reason == c.OWNED_BY_ANOTHER


def test_an_artifact_location_that_differs_is_reported_not_changed() -> None:
    fake = FakeExperiments()
    fake.seed(tags=_ours({"team": "risk"}), location="dbfs:/elsewhere")
    outcome = _run(_spec(tags={"team": "risk"}, artifactLocation="s3://b/f"), fake)
    assert fake.writes == []
    assert not outcome.ready.ok
    assert outcome.ready.reason == c.ARTIFACT_LOCATION_DIFFERS
    assert outcome.synced.ok
    assert "dbfs:/elsewhere" in outcome.ready.message


def test_a_refused_create_ends_in_status_with_the_message() -> None:
    fake = FakeExperiments(refuse={"create": errors.Rejected("Got an invalid experiment name 'x'", code="INVALID")})
    outcome = _run(_spec(), fake, spec_changed=True)
    assert outcome.ready.reason == c.EXTERNAL_REJECTED
    assert "invalid experiment name" in outcome.ready.message


@pytest.mark.parametrize(
    ("policy", "seed", "said", "writes"),
    [
        ({"deletionPolicy": "Retain"}, _ours(), f"kept experiment {NAME} (deletionPolicy Retain)", []),
        ({"deletionPolicy": "Delete"}, _ours(), "deleted experiment", ["delete 7"]),
        ({"deletionPolicy": "Delete"}, {OWNER_TAG: "ml/other"}, "kept experiment", []),
        ({"deletionPolicy": "Delete"}, None, "was already deleted", []),
    ],
)
def test_delete(policy: dict[str, str], seed: dict[str, str] | None, said: str, writes: list[str]) -> None:
    fake = FakeExperiments()
    if seed is not None:
        fake.seed(tags=seed)
    done = experiment.delete(_spec(**policy), connect=lambda: fake, owner=OWNER)
    assert said in done
    assert fake.writes == writes
