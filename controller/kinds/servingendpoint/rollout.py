"""The rollout state machine: from the policy, the endpoint as seen, status.rollout and the clock, what to serve.

Pure: it reads the endpoint through `Seen`, measures through a `Probe`, and returns a `Decision` (the target
config, the new status.rollout, Events, when to look again). Everything it needs to resume lives in
status.rollout, and an endpoint already at (or moving to) the current or the next step's config is adopted,
so a restart, a leader handover or a crash between a config write and the status patch never writes twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from controller.kinds.servingendpoint.analysis import Probe, analyse
from controller.kinds.servingendpoint.rollout_model import AnalysisStatus, Rollout, RolloutStatus, canary_name, seconds
from controller.status.outcome import Note

PROGRESSING, PAUSED, ABORTED, COMPLETED = PHASES = ("Progressing", "Paused", "Aborted", "Completed")
PROMOTE, ABORT, RETRY = "promote", "abort", "retry"


@dataclass(frozen=True)
class Target:
    """What the endpoint serves for the rolled entity: its own version, and the canary's with its weight."""

    version: int
    canary: int | None = None
    weight: int = 0  # percent of the entity's traffic on the canary


@dataclass(frozen=True)
class Seen:
    """The endpoint as the machine needs it."""

    at: Callable[[Target], bool]  # the config the endpoint has (or is moving to) is this target's
    settled: bool  # no update running, every served entity deployed
    failed: bool  # the last config update failed
    serving: int | None  # the version the entity serves (None: not served)
    canary: int | None  # the version the canary entity serves (None: no canary entity)


@dataclass(frozen=True)
class Inputs:
    policy: Rollout
    entity: str
    wanted: int  # the version the spec asks for now
    seen: Seen
    recorded: RolloutStatus | None
    action: str | None  # the rollout-action annotation's value
    generation: int
    now: float


@dataclass
class Decision:
    """What to serve and record. `target` None: nothing to roll out, the config follows the spec as usual."""

    target: Target | None
    status: RolloutStatus | None
    notes: list[Note] = field(default_factory=list)
    look_again: float | None = None
    rounds: list[str] = field(default_factory=list)  # analysis measurements taken: passed, failed, inconclusive
    aborted: bool = False


def decide(i: Inputs, probe: Probe) -> Decision:
    """The rollout's next move."""
    rec = i.recorded if i.recorded is not None and i.recorded.entity == i.entity else None
    action = i.action if i.action and (rec is None or i.action != rec.last_action) else None
    if rec is not None and rec.phase in (PROGRESSING, PAUSED):
        d = Decision(None, rec)
        _act_while_active(i, d, action)
        if d.status is not None and d.status.phase in (PROGRESSING, PAUSED) and i.wanted != d.status.canary_version:
            _supersede(i, d)
    elif rec is not None and rec.phase == ABORTED and rec.canary_version == i.wanted and i.seen.serving is not None:
        d = Decision(Target(rec.stable_version), rec)
        verb = _verb(action)
        if verb in (RETRY, PROMOTE) or rec.generation != i.generation:
            _start(i, d, stable=rec.stable_version, why=action or "the spec changed")
            if verb == PROMOTE:
                _promote(i, d)
        elif action:
            d.status = _with(rec, last_action=i.action)
    else:
        d = Decision(None, rec)
        serving = i.seen.serving
        if serving is None or (serving == i.wanted and i.seen.canary is None):
            if rec is not None and rec.phase == ABORTED:
                d.status = None  # the spec no longer asks for the version that was rolled back
            elif rec is not None and action:
                d.status = _with(rec, last_action=i.action)
            return d
        stable = serving
        _start(i, d, stable=stable, why="a new version")
    if d.status is not None and d.status.phase == PROGRESSING:
        _steps(i, d, probe)
    if d.status is not None and action:
        d.status = _with(d.status, last_action=i.action)  # acted on (or moot) once, never again
    _finish(i, d)
    return d


def _start(i: Inputs, d: Decision, *, stable: int, why: str) -> None:
    canary = canary_name(i.entity)
    d.status = RolloutStatus(
        phase=PROGRESSING,
        entity=i.entity,
        stable_version=stable,
        canary_version=i.wanted,
        canary_entity=canary,
        steps=len(i.policy.steps),
        last_action=i.action or (i.recorded.last_action if i.recorded else None),
        started_at=_stamp(i.now),
    )
    d.notes.append(Note("RolloutStarted", f"rolling {i.entity} out from version {stable} to {i.wanted} ({why})"))


def _act_while_active(i: Inputs, d: Decision, action: str | None) -> None:
    rec = d.status
    assert rec is not None
    if action is None:
        return
    rec = d.status = _with(rec, last_action=i.action)
    verb = _verb(action)
    if verb == ABORT:
        _fail(i, d, f"aborted by {i.action}", summary="aborted by hand", force_rollback=True)
    elif verb == PROMOTE:
        _promote(i, d)
    elif verb == RETRY and rec.phase == PAUSED:
        d.status = _with(rec, phase=PROGRESSING, analysis=None, step_started_at=None, message="")
        d.notes.append(Note("RolloutResumed", f"retrying step {rec.step + 1} of the rollout of {i.entity}"))


def _promote(i: Inputs, d: Decision) -> None:
    assert d.status is not None
    d.status = _with(d.status, phase=PROGRESSING, step=len(i.policy.steps), analysis=None, step_started_at=None)
    d.notes.append(Note("RolloutPromoted", f"promoted version {d.status.canary_version} of {i.entity} to full"))


def _supersede(i: Inputs, d: Decision) -> None:
    old = d.status
    assert old is not None
    if i.wanted == old.stable_version:
        d.status = _with(old, phase=COMPLETED, canary_version=old.stable_version, step=old.steps, analysis=None)
        d.notes.append(Note("RolloutSuperseded", f"{i.entity} goes back to version {i.wanted}, the stable version"))
        return
    d.notes.append(
        Note("RolloutSuperseded", f"version {i.wanted} of {i.entity} replaces canary version {old.canary_version}")
    )
    _start(i, d, stable=old.stable_version, why=f"superseding version {old.canary_version}")


def _steps(i: Inputs, d: Decision, probe: Probe) -> None:
    """Go through the steps whose conditions hold now; stop at the first that waits."""
    for _ in range(len(i.policy.steps) + 2):
        rec = d.status
        assert rec is not None
        if rec.step >= len(i.policy.steps):
            final = Target(rec.canary_version)
            if i.seen.at(final) and i.seen.settled:
                d.status = _with(rec, phase=COMPLETED, canary_weight=100, analysis=None, message="")
                d.notes.append(Note("RolloutCompleted", f"{i.entity} serves version {rec.canary_version} in full"))
            return
        current, (later, following) = _weight_target(i, rec, rec.step), _next_target(i, rec)
        if not i.seen.at(current):
            if i.seen.at(following):  # the next step's config was written, then the status patch was lost
                d.status = _with(rec, step=later, step_started_at=None, analysis=None)
                continue
            if i.seen.failed:
                _fail(i, d, f"the config update for step {rec.step + 1} failed", summary="deployment failed")
            return
        if not i.seen.settled:
            return
        if rec.step_started_at is None:
            rec = d.status = _with(rec, step_started_at=_stamp(i.now), canary_weight=current.weight)
        step = i.policy.steps[rec.step]
        if step.pause is not None:
            left = _epoch(rec.step_started_at) + seconds(step.pause) - i.now
            if left > 0:
                d.look_again = left
                return
        elif step.analysis is not None and i.policy.analysis is not None:
            verdict = analyse(i.policy.analysis, rec, i.now, probe, started=_epoch(rec.step_started_at))
            d.status, d.rounds = _with(rec, analysis=verdict.status), [*d.rounds, *verdict.rounds]
            if verdict.failure is not None:
                _fail(i, d, f"analysis failed at step {rec.step + 1}: {verdict.detail}", summary=verdict.failure)
                return
            if verdict.inconclusive:
                _pause(d, f"analysis inconclusive: {verdict.inconclusive}")
                return
            if not verdict.passed:
                d.look_again = verdict.look_again
                return
            d.notes.append(
                Note("AnalysisPassed", f"version {rec.canary_version} passed the analysis of step {rec.step + 1}")
            )
        d.status = _advance(d.status or rec)
        d.notes.append(Note("RolloutStep", f"{i.entity}: step {d.status.step + 1}/{d.status.steps}"))


def _fail(i: Inputs, d: Decision, why: str, *, summary: str, force_rollback: bool = False) -> None:
    rec = d.status
    assert rec is not None
    if i.policy.on_failure == "Pause" and not force_rollback:
        _pause(d, why)
        return
    message = f"rolled back to version {rec.stable_version}: {why}"
    d.status = _with(rec, phase=ABORTED, canary_weight=0, generation=i.generation, message=message)
    d.status = _with(d.status, summary=f"aborted: {summary}")
    d.notes.append(Note("RolloutAborted", f"{i.entity}: {message}", warning=True))
    d.aborted = True


def _pause(d: Decision, why: str) -> None:
    assert d.status is not None
    d.status = _with(d.status, phase=PAUSED, message=f"paused for a person (promote, abort or retry): {why}")
    d.notes.append(Note("RolloutPaused", d.status.message, warning=True))


def _finish(i: Inputs, d: Decision) -> None:
    """The target for the phase, and the summary for the printer column."""
    rec = d.status
    if rec is None:
        return
    if rec.phase == ABORTED:
        d.target = Target(rec.stable_version)
        return
    if rec.phase == COMPLETED:
        d.target = Target(rec.canary_version)
        d.status = _with(rec, summary=f"complete v{rec.canary_version}", step=rec.steps)
        return
    d.target = Target(rec.canary_version) if rec.step >= rec.steps else _weight_target(i, rec, rec.step)
    weight = 100 if rec.step >= rec.steps else d.target.weight
    where = "final" if rec.step >= rec.steps else f"step {rec.step + 1}/{rec.steps}"
    paused = "paused " if rec.phase == PAUSED else ""
    d.status = _with(rec, summary=f"{paused}{where} canary v{rec.canary_version} {weight}%")


def _weight_target(i: Inputs, rec: RolloutStatus, step: int) -> Target:
    """The split in effect at a step: the last traffic step at or before it."""
    weight = next((s.traffic for s in reversed(i.policy.steps[: step + 1]) if s.traffic is not None), 0)
    return Target(rec.stable_version, rec.canary_version, weight)


def _next_target(i: Inputs, rec: RolloutStatus) -> tuple[int, Target]:
    """The next step that changes the config (a traffic step with another weight, or the end) and its target."""
    current = _weight_target(i, rec, rec.step)
    for index in range(rec.step + 1, len(i.policy.steps)):
        target = _weight_target(i, rec, index)
        if target != current:
            return index, target
    return len(i.policy.steps), Target(rec.canary_version)


def _verb(action: str | None) -> str | None:
    """promote, abort or retry, from the annotation's `<action>:<nonce>`."""
    return action.split(":", 1)[0] if action else None


def _advance(rec: RolloutStatus) -> RolloutStatus:
    return _with(rec, step=rec.step + 1, step_started_at=None, analysis=None)


def _with(rec: RolloutStatus, **changes: object) -> RolloutStatus:
    return rec.model_copy(update=changes)


def _stamp(now: float) -> str:
    """RFC 3339 with milliseconds: a pause of a few seconds is not cut short by rounding."""
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch(stamp: str | None) -> float:
    assert stamp is not None
    return datetime.fromisoformat(stamp).timestamp()


__all__ = ["AnalysisStatus", "Decision", "Inputs", "Seen", "Target", "decide"]
