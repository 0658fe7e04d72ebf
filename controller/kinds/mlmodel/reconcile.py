"""Reconcile an MLModel: observe the registry, compare with the spec, act, report.

Each part of the spec (description, tags, versions, aliases) is applied on its own:
one part the registry refuses does not stop the others, and the refusal ends in
status with the registry's message. Everything the controller owns in the registry
is recorded in tags on the registered model itself, so a lost status or a second
replica never leads to a duplicate or a wrongful removal.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from controller.kinds.mlmodel.model import MLModelSpec, VersionSpec
from controller.kinds.mlmodel.observed import ObservedModel, ObservedVersion, SourceRequest
from controller.reconciling import ownership, policy
from controller.reconciling.errors import REFUSALS
from controller.reconciling.ownership import MANAGED_TAG, TAG_PREFIX
from controller.reconciling.run import Run, guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome

FINGERPRINT_TAG = f"{TAG_PREFIX}/source-fingerprint"
HANDLE_TAG = f"{TAG_PREFIX}/version-name"

WAIT_RETRY_SECONDS = 15.0


class Registry(Protocol):
    """What the reconcile needs from a model registry (MLflow or Unity Catalog)."""

    creates_versions: bool
    """False where versions are made only by training (Unity Catalog): declared versions are then found, not made."""

    def get_model(self, name: str) -> ObservedModel | None: ...
    def create_model(self, name: str, *, description: str | None, tags: dict[str, str]) -> None: ...
    def set_description(self, name: str, description: str) -> None: ...
    def set_tag(self, name: str, key: str, value: str) -> None: ...
    def delete_tag(self, name: str, key: str) -> None: ...
    def list_versions(self, name: str) -> list[ObservedVersion]: ...
    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion: ...
    def tag_version(self, name: str, version: int, key: str, value: str) -> None: ...
    def set_alias(self, name: str, alias: str, version: int) -> None: ...
    def delete_alias(self, name: str, alias: str) -> None: ...
    def delete_model(self, name: str) -> None: ...
    def source_uri(self, source: SourceRequest) -> str: ...
    def model_url(self, name: str) -> str: ...


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    spec_changed: bool  # generation differs from the last reconciled one


@dataclass(kw_only=True)
class _Run(Run):
    """What one reconcile has done and found so far."""

    spec: MLModelSpec
    request: Request
    registry: Registry

    @property
    def name(self) -> str:
        return self.spec.registered_name


def reconcile(spec: MLModelSpec, *, registry: Registry, request: Request) -> Outcome:
    """Make the registry match the spec (or, under ObserveOnly, report how it differs)."""
    run = _Run(
        spec=spec,
        request=request,
        registry=registry,
        spec_changed=request.spec_changed,
        observe_only=policy.observe_only(spec),
        wait_retry=WAIT_RETRY_SECONDS,
    )
    return guarded(run, lambda: _reconcile(run))


def delete(spec: MLModelSpec, *, connect: Callable[[], Registry], owner: str) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all, and a model owned by someone else is never deleted.
    """
    kept = policy.kept_on_delete(spec, f"registered model {spec.registered_name}")
    if kept is not None:
        return kept
    registry = connect()
    model = registry.get_model(spec.registered_name)
    if model is None:
        return f"registered model {spec.registered_name} was already gone"
    if not ownership.owned_by(model.tags, owner):
        return f"kept registered model {spec.registered_name}: it is not owned by {owner}"
    registry.delete_model(spec.registered_name)
    return f"deleted registered model {spec.registered_name}"


def _reconcile(run: _Run) -> Outcome:
    model = run.registry.get_model(run.name)
    if model is None:
        if run.observe_only:
            return run.failed(c.EXTERNAL_OBJECT_MISSING, f"registered model {run.name} does not exist", retry=None)
        model = _create_model(run)
    elif not run.observe_only:
        what = f"registered model {run.name}"
        claim = ownership.claim(model.tags, owner=run.request.owner, adopt=run.spec.adopt, what=what)
        if not claim.mine:
            return run.not_ours(claim.reason, claim.message)
        if claim.adopt:
            _adopt(run, model)

    managed = ownership.read_managed(model.tags, "tags", "aliases")
    run.attempt(lambda: _sync_description(run, model))
    run.attempt(lambda: _sync_tags(run, model, managed))
    versions = run.registry.list_versions(run.name)
    version_status, handles = _sync_versions(run, versions)
    aliases = _apply_aliases(run, model, managed, handles, versions)
    run.attempt(lambda: _record_managed(run, model, managed))
    return _outcome(run, model, versions, version_status, aliases)


def _create_model(run: _Run) -> ObservedModel:
    tags = {**run.spec.tags, **ownership.ownership_tags(run.request.owner)}
    tags[MANAGED_TAG] = ownership.encode_managed(tags=run.spec.tags, aliases=())
    run.registry.create_model(run.name, description=run.spec.description, tags=tags)
    run.note("Created", f"created registered model {run.name}")
    return ObservedModel(name=run.name, description=run.spec.description or "", tags=tags, aliases={})


def _adopt(run: _Run, model: ObservedModel) -> None:
    for key, value in ownership.ownership_tags(run.request.owner).items():
        run.registry.set_tag(run.name, key, value)
        model.tags[key] = value
    run.note("Adopted", f"adopted existing registered model {run.name}")


def _sync_description(run: _Run, model: ObservedModel) -> None:
    wanted = run.spec.description
    if wanted is None or wanted == model.description:
        return
    if run.may_write(f"description is {model.description!r}, spec says {wanted!r}"):
        run.registry.set_description(run.name, wanted)
        run.changed("set the description")


def _sync_tags(run: _Run, model: ObservedModel, managed: dict[str, set[str]]) -> None:
    for key, value in sorted(run.spec.tags.items()):
        current = model.tags.get(key)
        if current != value and run.may_write(f"tag {key} is {current!r}, spec says {value!r}"):
            run.registry.set_tag(run.name, key, value)
            run.changed(f"set tag {key}={value}")
    for key in sorted(managed["tags"] - set(run.spec.tags)):
        if key in model.tags and run.may_write(f"tag {key} is no longer in spec"):
            run.registry.delete_tag(run.name, key)
            run.changed(f"removed tag {key}")


def _sync_versions(run: _Run, versions: list[ObservedVersion]) -> tuple[list[dict[str, object]], dict[str, int]]:
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
        statuses.append(entry)
    return statuses, handles


def _ensure_version(run: _Run, declared: VersionSpec, versions: list[ObservedVersion]) -> ObservedVersion | None:
    """The version made from this source: found by fingerprint, adopted by source, or created once.

    The fingerprint tag is written in the same call that creates the version, so a crash
    can never leave a version that a retry would not find.
    """
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
    run: _Run, declared: VersionSpec, versions: list[ObservedVersion], source: SourceRequest, uri: str
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


def _apply_aliases(
    run: _Run,
    model: ObservedModel,
    managed: dict[str, set[str]],
    handles: dict[str, int],
    versions: list[ObservedVersion],
) -> dict[str, int]:
    """Point every alias where the spec says; returns the aliases as they now are."""
    aliases = dict(model.aliases)
    existing = {v.version for v in versions}
    for alias, target in sorted(run.spec.aliases.items()):
        version = _alias_version(run, alias, target, handles, existing)
        if version is None or aliases.get(alias) == version:
            continue
        if not run.may_write(f"alias {alias} points at {aliases.get(alias)}, spec says {version}"):
            continue
        if run.attempt(functools.partial(_done, run.registry.set_alias, run.name, alias, version)):
            was = f" (was {aliases[alias]})" if alias in aliases else ""
            aliases[alias] = version
            run.changed(f"pointed alias {alias} at version {version}{was}")
    for alias in sorted(managed["aliases"] - set(run.spec.aliases)):
        if alias not in aliases or not run.may_write(f"alias {alias} is no longer in spec"):
            continue
        if run.attempt(functools.partial(_done, run.registry.delete_alias, run.name, alias)):
            del aliases[alias]
            run.changed(f"removed alias {alias}")
    return aliases


def _alias_version(run: _Run, alias: str, target: int | str, handles: dict[str, int], existing: set[int]) -> int | None:
    if isinstance(target, str):
        if target in handles:
            return handles[target]
        run.wait(c.WAITING_FOR_MODEL_VERSION, f"alias {alias}: version {target} is not registered")
        return None
    if target not in existing:
        missing = f"alias {alias}: version {target} does not exist in registered model {run.name}"
        run.wait(c.WAITING_FOR_MODEL_VERSION, missing)
        return None
    return target


def _record_managed(run: _Run, model: ObservedModel, managed: dict[str, set[str]]) -> None:
    """Remember which tags and aliases this resource set, so that it removes only its own."""
    if run.observe_only:
        return
    wanted = ownership.encode_managed(tags=run.spec.tags, aliases=run.spec.aliases)
    if model.tags.get(MANAGED_TAG) != wanted:
        run.registry.set_tag(run.name, MANAGED_TAG, wanted)


def _done(action: Callable[..., object], *args: object) -> bool:
    """Run a write for `Run.attempt`, saying it was done (its own result may be None)."""
    action(*args)
    return True


def _outcome(
    run: _Run,
    model: ObservedModel,
    versions: list[ObservedVersion],
    version_status: list[dict[str, object]],
    aliases: dict[str, int],
) -> Outcome:
    observed: dict[str, object] = {
        "registeredName": run.name,
        "latestVersion": max((v.version for v in versions), default=None),
        "aliases": aliases,
        "aliasSummary": ",".join(f"{a}={v}" for a, v in sorted(aliases.items())),
        "versions": version_status,
        "url": run.registry.model_url(run.name),
        "drift": run.drift,
    }
    return run.outcome(observed, matches=f"registered model {run.name} matches the spec")


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
