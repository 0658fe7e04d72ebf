"""Reconcile an Experiment: find it by name, create or restore it, put its tags back, report.

One read per drift check: the lookup by name returns the experiment in either lifecycle stage with its
tags. Deleting an experiment only moves it to the deleted stage (MLflow and Databricks both keep it, and
its name, restorable), so an experiment of this resource found deleted is restored, never created again.
The artifact location is fixed when the experiment is created: a different one found is reported.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.clients import errors
from controller.kinds.experiment.model import ExperimentSpec
from controller.kinds.experiment.run import ACTIVE, DELETED, ExperimentRun, Experiments, ObservedExperiment, Request
from controller.reconciling import ownership, permissions, policy
from controller.reconciling.ownership import MANAGED_TAG
from controller.reconciling.run import Holding, guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome

__all__ = ["Experiments", "Request", "delete", "reconcile"]


def reconcile(spec: ExperimentSpec, *, experiments: Experiments, request: Request) -> Outcome:
    """Make the experiment match the spec (or, under ObserveOnly, report how it differs)."""
    run = ExperimentRun(
        spec=spec,
        request=request,
        experiments=experiments,
        spec_changed=request.spec_changed,
        observe_only=policy.observe_only(spec),
    )
    return permissions.reported(guarded(run, lambda: _reconcile(run)), run.permissions)


def delete(spec: ExperimentSpec, *, connect: Callable[[], Experiments], owner: str) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect; an experiment owned by someone else is never deleted. Delete moves
    the experiment to the deleted stage, where it can still be restored (and is, when the resource comes back).
    """
    what = f"experiment {spec.name}"
    kept = policy.kept_on_delete(spec, what)
    if kept is not None:
        return kept
    experiments = connect()
    found = experiments.get_by_name(spec.name)
    if found is None or found.lifecycle_stage == DELETED:
        return f"{what} was already deleted"
    if not ownership.owned_by(found.tags, owner):
        return f"kept {what}: it is not owned by {owner}"
    try:
        experiments.delete(found.experiment_id)
    except errors.NotFound:
        return f"{what} was already deleted"
    return f"deleted {what} (moved to the deleted stage, where it can be restored)"


def _reconcile(run: ExperimentRun) -> Outcome:
    found = run.experiments.get_by_name(run.name)
    if run.observe_only:
        if found is None or found.lifecycle_stage == DELETED:
            missing = f"experiment {run.name} {'does not exist' if found is None else 'is deleted'}"
            return run.failed(c.EXTERNAL_OBJECT_MISSING, missing, retry=None)
    elif found is None:
        found = _create(run)
    else:
        claim = ownership.claim(
            found.tags, owner=run.request.owner, adopt=run.spec.adopt, what=f"experiment {run.name}"
        )
        if not claim.mine:
            return run.not_ours(claim.reason, claim.message)
        if found.lifecycle_stage == DELETED:
            found = _restore(run, found)
        if claim.adopt:
            _adopt(run, found)
    managed = ownership.read_managed(found.tags, "tags")["tags"]
    run.attempt(lambda: _sync_tags(run, found, managed))
    run.attempt(lambda: _record_managed(run, found))
    _sync_permissions(run, found.experiment_id)
    return _outcome(run, found)


def _sync_permissions(run: ExperimentRun, experiment_id: str) -> None:
    """spec.permissions on the experiment: one read, and one write when they differ."""
    recorded = run.request.managed_permissions
    if not permissions.wanted_at_all(run.spec.permissions, recorded):
        return
    mode, identity = run.spec.permissions_mode, run.request.identity
    want = permissions.wanted(run.spec.permissions, mode=mode, recorded=recorded, controller=identity)
    what = f"experiment {run.name}"
    run.permissions = permissions.sync(run, run.experiments, experiment_id, want, what=what)


def _create(run: ExperimentRun) -> ObservedExperiment:
    tags = {**run.spec.tags, **ownership.ownership_tags(run.request.owner)}
    tags[MANAGED_TAG] = ownership.encode_managed(tags=run.spec.tags)
    experiment_id = run.experiments.create(run.name, artifact_location=run.spec.artifact_location, tags=tags)
    if run.request.known_id is not None and not run.request.spec_changed:
        run.changed(
            f"created experiment {run.name}", drift=f"experiment {run.name} was removed outside; created it again"
        )
    else:
        run.note("Created", f"created experiment {run.name}")
    # Read back: the server fills in the artifact location and its own tags.
    created = run.experiments.get_by_name(run.name)
    if created is None:
        raise errors.Unavailable(f"experiment {run.name} (id {experiment_id}) was created but cannot be read yet")
    return created


def _restore(run: ExperimentRun, found: ObservedExperiment) -> ObservedExperiment:
    run.experiments.restore(found.experiment_id)
    what = f"restored experiment {run.name} from the deleted stage"
    if run.request.spec_changed:
        run.note("Restored", what)
    else:
        run.changed(what, drift=f"experiment {run.name} was deleted outside this resource; {what}")
    return ObservedExperiment(
        experiment_id=found.experiment_id,
        name=found.name,
        lifecycle_stage=ACTIVE,
        artifact_location=found.artifact_location,
        tags=found.tags,
    )


def _adopt(run: ExperimentRun, found: ObservedExperiment) -> None:
    for key, value in ownership.ownership_tags(run.request.owner).items():
        run.experiments.set_tag(found.experiment_id, key, value)
        found.tags[key] = value
    run.note("Adopted", f"adopted existing experiment {run.name}")


def _sync_tags(run: ExperimentRun, found: ObservedExperiment, managed: set[str]) -> None:
    for key, value in sorted(run.spec.tags.items()):
        current = found.tags.get(key)
        if current != value and run.may_write(f"tag {key} is {current!r}, spec says {value!r}"):
            run.experiments.set_tag(found.experiment_id, key, value)
            run.changed(f"set tag {key}={value}")
    for key in sorted(managed - set(run.spec.tags)):
        if key in found.tags and run.may_write(f"tag {key} is no longer in spec"):
            run.experiments.delete_tag(found.experiment_id, key)
            run.changed(f"removed tag {key}")


def _record_managed(run: ExperimentRun, found: ObservedExperiment) -> None:
    """Remember which tags this resource set, so that it removes only its own."""
    if run.observe_only:
        return
    wanted = ownership.encode_managed(tags=run.spec.tags)
    if found.tags.get(MANAGED_TAG) != wanted:
        run.experiments.set_tag(found.experiment_id, MANAGED_TAG, wanted)


def _outcome(run: ExperimentRun, found: ObservedExperiment) -> Outcome:
    observed: dict[str, object] = {
        "experimentId": found.experiment_id,
        "lifecycleStage": found.lifecycle_stage,
        "artifactLocation": found.artifact_location,
        "url": run.experiments.url(found.experiment_id),
        "drift": run.drift,
    }
    wanted = run.spec.artifact_location
    holding = None
    if wanted is not None and wanted != found.artifact_location:
        message = (
            f"experiment {run.name} stores artifacts in {found.artifact_location}, spec.artifactLocation says "
            f"{wanted}; an experiment's artifact location cannot change, so it was left as it is"
        )
        holding = Holding(ready=c.Verdict(False, c.ARTIFACT_LOCATION_DIFFERS, message))
    return run.outcome(observed, matches=f"experiment {run.name} matches the spec", holding=holding)
