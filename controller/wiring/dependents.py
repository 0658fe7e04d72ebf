"""Waking dependents, as Flux does: a reverse index from a dependency to the resources that follow it.

Each reconcile records what the resource follows (its Workspace, an MLModel's alias, an endpoint's
inference table). When a followed resource's published entry changes, every follower is nudged at once:
its drift loop wakes and, if the change matters to it (judged from its own status), reconciles. Nothing
polls for a promotion.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from typing import Any

Key = tuple[str, str, str]
"""(plural, namespace, name) of a followed resource."""


class Waker:
    """One asyncio event per resource's drift loop; may be set from any thread.

    `nudge`: a followed resource changed (the loop asks the kind whether that matters);
    `reschedule`: the resource's due time moved (the loop only recomputes how long to sleep).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._events: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._nudged: set[str] = set()

    def open(self, uid: str) -> asyncio.Event:
        event = asyncio.Event()
        with self._guard:
            self._events[uid] = (asyncio.get_running_loop(), event)
        return event

    def close(self, uid: str) -> None:
        with self._guard:
            self._events.pop(uid, None)
            self._nudged.discard(uid)

    def nudge(self, uid: str) -> None:
        with self._guard:
            self._nudged.add(uid)
        self._set(uid)

    def reschedule(self, uid: str) -> None:
        self._set(uid)

    def take_nudge(self, uid: str) -> bool:
        """Whether the resource was nudged since the last call."""
        with self._guard:
            nudged = uid in self._nudged
            self._nudged.discard(uid)
        return nudged

    def _set(self, uid: str) -> None:
        with self._guard:
            found = self._events.get(uid)
        if found is not None:
            loop, event = found
            loop.call_soon_threadsafe(event.set)


class Dependents:
    """Who follows whom, and the last entry each followed resource published."""

    def __init__(self, waker: Waker) -> None:
        self._waker = waker
        self._guard = threading.Lock()
        self._followers: dict[Key, set[str]] = {}
        self._follows: dict[str, set[Key]] = {}
        self._published: dict[Key, Any] = {}

    def follow(self, uid: str, keys: Iterable[Key]) -> None:
        """Record what a resource follows now (replacing what it followed before)."""
        wanted = set(keys)
        with self._guard:
            for key in self._follows.get(uid, set()) - wanted:
                self._followers.get(key, set()).discard(uid)
            for key in wanted:
                self._followers.setdefault(key, set()).add(uid)
            self._follows[uid] = wanted

    def publish(self, key: Key, entry: Any) -> None:
        """A followed resource's entry as it is now; its followers are nudged when it changed."""
        with self._guard:
            if key in self._published and self._published[key] == entry:
                return
            self._published[key] = entry
            followers = tuple(self._followers.get(key, ()))
        for uid in followers:
            self._waker.nudge(uid)

    def latest(self, key: Key) -> Any | None:
        """The entry last published for `key`: newer than kopf's index while a nudge is being delivered."""
        with self._guard:
            return self._published.get(key)

    def withdraw(self, key: Key) -> None:
        """A followed resource is gone: forget its entry and nudge its followers."""
        with self._guard:
            self._published.pop(key, None)
            followers = tuple(self._followers.get(key, ()))
        for uid in followers:
            self._waker.nudge(uid)

    def forget(self, uid: str) -> None:
        with self._guard:
            for key in self._follows.pop(uid, set()):
                self._followers.get(key, set()).discard(uid)

    def followers(self, key: Key) -> set[str]:
        with self._guard:
            return set(self._followers.get(key, ()))


WAKER = Waker()
DEPENDENTS = Dependents(WAKER)
