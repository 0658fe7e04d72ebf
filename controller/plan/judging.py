"""From what a reconcile decided (its Outcome and the writes it recorded) to a resource's line in the plan.

The action is read from the same notes the controller posts as Events: `Created` and `Adopted` name
themselves; any other write is an update. What the resource would wait for, or why it would fail, is
its Ready and Synced verdicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from controller.clients.redaction import redact
from controller.plan.result import ADOPT, CREATE, ERROR, NOTHING, UPDATE, ResourcePlan, Said
from controller.status import conditions as c
from controller.status.outcome import Outcome
from controller.status.patch import patched_status

WAITS_AFTER_WRITING = frozenset({c.PROMOTION_BLOCKED, c.ROLLOUT_PROGRESSING})
"""Not Ready although the controller did its part now: a gate holds an alias back, a rollout takes steps."""
NOT_THEIRS = frozenset({c.OWNED_BY_ANOTHER, c.ADOPTION_REQUIRED, c.ADOPTION_AMBIGUOUS})
"""Refusals that leave Synced True (only a person can settle them); the plan reports them as errors."""


def judged(
    kind: str, namespace: str, name: str, external: str, outcome: Outcome, writes: tuple[str, ...]
) -> ResourcePlan:
    """The resource's plan from one reconcile's Outcome and the writes it would have made."""
    notes = tuple(Said(n.reason, redact(n.message)) for n in outcome.notes)
    ready, synced = outcome.ready, outcome.synced
    error = None
    if not synced.ok or ready.reason in NOT_THEIRS:
        error = Said(ready.reason if not ready.ok else synced.reason, redact(ready.message or synced.message))
    reasons = {note.reason for note in notes}
    if error is not None:
        action = ERROR
    elif "Created" in reasons:
        action = CREATE
    elif "Adopted" in reasons:
        action = ADOPT
    else:
        action = UPDATE if writes else NOTHING
    return ResourcePlan(
        kind=kind,
        namespace=namespace,
        name=name,
        external=external,
        action=action,
        writes=writes,
        notes=notes,
        waiting=_waiting(outcome, wrote=bool(writes)) if error is None else None,
        error=error,
    )


def differences(observed: Outcome) -> tuple[str, ...]:
    """How the object differs from the spec, from a reconcile run under ObserveOnly (its drift, field by field)."""
    found: list[str] = []
    for note in observed.notes:
        if note.reason == c.DRIFT_DETECTED:
            found += [redact(part) for part in note.message.split("; ") if part]
    return tuple(found)


def planned_status(status: Mapping[str, Any], outcome: Outcome, generation: int) -> dict[str, Any]:
    """The status the controller would write: what the resources following this one then read of it."""
    return patched_status(outcome, status=status, generation=generation, now=datetime.now(UTC))


def _waiting(outcome: Outcome, *, wrote: bool) -> Said | None:
    """What the resource would wait for; the state a write of its own leaves (an update running) is no wait."""
    ready = outcome.ready
    if ready.ok or not outcome.synced.ok:
        return None
    own_update = ready.reason == c.UPDATE_IN_PROGRESS and wrote
    if (
        c.is_waiting(ready.reason)
        or ready.reason in WAITS_AFTER_WRITING
        or (ready.reason == c.UPDATE_IN_PROGRESS and not own_update)
    ):
        return Said(ready.reason, redact(ready.message))
    return None
