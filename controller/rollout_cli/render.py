"""A ServingEndpoint's rollout as plain text: where it stands, the steps, the analysis, why it stopped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from controller.kinds.servingendpoint.rollout_model import Measurement, Rollout, RolloutStatus, RolloutStep

ACTIVE = ("Progressing", "Paused")
LABEL_WIDTH = 15
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class View:
    """What the rendering reads from a ServingEndpoint object."""

    name: str
    namespace: str
    endpoint: str
    policy: Rollout | None  # spec.rollout; None when unset or unreadable
    rollout: RolloutStatus | None  # status.rollout; None when no rollout ever started
    problems: tuple[str, ...] = ()  # parts of the object that did not parse


def view(obj: Mapping[str, Any]) -> View:
    """The rollout parts of a ServingEndpoint as the API server returns it; unreadable parts are reported."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    problems: list[str] = []
    policy = _parsed(Rollout, spec.get("rollout"), "spec.rollout", problems)
    rollout = _parsed(RolloutStatus, status.get("rollout"), "status.rollout", problems)
    return View(
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        endpoint=str(spec.get("endpointName", "")),
        policy=policy,
        rollout=rollout,
        problems=tuple(problems),
    )


def text(v: View, *, now: float) -> str:
    """The whole report, like `kubectl argo rollouts get rollout` without the pods."""
    lines = [*_header(v, now), *_steps(v), *_analysis(v), *(f"Warning: {p}" for p in v.problems)]
    return "\n".join(lines) + "\n"


def _header(v: View, now: float) -> Iterator[str]:
    yield _field("Name", v.name)
    yield _field("Namespace", v.namespace)
    yield _field("Endpoint", v.endpoint)
    r = v.rollout
    if r is None:
        why = "spec.rollout is not set" if v.policy is None else "no new version has been rolled out yet"
        yield _field("Rollout", f"none ({why})")
        return
    yield _field("Phase", r.phase)
    if r.summary:
        yield _field("Summary", r.summary)
    if r.message:
        yield _field("Message", r.message)
    yield _field("Entity", r.entity)
    yield _field("Stable", f"version {r.stable_version}")
    yield _field("Canary", f"version {r.canary_version} (served entity {r.canary_entity})")
    yield _field("Canary weight", f"{r.canary_weight}%")
    yield _field("Step", _step_line(r, now))
    if r.phase == "Aborted":
        yield _field("Failed check", _failure(r, v.policy))
    if r.last_action:
        yield _field("Last action", r.last_action)


def _step_line(r: RolloutStatus, now: float) -> str:
    if r.phase == "Completed":
        return f"{r.steps}/{r.steps} (complete)"
    if r.step >= r.steps:
        return f"{r.steps}/{r.steps} done; sending all the entity's traffic to version {r.canary_version}"
    where = f"{r.step + 1}/{r.steps}"
    if r.step_started_at is None:
        return f"{where} (its traffic split is being deployed)" if r.phase in ACTIVE else where
    started = datetime.fromisoformat(r.step_started_at).timestamp()
    return f"{where}, started {_age(now - started)} ago"


def _failure(r: RolloutStatus, policy: Rollout | None) -> str:
    """The checks that failed the analysis, else why the rollout was aborted (by hand, a failed deployment)."""
    failed = [m for m in (r.analysis.measurements if r.analysis else ()) if m.passed is False]
    if not failed:
        return r.summary.removeprefix("aborted: ") or "-"
    metrics = {m.name: m.endpoint_metric for m in policy.analysis.metrics} if policy and policy.analysis else {}
    named = {m.metric: f"{m.metric} ({metrics[m.metric]})" if metrics.get(m.metric) else m.metric for m in failed}
    return "; ".join(
        f"{named[m.metric]}: the job run ended {m.result}"
        if m.result is not None
        else f"{named[m.metric]} measured {_value(m)}, limit {m.limit}"
        for m in failed
    )


def _steps(v: View) -> Iterator[str]:
    if v.policy is None or v.rollout is None:
        return
    r = v.rollout
    rows = [("STEP", "ACTION", "STATE")]
    for index, step in enumerate(v.policy.steps):
        rows.append((str(index + 1), _describe(step, v.policy), _state(r, index)))
    yield ""
    yield from _table(rows)
    if len(v.policy.steps) != r.steps:
        yield f"(spec.rollout now has {len(v.policy.steps)} steps; this rollout started with {r.steps})"


def _describe(step: RolloutStep, policy: Rollout) -> str:
    if step.traffic is not None:
        return f"traffic {step.traffic}%"
    if step.pause is not None:
        return f"pause {step.pause}"
    analysis = policy.analysis
    if analysis is None:
        return "analysis"
    checks = ", ".join(m.name for m in analysis.metrics)
    return f"analysis: {analysis.count} measurements every {analysis.interval} ({checks})"


def _state(r: RolloutStatus, index: int) -> str:
    if r.phase == "Completed" or index < r.step:
        return "done"
    if index > r.step:
        return "pending"
    return {"Progressing": "current", "Paused": "paused", "Aborted": "aborted"}[r.phase]


def _analysis(v: View) -> Iterator[str]:
    r = v.rollout
    if r is None or r.analysis is None:
        return
    a = r.analysis
    counts = f"{a.taken} taken: {a.passes} passed, {a.failures} failed, {a.inconclusive} without data"
    limits = ""
    if v.policy is not None and v.policy.analysis is not None:
        p = v.policy.analysis
        limits = f"; needs {p.count}, tolerates {p.failure_limit} failed and {p.inconclusive_limit} without data"
    yield ""
    yield f"Analysis of step {min(r.step, r.steps - 1) + 1} ({counts}{limits})"
    rows = [("METRIC", "VALUE", "LIMIT", "PASSED")]
    for m in a.measurements:
        rows.append((m.metric, _value(m, a.job_run_ids.get(m.metric)), m.limit or "-", _passed(m)))
    yield from _table(rows)


def _value(m: Measurement, run_id: int | None = None) -> str:
    """An endpoint metric's value, or a job check's result with its run."""
    if m.value is not None:
        return f"{m.value:g}"
    if run_id is None:
        return "no data" if m.result is None else m.result
    return f"{m.result or 'running'} (run {run_id})"


def _passed(m: Measurement) -> str:
    return {True: "yes", False: "NO", None: "-"}[m.passed]


def _table(rows: Sequence[tuple[str, ...]]) -> Iterator[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        yield "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()


def _field(label: str, value: str) -> str:
    return f"{label + ':':<{LABEL_WIDTH}} {value}"


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m{seconds % 60}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60}m"


def _parsed(model: type[Model], raw: Any, where: str, problems: list[str]) -> Model | None:
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.append(f"{where} does not parse: {exc.errors()[0]['msg']} at {_location(exc)}")
        return None


def _location(exc: ValidationError) -> str:
    return ".".join(str(part) for part in exc.errors()[0]["loc"]) or "the top"
