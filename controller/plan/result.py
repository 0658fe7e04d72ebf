"""A plan as data: per resource what the controller would do, and the totals `mlopsctl plan` prints.

`Plan.to_json()` is the documented JSON form (docs/plan.md); `mlopsctl import` and tools read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CREATE, ADOPT, UPDATE, DELETE, NOTHING, ERROR = "create", "adopt", "update", "delete", "none", "error"
ACTIONS = (CREATE, ADOPT, UPDATE, DELETE, NOTHING, ERROR)
CHANGING = frozenset({CREATE, ADOPT, UPDATE, DELETE})

NO_CHANGES, CHANGES, FAILED = 0, 2, 1
"""Exit codes, as `terraform plan -detailed-exitcode` has them."""


@dataclass(frozen=True)
class Said:
    """A condition reason and its message: what the controller would report (an Event, a wait, a refusal)."""

    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}" if self.message else self.reason

    def to_json(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message}


def event(reason: str, message: str) -> Said:
    """What the plan says of its own, worded as an Event would be (its reason is not a condition reason)."""
    return Said(reason, message)


@dataclass(frozen=True)
class ResourcePlan:
    """What applying the manifests would make the controller do for one resource."""

    kind: str
    namespace: str
    name: str
    external: str
    """The external object, as the controller names it in messages ("main.risk.fraud", "job 12")."""
    action: str
    changes: tuple[str, ...] = ()
    """How the external object differs from the spec, field by field (the reconcile's own words: old and new)."""
    writes: tuple[str, ...] = ()
    """The calls the controller would make, in order."""
    notes: tuple[Said, ...] = ()
    """The Events the controller would post."""
    waiting: Said | None = None
    """What the resource would wait for afterwards (a version not registered, a gate, a rollout's steps)."""
    error: Said | None = None
    """Why the controller would refuse or fail it, or why the plan could not look."""

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "external": self.external,
            "action": self.action,
            "changes": list(self.changes),
            "writes": list(self.writes),
            "notes": [note.to_json() for note in self.notes],
            "waiting": self.waiting.to_json() if self.waiting else None,
            "error": self.error.to_json() if self.error else None,
        }


@dataclass(frozen=True)
class Plan:
    """Every resource's plan, in the order the controller's kinds depend on each other."""

    resources: tuple[ResourcePlan, ...]
    problems: tuple[str, ...] = field(default=())
    """Why no plan could be made at all (invalid manifests, an unreachable cluster); empty otherwise."""

    def count(self, action: str) -> int:
        return sum(1 for r in self.resources if r.action == action)

    @property
    def waiting(self) -> int:
        return sum(1 for r in self.resources if r.waiting is not None)

    @property
    def writes(self) -> int:
        return sum(len(r.writes) for r in self.resources)

    @property
    def exit_code(self) -> int:
        if self.problems or self.count(ERROR):
            return FAILED
        return CHANGES if any(r.action in CHANGING for r in self.resources) else NO_CHANGES

    def summary(self) -> str:
        """`Plan: 2 to create, 1 to update, 0 to delete, 1 waiting.` (adoptions and refusals when there are any)."""
        parts = [f"{self.count(CREATE)} to create"]
        if self.count(ADOPT):
            parts.append(f"{self.count(ADOPT)} to adopt")
        parts += [f"{self.count(UPDATE)} to update", f"{self.count(DELETE)} to delete", f"{self.waiting} waiting"]
        if self.count(ERROR):
            parts.append(f"{self.count(ERROR)} cannot be applied")
        return "Plan: " + ", ".join(parts) + "."

    def to_json(self) -> dict[str, Any]:
        totals = {action: self.count(action) for action in ACTIONS}
        return {
            "summary": {**totals, "waiting": self.waiting, "writes": self.writes},
            "exitCode": self.exit_code,
            "problems": list(self.problems),
            "resources": [r.to_json() for r in self.resources],
        }
