"""The part of every handler that is the same for all kinds.

Runs one reconcile at a time per resource (change handlers and the drift scheduler
can fire together), turns its Outcome into one status patch, Events and metrics,
and remembers when the resource is due again: after `retry_after` when waiting or
failing, after the Workspace's drift interval otherwise. A new due time reaches the
drift scheduler (`wiring/scheduler.py`), which sleeps until then: no external call between checks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import kopf

from controller import metrics
from controller.clients import errors
from controller.clients.redaction import redact
from controller.reconciling import errors as reactions
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome
from controller.status.patch import status_patch
from controller.wiring.dependents import WAKER

DELETE_RETRY_SECONDS = 15


class _Registry:
    """Per-resource locks, due times and last Ready status (for the condition gauge)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._due: dict[str, float] = {}
        self._ready: dict[str, tuple[str, str]] = {}
        self._reasons: dict[str, str] = {}

    def lock(self, uid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(uid, threading.Lock())

    def schedule(self, uid: str, after: float) -> None:
        with self._guard:
            self._due[uid] = time.monotonic() + after
        WAKER.reschedule(uid)  # the drift scheduler may be sleeping towards the old due time

    def due_at(self, uid: str) -> float | None:
        """When the resource is due (time.monotonic); None while unscheduled."""
        with self._guard:
            return self._due.get(uid)

    def seconds_until_due(self, uid: str) -> float | None:
        """None while unscheduled: the create or resume handler reconciles a new resource first."""
        with self._guard:
            due = self._due.get(uid)
        return None if due is None else max(0.0, due - time.monotonic())

    def is_due(self, uid: str) -> bool:
        """Unscheduled resources are not due: their create or resume handler reconciles them first."""
        with self._guard:
            due = self._due.get(uid)
        return due is not None and time.monotonic() >= due

    def record_ready(self, kind: str, uid: str, status: str) -> None:
        """Move the resource between the gauge's (kind, status) counts; O(1) per reconcile."""
        with self._guard:
            previous = self._ready.get(uid)
            if previous == (kind, status):
                return
            if previous is not None:
                metrics.CONDITION.labels(kind=previous[0], status=previous[1]).dec()
            self._ready[uid] = (kind, status)
            metrics.CONDITION.labels(kind=kind, status=status).inc()

    def swap_reason(self, uid: str, reason: str) -> str | None:
        """Record the resource's Ready reason; returns the one recorded before (None: none since start)."""
        with self._guard:
            previous = self._reasons.get(uid)
            self._reasons[uid] = reason
        return previous

    def forget(self, uid: str) -> None:
        with self._guard:
            self._locks.pop(uid, None)
            self._due.pop(uid, None)
            self._reasons.pop(uid, None)
            previous = self._ready.pop(uid, None)
            if previous is not None:
                metrics.CONDITION.labels(kind=previous[0], status=previous[1]).dec()


REGISTRY = _Registry()


def reconcile(
    *,
    kind: str,
    body: kopf.Body,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    drift_seconds: float,
    run: Callable[[], Outcome],
) -> dict[str, Any]:
    """Run one reconcile of a resource; post its Events, count its metrics, and return its status patch."""
    meta, status = body["metadata"], body.get("status") or {}
    uid = str(meta["uid"])
    generation = int(meta.get("generation") or 0)
    with REGISTRY.lock(uid):
        started = time.monotonic()
        try:
            outcome = run()
        except errors.ExternalError as exc:
            outcome = reactions.escaped(exc)
        metrics.RECONCILE_SECONDS.labels(kind=kind).observe(time.monotonic() - started)
    metrics.RECONCILES.labels(kind=kind, result=_result(outcome)).inc()
    if outcome.drift_corrections:
        metrics.DRIFT_CORRECTIONS.labels(kind=kind).inc(outcome.drift_corrections)
    for note in (*outcome.notes, *_entered_wait(uid, outcome, status)):
        message = redact(note.message)
        kopf.event(body, type="Warning" if note.warning else "Normal", reason=note.reason, message=message)
        (logger.warning if note.warning else logger.info)("%s: %s", note.reason, message)
    REGISTRY.schedule(uid, outcome.retry_after if outcome.retry_after is not None else drift_seconds)
    REGISTRY.record_ready(kind, uid, outcome.ready.status)
    if not outcome.ready.ok:
        logger.info("not ready: %s: %s", outcome.ready.reason, redact(outcome.ready.message))
    return status_patch(outcome, status=status, generation=generation, now=datetime.now(UTC))


def delete_external(
    *, body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, failure: str, run: Callable[[], str]
) -> None:
    """Carry out a kind's deletionPolicy (`run` returns what it did).

    A failed external delete keeps the finalizer, says why in status and an Event, and is retried.
    """
    try:
        done = run()
    except errors.ExternalError as exc:
        deletion_failed(body=body, patch=patch, message=f"{failure}: {exc}")
        raise kopf.TemporaryError(redact(str(exc)), delay=DELETE_RETRY_SECONDS) from exc  # kept in an annotation
    logger.info(done)
    forget(body.meta)


def deletion_failed(*, body: kopf.Body, patch: kopf.Patch, message: str) -> None:
    """Say in status and an Event why the finalizer stays."""
    message = redact(message)
    verdict = c.Verdict(False, c.DELETE_FAILED, message)
    outcome = Outcome(ready=verdict, synced=verdict)
    generation = int(body.meta.get("generation") or 0)
    patch.status.update(status_patch(outcome, status=body.status, generation=generation, now=datetime.now(UTC)))
    kopf.event(body, type="Warning", reason=c.DELETE_FAILED, message=message)


def forget(meta: Mapping[str, Any]) -> None:
    """Drop in-memory bookkeeping for a deleted resource."""
    REGISTRY.forget(str(meta["uid"]))


def _entered_wait(uid: str, outcome: Outcome, status: Mapping[str, Any]) -> tuple[Note, ...]:
    """One Event when the resource starts waiting (or waits for something else), none while it keeps waiting.

    What it waited for last is remembered in memory, and after a restart read from its status.
    """
    reason = outcome.ready.reason
    previous = REGISTRY.swap_reason(uid, reason)
    if previous is None:
        ready = c.find(list(status.get("conditions") or []), c.READY) or {}
        previous = str(ready.get("reason", ""))
    if not c.is_waiting(reason) or reason == previous:
        return ()
    return (Note(reason, outcome.ready.message),)


def _result(outcome: Outcome) -> str:
    if outcome.ready.ok:
        return "ready"
    return "waiting" if outcome.synced.ok else "failed"
