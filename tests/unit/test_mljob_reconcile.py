"""MLJob reconcile over a fake Jobs API: find-or-create by uid tag, reset on difference, runs on change."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.mljob import reconcile as mljob
from controller.kinds.mljob.diff import differences, fingerprint
from controller.kinds.mljob.model import MLJobSpec
from controller.kinds.mljob.observed import ObservedJob, ObservedRun
from controller.status import conditions as c

Json = dict[str, Any]
OWNER = "risk/fraud-retrain"
UID = "0b6f3c1e-1111-4c4c-9d9d-000000000001"
OTHER_UID = "0b6f3c1e-2222-4c4c-9d9d-000000000002"
WRITES = ("create", "reset", "update_tags", "delete", "run_now")
KNOWN_FIELDS = {"name", "tasks", "tags", "schedule", "max_concurrent_runs", "parameters", "job_clusters"}

SETTINGS: Json = {
    "name": "fraud-retrain",
    "tags": {"team": "risk"},
    "tasks": [
        {"task_key": "train", "depends_on": [{"task_key": "prepare"}], "notebook_task": {"notebook_path": "/r/train"}},
        {"task_key": "prepare", "notebook_task": {"notebook_path": "/r/prepare"}},
    ],
}


class FakeJobs:
    """A Jobs API in memory that fills defaults and reorders tasks the way a server may."""

    def __init__(self) -> None:
        self.jobs: dict[int, Json] = {}
        self.created: dict[int, int] = {}  # creation time per job; ids need not follow it
        self.runs: dict[int, ObservedRun] = {}
        self.tokens: dict[str, int] = {}
        self.calls: list[str] = []
        self.refuse: dict[str, errors.ExternalError] = {}
        self.run_state = "PENDING"
        self._next = 100

    @property
    def writes(self) -> list[str]:
        return [call for call in self.calls if call in WRITES]

    def add(self, settings: Json, *, created: int | None = None) -> int:
        self._next += 1
        self.jobs[self._next] = _stored(settings)
        self.created[self._next] = self._next if created is None else created
        return self._next

    def unknown_fields(self, settings: Json) -> list[str]:
        return sorted(set(settings) - KNOWN_FIELDS)

    def get_job(self, job_id: int) -> ObservedJob | None:
        self._call("get")
        return self._observed(job_id) if job_id in self.jobs else None

    def list_jobs(self, name: str) -> list[ObservedJob]:
        self._call("list")
        return [self._observed(i) for i, s in sorted(self.jobs.items()) if s["name"].lower() == name.lower()]

    def create_job(self, settings: Json) -> int:
        self._call("create")
        return self.add(settings)

    def reset_job(self, job_id: int, settings: Json) -> None:
        self._call("reset")
        if job_id not in self.jobs:
            raise errors.Rejected(f"Job {job_id} does not exist.")
        self.jobs[job_id] = _stored(settings)

    def update_tags(self, job_id: int, tags: Mapping[str, str]) -> None:
        self._call("update_tags")
        self.jobs[job_id]["tags"] = dict(tags)

    def delete_job(self, job_id: int) -> None:
        self._call("delete")
        if self.jobs.pop(job_id, None) is None:
            raise errors.NotFound(f"job {job_id} does not exist")

    def run_now(self, job_id: int, *, idempotency_token: str) -> int:
        self._call("run_now")
        if idempotency_token not in self.tokens:
            run_id = 9000 + len(self.runs)
            self.runs[run_id] = ObservedRun(run_id, self.run_state, url=f"https://dbx/jobs/{job_id}/runs/{run_id}")
            self.tokens[idempotency_token] = run_id
        return self.tokens[idempotency_token]

    def get_run(self, run_id: int) -> ObservedRun | None:
        self._call("get_run")
        return self.runs.get(run_id)

    def job_url(self, job_id: int) -> str:
        return f"https://dbx.example/jobs/{job_id}"

    def _observed(self, job_id: int) -> ObservedJob:
        return ObservedJob(job_id, copy.deepcopy(self.jobs[job_id]), created_time=self.created[job_id])

    def _call(self, verb: str) -> None:
        self.calls.append(verb)
        if verb in self.refuse:
            raise self.refuse[verb]


def _stored(settings: Json) -> Json:
    """Settings as a server keeps them: defaults filled in, tasks in reverse key order."""
    stored = copy.deepcopy(settings)
    stored.setdefault("format", "MULTI_TASK")
    stored.setdefault("max_concurrent_runs", 1)
    stored.setdefault("email_notifications", {})
    for task in stored.get("tasks") or []:
        task.setdefault("run_if", "ALL_SUCCESS")
        task.setdefault("timeout_seconds", 0)
    stored["tasks"] = sorted(stored.get("tasks") or [], key=lambda t: t["task_key"], reverse=True)
    return stored


def _spec(settings: Json | None = None, **fields: Any) -> MLJobSpec:
    return MLJobSpec.model_validate({"workspaceRef": {"name": "dbx"}, "settings": settings or SETTINGS, **fields})


def _ours(settings: Json, uid: str = UID) -> Json:
    """Settings with the tags the controller adds (for this resource, or another one)."""
    owner = OWNER if uid == UID else "risk/another"
    return {**settings, "tags": {**settings.get("tags", {}), **mljob.ownership_tags(owner, uid)}}


def _with(settings: Json, edit: Callable[[Json], None]) -> Json:
    changed = copy.deepcopy(settings)
    edit(changed)
    return changed


def _set_path(path: str) -> Callable[[Json], None]:
    def edit(settings: Json) -> None:
        next(t for t in settings["tasks"] if t["task_key"] == "train")["notebook_task"]["notebook_path"] = path

    return edit


def _add_schedule(settings: Json) -> None:
    settings["schedule"] = {"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC"}


@dataclass(frozen=True)
class Case:
    """One reconcile: what exists, what status remembers, what changed out of band; what must happen."""

    spec: MLJobSpec = field(default_factory=_spec)
    existing: tuple[Json, ...] = ()  # settings of jobs already in the workspace, as sent when created
    recorded: bool = False  # status holds the job id and fingerprints of how the controller left the first job
    recorded_spec: MLJobSpec | None = None  # the spec that was applied then, when not the current one
    edit: Callable[[Json], None] | None = None  # an out-of-band change to the first job, after that
    spec_changed: bool = False
    writes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    ready: str = c.RECONCILED
    synced: bool = True
    jobs_after: int = 1


CASES = {
    "create-with-uid-tag": Case(spec_changed=True, writes=("create",), notes=("Created",)),
    "found-by-uid-tag-after-crash": Case(existing=(_ours(SETTINGS),), spec_changed=True, notes=("Found",)),
    "no-op-when-equal-with-record": Case(existing=(_ours(SETTINGS),), recorded=True),
    "no-op-despite-server-defaults-and-task-order": Case(
        existing=(_ours(SETTINGS),), spec=_spec(SETTINGS), spec_changed=True, notes=("Found",)
    ),
    "same-name-other-owner-is-not-adopted": Case(
        existing=(_ours(SETTINGS, OTHER_UID),), spec_changed=True, writes=("create",), notes=("Created",), jobs_after=2
    ),
    "reset-on-spec-change": Case(
        spec=_spec(_with(SETTINGS, _set_path("/r/train-v2"))),
        existing=(_ours(SETTINGS),),
        recorded=True,
        recorded_spec=_spec(),
        spec_changed=True,
        writes=("reset",),
        notes=("Updated",),
    ),
    "removed-setting-is-removed": Case(
        existing=(_ours(_with(SETTINGS, _add_schedule)),),
        recorded=True,
        recorded_spec=_spec(_with(SETTINGS, _add_schedule)),
        spec_changed=True,
        writes=("reset",),
        notes=("Updated",),
    ),
    "drift-in-a-spec-field-is-corrected": Case(
        existing=(_ours(SETTINGS),),
        recorded=True,
        edit=_set_path("/ui/edit"),
        writes=("reset",),
        notes=("DriftCorrected",),
    ),
    "drift-outside-the-spec-is-corrected": Case(
        existing=(_ours(SETTINGS),), recorded=True, edit=_add_schedule, writes=("reset",), notes=("DriftCorrected",)
    ),
    "ownership-tags-restored": Case(
        existing=(_ours(SETTINGS),),
        recorded=True,
        edit=lambda s: s.__setitem__("tags", {"team": "risk"}),
        writes=("reset",),
        notes=("DriftCorrected",),
    ),
    "job-deleted-out-of-band-is-recreated": Case(
        existing=(_ours(SETTINGS),),
        recorded=True,
        edit=lambda s: s.clear(),
        writes=("create",),
        notes=("DriftCorrected", "Created"),
    ),
    "duplicate-from-retried-create-is-removed": Case(
        existing=(_ours(SETTINGS), _ours(SETTINGS)),
        spec_changed=True,
        writes=("delete",),
        notes=("Found", "DuplicateRemoved"),
    ),
    "duplicate-carried-out-late-is-removed-at-a-drift-check": Case(
        existing=(_ours(SETTINGS), _ours(SETTINGS)), recorded=True, writes=("delete",), notes=("DuplicateRemoved",)
    ),
    "duplicate-removed-while-drift-is-corrected": Case(
        existing=(_ours(SETTINGS), _ours(SETTINGS)),
        recorded=True,
        edit=_set_path("/ui/edit"),
        writes=("delete", "reset"),
        notes=("DuplicateRemoved", "DriftCorrected"),
    ),
    "job-of-another-resource-with-the-same-name-is-no-duplicate": Case(
        existing=(_ours(SETTINGS), _ours(SETTINGS, OTHER_UID)), recorded=True, jobs_after=2
    ),
    "unmanaged-job-with-the-name-is-left-alone-without-adopt": Case(
        existing=(copy.deepcopy(SETTINGS),), spec_changed=True, writes=("create",), notes=("Created",), jobs_after=2
    ),
    "adopt-tags-the-only-unmanaged-job-and-resets-nothing-when-it-matches": Case(
        spec=_spec(adopt=True),
        existing=(copy.deepcopy(SETTINGS),),
        spec_changed=True,
        writes=("update_tags",),
        notes=("Adopted",),
    ),
    "adopt-then-reset-when-the-adopted-job-differs": Case(
        spec=_spec(adopt=True),
        existing=(_with(SETTINGS, _set_path("/ui/edit")),),
        spec_changed=True,
        writes=("update_tags", "reset"),
        notes=("Adopted", "Updated"),
    ),
    "adopt-passes-over-a-job-of-another-resource": Case(
        spec=_spec(adopt=True),
        existing=(_ours(SETTINGS, OTHER_UID),),
        spec_changed=True,
        writes=("create",),
        notes=("Created",),
        jobs_after=2,
    ),
    "adopt-creates-when-there-is-nothing-to-adopt": Case(
        spec=_spec(adopt=True), spec_changed=True, writes=("create",), notes=("Created",)
    ),
    "adopt-refuses-to-choose-between-unmanaged-jobs": Case(
        spec=_spec(adopt=True),
        existing=(copy.deepcopy(SETTINGS), copy.deepcopy(SETTINGS)),
        spec_changed=True,
        ready=c.ADOPTION_AMBIGUOUS,
        synced=True,
        notes=(c.ADOPTION_AMBIGUOUS,),
        jobs_after=2,
    ),
    "adopt-is-not-repeated-once-the-job-is-recorded": Case(
        spec=_spec(adopt=True), existing=(_ours(SETTINGS),), recorded=True
    ),
    "run-on-change-starts-one-run": Case(
        spec=_spec(run_on_change=True), spec_changed=True, writes=("create", "run_now"), notes=("Created", "RunStarted")
    ),
    "run-on-change-not-for-drift": Case(
        spec=_spec(run_on_change=True),
        existing=(_ours(SETTINGS),),
        recorded=True,
        edit=_set_path("/ui/edit"),
        writes=("reset",),
        notes=("DriftCorrected",),
    ),
    "run-on-change-not-when-settings-unchanged": Case(
        spec=_spec(run_on_change=True, deletionPolicy="Delete"),
        existing=(_ours(SETTINGS),),
        recorded=True,
        spec_changed=True,
    ),
    "owned-by-another-is-refused": Case(
        existing=(_ours(SETTINGS, OTHER_UID),),
        recorded=True,
        ready=c.OWNED_BY_ANOTHER,
        synced=True,
        notes=(c.OWNED_BY_ANOTHER,),
    ),
    "unknown-field-is-refused-before-any-call": Case(
        spec=_spec({**SETTINGS, "schedul": {"quartz_cron_expression": "0 0 3 * * ?"}}),
        spec_changed=True,
        ready=c.EXTERNAL_REJECTED,
        synced=False,
        notes=(c.EXTERNAL_REJECTED,),
        jobs_after=0,
    ),
    "observe-only-reports-drift-and-writes-nothing": Case(
        spec=_spec(managementPolicy="ObserveOnly"),
        existing=(_with(SETTINGS, _set_path("/ui/edit")),),
        notes=(c.DRIFT_DETECTED,),
        ready=c.DRIFT_DETECTED,
    ),
    "observe-only-matching": Case(
        spec=_spec(managementPolicy="ObserveOnly"), existing=(copy.deepcopy(SETTINGS),), ready=c.OBSERVED
    ),
    "observe-only-needs-exactly-one-job": Case(
        spec=_spec(managementPolicy="ObserveOnly"),
        existing=(copy.deepcopy(SETTINGS), copy.deepcopy(SETTINGS)),
        ready=c.EXTERNAL_OBJECT_MISSING,
        synced=False,
        notes=(c.EXTERNAL_OBJECT_MISSING,),
        jobs_after=2,
    ),
    "observe-only-missing-job": Case(
        spec=_spec(managementPolicy="ObserveOnly"),
        ready=c.EXTERNAL_OBJECT_MISSING,
        synced=False,
        notes=(c.EXTERNAL_OBJECT_MISSING,),
        jobs_after=0,
    ),
}


def _prepare(case: Case) -> tuple[FakeJobs, mljob.Request]:
    jobs = FakeJobs()
    ids = [jobs.add(settings) for settings in case.existing]
    recorded = mljob.Recorded()
    if case.recorded:
        applied = mljob.desired_settings(case.recorded_spec or case.spec, owner=OWNER, uid=UID)
        recorded = mljob.Recorded(
            job_id=ids[0], applied_hash=fingerprint(applied), job_hash=fingerprint(jobs.jobs[ids[0]])
        )
    if case.edit is not None:
        case.edit(jobs.jobs[ids[0]])
        if not jobs.jobs[ids[0]]:
            del jobs.jobs[ids[0]]
    request = mljob.Request(owner=OWNER, uid=UID, generation=3, spec_changed=case.spec_changed, recorded=recorded)
    return jobs, request


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_reconcile(case: Case) -> None:
    jobs, request = _prepare(case)

    outcome = mljob.reconcile(case.spec, jobs=jobs, request=request)

    assert tuple(jobs.writes) == case.writes, jobs.calls
    assert tuple(n.reason for n in outcome.notes) == case.notes, outcome.notes
    assert outcome.ready.reason == case.ready, outcome.ready
    assert outcome.synced.ok is case.synced, outcome.synced
    assert len(jobs.jobs) == case.jobs_after
    if outcome.ready.ok and case.spec.management_policy == "Manage":
        job_id = outcome.observed["jobId"]
        stored = jobs.jobs[job_id]
        desired = mljob.desired_settings(case.spec, owner=OWNER, uid=UID)
        assert outcome.observed["url"] == f"https://dbx.example/jobs/{job_id}"
        assert differences(desired, stored) == []
        assert stored["tags"][mljob.UID_TAG] == UID
        assert outcome.observed["jobSettingsHash"] == fingerprint(stored)
        assert outcome.drift_corrections == case.notes.count("DriftCorrected")


def test_removed_setting_leaves_the_job() -> None:
    case = CASES["removed-setting-is-removed"]
    jobs, request = _prepare(case)
    mljob.reconcile(case.spec, jobs=jobs, request=request)
    assert "schedule" not in next(iter(jobs.jobs.values()))


def test_steady_state_costs_one_read() -> None:
    jobs, request = _prepare(CASES["no-op-when-equal-with-record"])
    mljob.reconcile(_spec(), jobs=jobs, request=request)
    assert jobs.calls == ["list"]  # the list by name both reads the job and finds any duplicate


def test_a_drift_check_keeps_the_recorded_job_even_when_a_duplicate_is_older() -> None:
    jobs = FakeJobs()
    older = jobs.add(_ours(SETTINGS), created=1)
    recorded = jobs.add(_ours(SETTINGS), created=2)
    status = {**_applied(jobs, recorded), "jobId": recorded}
    outcome = mljob.reconcile(_spec(), jobs=jobs, request=_request(status, 1, False))
    assert list(jobs.jobs) == [recorded]
    assert [(n.reason, n.message, n.warning) for n in outcome.notes] == [
        ("DuplicateRemoved", f"deleted job {older}, a duplicate of job {recorded}", True)
    ]
    assert outcome.observed["jobId"] == recorded
    assert (outcome.ready.reason, outcome.drift_corrections) == (c.RECONCILED, 0)
    assert jobs.calls == ["list", "delete"]


def test_without_a_record_the_oldest_job_is_kept_whatever_its_id() -> None:
    jobs = FakeJobs()
    newer = jobs.add(_ours(SETTINGS), created=2)
    oldest = jobs.add(_ours(SETTINGS), created=1)
    outcome = mljob.reconcile(_spec(), jobs=jobs, request=_request({}, 1, True))
    assert list(jobs.jobs) == [oldest]
    assert outcome.observed["jobId"] == oldest
    assert [n.message for n in outcome.notes if n.reason == "DuplicateRemoved"] == [
        f"deleted job {newer}, a duplicate of job {oldest}"
    ]


def test_a_duplicate_deleted_meanwhile_is_not_reported() -> None:
    jobs, request = _prepare(CASES["duplicate-carried-out-late-is-removed-at-a-drift-check"])
    jobs.refuse["delete"] = errors.NotFound("Job 102 does not exist.")
    outcome = mljob.reconcile(_spec(), jobs=jobs, request=request)
    assert outcome.notes == ()
    assert (outcome.ready.reason, outcome.synced.ok) == (c.RECONCILED, True)


def test_a_failing_duplicate_delete_is_retried_soon() -> None:
    jobs, request = _prepare(CASES["duplicate-carried-out-late-is-removed-at-a-drift-check"])
    jobs.refuse["delete"] = errors.Unavailable("503 Service Unavailable")
    outcome = mljob.reconcile(_spec(), jobs=jobs, request=request)
    assert outcome.synced.reason == c.EXTERNAL_UNAVAILABLE
    assert outcome.retry_after is not None
    assert len(jobs.jobs) == 2


def test_drift_note_names_the_changed_setting() -> None:
    case = CASES["drift-in-a-spec-field-is-corrected"]
    jobs, request = _prepare(case)
    outcome = mljob.reconcile(case.spec, jobs=jobs, request=request)
    assert "tasks[train].notebook_task.notebook_path" in outcome.notes[0].message
    assert outcome.drift_corrections == 1


def test_observe_only_reports_the_differing_paths() -> None:
    case = CASES["observe-only-reports-drift-and-writes-nothing"]
    jobs, request = _prepare(case)
    outcome = mljob.reconcile(case.spec, jobs=jobs, request=request)
    assert outcome.observed["drift"] == ["tasks[train].notebook_task.notebook_path"]
    assert outcome.ready.message == "ObserveOnly: tasks[train].notebook_task.notebook_path differ from the spec"
    assert jobs.calls == ["list"]


def test_run_on_change_retried_after_a_crash_starts_no_second_run() -> None:
    spec = _spec(run_on_change=True)
    jobs = FakeJobs()
    first = mljob.Request(owner=OWNER, uid=UID, generation=1, spec_changed=True)
    mljob.reconcile(spec, jobs=jobs, request=first)
    # The status write was lost: the same generation is reconciled again from nothing.
    mljob.reconcile(spec, jobs=jobs, request=first)
    assert jobs.writes == ["create", "run_now", "run_now"]
    assert len(jobs.runs) == 1
    assert len(jobs.jobs) == 1


def test_run_on_change_runs_once_per_settings_change() -> None:
    jobs = FakeJobs()
    status: dict[str, Any] = {}
    for generation, path in ((1, "/r/train"), (2, "/r/train"), (3, "/r/train-v2"), (3, "/r/train-v2")):
        spec = _spec(_with(SETTINGS, _set_path(path)), run_on_change=True)
        spec_changed = status.get("generation") != generation
        outcome = mljob.reconcile(spec, jobs=jobs, request=_request(status, generation, spec_changed))
        status = {**status, **outcome.observed, "generation": generation}
    assert sorted(jobs.tokens) == sorted([mljob.run_token(UID, 1), mljob.run_token(UID, 3)])
    assert jobs.writes == ["create", "run_now", "reset", "run_now"]


def test_active_run_asks_for_an_earlier_look_and_a_finished_one_costs_nothing() -> None:
    jobs = FakeJobs()
    first = mljob.reconcile(_spec(run_on_change=True), jobs=jobs, request=_request({}, 1, True, poll=7))
    assert first.observed["lastRun"]["state"] == "PENDING"
    assert (first.ready.ok, first.ready.reason) == (True, c.RECONCILED)  # a run going on is no unready job
    assert first.retry_after == 7

    run_id = first.observed["lastRun"]["runId"]
    jobs.runs[run_id] = ObservedRun(run_id, "TERMINATED", result="SUCCESS", url="u")
    second = mljob.reconcile(_spec(run_on_change=True), jobs=jobs, request=_request(first.observed, 1, False))
    assert second.observed["lastRun"] == {"runId": run_id, "state": "TERMINATED", "result": "SUCCESS", "url": "u"}
    assert second.retry_after is None

    jobs.calls.clear()
    mljob.reconcile(_spec(run_on_change=True), jobs=jobs, request=_request(second.observed, 1, False))
    assert jobs.calls == ["list"]


def test_rejected_create_reports_databricks_message_without_hot_retry() -> None:
    jobs = FakeJobs()
    jobs.refuse["create"] = errors.Rejected("Task train depends on nope, which does not exist.")
    outcome = mljob.reconcile(_spec(), jobs=jobs, request=_request({}, 1, True))
    assert not outcome.ready.ok
    assert not outcome.synced.ok
    assert outcome.ready.reason == c.EXTERNAL_REJECTED
    assert "depends on nope" in outcome.ready.message
    assert outcome.retry_after is None


def test_a_job_deleted_between_read_and_reset_is_looked_at_again_soon() -> None:
    case = CASES["drift-in-a-spec-field-is-corrected"]
    jobs, request = _prepare(case)
    jobs.refuse["reset"] = errors.NotFound("Job 101 does not exist.")
    outcome = mljob.reconcile(case.spec, jobs=jobs, request=request)
    assert (outcome.ready.reason, outcome.synced.ok) == (c.EXTERNAL_REJECTED, False)
    assert outcome.retry_after == 30  # the next look finds it gone and creates it again


def test_unavailable_is_retried_soon() -> None:
    jobs = FakeJobs()
    jobs.refuse["list"] = errors.Unavailable("429 Too Many Requests", retry_after=4)
    outcome = mljob.reconcile(_spec(), jobs=jobs, request=_request({}, 1, True))
    assert outcome.synced.reason == c.EXTERNAL_UNAVAILABLE
    assert outcome.retry_after == 4
    assert jobs.writes == []


DELETIONS = {
    "delete-removes-the-job": ("Delete", "Manage", UID, True, 0, "deleted job"),
    "delete-tolerates-a-missing-job": ("Delete", "Manage", None, True, 0, "already gone"),
    "retain-never-connects": ("Retain", "Manage", UID, False, 1, "kept job"),
    "observe-only-never-connects": ("Delete", "ObserveOnly", UID, False, 1, "kept job"),
    "job-of-another-resource-is-kept": ("Delete", "Manage", OTHER_UID, True, 1, "belongs to another resource"),
}


@pytest.mark.parametrize(
    ("policy", "management", "job_uid", "connects", "jobs_after", "said"), DELETIONS.values(), ids=DELETIONS.keys()
)
def test_delete(policy: str, management: str, job_uid: str | None, connects: bool, jobs_after: int, said: str) -> None:
    jobs = FakeJobs()
    job_id = jobs.add(_ours(SETTINGS, job_uid or UID))
    if job_uid is None:
        jobs.jobs.clear()
        jobs_after = 0
    connected: list[bool] = []

    def connect() -> mljob.Jobs:
        connected.append(True)
        return jobs

    spec = _spec(deletionPolicy=policy, managementPolicy=management)
    done = mljob.delete(spec, connect=connect, uid=UID, job_id=job_id)
    assert said in done
    assert bool(connected) is connects
    assert len(jobs.jobs) == jobs_after


def test_failing_delete_raises_for_the_finalizer_to_stay() -> None:
    jobs = FakeJobs()
    job_id = jobs.add(_ours(SETTINGS))
    jobs.refuse["delete"] = errors.Unavailable("503 Service Unavailable")
    with pytest.raises(errors.Unavailable):
        mljob.delete(_spec(deletionPolicy="Delete"), connect=lambda: jobs, uid=UID, job_id=job_id)
    assert job_id in jobs.jobs


DIFFS = {
    "server-defaults-ignored": ({"a": 1}, {"a": 1, "b": 2}, []),
    "changed-scalar": ({"a": 1}, {"a": 2}, ["a"]),
    "missing-field": ({"a": {"b": 1}}, {}, ["a"]),
    "empty-object-matches-absent": ({"a": {}}, {}, []),
    "tasks-by-key": (
        {"tasks": [{"task_key": "x", "v": 1}, {"task_key": "y"}]},
        {"tasks": [{"task_key": "y", "d": 0}, {"task_key": "x", "v": 1}]},
        [],
    ),
    "extra-task-is-a-difference": (
        {"tasks": [{"task_key": "x"}]},
        {"tasks": [{"task_key": "x"}, {"task_key": "z"}]},
        ["tasks[z]"],
    ),
    "plain-lists-by-position": ({"l": [1, 2]}, {"l": [2, 1]}, ["l[0]", "l[1]"]),
}


@pytest.mark.parametrize(("desired", "actual", "expected"), DIFFS.values(), ids=DIFFS.keys())
def test_differences(desired: Json, actual: Json, expected: list[str]) -> None:
    assert differences(desired, actual) == expected


def test_fingerprint_ignores_task_order() -> None:
    tasks = SETTINGS["tasks"]
    assert fingerprint({"tasks": tasks}) == fingerprint({"tasks": list(reversed(tasks))})


def _applied(jobs: FakeJobs, job_id: int) -> dict[str, Any]:
    """Status fingerprints of the current spec applied to a job as it is stored now."""
    applied = mljob.desired_settings(_spec(), owner=OWNER, uid=UID)
    return {"appliedSettingsHash": fingerprint(applied), "jobSettingsHash": fingerprint(jobs.jobs[job_id])}


def _request(status: dict[str, Any], generation: int, spec_changed: bool, poll: float = 30.0) -> mljob.Request:
    last = status.get("lastRun")
    recorded = mljob.Recorded(
        job_id=status.get("jobId"),
        applied_hash=status.get("appliedSettingsHash"),
        job_hash=status.get("jobSettingsHash"),
        last_run=ObservedRun(last["runId"], last["state"], last.get("result"), last.get("url")) if last else None,
    )
    return mljob.Request(
        owner=OWNER, uid=UID, generation=generation, spec_changed=spec_changed, recorded=recorded, poll_seconds=poll
    )


def test_switching_from_observe_only_to_manage_adopts_the_observed_job() -> None:
    jobs = FakeJobs()
    job_id = jobs.add(SETTINGS)  # made by hand: no ownership tags
    observed = mljob.reconcile(_spec(managementPolicy="ObserveOnly"), jobs=jobs, request=_request({}, 1, True))
    assert jobs.writes == []

    outcome = mljob.reconcile(_spec(), jobs=jobs, request=_request(observed.observed, 2, True))
    assert outcome.ready.reason == c.RECONCILED
    assert jobs.writes == ["reset"]
    assert jobs.jobs[job_id]["tags"][mljob.UID_TAG] == UID
