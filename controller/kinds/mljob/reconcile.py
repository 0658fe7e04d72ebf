"""Reconcile an MLJob: find its job, compare, reset when it differs, start a run on change, report.

Job names are not unique in Databricks. The job is tracked by id in status, and it
carries this resource's uid in a tag from the create call on, so a create retried
after a crash or a lost answer finds the job it made instead of making a second one,
and a second job made anyway is found and deleted (`finding`). Updates are full
replacements (`jobs/reset`): a setting removed from the spec leaves the job too.

Deciding whether the job still matches the spec takes two records kept in status:
the fingerprint of the spec settings last applied, and the fingerprint of the job's
settings as Databricks returned them right after. While both hold, the job is as the
controller left it, whatever defaults the server filled in. Without a record (a new
resource, or one whose status was lost) only the fields the user wrote are compared.

Steady state costs one read per drift interval: the list by name that also finds duplicates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from controller.clients import errors
from controller.kinds.mljob import finding, folders
from controller.kinds.mljob.diff import canonical, differences, fingerprint
from controller.kinds.mljob.finding import UID_TAG
from controller.kinds.mljob.model import MLJobSpec
from controller.kinds.mljob.observed import ObservedJob, ObservedRun
from controller.kinds.mljob.run import JobRun, Jobs, Recorded, Request
from controller.reconciling import ownership, permissions, policy
from controller.reconciling.run import guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome

__all__ = [
    "UID_TAG",
    "Jobs",
    "Recorded",
    "Request",
    "delete",
    "desired_settings",
    "ownership_tags",
    "reconcile",
    "run_token",
]

Json = dict[str, Any]


def desired_settings(spec: MLJobSpec, *, owner: str, uid: str) -> Json:
    """The settings to send: the spec's, plus tags naming the resource (unless it only observes)."""
    settings: Json = spec.settings.model_dump(mode="json", exclude_unset=True)
    if not policy.observe_only(spec):
        settings["tags"] = {**(settings.get("tags") or {}), **ownership_tags(owner, uid)}
    return dict(canonical(settings))


def ownership_tags(owner: str, uid: str) -> dict[str, str]:
    return {**ownership.ownership_tags(owner), UID_TAG: uid}


def run_token(uid: str, generation: int) -> str:
    """The idempotency token of the run started for one spec generation (Databricks allows 64 characters)."""
    return f"{uid}-g{generation}"[:64]


def reconcile(spec: MLJobSpec, *, jobs: Jobs, request: Request) -> Outcome:
    """Make the job match the spec (or, under ObserveOnly, report how it differs)."""
    run = JobRun(
        spec=spec,
        request=request,
        jobs=jobs,
        desired=desired_settings(spec, owner=request.owner, uid=request.uid),
        spec_changed=request.spec_changed,
        observe_only=policy.observe_only(spec),
    )
    return permissions.reported(guarded(run, lambda: _reconcile(run)), run.permissions)


def delete(spec: MLJobSpec, *, connect: Callable[[], Jobs], uid: str, job_id: int | None) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all; a job tagged with another resource's uid is never deleted.
    """
    kept = policy.kept_on_delete(spec, f"job {job_id or spec.settings.name}")
    if kept is not None:
        return kept
    jobs = connect()
    found = {j.job_id for j in jobs.list_jobs(spec.settings.name) if j.tags.get(UID_TAG) == uid}
    if job_id is not None and job_id not in found:
        job = jobs.get_job(job_id)
        if job is not None and job.tags.get(UID_TAG, uid) != uid:
            return f"kept job {job_id}: it belongs to another resource ({job.tags.get(ownership.OWNER_TAG)})"
        if job is not None:
            found.add(job_id)
    if not found:
        return f"job {job_id or spec.settings.name} was already gone"
    for each in sorted(found):
        with contextlib.suppress(errors.NotFound):  # gone meanwhile: that is what was wanted
            jobs.delete_job(each)
    return "deleted job " + ", ".join(str(j) for j in sorted(found))


def _reconcile(run: JobRun) -> Outcome:
    run.desired = dict(canonical(folders.resolve(run.desired, run.request.folders)))
    unknown = run.jobs.unknown_fields(run.desired)
    if unknown:
        message = "settings the Jobs API does not know (field or value): " + ", ".join(unknown)
        return run.failed(c.EXTERNAL_REJECTED, message, retry=None)
    return _observe(run) if run.observe_only else _manage(run)


def _manage(run: JobRun) -> Outcome:
    found = finding.find(run)
    job = found.job
    if job is None and run.spec.adopt and run.request.recorded.job_id is None:
        adopted = finding.adoptable(run)
        if isinstance(adopted, str):
            return run.not_ours(c.ADOPTION_AMBIGUOUS, adopted)
        job = _adopt(run, adopted) if adopted is not None else None
    if job is None:
        job = _create(run)
    else:
        owner = job.tags.get(UID_TAG)
        if owner is not None and owner != run.request.uid:
            message = f"job {job.job_id} belongs to another resource ({job.tags.get(ownership.OWNER_TAG, owner)})"
            return run.not_ours(c.OWNED_BY_ANOTHER, message)
        finding.remove(run, found.duplicates, keeping=job.job_id)
        job = _update(run, job)
    _sync_permissions(run, job.job_id)
    _run_on_change(run, job)
    _refresh_last_run(run)
    return _outcome(run, job)


def _create(run: JobRun) -> ObservedJob:
    job_id = run.jobs.create_job(run.desired)
    run.note("Created", f"created job {job_id}")
    # A create the SDK re-sent after a lost answer can have made a second job with our uid by now
    # (one carried out later still is found by the next drift check).
    listed = finding.tagged(run)
    finding.remove(run, [j for j in listed if j.job_id != job_id], keeping=job_id)
    return finding.stored(run, job_id, listed)


def _adopt(run: JobRun, job: ObservedJob) -> ObservedJob:
    """Tag a job made outside the controller as this resource's; its settings are then compared as usual."""
    tags = {**job.tags, **ownership_tags(run.request.owner, run.request.uid)}
    run.jobs.update_tags(job.job_id, tags)
    run.note("Adopted", f"adopted job {job.job_id}: it now carries this resource's tags")
    return finding.stored(run, job.job_id)


def _update(run: JobRun, job: ObservedJob) -> ObservedJob:
    recorded = run.request.recorded
    diffs = differences(run.desired, job.settings)
    if recorded.applied_hash == run.desired_hash and recorded.job_hash and recorded.job_id == job.job_id:
        stale = fingerprint(job.settings) != recorded.job_hash  # anything changed since the controller left it
    elif recorded.applied_hash in (None, run.desired_hash):
        stale = bool(diffs)  # no record to go by: compare what the user set
    else:
        stale = True  # a new spec: replace everything, so removed settings go too
    if not stale:
        run.job_hash = fingerprint(job.settings)
        return job
    run.jobs.reset_job(job.job_id, run.desired)
    if run.request.spec_changed:
        run.changed(f"reset job {job.job_id} to the new spec" + (f" ({', '.join(diffs)} differed)" if diffs else ""))
    else:
        what = ", ".join(diffs) if diffs else "settings the spec leaves to the server"
        run.changed(f"reset job {job.job_id}: {what} had been changed outside this resource")
    return finding.stored(run, job.job_id)


def _run_on_change(run: JobRun, job: ObservedJob) -> None:
    """Start one run for a spec generation that changed the settings; the token makes a retry start none."""
    request = run.request
    if not (run.spec.run_on_change and request.spec_changed and request.recorded.applied_hash != run.desired_hash):
        return
    run_id = run.jobs.run_now(job.job_id, idempotency_token=run_token(request.uid, request.generation))
    previous = request.recorded.last_run
    if previous is None or previous.run_id != run_id:
        run.note("RunStarted", f"started run {run_id} of job {job.job_id}")
    run.last_run = run.jobs.get_run(run_id) or ObservedRun(run_id=run_id, state="PENDING")


def _refresh_last_run(run: JobRun) -> None:
    """Follow the started run until it ends; a finished run costs no more reads."""
    if run.last_run is not None:
        return
    last = run.request.recorded.last_run
    if last is not None and not last.finished:
        last = run.jobs.get_run(last.run_id)
    run.last_run = last


def _outcome(run: JobRun, job: ObservedJob) -> Outcome:
    observed: Json = {
        "jobId": job.job_id,
        "url": run.jobs.job_url(job.job_id),
        "lastRun": run.last_run.as_status() if run.last_run else None,
        "appliedSettingsHash": run.desired_hash,
        "jobSettingsHash": run.job_hash,
        "drift": [],
    }
    kept = differences(run.desired, job.settings)
    matches = f"job {job.job_id} matches the spec"
    if kept:
        matches = f"job {job.job_id} holds the spec, but Databricks stores these settings differently: "
        matches += ", ".join(kept)
    # The job is ready while its run goes on (a run is not the definition): only the look comes sooner.
    active = run.last_run is not None and not run.last_run.finished
    return run.outcome(observed, matches=matches, look_again=run.request.poll_seconds if active else None)


def _sync_permissions(run: JobRun, job_id: int) -> None:
    """spec.permissions on the job: one read, and one write when they differ; it keeps exactly one owner."""
    recorded = run.request.managed_permissions
    if not permissions.wanted_at_all(run.spec.permissions, recorded):
        return
    want = permissions.wanted(
        run.spec.permissions,
        mode=run.spec.permissions_mode,
        recorded=recorded,
        controller=run.request.identity,
        owner_level=permissions.IS_OWNER,
    )
    run.permissions = permissions.sync(run, run.jobs, str(job_id), want, what=f"job {job_id}")


def _observe(run: JobRun) -> Outcome:
    """ObserveOnly: the job by recorded id, or the only job with the spec's name; report, never write."""
    job = run.jobs.get_job(run.request.recorded.job_id) if run.request.recorded.job_id is not None else None
    if job is None:
        named = run.jobs.list_jobs(run.name)
        if len(named) != 1:
            count = "no job is" if not named else f"{len(named)} jobs are"
            message = f"{count} named {run.name!r}; ObserveOnly needs exactly one"
            return run.failed(c.EXTERNAL_OBJECT_MISSING, message, retry=None)
        job = named[0]  # listed with its full settings
    drift = differences(run.desired, job.settings)
    if drift:  # never written here: the frame reports it as DriftDetected
        run.drift.append(", ".join(drift) + " differ from the spec")
    _sync_permissions(run, job.job_id)
    observed = {"jobId": job.job_id, "url": run.jobs.job_url(job.job_id), "drift": drift}
    return run.outcome(observed, matches=f"job {job.job_id} matches the spec")
