"""The state of one reconcile, and the one way every kind turns it into an Outcome.

A kind's reconcile records as it goes: notes (Events), problems (a part of the spec the external
system refused), waits (a dependency not there yet), drift (a difference ObserveOnly only reports)
and corrections (writes that put back a change made out of band). `outcome` then decides the two
conditions the same way for every kind:
- a problem: Ready=False and Synced=False with the external message;
- a wait: Ready=False, Synced=True (everything that can be applied now was), look again soon;
- a state of the external object that is not usable yet (the kind's `holding`): Ready=False;
- drift under ObserveOnly: Ready=True with reason DriftDetected and a warning Event;
- otherwise Ready=True: Reconciled (Observed under ObserveOnly).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from controller.clients import errors
from controller.reconciling.errors import REFUSALS, react
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome

T = TypeVar("T")

WAIT_RETRY_SECONDS = 15.0
APPLIED_WHAT_CAN_BE = "applied everything that can be applied now"


class Waiting(Exception):
    """Stop this reconcile: something it needs is not there yet (not a failure)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.verdict = c.Verdict(False, reason, message)


@dataclass(frozen=True)
class Holding:
    """The external object exists and is as the spec wants it, but is not usable yet (or failed on its own)."""

    ready: c.Verdict
    retry: float | None = None
    synced: bool = True  # False: the last apply did not take (a failed update), so Synced says so too
    notes: tuple[Note, ...] = ()


@dataclass(kw_only=True)
class Run:
    """What one reconcile has done and found so far."""

    spec_changed: bool  # this spec generation has not been applied yet: a difference is the user's change
    observe_only: bool
    wait_retry: float = WAIT_RETRY_SECONDS
    notes: list[Note] = field(default_factory=list)
    problems: list[c.Verdict] = field(default_factory=list)
    problem_retry: float | None = None
    waits: list[c.Verdict] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    corrections: int = 0

    def note(self, reason: str, message: str, *, warning: bool = False) -> None:
        self.notes.append(Note(reason, message, warning))

    def changed(self, what: str, *, drift: str | None = None) -> None:
        """Record a write: the user's change while the spec is new ("Updated"), else a drift correction."""
        if self.spec_changed:
            self.notes.append(Note("Updated", what))
        else:
            self.notes.append(Note("DriftCorrected", drift or what))
            self.corrections += 1

    def may_write(self, difference: str) -> bool:
        """Whether to correct a difference; under ObserveOnly it is recorded as drift instead."""
        if self.observe_only:
            self.drift.append(difference)
        return not self.observe_only

    def wait(self, reason: str, message: str) -> None:
        self.waits.append(c.Verdict(False, reason, message))

    def refused(self, exc: errors.ExternalError, *, context: str = "") -> None:
        """Record a refusal of one part of the spec; the rest goes on."""
        reaction = react(exc)
        message = f"{context}: {reaction.message}" if context else reaction.message
        self.problems.append(c.Verdict(False, reaction.reason, message))
        self.notes.append(Note(reaction.reason, message, warning=True))
        if reaction.retry is not None:
            self.problem_retry = min(self.problem_retry or reaction.retry, reaction.retry)

    def attempt(self, action: Callable[[], T], *, context: str = "") -> T | None:
        """Run one write; a refusal is recorded (None is returned) instead of stopping the reconcile."""
        try:
            return action()
        except REFUSALS as exc:
            self.refused(exc, context=context)
            return None

    def failed(
        self,
        reason: str,
        message: str,
        *,
        retry: float | None,
        synced: bool = False,
        observed: dict[str, Any] | None = None,
    ) -> Outcome:
        """Stop here: Ready=False for `reason` with a warning Event; Synced too unless nothing failed to apply."""
        return Outcome(
            ready=c.Verdict(False, reason, message),
            synced=c.Verdict(True, c.RECONCILED) if synced else c.Verdict(False, reason, message),
            observed=observed or {},
            notes=(*self.notes, Note(reason, message, warning=True)),
            retry_after=retry,
            drift_corrections=self.corrections,
        )

    def not_ours(self, reason: str, message: str, *, observed: dict[str, Any] | None = None) -> Outcome:
        """The object is not this resource's to manage: only a person can settle it, so Synced stays True."""
        return self.failed(reason, message, retry=None, synced=True, observed=observed)

    def outcome(
        self,
        observed: dict[str, Any],
        *,
        matches: str,
        holding: Holding | None = None,
        look_again: float | None = None,
        applied: bool | None = None,
    ) -> Outcome:
        """Ready and Synced from what the run recorded; `matches` says what Ready=True means for this object.

        `look_again` asks for an early look even when all is well (a run or refresh in progress); `applied`
        overrides the default "applied in full" (nothing refused, nothing waiting, the object not holding).
        """
        notes = list(self.notes)
        ready_synced = c.Verdict(True, c.RECONCILED, "")
        retry: float | None = None
        if self.problems:
            message = "; ".join(p.message for p in self.problems)
            ready = synced = c.Verdict(False, self.problems[0].reason, message)
            retry = self.problem_retry
        elif self.waits:
            ready = c.Verdict(False, self.waits[0].reason, "; ".join(w.message for w in self.waits))
            synced = c.Verdict(True, c.RECONCILED, APPLIED_WHAT_CAN_BE)
            retry = self.wait_retry
        elif holding is not None:
            ready, retry = holding.ready, holding.retry
            synced = ready_synced if holding.synced or self.observe_only else holding.ready
            notes += holding.notes
        elif self.drift:
            notes.append(Note(c.DRIFT_DETECTED, "; ".join(self.drift), warning=True))
            ready, synced = c.Verdict(True, c.DRIFT_DETECTED, "ObserveOnly: " + "; ".join(self.drift)), ready_synced
        elif self.observe_only:
            ready, synced = c.Verdict(True, c.OBSERVED, f"{matches} (ObserveOnly)"), ready_synced
        else:
            ready, synced = c.Verdict(True, c.RECONCILED, matches), ready_synced
        if retry is None:
            retry = look_again
        return Outcome(
            ready=ready,
            synced=synced,
            observed=observed,
            notes=tuple(notes),
            retry_after=retry,
            drift_corrections=self.corrections,
            applied=(not self.problems and not self.waits and holding is None) if applied is None else applied,
        )


def guarded(run: Run, body: Callable[[], Outcome]) -> Outcome:
    """Run a kind's reconcile; a wait or a client error that stops it becomes its Outcome."""
    try:
        return body()
    except Waiting as waiting:
        run.waits.insert(0, waiting.verdict)
        return run.outcome({}, matches="")
    except errors.ExternalError as exc:
        reaction = react(exc)
        return run.failed(reaction.reason, reaction.message, retry=reaction.retry)
