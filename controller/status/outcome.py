"""What one reconcile decided: conditions, observed state, events, and when to look again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.status import conditions as c
from controller.status.conditions import Verdict


@dataclass(frozen=True)
class Note:
    """A Kubernetes Event to post about the resource."""

    reason: str
    message: str
    warning: bool = False


@dataclass(frozen=True)
class Outcome:
    """The result of reconciling one resource.

    `observed` holds status fields in their camelCase wire form; the handler merges
    them with conditions and observedGeneration into one status patch.
    `retry_after` asks for an earlier look than the drift interval (waiting on a
    dependency, an external outage); None means "next drift check".
    """

    ready: Verdict
    synced: Verdict
    observed: dict[str, Any] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    retry_after: float | None = None
    drift_corrections: int = 0


def record_change(notes: list[Note], what: str, *, spec_changed: bool, drift: str | None = None) -> int:
    """Note a write the reconcile made; returns 1 when it corrected drift, else 0.

    A write while this spec generation is still being applied is the user's change ("Updated");
    one made after it was applied puts back a change made out of band ("DriftCorrected").
    """
    if spec_changed:
        notes.append(Note("Updated", what))
        return 0
    notes.append(Note("DriftCorrected", drift or what))
    return 1


def failure(
    reason: str,
    message: str,
    *,
    notes: list[Note],
    retry: float | None,
    corrections: int = 0,
    synced: bool = False,
    observed: dict[str, Any] | None = None,
) -> Outcome:
    """Ready=False for `reason`, with a warning Event; Synced too unless the reconcile applied all it could."""
    return Outcome(
        ready=c.Verdict(False, reason, message),
        synced=c.Verdict(True, c.RECONCILED) if synced else c.Verdict(False, reason, message),
        observed=observed or {},
        notes=(*notes, Note(reason, message, warning=True)),
        retry_after=retry,
        drift_corrections=corrections,
    )
