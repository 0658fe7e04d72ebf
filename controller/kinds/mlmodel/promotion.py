"""Promotion: a gated alias moves only to a version that passes its gates; where each gated alias stands.

A target is judged when the alias is about to move to it. One that fails leaves the alias where it is
(nothing else is held back) and is judged again at the next reconcile: every drift check, or sooner when
the spec changes. A target that passed once is not judged again: an alias moved away from it out of band
is put back as drift, and an alias already at its target is never judged or demoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from controller import metrics
from controller.kinds.mlmodel import gates
from controller.kinds.mlmodel.gates import Evidence, GateResult
from controller.kinds.mlmodel.model import PromotionPolicy, PromotionStatus
from controller.kinds.mlmodel.observed import ObservedVersion
from controller.reconciling.run import Holding
from controller.status import conditions as c
from controller.status.outcome import Note

BLOCKED = "Blocked"
PROMOTED = "Promoted"
PASSED = "Passed"
PASSED_EVENT = "PromotionPassed"


class VersionFacts(Protocol):
    """What judging needs from the registry: one version's tags and metrics."""

    def evidence(self, name: str, version: ObservedVersion) -> Evidence: ...


@dataclass
class Promotions:
    """The gated aliases of one reconcile: their verdicts, Events, and status."""

    registry: VersionFacts
    name: str
    policies: Mapping[str, PromotionPolicy]
    previous: Mapping[str, PromotionStatus]
    """status.promotion as the last reconcile left it: a block already reported is not reported again."""
    versions: Mapping[int, ObservedVersion]
    notes: list[Note] = field(default_factory=list)
    _entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    _blocked: list[str] = field(default_factory=list)

    def allows(self, alias: str, current: int | None, target: int) -> bool:
        """Whether `alias` may move from `current` to `target`; the verdict is recorded either way."""
        policy = self.policies.get(alias)
        if policy is None:
            return True
        before = self.previous.get(alias)
        if before is not None and before.target == target and before.state in (PROMOTED, PASSED):
            self._entries[alias] = before.model_dump(by_alias=True) | {"current": current, "state": PASSED}
            return True
        results = gates.judge(policy, self._evidence(target), self._current(policy, current))
        passed = all(r.passed for r in results)
        metrics.PROMOTION_GATE_RESULTS.labels(result="passed" if passed else "blocked").inc()
        self._entries[alias] = _entry(target, current, PASSED if passed else BLOCKED, results)
        if passed:
            self.notes.append(Note(PASSED_EVENT, f"alias {alias}: version {target} passed its gates{_listed(results)}"))
            return True
        held = "is not set" if current is None else f"stays at version {current}"
        message = f"alias {alias} {held}: version {target} failed {gates.failures(results)}"
        self._blocked.append(message)
        if before is None or before.state != BLOCKED or before.target != target:
            self.notes.append(Note(c.PROMOTION_BLOCKED, message, warning=True))
        return False

    def moved(self, alias: str) -> None:
        """The alias now points at the target it was judged for."""
        if alias in self._entries:
            self._entries[alias]["state"] = PROMOTED

    def settled(self, alias: str, target: int) -> None:
        """The alias already points at its target: nothing to judge; earlier verdicts on that target are kept."""
        if alias not in self.policies:
            return
        before = self.previous.get(alias)
        kept = before is not None and before.target == target and before.state != BLOCKED
        gates_seen = [g.model_dump(by_alias=True) for g in before.gates] if before and kept else []
        current = before.current if before and kept else target
        self._entries[alias] = {"target": target, "current": current, "state": PROMOTED, "gates": gates_seen}

    def status(self) -> dict[str, dict[str, Any]]:
        """status.promotion (the frame's status patch removes an alias no longer reported)."""
        return dict(sorted(self._entries.items()))

    def holding(self) -> Holding | None:
        """Ready=False while an alias is held back; looked at again at the next drift check."""
        if not self._blocked:
            return None
        return Holding(ready=c.Verdict(False, c.PROMOTION_BLOCKED, "; ".join(self._blocked)))

    def count_blocked(self, owner: str) -> None:
        namespace, name = owner.split("/", 1)
        metrics.PROMOTIONS_BLOCKED.labels(namespace=namespace, name=name).set(len(self._blocked))

    def _evidence(self, version: int) -> Evidence:
        return self.registry.evidence(self.name, self.versions[version])

    def _current(self, policy: PromotionPolicy, current: int | None) -> Evidence | None:
        """The version the alias holds now, read only when a gate compares with it."""
        compares = any(gate.not_worse_than for gate in policy.metrics)
        if not compares or current is None or current not in self.versions:
            return None
        return self._evidence(current)


def forget(owner: str) -> None:
    """Drop a deleted resource's gauge."""
    namespace, name = owner.split("/", 1)
    try:
        metrics.PROMOTIONS_BLOCKED.remove(namespace, name)
    except KeyError:
        return


def _entry(target: int, current: int | None, state: str, results: list[GateResult]) -> dict[str, Any]:
    shown = [
        {"gate": r.gate, "passed": r.passed, "measured": r.measured, "required": r.required, "message": r.message}
        for r in results
    ]
    return {"target": target, "current": current, "state": state, "gates": shown}


def _listed(results: list[GateResult]) -> str:
    return f" ({'; '.join(r.message for r in results)})" if results else ""
