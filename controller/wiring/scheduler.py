"""One drift scheduler per controller: a due-time heap over every resource and a bounded pool of reconciles.

A kopf daemon per resource cost about 250 KiB each (a task, kopf's bookkeeping, the whole body kept live) and
a finalizer on every resource. Here each resource is one `Entry` (the trimmed body a reconcile needs) and at
most one heap item per due time. The due times are REGISTRY's (`controller.handling`); the WAKER tells the
scheduler when one moved or a followed resource changed (a nudge). At most `max_concurrent` reconciles run at
once in threads, and the resources of one Workspace take at most half of them, so one slow workspace cannot
starve the others. What waits for a slot starts nudged first (a change someone is waiting to see followed),
then oldest due first, so a backlog of drift checks never delays a promotion. Nothing here knows kopf:
`controller.wiring.register` feeds the entries and runs `check`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from controller import metrics

logger = logging.getLogger(__name__)


class Entry:
    """What the scheduler holds of one resource: its kind, its Workspace (the share it runs under), its body.

    The body is kept as compact JSON and parsed when a reconcile needs it: one bytes object of about 1.3 KiB
    instead of a tree of dicts and strings about 4.5 times that size, held for every resource between its
    checks (and one allocation, not dozens, for each watch event that replaces it).
    """

    __slots__ = ("_packed", "plural", "workspace")

    def __init__(self, plural: str, workspace: tuple[str, str], body: Mapping[str, Any]) -> None:
        self.plural = sys.intern(plural)
        self.workspace = (sys.intern(workspace[0]), sys.intern(workspace[1]))  # shared by a Workspace's resources
        self._packed = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def body(self) -> dict[str, Any]:
        """apiVersion, kind, trimmed metadata, spec and status, as the latest watch event showed them (a copy)."""
        parsed: dict[str, Any] = json.loads(self._packed)
        return parsed


Check = Callable[[Entry, bool], None]
"""Reconcile the resource in a thread; with `only_if_woken`, only when its kind says the nudge matters to it."""


class DueTimes(Protocol):
    """The registry the due times live in (`handling.REGISTRY`)."""

    def due_at(self, uid: str) -> float | None: ...
    def is_due(self, uid: str) -> bool: ...


class Scheduler:
    """Sleeps until the earliest due time or a wake-up, then dispatches what is due or was nudged."""

    def __init__(
        self, *, due: DueTimes, check: Check, max_concurrent: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._due = due
        self._check = check
        self._clock = clock  # the registry's clock
        self._max_concurrent = max(1, max_concurrent)
        self._entries: dict[str, Entry] = {}
        self._heap: list[tuple[float, str]] = []
        self._nudged: set[str] = set()
        self._running: set[str] = set()
        self._queued: set[str] = set()  # due or nudged, waiting for a slot
        self._waiting: dict[tuple[str, str], tuple[collections.deque[str], collections.deque[str]]] = {}
        self._busy: dict[tuple[str, str], int] = {}  # reconciles running per Workspace
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # set while running: wake-ups from threads go there
        self._woken = asyncio.Event()
        self._pool = ThreadPoolExecutor(self._max_concurrent, thread_name_prefix="reconcile")  # one run per scheduler

    def entry(self, uid: str) -> Entry | None:
        return self._entries.get(uid)

    def track(self, uid: str, entry: Entry) -> None:
        """The resource as its latest watch event showed it (call on the scheduler's loop)."""
        known = uid in self._entries
        self._entries[uid] = entry
        if not known:
            self._push(uid, nudged=False)  # it may have been scheduled before its first event arrived

    def untrack(self, uid: str) -> None:
        """The resource is gone or being deleted: no more checks (call on the scheduler's loop)."""
        self._entries.pop(uid, None)
        self._nudged.discard(uid)

    def wake(self, uid: str, nudged: bool) -> None:
        """A due time moved, or a followed resource changed (`nudged`); from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._push, uid, nudged)

    async def run(self) -> None:
        """Until cancelled (the operator stops): reconciles still running in threads finish on their own."""
        self._loop = asyncio.get_running_loop()
        for uid in self._entries:
            self._push(uid, nudged=False)
        try:
            while True:
                await self._sleep()
                self._dispatch_ready()
        finally:
            self._loop = None
            self._pool.shutdown(wait=False, cancel_futures=True)

    async def _sleep(self) -> None:
        timeout = self._heap[0][0] - self._clock() if self._heap else None
        if timeout is None or timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout)
        self._woken.clear()

    def _push(self, uid: str, nudged: bool) -> None:
        at = self._clock() if nudged else self._due.due_at(uid)
        if at is None or uid not in self._entries:
            return  # unscheduled: the create or resume handler reconciles it first; unknown: its event will push
        if nudged:
            self._nudged.add(uid)
        heapq.heappush(self._heap, (at, uid))
        if at <= self._heap[0][0]:
            self._woken.set()

    def _dispatch_ready(self) -> None:
        """Queue every resource whose heap item has come (skipping items a later reschedule made stale), then
        start what the free slots allow."""
        now = self._clock()
        while self._heap and self._heap[0][0] <= now:
            _, uid = heapq.heappop(self._heap)
            nudged = uid in self._nudged
            if uid in self._running or uid not in self._entries:
                continue  # a running reconcile schedules the resource again when it ends; a gone one is done
            if not nudged and (uid in self._queued or not self._due.is_due(uid)):
                continue  # waiting already, or a stale item: the resource was rescheduled to later
            self._queued.add(uid)
            self._queues(uid)[0 if nudged else 1].append(uid)  # a nudge while it waited moves it ahead
        self._start_what_fits()

    def _start_what_fits(self) -> None:
        """Start queued reconciles while slots are free: a nudged resource (a change a user waits for) before
        any drift check, and otherwise the Workspace whose oldest waiting check is the earliest due."""
        while len(self._running) < self._max_concurrent:
            picked = self._next_queued()
            if picked is None:
                return
            uid, workspace = picked
            self._queued.discard(uid)
            if uid not in self._entries:
                continue  # left while it waited
            nudged = uid in self._nudged
            due = self._due.due_at(uid) if self._due.is_due(uid) else None
            if not nudged and due is None:
                continue  # rescheduled to later while it waited
            self._nudged.discard(uid)
            self._running.add(uid)
            self._busy[workspace] = self._busy.get(workspace, 0) + 1
            task = asyncio.create_task(self._reconcile(uid, workspace, only_if_woken=due is None, due=due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _next_queued(self) -> tuple[str, tuple[str, str]] | None:
        """The next uid still waiting, from a Workspace under its share; None when nothing can start now."""
        share = max(1, self._max_concurrent // 2)
        for lane in (0, 1):  # nudged, then due
            while True:
                heads = [
                    (workspace, queues[lane])
                    for workspace, queues in self._waiting.items()
                    if queues[lane] and self._busy.get(workspace, 0) < share
                ]
                if not heads:
                    break
                workspace, queue = min(heads, key=lambda head: self._due.due_at(head[1][0]) or 0.0)
                uid = queue.popleft()
                if uid in self._queued:  # else started already from the other lane
                    return uid, workspace
        return None

    def _queues(self, uid: str) -> tuple[collections.deque[str], collections.deque[str]]:
        """The resource's Workspace's waiting lines: nudged, and due (oldest first)."""
        entry = self._entries.get(uid)
        workspace = entry.workspace if entry is not None else ("", "")
        return self._waiting.setdefault(workspace, (collections.deque(), collections.deque()))

    async def _reconcile(self, uid: str, workspace: tuple[str, str], *, only_if_woken: bool, due: float | None) -> None:
        try:
            entry = self._entries.get(uid)  # the latest body
            if entry is None:
                return
            if due is not None:
                metrics.DRIFT_CHECK_LATENESS.observe(max(0.0, self._clock() - due))
            await asyncio.get_running_loop().run_in_executor(self._pool, self._check, entry, only_if_woken)
        except Exception:  # `check` handles its own failures; this keeps the scheduler alive whatever happens
            logger.exception("scheduled reconcile of %s failed", uid)
        finally:
            self._running.discard(uid)
            self._busy[workspace] -= 1
            if uid in self._nudged:
                self._push(uid, nudged=True)  # nudged while it ran: look again
            self._start_what_fits()
