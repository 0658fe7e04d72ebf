"""Versions copied from another Workspace's registry: which source version, the fingerprint, follow, gates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from controller.api.validation import validate_document
from controller.kinds.mlmodel import reconcile as r
from controller.kinds.mlmodel.copying import copy_fingerprint
from controller.kinds.mlmodel.gates import Evidence
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.observed import CopySource, ObservedVersion, SourceRequest
from controller.kinds.mlmodel.version_tags import (
    FINGERPRINT_TAG,
    HANDLE_TAG,
    SOURCE_LOCATION_TAG,
    SOURCE_MODEL_TAG,
    SOURCE_RUN_TAG,
    SOURCE_VERSION_TAG,
)
from tests.unit.fake_registry import FakeRegistry

OWNER = "prod/fraud"
STAGING = "http://staging:5000"


@dataclass
class SourceFake(FakeRegistry):
    """The staging registry: versions with tags, runs and metrics."""

    location: str = STAGING
    metrics: dict[int, dict[str, float]] = field(default_factory=dict)

    def add(self, name: str, number: int, *, tags: dict[str, str] | None = None, auc: float = 0.93) -> None:
        self.versions.setdefault(name, []).append(
            ObservedVersion(
                version=number,
                status="READY",
                source=f"models:/m-{number}",
                run_id=f"run-{number}",
                tags=dict(tags or {}),
            )
        )
        self.metrics[number] = {"val_auc": auc}

    def get_version(self, name: str, version: int) -> ObservedVersion | None:
        return next((v for v in self.versions.get(name, []) if v.version == version), None)

    def copy_source(self, name: str, version: ObservedVersion) -> CopySource:
        return CopySource(
            location=self.location,
            registered_name=name,
            version=version.version,
            artifact_uri=f"/artifacts/{name}/{version.version}",
            metrics=dict(self.metrics[version.version]),
        )


@dataclass
class TargetFake(FakeRegistry):
    """The production registry: a copy keeps the metrics it was given, for the gates."""

    copied: dict[int, CopySource] = field(default_factory=dict)

    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion:
        created = super().create_version(name, source, tags=tags, description=description)
        assert source.copy_of is not None
        self.copied[created.version] = source.copy_of
        return created

    def evidence(self, name: str, version: ObservedVersion) -> Evidence:
        found = next(v for v in self.versions[name] if v.version == version.version)
        copy = self.copied.get(version.version)
        return Evidence(version.version, dict(found.tags), dict(copy.metrics) if copy else {}, {})


def spec(source: dict[str, Any], **fields: Any) -> MLModelSpec:
    return MLModelSpec.model_validate(
        {
            "workspaceRef": {"name": "production"},
            "registeredName": "fraud",
            "versions": [
                {"name": "promoted", "source": {"fromModel": {"workspaceRef": {"name": "staging"}, **source}}}
            ],
            "aliases": {"champion": "promoted"},
            **fields,
        }
    )


def reconcile(target: TargetFake, source: SourceFake | None, model: MLModelSpec, *, changed: bool = True) -> r.Outcome:
    def sources(name: str) -> r.SourceRegistry:
        assert name == "staging"
        if source is None:
            raise r.SourceNotReady("Workspace staging is not connected: connection refused")
        return source

    request = r.Request(owner=OWNER, spec_changed=changed)
    return r.reconcile(model, registry=target, request=request, sources=sources)


def staging(*numbers: int, champion: int | None = None) -> SourceFake:
    source = SourceFake()
    source.seed("fraud-staging", aliases={"champion": champion} if champion else {})
    for number in numbers:
        source.add("fraud-staging", number, tags={"validation_status": "approved"})
    return source


def copies(target: TargetFake) -> list[tuple[int, str]]:
    """(version here, source version) of every copy, in order."""
    return [(v.version, v.tags[SOURCE_VERSION_TAG]) for v in target.versions.get("fraud", [])]


def test_a_named_version_is_copied_once_with_its_lineage() -> None:
    target, source = TargetFake(), staging(6, 7)
    model = spec({"registeredName": "fraud-staging", "version": 7})
    outcome = reconcile(target, source, model)

    [copy] = target.versions["fraud"]
    assert copy.tags[FINGERPRINT_TAG] == copy_fingerprint("fraud", STAGING, "fraud-staging", 7)
    assert copy.tags[HANDLE_TAG] == "promoted"
    assert (copy.tags[SOURCE_LOCATION_TAG], copy.tags[SOURCE_MODEL_TAG]) == (STAGING, "fraud-staging")
    assert (copy.tags[SOURCE_VERSION_TAG], copy.tags[SOURCE_RUN_TAG]) == ("7", "run-7")
    assert copy.tags["validation_status"] == "approved"  # the source version's own tags come along
    assert target.copied[1].artifact_uri == "/artifacts/fraud-staging/7"
    assert target.models["fraud"].aliases == {"champion": 1}
    assert outcome.ready.ok
    assert outcome.observed["versions"] == [
        {"name": "promoted", "version": 1, "status": "READY", "copiedFrom": f"fraud-staging version 7 at {STAGING}"}
    ]
    assert "VersionCopied" in [n.reason for n in outcome.notes]

    target.writes.clear()
    again = reconcile(target, source, model, changed=False)
    assert target.writes == []
    assert again.ready.ok


def test_changing_the_version_copies_the_new_one_and_moves_the_alias() -> None:
    target, source = TargetFake(), staging(7, 8)
    reconcile(target, source, spec({"registeredName": "fraud-staging", "version": 7}))
    reconcile(target, source, spec({"registeredName": "fraud-staging", "version": 8}))
    assert copies(target) == [(1, "7"), (2, "8")]
    assert target.models["fraud"].aliases == {"champion": 2}


@pytest.mark.parametrize(
    ("follow", "expected_copies", "champion_here"),
    [
        (False, [(1, "7")], 1),  # read once: the handle keeps the version first copied
        (True, [(1, "7"), (2, "8")], 2),  # follows: the new version is copied once and the handle moves
    ],
    ids=["alias-read-once", "alias-followed"],
)
def test_a_source_alias_is_followed_only_when_asked(
    follow: bool, expected_copies: list[tuple[int, str]], champion_here: int
) -> None:
    target, source = TargetFake(), staging(7, 8, champion=7)
    model = spec({"registeredName": "fraud-staging", "alias": "champion", "follow": follow})
    reconcile(target, source, model)
    source.models["fraud-staging"].aliases["champion"] = 8
    reconcile(target, source, model, changed=False)
    reconcile(target, source, model, changed=False)
    assert copies(target) == expected_copies
    assert target.models["fraud"].aliases == {"champion": champion_here}


def test_following_back_to_an_earlier_version_reuses_its_copy() -> None:
    target, source = TargetFake(), staging(7, 8, champion=7)
    model = spec({"registeredName": "fraud-staging", "alias": "champion", "follow": True})
    reconcile(target, source, model)
    source.models["fraud-staging"].aliases["champion"] = 8
    reconcile(target, source, model, changed=False)
    source.models["fraud-staging"].aliases["champion"] = 7
    reconcile(target, source, model, changed=False)
    assert copies(target) == [(1, "7"), (2, "8")]
    assert target.models["fraud"].aliases == {"champion": 1}


@pytest.mark.parametrize(
    ("source", "wanted", "reason", "message"),
    [
        (None, {"version": 7}, "WaitingForWorkspace", "Workspace staging is not connected"),
        (staging(6), {"version": 7}, "WaitingForModelVersion", "fraud-staging version 7 does not exist"),
        (staging(7), {"alias": "champion"}, "WaitingForModelVersion", "alias champion of fraud-staging points at no"),
    ],
    ids=["source-workspace-not-connected", "source-version-missing", "source-alias-unset"],
)
def test_what_cannot_be_copied_yet_waits(
    source: SourceFake | None, wanted: dict[str, Any], reason: str, message: str
) -> None:
    target = TargetFake()
    outcome = reconcile(target, source, spec({"registeredName": "fraud-staging", **wanted}))
    assert target.versions["fraud"] == []
    assert outcome.ready.reason == reason
    assert message in outcome.ready.message
    assert "alias champion: version promoted is not registered" in outcome.ready.message


@pytest.mark.parametrize(
    ("other", "differs"),
    [
        (("fraud", STAGING, "fraud-staging", 7), False),
        (("fraud", STAGING + "/", "fraud-staging", 7), False),
        (("fraud", "http://other:5000", "fraud-staging", 7), True),
        (("fraud", STAGING, "fraud-other", 7), True),
        (("fraud", STAGING, "fraud-staging", 8), True),
        (("fraud-eu", STAGING, "fraud-staging", 7), True),
    ],
    ids=["same", "trailing-slash", "other-workspace", "other-model", "other-version", "other-target"],
)
def test_the_fingerprint_identifies_workspace_model_and_version(
    other: tuple[str, str, str, int], differs: bool
) -> None:
    base = copy_fingerprint("fraud", STAGING, "fraud-staging", 7)
    assert (copy_fingerprint(*other) != base) is differs


def test_a_copy_made_before_a_crash_is_found_not_made_again() -> None:
    target, source = TargetFake(), staging(7)
    target.seed("fraud")
    fingerprint = copy_fingerprint("fraud", STAGING, "fraud-staging", 7)
    target.versions["fraud"].append(
        ObservedVersion(
            version=1, status="READY", source="models:/m-copy", run_id=None, tags={FINGERPRINT_TAG: fingerprint}
        )
    )
    reconcile(target, source, spec({"registeredName": "fraud-staging", "version": 7}, adopt=True))
    assert len(target.versions["fraud"]) == 1
    assert target.models["fraud"].aliases == {"champion": 1}


@pytest.mark.parametrize(
    ("auc", "promoted"),
    [(0.95, True), (0.85, False)],
    ids=["copy-passes-the-gate", "copy-blocked-by-the-gate"],
)
def test_the_gates_of_the_alias_judge_the_copy_on_the_metrics_measured_in_the_source(
    auc: float, promoted: bool
) -> None:
    target, source = TargetFake(), SourceFake()
    source.seed("fraud-staging")
    source.add("fraud-staging", 7, tags={"validation_status": "approved"}, auc=auc)
    gates = {
        "champion": {"requireTags": {"validation_status": "approved"}, "metrics": [{"name": "val_auc", "min": 0.9}]}
    }
    outcome = reconcile(target, source, spec({"registeredName": "fraud-staging", "version": 7}, promotion=gates))
    assert len(target.versions["fraud"]) == 1  # copied either way: the gate holds the alias, not the copy
    assert ("champion" in target.models["fraud"].aliases) is promoted
    assert (outcome.ready.reason == "PromotionBlocked") is not promoted


def test_the_source_controllers_own_tags_are_not_copied() -> None:
    target, source = TargetFake(), SourceFake()
    source.seed("fraud-staging")
    source.add("fraud-staging", 7, tags={FINGERPRINT_TAG: "staging's", HANDLE_TAG: "nightly", "team": "risk"})
    reconcile(target, source, spec({"registeredName": "fraud-staging", "version": 7}))
    [copy] = target.versions["fraud"]
    assert copy.tags["team"] == "risk"
    assert copy.tags[HANDLE_TAG] == "promoted"
    assert copy.tags[FINGERPRINT_TAG] == copy_fingerprint("fraud", STAGING, "fraud-staging", 7)


def manifest(source: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": "fraud"},
        "spec": {
            "workspaceRef": {"name": "production"},
            "registeredName": "fraud",
            "versions": [{"name": "promoted", "source": source}],
        },
    }


FROM = {"workspaceRef": {"name": "staging"}, "registeredName": "fraud-staging"}


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ({"modelId": "m-1", "fromModel": {**FROM, "version": 7}}, "set exactly one of modelId, run or fromModel"),
        ({"fromModel": FROM}, "set exactly one of version or alias"),
        ({"fromModel": {**FROM, "version": 7, "alias": "champion"}}, "set exactly one of version or alias"),
        ({"fromModel": {**FROM, "version": 7, "follow": True}}, "follow applies only to alias"),
        ({"fromModel": {**FROM, "version": 0}}, "version"),
    ],
    ids=["two-sources", "neither-version-nor-alias", "both", "follow-without-alias", "version-zero"],
)
def test_bad_copy_sources_are_refused_naming_the_field(source: dict[str, Any], problem: str) -> None:
    found = validate_document(manifest(source))
    assert any(problem in line for line in found), found


def test_a_good_copy_source_is_valid() -> None:
    assert validate_document(manifest({"fromModel": {**FROM, "alias": "champion", "follow": True}})) == []
