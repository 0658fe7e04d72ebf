"""Convergence measured by listing: when each resource was first seen, and first seen Ready.

`kubectl wait --for=condition=Ready --all` is not a measure of the operator: it waits object by
object and took about 100 s for 500 objects whatever the operator did. The benchmark instead lists
the whole collection every `POLL_SECONDS` while the apply runs, and remembers for each resource the
first listing that showed it and the first that showed it Ready (resolution: one poll).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

POLL_SECONDS = 0.5

Lister = Callable[[], Iterable[Mapping[str, Any]]]


def is_ready(obj: Mapping[str, Any]) -> bool:
    """Ready=True, and not left over from an older generation of the spec."""
    generation = (obj.get("metadata") or {}).get("generation")
    for condition in (obj.get("status") or {}).get("conditions") or ():
        if condition.get("type") != "Ready":
            continue
        seen = condition.get("observedGeneration")
        return condition.get("status") == "True" and (seen is None or generation is None or seen >= generation)
    return False


@dataclass
class ReadyTracker:
    """First-seen and first-Ready times of the named resources, fed one listing at a time."""

    names: frozenset[str]
    first_seen: dict[str, float] = field(default_factory=dict)
    first_ready: dict[str, float] = field(default_factory=dict)

    def observe(self, items: Iterable[Mapping[str, Any]], now: float) -> None:
        for obj in items:
            name = (obj.get("metadata") or {}).get("name")
            if name not in self.names:
                continue
            self.first_seen.setdefault(name, now)
            if name not in self.first_ready and is_ready(obj):
                self.first_ready[name] = now

    @property
    def done(self) -> bool:
        return len(self.first_ready) == len(self.names)

    def latencies(self) -> list[float]:
        """Per resource: first seen Ready minus first seen (zero when both came in one listing)."""
        return sorted(self.first_ready[name] - self.first_seen[name] for name in self.first_ready)


@dataclass(frozen=True)
class Convergence:
    """One convergence run, in seconds from the start of the apply."""

    count: int
    apply_seconds: float  # what `kubectl apply` itself took
    ready_seconds: float  # until a listing showed every resource Ready
    latencies: list[float]  # per resource, from first seen to first seen Ready

    def describe(self, who: str) -> str:
        return (
            f"{self.count} Ready in {self.ready_seconds:.1f}s with {who} (apply took {self.apply_seconds:.1f}s; "
            f"per resource p50 {percentile(self.latencies, 50):.1f}s, p99 {percentile(self.latencies, 99):.1f}s)"
        )


def converge(
    apply: Callable[[], object],
    list_items: Lister,
    names: Iterable[str],
    *,
    timeout: float,
    poll: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Convergence:
    """Run `apply` in the background and list until every named resource has been seen Ready."""
    tracker = ReadyTracker(frozenset(names))
    started = clock()
    applied: list[float] = []
    failure: list[BaseException] = []

    def run_apply() -> None:
        try:
            apply()
        except BaseException as exc:  # re-raised in the caller's thread below
            failure.append(exc)
        finally:
            applied.append(clock() - started)

    worker = threading.Thread(target=run_apply, name="bench-apply", daemon=True)
    worker.start()
    while True:
        tracker.observe(list_items(), clock() - started)
        if failure:
            raise failure[0]
        if tracker.done and applied:
            break
        if clock() - started > timeout:
            missing = len(tracker.names) - len(tracker.first_ready)
            raise TimeoutError(f"{missing} of {len(tracker.names)} resources not Ready after {timeout:.0f}s")
        sleep(poll)
    worker.join()
    ready = max(tracker.first_ready.values(), default=0.0)
    return Convergence(len(tracker.names), applied[0], ready, tracker.latencies())


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
