"""Find the job, and keep it single: by the id in status, else by the resource's uid tag.

`jobs/create` takes no idempotency token and job names are not unique, so a create the
SDK sent again after a lost answer (a timeout, a dropped connection) can leave a second
job, and the first may be carried out late: after the look that follows the create. So
every reconcile, drift checks included, lists the jobs with the spec's name and deletes
those carrying this resource's uid besides the one it keeps: the job in status.jobId,
else the oldest. The list returns full settings, so it is also the reconcile's read of
the job: a drift check with nothing to do costs that one read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.clients import errors
from controller.kinds.mljob.diff import fingerprint
from controller.kinds.mljob.observed import ObservedJob
from controller.kinds.mljob.run import JobRun
from controller.reconciling import ownership

UID_TAG = f"{ownership.TAG_PREFIX}/uid"  # job names are not unique: the resource's uid finds its job


@dataclass(frozen=True)
class Found:
    """The job to keep (None: there is none), and the other jobs carrying this resource's uid."""

    job: ObservedJob | None
    duplicates: list[ObservedJob] = field(default_factory=list)


def find(run: JobRun) -> Found:
    """The job in status, else the oldest carrying this resource's uid (made by an attempt whose answer was lost)."""
    recorded = run.request.recorded.job_id
    mine = tagged(run)
    job = next((j for j in mine if j.job_id == recorded), None)
    if job is None and recorded is not None:
        job = run.jobs.get_job(recorded)  # renamed, untagged or another's: not listed with the spec's name and uid
        if job is None and not mine:
            run.changed(f"job {recorded} was deleted outside this resource; creating it again")
    if job is None and mine:
        job = mine[0]
        if recorded is None:
            run.note("Found", f"found job {job.job_id} made by an earlier attempt (by its uid tag)")
    kept = job.job_id if job is not None else None
    return Found(job, [j for j in mine if j.job_id != kept])


def tagged(run: JobRun) -> list[ObservedJob]:
    """Jobs with the spec's name carrying this resource's uid, oldest first."""
    jobs = run.jobs.list_jobs(run.name)
    mine = (j for j in jobs if j.tags.get(UID_TAG) == run.request.uid)
    return sorted(mine, key=lambda j: (j.created_time, j.job_id))


def adoptable(run: JobRun) -> ObservedJob | str | None:
    """The only job with the spec's name that no resource owns; None when there is none; a refusal when several."""
    unowned = [j for j in run.jobs.list_jobs(run.name) if UID_TAG not in j.tags and ownership.OWNER_TAG not in j.tags]
    if len(unowned) > 1:
        ids = ", ".join(str(j.job_id) for j in sorted(unowned, key=lambda j: j.job_id))
        return f"{len(unowned)} jobs named {run.name!r} are not managed (jobs {ids}); adopt takes over only one"
    return unowned[0] if unowned else None


def remove(run: JobRun, duplicates: list[ObservedJob], *, keeping: int) -> None:
    """Delete the duplicates of the kept job, each with a warning Event; one already gone is what was wanted."""
    for duplicate in duplicates:
        try:
            run.jobs.delete_job(duplicate.job_id)
        except errors.NotFound:
            continue
        run.note("DuplicateRemoved", f"deleted job {duplicate.job_id}, a duplicate of job {keeping}", warning=True)


def stored(run: JobRun, job_id: int, listed: list[ObservedJob] | None = None) -> ObservedJob:
    """The job as Databricks stored it after a write, with the server's defaults filled in.

    Read as drift checks read it (the list), so the fingerprint recorded is the one they will compare.
    """
    listed = tagged(run) if listed is None else listed
    job = next((j for j in listed if j.job_id == job_id), None) or run.jobs.get_job(job_id)
    if job is None:
        raise errors.Unavailable(f"job {job_id} was not found right after it was written")
    run.job_hash = fingerprint(job.settings)
    return job
