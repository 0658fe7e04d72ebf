"""The one factory that turns a kind's declaration into kopf handlers.

Per kind: its published entry as an index (whose changes wake followers), a change handler (create,
resume, spec update), a drift loop per resource (a kopf daemon that sleeps until the resource is due or
a followed resource changed), and a delete handler that carries out the deletionPolicy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import kopf

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.kube import StatusWriter
from controller.wiring.dependents import DEPENDENTS, WAKER
from controller.wiring.kind import Index, Kind, Published

UNSCHEDULED_RECHECK_SECONDS = 60.0
FAILED_CHECK_RETRY_SECONDS = 10.0
STOP_GRACE_SECONDS = 1.0

STATUS = StatusWriter()


def register(kind: Kind[Any, Any, Any]) -> None:
    """Register every handler of one kind with kopf."""
    plural, singular = kind.definition.plural, kind.definition.singular
    if kind.publishes is not None:
        _publish(kind.publishes)
    for index in kind.indices:
        _index(index)

    def changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **indices: Any) -> None:
        patch.status.update(_reconcile(kind, body, logger, indices))

    for on in (kopf.on.resume, kopf.on.create):
        on(GROUP, VERSION, plural, id=f"{singular}_changed")(changed)
    kopf.on.update(GROUP, VERSION, plural, id=f"{singular}_changed", field="spec")(changed)

    async def drift(body: kopf.Body, logger: kopf.Logger, stopped: kopf.DaemonStopped, **indices: Any) -> None:
        await _drift_loop(kind, body, logger, stopped, indices)

    kopf.daemon(GROUP, VERSION, plural, id=f"{singular}_drift", cancellation_timeout=STOP_GRACE_SECONDS)(drift)

    def deleted(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **indices: Any) -> None:
        resource = kind.resource(body.meta, body.spec, body.status, indices)
        handling.delete_external(
            body=body,
            patch=patch,
            logger=logger,
            failure=f"deleting {kind.external_name(resource)} failed",
            run=lambda: kind.remove(resource),
        )  # forgets the resource's bookkeeping once the delete is done
        DEPENDENTS.forget(resource.uid)
        if kind.publishes is not None:
            DEPENDENTS.withdraw((kind.publishes.plural, resource.namespace, resource.name))

    kopf.on.delete(GROUP, VERSION, plural, id=f"{singular}_deleted")(deleted)
    if kind.waking_annotations:
        _wake_on_annotations(kind)


def _wake_on_annotations(kind: Kind[Any, Any, Any]) -> None:
    """Reconcile at once when one of the kind's waking annotations gets a new value.

    The change handler reacts to spec only (and kopf's diff base leaves this controller's annotations out),
    so the raw watch events are read: a value not seen before for the resource makes it due now.
    """
    seen: dict[str, tuple[str | None, ...]] = {}

    def event(body: kopf.Body, type: str | None, **_: Any) -> None:
        uid = str(body.meta["uid"])
        if type == "DELETED":
            seen.pop(uid, None)
            return
        values = tuple(body.meta.annotations.get(key) for key in kind.waking_annotations)
        before = seen.get(uid)
        seen[uid] = values
        if before is not None and values != before and handling.REGISTRY.seconds_until_due(uid) is not None:
            handling.REGISTRY.schedule(uid, 0)

    kopf.on.event(GROUP, VERSION, kind.definition.plural, id=f"{kind.definition.singular}_annotated")(event)


def _reconcile(kind: Kind[Any, Any, Any], body: kopf.Body, logger: Any, indices: Mapping[str, Any]) -> dict[str, Any]:
    """One reconcile of the resource as the body shows it now; returns its status patch."""
    resource = kind.resource(body.meta, body.spec, body.status, indices)
    DEPENDENTS.follow(resource.uid, ((plural, resource.namespace, name) for plural, name in kind.follows(resource)))
    return handling.reconcile(
        kind=kind.definition.kind,
        body=body,
        logger=logger,
        drift_seconds=kind.drift_seconds(resource),
        run=lambda: kind.run(resource),
    )


async def _drift_loop(
    kind: Kind[Any, Any, Any], body: kopf.Body, logger: Any, stopped: kopf.DaemonStopped, indices: Mapping[str, Any]
) -> None:
    """Sleep until the resource is due (drift check, retry) or nudged by a followed resource; then reconcile.

    A nudge reconciles only when the resource's own status says the change matters to it (`Kind.woken`).
    The body is kopf's live view: it holds the latest spec and status.
    """
    uid, plural = str(body.meta["uid"]), kind.definition.plural
    woken = WAKER.open(uid)
    try:
        while not stopped:
            delay = handling.REGISTRY.seconds_until_due(uid)
            await _sleep(woken, stopped, UNSCHEDULED_RECHECK_SECONDS if delay is None else delay)
            was_nudged = WAKER.take_nudge(uid)
            if stopped or handling.REGISTRY.seconds_until_due(uid) is None:
                continue
            if not handling.REGISTRY.is_due(uid) and not _matters(kind, body, indices, nudged=was_nudged):
                continue
            try:
                status = await asyncio.to_thread(_reconcile, kind, body, logger, indices)
                namespace, name = str(body.meta["namespace"]), str(body.meta["name"])
                await asyncio.to_thread(STATUS.patch, plural, namespace, name, status)
            except Exception:  # the loop outlives any one failure (an API server outage, a bug): look again soon
                logger.exception("drift check failed; retrying in %.0fs", FAILED_CHECK_RETRY_SECONDS)
                handling.REGISTRY.schedule(uid, FAILED_CHECK_RETRY_SECONDS)
    finally:
        WAKER.close(uid)


def _matters(kind: Kind[Any, Any, Any], body: kopf.Body, indices: Mapping[str, Any], *, nudged: bool) -> bool:
    """Whether a nudge (a followed resource changed) calls for a reconcile before the resource is due."""
    return nudged and kind.woken(kind.resource(body.meta, body.spec, body.status, indices))


async def _sleep(woken: asyncio.Event, stopped: kopf.DaemonStopped, seconds: float) -> None:
    """Wait up to `seconds` for a wake-up (nudge or new due time) or the stop."""
    waits = {asyncio.ensure_future(woken.wait()), asyncio.ensure_future(stopped.wait())}
    try:
        await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    woken.clear()


def _publish(published: Published[Any]) -> None:
    def entries(namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[Any, Any]:
        entry = published.entry(spec, status)
        DEPENDENTS.publish((published.plural, str(namespace), name), entry)
        return {(namespace, name): entry}

    kopf.index(GROUP, VERSION, published.plural, id=published.index)(entries)


def _index(index: Index) -> None:
    def entries(namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[Any, Any]:
        return index.entries(str(namespace), name, spec, status)

    kopf.index(GROUP, VERSION, index.plural, id=index.name)(entries)
