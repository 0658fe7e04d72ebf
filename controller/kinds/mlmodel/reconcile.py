"""Reconcile an MLModel: observe the registry, compare with the spec, act, report.

Each part of the spec (description, tags, versions, aliases) is applied on its own:
one part the registry refuses does not stop the others, and the refusal ends in
status with the registry's message. Everything the controller owns in the registry
is recorded in tags on the registered model itself, so a lost status or a second
replica never leads to a duplicate or a wrongful removal.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

from controller.kinds.mlmodel import deployment_job as deployment_runs
from controller.kinds.mlmodel import promotion
from controller.kinds.mlmodel.deployment_job_sync import sync_deployment_job
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.observed import ObservedModel, ObservedVersion
from controller.kinds.mlmodel.promotion import Promotions
from controller.kinds.mlmodel.reads import versions_needed
from controller.kinds.mlmodel.run import ModelRun, no_sources
from controller.kinds.mlmodel.run import Registry as Registry
from controller.kinds.mlmodel.run import Request as Request
from controller.kinds.mlmodel.run import SourceNotReady as SourceNotReady
from controller.kinds.mlmodel.run import SourceRegistry as SourceRegistry
from controller.kinds.mlmodel.versions import FINGERPRINT_TAG as FINGERPRINT_TAG
from controller.kinds.mlmodel.versions import HANDLE_TAG as HANDLE_TAG
from controller.kinds.mlmodel.versions import sync_versions
from controller.reconciling import catalog_grants, ownership, permissions, policy
from controller.reconciling.ownership import MANAGED_TAG
from controller.reconciling.run import guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome as Outcome

WAIT_RETRY_SECONDS = 15.0


def reconcile(
    spec: MLModelSpec,
    *,
    registry: Registry,
    request: Request,
    sources: Callable[[str], SourceRegistry] = no_sources,
) -> Outcome:
    """Make the registry match the spec (or, under ObserveOnly, report how it differs).

    `sources` gives another Workspace's registry by name, for versions copied from it.
    """
    run = ModelRun(
        spec=spec,
        request=request,
        registry=registry,
        sources=sources,
        spec_changed=request.spec_changed,
        observe_only=policy.observe_only(spec),
        wait_retry=WAIT_RETRY_SECONDS,
    )
    return permissions.reported(guarded(run, lambda: _reconcile(run)), run.permissions)


def delete(spec: MLModelSpec, *, connect: Callable[[], Registry], owner: str) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all, and a model owned by someone else is never deleted.
    """
    promotion.forget(owner)
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


def _reconcile(run: ModelRun) -> Outcome:
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
    deployment_job = sync_deployment_job(run, model)
    read = versions_needed(run.spec, model, spec_changed=run.spec_changed)
    versions = run.registry.list_versions(run.name) if read else []
    version_status, handles = sync_versions(run, versions)
    promotions = Promotions(
        registry=run.registry,
        name=run.name,
        policies=run.spec.promotion,
        previous=run.request.promotion,
        versions={v.version: v for v in versions},
        notes=run.notes,
    )
    aliases = _apply_aliases(run, model, managed, handles, versions, promotions)
    run.attempt(lambda: _record_managed(run, model, managed))
    _sync_grants(run)
    outcome = _outcome(run, version_status, aliases, promotions)
    observed = {**outcome.observed, "deploymentJobId": deployment_job}
    if read:
        observed["deploymentRuns"] = deployment_runs.runs_status((v.version, v.deployment_run) for v in versions)
        observed["latestVersion"] = max((v.version for v in versions), default=None)
    elif model.latest_version is not None:
        observed["latestVersion"] = model.latest_version
    # Otherwise status keeps what the last read of versions found (the status patch merges).
    return dataclasses.replace(outcome, observed=observed)


def _sync_grants(run: ModelRun) -> None:
    """spec.permissions as Unity Catalog grants: one read, and one PATCH when they differ.

    The controller needs no guard here: the model's owner (usually the controller) has its rights by ownership.
    """
    recorded = run.request.managed_permissions
    if not permissions.wanted_at_all(run.spec.permissions, recorded):
        return
    mode = run.spec.permissions_mode
    want = permissions.wanted(run.spec.permissions, mode=mode, recorded=recorded, controller=None, by_name=True)
    what = f"registered model {run.name}"
    run.permissions = catalog_grants.sync_grants(run, run.registry, run.name, want, what=what)


def _create_model(run: ModelRun) -> ObservedModel:
    tags = {**run.spec.tags, **ownership.ownership_tags(run.request.owner)}
    tags[MANAGED_TAG] = ownership.encode_managed(tags=run.spec.tags, aliases=())
    run.registry.create_model(run.name, description=run.spec.description, tags=tags)
    run.note("Created", f"created registered model {run.name}")
    return ObservedModel(name=run.name, description=run.spec.description or "", tags=tags, aliases={})


def _adopt(run: ModelRun, model: ObservedModel) -> None:
    for key, value in ownership.ownership_tags(run.request.owner).items():
        run.registry.set_tag(run.name, key, value)
        model.tags[key] = value
    run.note("Adopted", f"adopted existing registered model {run.name}")


def _sync_description(run: ModelRun, model: ObservedModel) -> None:
    wanted = run.spec.description
    if wanted is None or wanted == model.description:
        return
    if run.may_write(f"description is {model.description!r}, spec says {wanted!r}"):
        run.registry.set_description(run.name, wanted)
        run.changed("set the description")


def _sync_tags(run: ModelRun, model: ObservedModel, managed: dict[str, set[str]]) -> None:
    for key, value in sorted(run.spec.tags.items()):
        current = model.tags.get(key)
        if current != value and run.may_write(f"tag {key} is {current!r}, spec says {value!r}"):
            run.registry.set_tag(run.name, key, value)
            run.changed(f"set tag {key}={value}")
    for key in sorted(managed["tags"] - set(run.spec.tags)):
        if key in model.tags and run.may_write(f"tag {key} is no longer in spec"):
            run.registry.delete_tag(run.name, key)
            run.changed(f"removed tag {key}")


def _apply_aliases(
    run: ModelRun,
    model: ObservedModel,
    managed: dict[str, set[str]],
    handles: dict[str, int],
    versions: list[ObservedVersion],
    promotions: Promotions,
) -> dict[str, int]:
    """Point every alias where the spec says, once its target passes its gates; returns the aliases as they now are."""
    aliases = dict(model.aliases)
    existing = {v.version for v in versions} | set(aliases.values())  # an alias names only an existing version
    for alias, target in sorted(run.spec.aliases.items()):
        version = _alias_version(run, alias, target, handles, existing)
        if version is None:
            continue
        if aliases.get(alias) == version:
            promotions.settled(alias, version)
            continue
        if not run.may_write(f"alias {alias} points at {aliases.get(alias)}, spec says {version}"):
            continue
        judged = f"alias {alias}: judging version {version}"
        if not run.attempt(functools.partial(promotions.allows, alias, aliases.get(alias), version), context=judged):
            continue
        if run.attempt(functools.partial(_done, run.registry.set_alias, run.name, alias, version)):
            was = f" (was {aliases[alias]})" if alias in aliases else ""
            aliases[alias] = version
            promotions.moved(alias)
            run.changed(f"pointed alias {alias} at version {version}{was}")
    for alias in sorted(managed["aliases"] - set(run.spec.aliases)):
        if alias not in aliases or not run.may_write(f"alias {alias} is no longer in spec"):
            continue
        if run.attempt(functools.partial(_done, run.registry.delete_alias, run.name, alias)):
            del aliases[alias]
            run.changed(f"removed alias {alias}")
    return aliases


def _alias_version(
    run: ModelRun, alias: str, target: int | str, handles: dict[str, int], existing: set[int]
) -> int | None:
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


def _record_managed(run: ModelRun, model: ObservedModel, managed: dict[str, set[str]]) -> None:
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
    run: ModelRun,
    version_status: list[dict[str, object]],
    aliases: dict[str, int],
    promotions: Promotions,
) -> Outcome:
    observed: dict[str, object] = {
        "registeredName": run.name,
        "aliases": aliases,
        "aliasSummary": ",".join(f"{a}={v}" for a, v in sorted(aliases.items())),
        "versions": version_status,
        "url": run.registry.model_url(run.name),
        "drift": run.drift,
        "promotion": promotions.status(),
    }
    promotions.count_blocked(run.request.owner)
    matches = f"registered model {run.name} matches the spec"
    return run.outcome(observed, matches=matches, holding=promotions.holding())
