"""Setting a condition in a status' list, and reading one back, whatever its type and reason.

Every write stamps observedGeneration; lastTransitionTime moves only when the status flips;
messages are trimmed so status stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_MESSAGE = 1024


@dataclass(frozen=True)
class Verdict:
    """The value one condition should take."""

    ok: bool
    reason: str
    message: str = ""

    @property
    def status(self) -> str:
        return "True" if self.ok else "False"


def set_condition(
    conditions: list[dict[str, Any]],
    *,
    type_: str,
    verdict: Verdict,
    generation: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Return conditions with `type_` set to `verdict`, leaving the others untouched."""
    previous = next((c for c in conditions if c.get("type") == type_), None)
    since = _timestamp(now)
    if previous is not None and previous.get("status") == verdict.status:
        since = str(previous.get("lastTransitionTime", since))
    updated = {
        "type": type_,
        "status": verdict.status,
        "reason": verdict.reason,
        "message": _trim(verdict.message),
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }
    others = [c for c in conditions if c.get("type") != type_]
    return sorted([*others, updated], key=lambda c: str(c.get("type")))


def find(conditions: list[dict[str, Any]], type_: str) -> dict[str, Any] | None:
    """The condition of that type, if present."""
    return next((c for c in conditions if c.get("type") == type_), None)


def is_true(conditions: list[dict[str, Any]], type_: str) -> bool:
    condition = find(conditions, type_)
    return condition is not None and condition.get("status") == "True"


def _trim(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def _timestamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")
