"""One analysis step of a rollout: the canary's endpoint metrics every interval, job checks once; pass, fail or no data.

- A measurement reads every endpointMetric check of the canary's served entity at once. It fails when a value
  is out of bounds, is inconclusive when none fails but a value is missing (no traffic: never a pass), and
  passes otherwise. The first is taken when the step starts, then one every interval; a late look takes one
  measurement, it never catches up.
- A job check runs its MLJob once per step (an idempotency token per endpoint, version, rollout start, step and
  retry, so a restart never starts a second run and a rollout started again never reuses an old one) and passes
  when the run ends in SUCCESS.
- The analysis fails as soon as more than failureLimit measurements failed or a job run ended otherwise;
  it is inconclusive (the rollout pauses) when more than inconclusiveLimit measurements had no data; it
  passes once `count` measurements were conclusive and every job run succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from controller.kinds.servingendpoint.rollout_model import (
    Analysis,
    AnalysisStatus,
    Measurement,
    MetricCheck,
    RolloutStatus,
    seconds,
)

JOB_POLL_SECONDS = 10.0
SUCCESS = "SUCCESS"
PASSED, FAILED, INCONCLUSIVE = "passed", "failed", "inconclusive"


class Probe(Protocol):
    """How the analysis measures the canary."""

    def health(self) -> Mapping[str, float]:
        """The canary entity's metric values now; a name missing is no data."""
        ...

    def start_job(self, check: MetricCheck, key: str) -> int | None:
        """Run the check's MLJob for the canary (idempotent per key); its run id, or None while the job is unknown."""
        ...

    def job_result(self, run_id: int) -> str | None:
        """How the run ended (SUCCESS, FAILED, ...), or None while it runs."""
        ...


@dataclass(frozen=True)
class Verdict:
    status: AnalysisStatus
    rounds: tuple[str, ...] = ()  # the measurements taken now: passed, failed or inconclusive
    failure: str | None = None  # short: `error_rate 0.05 > 0.01`
    detail: str = ""  # the failing check, measured value and limit
    inconclusive: str | None = None
    passed: bool = False
    look_again: float | None = None


def analyse(policy: Analysis, rec: RolloutStatus, now: float, probe: Probe, *, started: float) -> Verdict:
    """Measure what is due and judge the step's analysis so far."""
    a = rec.analysis or AnalysisStatus()
    endpoint_checks = [m for m in policy.metrics if m.endpoint_metric]
    job_checks = [m for m in policy.metrics if m.job_ref]
    interval = seconds(policy.interval)
    latest = {m.metric: m for m in a.measurements}
    rounds: tuple[str, ...] = ()
    if endpoint_checks and a.passes + a.failures < policy.count and now >= started + a.taken * interval:
        values = probe.health()
        measured = [_measure(check, values.get(str(check.endpoint_metric))) for check in endpoint_checks]
        result = _round(measured)
        counted = {"passes": a.passes, "failures": a.failures, "inconclusive": a.inconclusive}
        key = {PASSED: "passes", FAILED: "failures", INCONCLUSIVE: "inconclusive"}[result]
        counted[key] += 1
        a = a.model_copy(update={"taken": a.taken + 1, **counted})
        latest.update({m.metric: m for m in measured})
        rounds = (result,)
    runs = dict(a.job_run_ids)
    for check in job_checks:
        if check.name not in runs:
            key = f"v{rec.canary_version}/{rec.started_at}/step{rec.step}/{rec.last_action}/{check.name}"
            run_id = probe.start_job(check, key)
            if run_id is None:
                latest[check.name] = Measurement(metric=check.name, limit=SUCCESS)
                continue
            runs[check.name] = run_id
        ended = probe.job_result(runs[check.name])
        latest[check.name] = Measurement(
            metric=check.name, result=ended, limit=SUCCESS, passed=None if ended is None else ended == SUCCESS
        )
    ordered = [latest[m.name] for m in policy.metrics if m.name in latest]
    a = a.model_copy(update={"measurements": ordered, "job_run_ids": runs})
    return _judge(policy, a, rounds, latest, now=now, next_due=started + a.taken * interval)


def _judge(
    policy: Analysis,
    a: AnalysisStatus,
    rounds: tuple[str, ...],
    latest: Mapping[str, Measurement],
    *,
    now: float,
    next_due: float,
) -> Verdict:
    checks = {m.name: m for m in policy.metrics}
    failing = [m for m in latest.values() if m.passed is False]
    jobs = [latest.get(m.name) for m in policy.metrics if m.job_ref]
    failed_job = next((m for m in jobs if m is not None and m.passed is False), None)
    if failed_job is not None:
        short = f"{failed_job.metric} run {failed_job.result}"
        return Verdict(a, rounds, short, f"check {failed_job.metric}: the job run ended {failed_job.result}")
    if a.failures > policy.failure_limit and failing:
        worst = failing[0]
        short = _short(checks[worst.metric], worst)
        detail = (
            f"check {worst.metric} measured {worst.value:g} (limit {worst.limit}); {a.failures} of {a.taken}"
            f" measurements failed, {policy.failure_limit} tolerated"
        )
        return Verdict(a, rounds, short, detail)
    if a.inconclusive > policy.inconclusive_limit:
        missing = ", ".join(m.metric for m in latest.values() if m.passed is None) or "no data"
        why = f"{a.inconclusive} measurements without data ({missing}): is traffic reaching the canary?"
        return Verdict(a, rounds, inconclusive=why)
    endpoint_done = not any(m.endpoint_metric for m in policy.metrics) or a.passes + a.failures >= policy.count
    jobs_done = all(m is not None and m.passed for m in jobs)
    if endpoint_done and jobs_done:
        return Verdict(a, rounds, passed=True)
    waits = [] if endpoint_done else [max(0.0, next_due - now)]
    waits += [] if jobs_done else [JOB_POLL_SECONDS]
    return Verdict(a, rounds, look_again=min(waits))


def _measure(check: MetricCheck, value: float | None) -> Measurement:
    bounds = [f">= {check.min:g}"] if check.min is not None else []
    bounds += [f"<= {check.max:g}"] if check.max is not None else []
    limit = " and ".join(bounds)
    if value is None:
        return Measurement(metric=check.name, limit=limit)
    low = check.min is not None and value < check.min
    high = check.max is not None and value > check.max
    return Measurement(metric=check.name, value=float(value), limit=limit, passed=not (low or high))


def _round(measured: list[Measurement]) -> str:
    if any(m.passed is False for m in measured):
        return FAILED
    return INCONCLUSIVE if any(m.passed is None for m in measured) else PASSED


def _short(check: MetricCheck, measured: Measurement) -> str:
    """`error_rate 0.05 > 0.01`: the metric, the value and the bound it broke."""
    value = measured.value or 0.0
    if check.max is not None and value > check.max:
        return f"{check.endpoint_metric} {value:g} > {check.max:g}"
    return f"{check.endpoint_metric} {value:g} < {check.min:g}"
