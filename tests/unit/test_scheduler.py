"""The drift scheduler: what is due runs once, a nudge only asks, concurrency is bounded per Workspace."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from controller.handling import _Registry
from controller.wiring.dependents import Waker
from controller.wiring.scheduler import Entry, Scheduler


def _entry(workspace: str = "dbx") -> Entry:
    return Entry("mlmodels", ("risk", workspace), {"metadata": {}})


class Recorder:
    """A check that records (uid, only_if_woken) and can be held until released."""

    def __init__(self, registry: _Registry, uids: dict[int, str], *, hold: bool = False) -> None:
        self.registry = registry
        self.uids = uids  # id(entry) -> uid
        self.calls: list[tuple[str, bool]] = []
        self.running = 0
        self.most_running = 0
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self._lock = threading.Lock()

    def __call__(self, entry: Entry, only_if_woken: bool) -> None:
        uid = self.uids[id(entry)]
        with self._lock:
            self.calls.append((uid, only_if_woken))
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        self.release.wait(5)
        with self._lock:
            self.running -= 1
        self.registry.schedule(uid, 3600)  # as handling.reconcile does: due again after the drift interval


async def _with_scheduler(scheduler: Scheduler, body: Callable[[], Awaitable[None]]) -> None:
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0)  # running: wake-ups before it starts are not heard (the create handlers come first)
    try:
        await body()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in 5 s")


def _setup(count: int, *, max_concurrent: int = 20, hold: bool = False, workspaces: int = 1) -> tuple[
    _Registry, Waker, Scheduler, Recorder, list[str]
]:  # fmt: skip
    registry, waker = _Registry(), Waker()
    uids = [f"uid-{i}" for i in range(count)]
    entries = {uid: _entry(f"ws-{i % workspaces}") for i, uid in enumerate(uids)}
    recorder = Recorder(registry, {id(entry): uid for uid, entry in entries.items()}, hold=hold)
    scheduler = Scheduler(due=registry, check=recorder, max_concurrent=max_concurrent)
    for uid, entry in entries.items():
        scheduler.track(uid, entry)
    return registry, waker, scheduler, recorder, uids


def test_a_due_resource_is_checked_once_and_an_unscheduled_or_later_one_not_at_all() -> None:
    async def scenario() -> None:
        registry, _, scheduler, recorder, (due, later, unscheduled) = _setup(3)

        async def body() -> None:
            for uid, after in ((due, 0), (later, 3600)):
                registry.schedule(uid, after)
                scheduler.wake(uid, False)  # what the WAKER tells the scheduler on every schedule
            await _until(lambda: len(recorder.calls) == 1)
            await asyncio.sleep(0.1)

        await _with_scheduler(scheduler, body)
        assert recorder.calls == [(due, False)]
        assert unscheduled not in {uid for uid, _ in recorder.calls}

    asyncio.run(scenario())


def test_a_nudge_asks_the_kind_and_one_during_a_run_is_looked_at_again_after_it() -> None:
    async def scenario() -> None:
        registry, waker, scheduler, recorder, (uid,) = _setup(1, hold=True)
        registry.schedule(uid, 3600)
        waker.listen(scheduler.wake)

        async def body() -> None:
            await asyncio.to_thread(waker.nudge, uid)  # from another thread, as DEPENDENTS does
            await _until(lambda: recorder.running == 1)
            scheduler.wake(uid, True)  # nudged again while the first look runs
            await asyncio.sleep(0.1)
            assert recorder.calls == [(uid, True)]  # never twice at once
            recorder.release.set()
            await _until(lambda: len(recorder.calls) == 2)

        await _with_scheduler(scheduler, body)
        assert recorder.calls == [(uid, True), (uid, True)]

    asyncio.run(scenario())


def test_reconciles_in_flight_are_bounded_and_one_workspace_takes_at_most_half() -> None:
    async def scenario() -> None:
        registry, _, scheduler, recorder, uids = _setup(20, max_concurrent=4, hold=True, workspaces=1)

        async def body() -> None:
            for uid in uids:
                registry.schedule(uid, 0)
                scheduler.wake(uid, False)
            await _until(lambda: recorder.running == 2)
            await asyncio.sleep(0.2)
            assert recorder.running == 2  # a slow workspace holds 2 of the 4 slots, no more
            recorder.release.set()
            await _until(lambda: len(recorder.calls) == 20)

        await _with_scheduler(scheduler, body)
        assert recorder.most_running == 2
        assert sorted(uid for uid, _ in recorder.calls) == sorted(uids)  # each once

    asyncio.run(scenario())


def test_a_nudge_goes_before_a_backlog_of_drift_checks() -> None:
    """A change someone waits for (an alias edit an endpoint follows) is not queued behind overdue drift checks."""

    async def scenario() -> None:
        registry, _, scheduler, recorder, uids = _setup(6, max_concurrent=2, hold=True)  # one slot per Workspace
        *backlog, followed = uids
        registry.schedule(followed, 3600)

        async def body() -> None:
            for uid in backlog:
                registry.schedule(uid, 0)
                scheduler.wake(uid, False)
            await _until(lambda: recorder.running == 1)  # the first check holds the Workspace's slot
            scheduler.wake(followed, True)
            await asyncio.sleep(0.1)
            recorder.release.set()
            await _until(lambda: len(recorder.calls) == 6)

        await _with_scheduler(scheduler, body)
        assert recorder.calls[1] == (followed, True)
        assert [uid for uid, _ in recorder.calls[2:]] == backlog[1:]  # then the backlog, oldest due first

    asyncio.run(scenario())


def test_another_workspace_is_served_while_one_is_slow() -> None:
    async def scenario() -> None:
        registry, _, scheduler, recorder, uids = _setup(10, max_concurrent=4, hold=True, workspaces=2)

        async def body() -> None:
            for uid in uids:
                registry.schedule(uid, 0)
                scheduler.wake(uid, False)
            await _until(lambda: recorder.running == 4)
            workspaces = {f"ws-{int(uid.split('-')[1]) % 2}" for uid, _ in recorder.calls}
            assert workspaces == {"ws-0", "ws-1"}
            recorder.release.set()
            await _until(lambda: len(recorder.calls) == 10)

        await _with_scheduler(scheduler, body)

    asyncio.run(scenario())


def test_a_resource_that_left_is_not_checked() -> None:
    async def scenario() -> None:
        registry, _, scheduler, recorder, (gone, kept) = _setup(2)

        async def body() -> None:
            scheduler.untrack(gone)
            for uid in (gone, kept):
                registry.schedule(uid, 0)
                scheduler.wake(uid, False)
            await _until(lambda: len(recorder.calls) == 1)
            await asyncio.sleep(0.1)

        await _with_scheduler(scheduler, body)
        assert recorder.calls == [(kept, False)]

    asyncio.run(scenario())


def test_an_entry_gives_each_check_the_body_as_the_watch_event_showed_it() -> None:
    watched = {
        "metadata": {"name": "fraud", "annotations": {"mlops.gitops.dev/rollout-action": "promote"}},
        "spec": {"registeredName": "main.risk.fraud", "aliases": {"champion": 3}},
        "status": {"aliases": {"champion": 2}, "conditions": [{"type": "Ready", "status": "True", "message": "é"}]},
    }
    entry = Entry("mlmodels", ("risk", "dbx"), watched)
    watched["spec"]["aliases"]["champion"] = 4  # the event's body changing later does not change what was kept
    first = entry.body
    assert first["spec"]["aliases"] == {"champion": 3}
    assert first["status"]["conditions"][0]["message"] == "é"
    first["status"]["aliases"]["champion"] = 9  # a check changing its copy leaves the next check's alone
    assert entry.body["status"]["aliases"] == {"champion": 2}
    assert entry.workspace == ("risk", "dbx")
