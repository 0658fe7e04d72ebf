"""Job runs: their life cycle over the emulator clock, and the runs a continuous job keeps going.

A run is PENDING for `Timings.run_pending` seconds, RUNNING for `Timings.run_running`,
then TERMINATED with the result set by `set_run_result` (SUCCESS by default). Both the
deprecated `state` and the newer `status` objects are returned, as 2.2 does.
"""

from __future__ import annotations

import copy
import dataclasses

from sandbox.databricks.state import Clock, Json, Timings, invalid

RESULTS = ("SUCCESS", "FAILED", "TIMEDOUT", "CANCELED")
_TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS", ""),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR", "Task failed with an error (emulated)."),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR", "The run timed out (emulated)."),
    "CANCELED": ("USER_CANCELED", "SUCCESS", "The run was canceled."),
}
_TASK_RUN_FIELDS = ("depends_on", "existing_cluster_id", "new_cluster", "job_cluster_key", "libraries")
"""Settings a task run shows besides its task type (`*_task`)."""
CATCH_UP = 1000
"""At most this many runs of a continuous job are made up for after a jump of the clock."""


@dataclasses.dataclass
class Run:
    run_id: int
    job_id: int
    number_in_job: int
    created: float
    creator: str
    settings: Json
    job_parameters: list[Json]
    result: str
    trigger: str = "ONE_TIME"
    canceled_at: float | None = None


class Runs:
    """Every run, by id, and the idempotency tokens of `run-now`."""

    def __init__(self, clock: Clock, timings: Timings) -> None:
        self._clock = clock
        self._timings = timings
        self.runs: dict[int, Run] = {}
        self.tokens: dict[str, int] = {}
        self.next_result = "SUCCESS"
        self._numbers: dict[int, int] = {}
        self._next_id = 900001

    def set_result(self, result: str) -> None:
        if result not in RESULTS:
            raise invalid(f"Invalid run result '{result}'. Valid: {', '.join(RESULTS)}")
        self.next_result = result

    def start(
        self,
        job_id: int,
        settings: Json,
        creator: str,
        *,
        trigger: str = "ONE_TIME",
        at: float | None = None,
        overrides: Json | None = None,
    ) -> Run:
        """A new run of a job with these settings, created now (or `at`), its parameters resolved."""
        declared = {p["name"]: p.get("default") for p in settings.get("parameters") or []}
        given = overrides or {}
        self._numbers[job_id] = self._numbers.get(job_id, 0) + 1
        run = Run(
            run_id=self._next_id,
            job_id=job_id,
            number_in_job=self._numbers[job_id],
            created=self._clock.now() if at is None else at,
            creator=creator,
            settings=copy.deepcopy(settings),
            job_parameters=[{"name": n, "default": d, "value": str(given.get(n, d))} for n, d in declared.items()],
            result=self.next_result,
            trigger=trigger,
        )
        self._next_id += 1
        self.runs[run.run_id] = run
        return run

    def get(self, run_id: int) -> Run:
        run = self.runs.get(run_id)
        if run is None:
            raise invalid(f"Run {run_id} does not exist.")
        return run

    def latest(self, job_id: int) -> Run | None:
        return max((r for r in self.runs.values() if r.job_id == job_id), key=lambda r: r.run_id, default=None)

    def cancel(self, run: Run) -> None:
        if run.canceled_at is None and self.ends_at(run) > self._clock.now():
            run.canceled_at = self._clock.now()

    def ends_at(self, run: Run) -> float:
        natural = run.created + self._timings.run_pending + self._timings.run_running
        return natural if run.canceled_at is None else min(natural, run.canceled_at)

    def pending(self, run: Run) -> bool:
        return self._clock.now() < min(run.created + self._timings.run_pending, self.ends_at(run))

    def active(self, run: Run) -> bool:
        return self._clock.now() < self.ends_at(run)

    def keep_running(self, job_id: int, settings: Json, creator: str, since: float) -> None:
        """The runs a continuous job started by itself since `since`: a new one whenever none is active."""
        now = self._clock.now()
        latest = self.latest(job_id)
        at = since
        if latest is not None:
            if self.active(latest):
                return
            at = max(at, self.ends_at(latest))
        cycle = self._timings.run_pending + self._timings.run_running
        if cycle > 0:
            due = int((now - at) / cycle) + 1
            at += max(0, due - CATCH_UP) * cycle  # a long jump of the clock: only the last runs are made up
        for _ in range(CATCH_UP):
            end = self.ends_at(self.start(job_id, settings, creator, trigger="CONTINUOUS", at=at))
            if end > now or end <= at:  # one is active, or runs take no time (one per call then)
                return
            at = end

    def view(self, run: Run) -> Json:
        """The run as 2.2 shows it (versions adjust it); arrays that would be empty are left out."""
        now = self._clock.now()
        started = run.created + self._timings.run_pending
        ends = self.ends_at(run)
        result: str | None = None
        if now >= ends:
            life, end = "TERMINATED", ends
            result = "CANCELED" if run.canceled_at is not None and run.canceled_at <= ends else run.result
        else:
            life, end = ("PENDING" if now < started else "RUNNING"), None
        state: Json = {
            "life_cycle_state": life,
            "state_message": "",
            "user_cancelled_or_timedout": result == "CANCELED",
        }
        status: Json = {"state": life}
        if result is not None:
            code, kind, message = _TERMINATION[result]
            state.update(result_state=result, state_message=message)
            status["termination_details"] = {"code": code, "type": kind, "message": message}
        timing: Json = {
            "start_time": int(run.created * 1000),
            "setup_duration": 0,
            "execution_duration": 0,
            "cleanup_duration": 0,
        }
        if end is not None:
            timing.update(
                end_time=int(end * 1000),
                run_duration=int((end - run.created) * 1000),
                execution_duration=int(max(0.0, end - started) * 1000),
            )
        tasks = [
            {
                "task_key": t["task_key"],
                "run_id": run.run_id * 1000 + i,
                "state": dict(state),
                "status": copy.deepcopy(status),
                "attempt_number": 0,
                **{k: copy.deepcopy(v) for k, v in t.items() if k.endswith("_task") or k in _TASK_RUN_FIELDS},
                **timing,
            }
            for i, t in enumerate(run.settings.get("tasks") or [])
        ]
        view: Json = {
            "run_id": run.run_id,
            "job_id": run.job_id,
            "number_in_job": run.number_in_job,
            "original_attempt_run_id": run.run_id,
            "attempt_number": 0,
            "creator_user_name": run.creator,
            "run_name": run.settings.get("name") or "Untitled",
            "run_type": "JOB_RUN",
            "trigger": run.trigger,
            "state": state,
            "status": status,
            **timing,
        }
        if tasks:
            view["tasks"] = tasks
        if run.job_parameters:
            view["job_parameters"] = copy.deepcopy(run.job_parameters)
        return view
