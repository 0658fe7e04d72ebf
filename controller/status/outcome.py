"""What one reconcile decided: conditions, observed state, events, and when to look again."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from controller.status.setter import Verdict


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
    `applied`: this reconcile applied the spec's generation in full; status records it as
    appliedGeneration, and a difference found after that is drift, not the user's change.
    """

    ready: Verdict
    synced: Verdict
    observed: dict[str, Any] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    retry_after: float | None = None
    drift_corrections: int = 0
    applied: bool = False
