"""Declared versions: found by their fingerprint, adopted by their source, or registered once.

Where only training registers versions (Unity Catalog), a declared version is the one made from its
source, waited for until training has registered it.
"""

from __future__ import annotations

import hashlib

from controller.kinds.mlmodel.copying import copied_from, copied_version
from controller.kinds.mlmodel.model import VersionSpec
from controller.kinds.mlmodel.observed import ObservedVersion, SourceRequest
from controller.kinds.mlmodel.run import ModelRun
from controller.kinds.mlmodel.version_tags import FINGERPRINT_TAG as FINGERPRINT_TAG
from controller.kinds.mlmodel.version_tags import HANDLE_TAG as HANDLE_TAG
from controller.reconciling.errors import REFUSALS
from controller.status import conditions as c


def sync_versions(run: ModelRun, versions: list[ObservedVersion]) -> tuple[list[dict[str, object]], dict[str, int]]:
    """Find or create every declared version (adding created ones to `versions`).

    Returns the status entries and handle → version number.
    """
    statuses: list[dict[str, object]] = []
    handles: dict[str, int] = {}
    for declared in run.spec.versions:
        entry: dict[str, object] = {"name": declared.name}
        try:
            found = _ensure_version(run, declared, versions)
        except REFUSALS as exc:
            entry.update(status="Failed", message=str(exc))
            run.refused(exc, context=f"version {declared.name} could not be registered")
        else:
            if found is None:
                entry.update(status="Missing", message="not registered (ObserveOnly)")
            else:
                handles[declared.name] = found.version
                entry.update(version=found.version, status=found.status)
                if declared.source.from_model is not None:
                    entry.update(copiedFrom=copied_from(found))
        statuses.append(entry)
    return statuses, handles


def _ensure_version(run: ModelRun, declared: VersionSpec, versions: list[ObservedVersion]) -> ObservedVersion | None:
    """The version made from this source: found by fingerprint, adopted by source, or created once.

    The fingerprint tag is written in the same call that creates the version, so a crash
    can never leave a version that a retry would not find.
    """
    if declared.source.from_model is not None:
        return copied_version(run, declared, versions)
    source = _source_request(declared)
    uri = run.registry.source_uri(source)
    if not run.registry.creates_versions:
        return _registered_by_training(run, declared, versions, source, uri)
    fingerprint = _fingerprint(run.name, source)
    for version in versions:
        if version.tags.get(FINGERPRINT_TAG) == fingerprint:
            return version
    for version in versions:
        if _same_source(version, source, uri) and FINGERPRINT_TAG not in version.tags:
            if run.may_write(f"version {version.version} matches {declared.name} but is not tagged"):
                run.registry.tag_version(run.name, version.version, FINGERPRINT_TAG, fingerprint)
                run.registry.tag_version(run.name, version.version, HANDLE_TAG, declared.name)
                run.note("Adopted", f"adopted version {version.version} as {declared.name}")
            return version
    if not run.may_write(f"version {declared.name} is not registered"):
        return None
    created = run.registry.create_version(
        run.name,
        source,
        tags={FINGERPRINT_TAG: fingerprint, HANDLE_TAG: declared.name},
        description=declared.description,
    )
    run.note("VersionCreated", f"registered version {created.version} as {declared.name}")
    versions.append(created)
    return created


def _registered_by_training(
    run: ModelRun, declared: VersionSpec, versions: list[ObservedVersion], source: SourceRequest, uri: str
) -> ObservedVersion | None:
    """Where only training registers versions, a declared version is the one made from its source."""
    for version in versions:
        if _same_source(version, source, uri):
            return version
    run.wait(
        c.WAITING_FOR_MODEL_VERSION,
        f"version {declared.name}: no version registered from {source.key} yet (training registers versions here)",
    )
    return None


def _source_request(declared: VersionSpec) -> SourceRequest:
    source = declared.source
    if source.model_id:
        return SourceRequest(model_id=source.model_id)
    assert source.run is not None
    return SourceRequest(run_id=source.run.run_id, artifact_path=source.run.artifact_path)


def _fingerprint(model_name: str, source: SourceRequest) -> str:
    return hashlib.sha256(f"{model_name}|{source.key}".encode()).hexdigest()[:32]


def _same_source(version: ObservedVersion, source: SourceRequest, uri: str) -> bool:
    """A version registered from this source: same URI, or (for a run's model) same run id."""
    return version.source == uri or (source.model_id is None and version.run_id == source.run_id)
