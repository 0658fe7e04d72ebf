"""Waking dependents, as Flux does: a reverse index from a dependency to the resources that follow it.

Each reconcile records what the resource follows (its Workspace, an MLModel's alias, an endpoint's
inference table). When a followed resource's published entry changes, every follower is nudged: the drift
scheduler looks at it at once and, if the change matters to it (judged from its own status), reconciles it.
Nothing polls for a promotion.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

Key = tuple[str, str, str]
"""(plural, namespace, name) of a followed resource."""


class Waker:
    """Tells the drift scheduler about a resource; may be called from any thread.

    `nudge`: a followed resource changed (the scheduler asks the kind whether that matters);
    `reschedule`: the resource's due time moved (the scheduler only re-sorts it).
    """

    def __init__(self) -> None:
        self._listener: Callable[[str, bool], None] | None = None

    def listen(self, listener: Callable[[str, bool], None]) -> None:
        """`listener(uid, nudged)` hears every nudge and reschedule from now on (one listener: the scheduler)."""
        self._listener = listener

    def nudge(self, uid: str) -> None:
        self._tell(uid, nudged=True)

    def reschedule(self, uid: str) -> None:
        self._tell(uid, nudged=False)

    def _tell(self, uid: str, *, nudged: bool) -> None:
        listener = self._listener
        if listener is not None:  # none before the scheduler starts: the create and resume handlers come first
            listener(uid, nudged)


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
