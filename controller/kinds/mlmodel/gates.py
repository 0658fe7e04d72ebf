"""Promotion gates: whether a model version may take an alias, judged from what the registry holds about it.

Pure logic: the registry's facts arrive as `Evidence`, the verdicts leave as `GateResult`s. A gate
that cannot be judged (a tag or metric that is not there) fails with its own message; nothing
missing ever passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from controller.kinds.mlmodel.deployment_job import ENDED, SUCCEEDED, DeploymentRun
from controller.kinds.mlmodel.model import MetricGate, PromotionPolicy


@dataclass(frozen=True)
class Evidence:
    """What the registry holds about one version: its tags and the metrics logged for it."""

    version: int
    tags: Mapping[str, str]
    model_metrics: Mapping[str, float]
    """Its MLflow 3 logged model's metrics (latest value per key)."""
    run_metrics: Mapping[str, float]
    """Its source run's metrics (latest value per key)."""
    deployment_run: DeploymentRun | None = None
    """The registered model's deployment job run for it (Unity Catalog only)."""

    def metric(self, name: str) -> tuple[float, str] | None:
        """The value and where it came from. The logged model's wins: it was measured on this very model,
        while a run may have logged several models."""
        if name in self.model_metrics:
            return self.model_metrics[name], "logged model"
        if name in self.run_metrics:
            return self.run_metrics[name], "run"
        return None


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict on one version."""

    gate: str
    passed: bool
    measured: str
    required: str
    message: str


def judge(policy: PromotionPolicy, target: Evidence, current: Evidence | None) -> list[GateResult]:
    """Every gate of the policy on the target version; `current` is the version the alias holds now (or None)."""
    results = [_tag(key, value, target) for key, value in sorted(policy.require_tags.items())]
    results += [_metric(gate, target, current) for gate in policy.metrics]
    if policy.require_deployment_job:
        results.append(_deployment_job(target))
    return results


def failures(results: Iterable[GateResult]) -> str:
    """The failed gates, each with its message (which names the measured and the required value)."""
    return "; ".join(f"{r.gate}: {r.message}" for r in results if not r.passed)


def latest_values(points: Iterable[tuple[str, float, int]]) -> dict[str, float]:
    """The latest value of each metric from (key, value, timestamp) points; the highest value among equal times,
    as MLflow's run read answers."""
    best: dict[str, tuple[int, float]] = {}
    for key, value, timestamp in points:
        if key not in best or (timestamp, value) > best[key]:
            best[key] = (timestamp, value)
    return {key: value for key, (_, value) in best.items()}


def _tag(key: str, wanted: str, target: Evidence) -> GateResult:
    gate = f"tag {key}"
    found = target.tags.get(key)
    if found is None:
        return GateResult(gate, False, "", wanted, f"version {target.version} has no tag {key} (required {wanted!r})")
    if found != wanted:
        message = f"version {target.version} has {key}={found!r} (required {wanted!r})"
        return GateResult(gate, False, found, wanted, message)
    return GateResult(gate, True, found, wanted, f"{key}={found!r}")


def _metric(gate: MetricGate, target: Evidence, current: Evidence | None) -> GateResult:
    if gate.not_worse_than is not None:
        return _not_worse(gate, target, current)
    bound = gate.min if gate.min is not None else gate.max
    assert bound is not None  # the CRD's rule: exactly one of min, max, notWorseThan
    at_least = gate.min is not None
    name = f"metric {gate.name} {'min' if at_least else 'max'}"
    required = f"{'>=' if at_least else '<='} {_number(bound)}"
    found = target.metric(gate.name)
    if found is None:
        return _missing(name, required, target, gate.name)
    value, source = found
    passed = value >= bound if at_least else value <= bound
    side = "below" if at_least else "above"
    verdict = "" if passed else f" is {side} {_number(bound)}"
    message = f"{gate.name} {_number(value)} (from the {source} of version {target.version}){verdict}"
    return GateResult(name, passed, _number(value), required, message)


def _not_worse(gate: MetricGate, target: Evidence, current: Evidence | None) -> GateResult:
    name = f"metric {gate.name} not worse than current"
    higher = gate.greater_is_better is not False
    tolerance = gate.tolerance or 0.0
    if current is None:
        # A first promotion: nothing holds the alias, so nothing can be worse than it; the bounds still apply.
        return GateResult(name, True, "", "", "no version holds the alias yet: nothing to compare with")
    found = target.metric(gate.name)
    if found is None:
        return _missing(name, f"as good as version {current.version}", target, gate.name)
    baseline = current.metric(gate.name)
    if baseline is None:
        message = f"current version {current.version} has no metric {gate.name} to compare with"
        return GateResult(name, False, _number(found[0]), "", message)
    value, base = found[0], baseline[0]
    limit = base - tolerance if higher else base + tolerance
    passed = value >= limit if higher else value <= limit
    required = f"{'>=' if higher else '<='} {_number(limit)}"
    margin = f" by more than {_number(tolerance)}" if tolerance else ""
    verdict = "is as good as" if passed else f"is worse{margin} than"
    message = f"{gate.name} {_number(value)} {verdict} version {current.version}'s {_number(base)} (needs {required})"
    return GateResult(name, passed, _number(value), required, message)


def _deployment_job(target: Evidence) -> GateResult:
    gate = "deployment job"
    run = target.deployment_run
    if run is None or not run.run_id:
        message = f"version {target.version} has no deployment job run (the registered model needs a deployment job)"
        return GateResult(gate, False, "", SUCCEEDED, message)
    state = run.run_state
    if state == SUCCEEDED:
        return GateResult(gate, True, state, SUCCEEDED, f"deployment job run {run.run_id} succeeded")
    if state in ENDED:
        message = f"version {target.version}'s deployment job run {run.run_id} ended {state}"
        return GateResult(gate, False, state, SUCCEEDED, message)
    at_task = f" at task {run.current_task}" if run.current_task else ""
    message = f"version {target.version}'s deployment job run {run.run_id} has not finished ({state}{at_task})"
    return GateResult(gate, False, state, SUCCEEDED, message)


def _missing(name: str, required: str, target: Evidence, metric: str) -> GateResult:
    message = f"version {target.version} has no metric {metric}: neither its logged model nor its run logged it"
    return GateResult(name, False, "", required, message)


def _number(value: float) -> str:
    return f"{value:.6g}"
