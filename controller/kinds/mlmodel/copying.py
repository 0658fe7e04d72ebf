"""Versions copied from another Workspace's registry: which source version, found by fingerprint, or copied once.

A copy is a version creation like any other, and a crash mid-copy leaves nothing a retry would not find.
Into MLflow the files are put in place first, then the version is created in one call that carries the
fingerprint. Into Unity Catalog the version is created first (PENDING_REGISTRATION, carrying the fingerprint
and, as its source, the copy's URI), then its files are uploaded and it is finalized: a version left
pending is found by that source and completed, never made again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from controller.clients import errors
from controller.kinds.mlmodel.model import VersionSpec
from controller.kinds.mlmodel.observed import CopySource, ObservedVersion, SourceRequest
from controller.kinds.mlmodel.run import ModelRun, SourceNotReady, SourceRegistry
from controller.kinds.mlmodel.sources import ModelVersionSource
from controller.kinds.mlmodel.version_tags import (
    FINGERPRINT_TAG,
    HANDLE_TAG,
    SOURCE_LOCATION_TAG,
    SOURCE_MODEL_TAG,
    SOURCE_RUN_TAG,
    SOURCE_VERSION_TAG,
)
from controller.reconciling.ownership import TAG_PREFIX
from controller.status import conditions as c

PENDING = "PENDING_REGISTRATION"
"""A Unity Catalog version created but not finalized: its files may be incomplete."""
READY = "READY"


class SourceFiles(Protocol):
    """A source version's files: listed (path, size) and fetched one at a time to disk."""

    def listing(self) -> Iterator[tuple[str, int | None]]: ...
    def fetch(self, path: str, local: Path) -> None: ...


@dataclass(frozen=True, kw_only=True)
class FilesCopySource(CopySource):
    """A source version whose files are read through its own registry's client (a Unity Catalog version, with
    its workspace's credentials) rather than through MLflow's artifact repositories."""

    files: SourceFiles = field(compare=False)


def copy_uri(location: str, source_model: str, source_version: int) -> str:
    """The source a Unity Catalog copy is registered with (as CopySource.uri spells it): it finds the copy
    where version tags are not listed."""
    return f"models:/{source_model}/{source_version}@{location}"


def copy_fingerprint(model_name: str, location: str, source_model: str, source_version: int) -> str:
    """Identifies a copy of one source version (registry, model, version) into one registered model."""
    key = f"{model_name}|copy:{location.rstrip('/')}|{source_model}|{source_version}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def copied_version(run: ModelRun, declared: VersionSpec, versions: list[ObservedVersion]) -> ObservedVersion | None:
    """The version this handle names: the copy of the source version it follows, made once."""
    wanted = declared.source.from_model
    assert wanted is not None
    try:
        source = run.sources(wanted.workspace_ref.name)
    except SourceNotReady as exc:
        run.wait(c.WAITING_FOR_WORKSPACE, f"version {declared.name}: {exc}")
        return None
    kept = _kept_copy(declared, wanted, versions, source.location)
    if kept is not None:
        return kept
    number = source_version_number(wanted, source)
    if number is None:
        run.wait(
            c.WAITING_FOR_MODEL_VERSION,
            f"version {declared.name}: alias {wanted.alias} of {wanted.registered_name} points at no version",
        )
        return None
    fingerprint = copy_fingerprint(run.name, source.location, wanted.registered_name, number)
    uri = copy_uri(source.location, wanted.registered_name, number)
    made = next((v for v in versions if v.tags.get(FINGERPRINT_TAG) == fingerprint or v.source == uri), None)
    if made is not None and made.status != PENDING:
        return made
    what = f"{wanted.registered_name} version {number}"
    state = "is not copied" if made is None else "is copied but not finalized"
    if not run.may_write(f"version {declared.name} ({what}) {state}"):
        return None
    original = source.get_version(wanted.registered_name, number)
    if original is None or original.status != READY:
        problem = "does not exist" if original is None else f"is {original.status}, not READY,"
        run.wait(c.WAITING_FOR_MODEL_VERSION, f"version {declared.name}: {what} {problem} in the source")
        return None
    copy_of = source.copy_source(wanted.registered_name, original)
    if isinstance(copy_of, FilesCopySource) and run.registry.creates_versions:
        raise errors.Rejected(f"copying {what} out of Unity Catalog into an MLflow registry is not supported")
    tags = {
        **{k: v for k, v in original.tags.items() if not k.startswith(f"{TAG_PREFIX}/")},
        **lineage_tags(source.location, wanted.registered_name, original),
        FINGERPRINT_TAG: fingerprint,
        HANDLE_TAG: declared.name,
    }
    created = run.registry.create_version(
        run.name, SourceRequest(copy_of=copy_of), tags=tags, description=declared.description
    )
    run.note("VersionCopied", f"copied {wanted.registered_name} version {number} as version {created.version}")
    versions[:] = [v for v in versions if v.version != created.version] + [created]
    return created


def source_version_number(wanted: ModelVersionSource, source: SourceRegistry) -> int | None:
    """The source version to copy: the one named, or the one the source alias points at now."""
    if wanted.version is not None:
        return wanted.version
    assert wanted.alias is not None
    model = source.get_model(wanted.registered_name)
    return model.aliases.get(wanted.alias) if model else None


def lineage_tags(location: str, source_model: str, original: ObservedVersion) -> dict[str, str]:
    tags = {
        SOURCE_LOCATION_TAG: location.rstrip("/"),
        SOURCE_MODEL_TAG: source_model,
        SOURCE_VERSION_TAG: str(original.version),
    }
    if original.run_id:
        tags[SOURCE_RUN_TAG] = original.run_id
    return tags


def copied_from(version: ObservedVersion) -> str:
    """Where a copied version came from (model, version, registry); empty for any other version."""
    tags = version.tags
    if SOURCE_MODEL_TAG not in tags:
        return ""
    return f"{tags[SOURCE_MODEL_TAG]} version {tags.get(SOURCE_VERSION_TAG, '?')} at {tags.get(SOURCE_LOCATION_TAG)}"


def _kept_copy(
    declared: VersionSpec, wanted: ModelVersionSource, versions: list[ObservedVersion], location: str
) -> ObservedVersion | None:
    """An alias without follow is read once: the latest copy this handle made from that model stays its version."""
    if wanted.alias is None or wanted.follow:
        return None
    made = [
        v
        for v in versions
        if v.tags.get(HANDLE_TAG) == declared.name
        and v.tags.get(SOURCE_MODEL_TAG) == wanted.registered_name
        and v.tags.get(SOURCE_LOCATION_TAG) == location.rstrip("/")
    ]
    return max(made, key=lambda v: v.version) if made else None
