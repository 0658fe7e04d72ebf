"""Liveness: notice watch streams that went silent without an error.

Every reconcile writes status (lastObservedAt) at least once per drift interval, so
while a kind has resources, its watch delivers an event at least that often. A kind
with resources and no event for longer than the silence limit has a stalled stream
(kopf's watch can end up alive but deaf behind some proxies); failing the liveness
probe lets Kubernetes restart the pod. Kinds with no resources are never judged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class WatchHealth:
    """Per kind: the resources seen and when the last watch event arrived."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._last_event: dict[str, float] = {}
        self._resources: dict[str, set[str]] = {}

    def saw(self, kind: str, uid: str, *, deleted: bool) -> None:
        with self._lock:
            self._last_event[kind] = self._clock()
            resources = self._resources.setdefault(kind, set())
            if deleted:
                resources.discard(uid)
            else:
                resources.add(uid)

    def silent_kinds(self, limit_seconds: float) -> list[str]:
        """Kinds that have resources but no watch event for longer than the limit."""
        now = self._clock()
        with self._lock:
            return sorted(
                kind
                for kind, resources in self._resources.items()
                if resources and now - self._last_event[kind] > limit_seconds
            )


WATCH = WatchHealth()
