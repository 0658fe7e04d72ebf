"""Copies into and out of Unity Catalog: a copy left pending is completed, never made again; what is refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from controller.clients import errors
from controller.clients.artifacts import ArtifactFiles
from controller.clients.file_copy import copy_between
from controller.kinds.mlmodel.copying import FilesCopySource, copy_uri
from controller.kinds.mlmodel.observed import CopySource, ObservedVersion, SourceRequest
from controller.kinds.mlmodel.version_tags import FINGERPRINT_TAG, SOURCE_VERSION_TAG
from tests.unit.test_model_copy import STAGING, SourceFake, TargetFake, reconcile, spec, staging


@dataclass
class CatalogTarget(TargetFake):
    """Unity Catalog's side of a copy: versions are listed without their tags; a copy is created pending, and
    `fail_upload` leaves it so (as a crash between create and finalize would)."""

    creates_versions: bool = False
    fail_upload: bool = False
    finalized: list[int] = field(default_factory=list)

    def list_versions(self, name: str) -> list[ObservedVersion]:
        return [replace(v, tags={}) for v in super().list_versions(name)]

    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion:
        uri = self.source_uri(source)
        pending = next((v for v in self.versions.get(name, []) if v.source == uri), None)
        if pending is None:
            created = super().create_version(name, source, tags=tags, description=description)
            pending = self.versions[name][-1] = replace(created, status="PENDING_REGISTRATION")
        if self.fail_upload:
            raise RuntimeError("the upload failed")
        ready = replace(pending, status="READY")
        self.versions[name] = [ready if v.version == ready.version else v for v in self.versions[name]]
        self.finalized.append(ready.version)
        self.writes.append(f"finalize {ready.version}")
        return ready

    def source_uri(self, source: SourceRequest) -> str:
        return source.copy_of.uri if source.copy_of else super().source_uri(source)


class NoFiles:
    def listing(self) -> Iterator[tuple[str, int | None]]:
        return iter(())

    def fetch(self, path: str, local: Path) -> None:
        raise AssertionError(path)


@dataclass
class CatalogSource(SourceFake):
    """A Unity Catalog source: its files are read through its own client."""

    def copy_source(self, name: str, version: ObservedVersion) -> CopySource:
        plain = super().copy_source(name, version)
        return FilesCopySource(
            location=plain.location,
            registered_name=name,
            version=version.version,
            artifact_uri=plain.artifact_uri,
            metrics=plain.metrics,
            files=NoFiles(),
        )


def test_the_copys_source_is_the_uri_that_finds_it_again() -> None:
    copy = CopySource(location=STAGING, registered_name="fraud-staging", version=7, artifact_uri="x")
    assert copy.uri == copy_uri(STAGING, "fraud-staging", 7)


def test_a_copy_into_unity_catalog_is_found_by_its_source_where_tags_are_not_listed() -> None:
    target, source = CatalogTarget(), staging(7)
    model = spec({"registeredName": "fraud-staging", "version": 7})
    reconcile(target, source, model)
    assert [(v.version, v.status, v.tags[SOURCE_VERSION_TAG]) for v in target.versions["fraud"]] == [(1, "READY", "7")]
    target.writes.clear()
    outcome = reconcile(target, source, model, changed=False)
    assert target.writes == []
    assert outcome.ready.ok


def test_a_copy_left_pending_is_completed_on_the_next_reconcile_not_made_again() -> None:
    target, source = CatalogTarget(fail_upload=True), staging(7)
    model = spec({"registeredName": "fraud-staging", "version": 7})
    with pytest.raises(RuntimeError):
        reconcile(target, source, model)
    [pending] = target.versions["fraud"]
    assert pending.status == "PENDING_REGISTRATION"
    assert pending.tags[FINGERPRINT_TAG]  # the fingerprint was in the create call

    target.fail_upload = False
    outcome = reconcile(target, source, model, changed=False)
    assert [(v.version, v.status) for v in target.versions["fraud"]] == [(1, "READY")]
    assert target.finalized == [1]
    assert target.models["fraud"].aliases == {"champion": 1}
    assert outcome.ready.ok


def test_a_source_version_not_ready_yet_waits() -> None:
    target, source = CatalogTarget(), staging(7)
    source.versions["fraud-staging"] = [
        replace(v, status="PENDING_REGISTRATION") for v in source.versions["fraud-staging"]
    ]
    outcome = reconcile(target, source, spec({"registeredName": "fraud-staging", "version": 7}))
    assert target.versions["fraud"] == []
    assert outcome.ready.reason == "WaitingForModelVersion"
    assert "fraud-staging version 7 is PENDING_REGISTRATION, not READY" in outcome.ready.message


def test_a_unity_catalog_version_into_an_mlflow_registry_is_refused_naming_it_and_the_rest_applied() -> None:
    target, source = TargetFake(), CatalogSource()
    source.seed("main.staging.fraud")
    source.add("main.staging.fraud", 7)
    outcome = reconcile(target, source, spec({"registeredName": "main.staging.fraud", "version": 7}))
    assert target.versions["fraud"] == []
    assert "fraud" in target.models  # the model itself is still made
    [entry] = outcome.observed["versions"]
    assert entry["status"] == "Failed"
    assert "copying main.staging.fraud version 7 out of Unity Catalog into an MLflow registry" in str(entry["message"])


def test_files_are_copied_one_at_a_time_and_a_resumed_copy_sends_only_what_is_missing(tmp_path: Path) -> None:
    source, target = tmp_path / "source", tmp_path / "target"
    (source / "data").mkdir(parents=True)
    (source / "MLmodel").write_text("flavors: {}\n")
    (source / "data" / "model.bin").write_bytes(bytes(range(256)) * 4096)
    (target / "data").mkdir(parents=True)
    (target / "MLmodel").write_text("flavors: {}\n")  # sent before the crash
    (target / "data" / "model.bin").write_bytes(b"half")  # cut short by it

    sent = copy_between(ArtifactFiles(source.as_uri(), ""), ArtifactFiles(target.as_uri(), ""))

    assert sent == 1
    assert (target / "data" / "model.bin").read_bytes() == (source / "data" / "model.bin").read_bytes()
    assert (target / "MLmodel").read_text() == "flavors: {}\n"
    assert copy_between(ArtifactFiles(source.as_uri(), ""), ArtifactFiles(target.as_uri(), "")) == 0


def test_a_source_without_files_is_refused_not_copied_empty(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    target = tmp_path / "target"
    with pytest.raises(errors.Rejected, match="no files"):
        copy_between(ArtifactFiles((tmp_path / "source").as_uri(), ""), ArtifactFiles(target.as_uri(), ""))
    assert not target.exists() or not any(target.iterdir())
