"""The one factory that turns a kind's declaration into kopf handlers, and the drift scheduler they feed.

Per kind: its published entry as an index (whose changes wake followers), a change handler (create,
resume, spec update), a watch-event handler that keeps the drift scheduler's copy of each resource
current, and a delete handler that carries out the deletionPolicy. The delete handler applies only to
resources whose deletion calls out (deletionPolicy Delete, not ObserveOnly): kopf puts its finalizer on
those alone, and takes it off a resource that no longer needs it.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping
from typing import Any, cast

import kopf

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.kube import StatusWriter
from controller.reconciling import policy
from controller.settings import MAX_CONCURRENT_RECONCILES
from controller.wiring import heap
from controller.wiring.dependents import DEPENDENTS, WAKER
from controller.wiring.kind import Index, Kind, Published
from controller.wiring.scheduler import Entry, Scheduler

FAILED_CHECK_RETRY_SECONDS = 10.0
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # a copy of the manifest: no reconcile reads it

STATUS = StatusWriter()


class _Operator:
    """What the scheduler's threads borrow from the running kopf operator."""

    settings: kopf.OperatorSettings | None = None  # for the per-resource loggers that also post Events
    context: contextvars.Context | None = None  # kopf binds its Event queue only while handling an object
    indices: dict[str, kopf.Index[Any, Any]] = {}  # kopf's indices are live views: one set serves every reconcile
    kinds: dict[str, Kind[Any, Any, Any]] = {}


def _check(entry: Entry, only_if_woken: bool) -> None:
    """A scheduled reconcile, in a scheduler thread, inside kopf's context (Events, object loggers)."""
    assert _Operator.context is not None  # taken by the watch event that gave the scheduler this entry
    _Operator.context.copy().run(_check_now, entry, only_if_woken)


SCHEDULER = Scheduler(due=handling.REGISTRY, check=_check, max_concurrent=MAX_CONCURRENT_RECONCILES)


def register_scheduler() -> None:
    """Run the drift scheduler (and the heap trim) while the operator runs: kopf starts only once this replica
    leads (runner.py)."""
    running: list[asyncio.Task[None]] = []

    async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
        _Operator.settings = settings
        WAKER.listen(SCHEDULER.wake)
        running.append(asyncio.create_task(SCHEDULER.run(), name="drift scheduler"))
        running.append(asyncio.create_task(heap.trim_forever(), name="heap trim"))

    async def stop(**_: Any) -> None:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    kopf.on.startup(id="drift_scheduler")(start)
    kopf.on.cleanup(id="drift_scheduler")(stop)


def register(kind: Kind[Any, Any, Any]) -> None:
    """Register every handler of one kind with kopf."""
    plural, singular = kind.definition.plural, kind.definition.singular
    _Operator.kinds[plural] = kind
    if kind.publishes is not None:
        _publish(kind.publishes)
    for index in kind.indices:
        _index(index)

    def changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **indices: Any) -> None:
        patch.status.update(_reconcile(kind, body, logger, indices))

    for on in (kopf.on.resume, kopf.on.create):
        on(GROUP, VERSION, plural, id=f"{singular}_changed")(changed)
    kopf.on.update(GROUP, VERSION, plural, id=f"{singular}_changed", field="spec")(changed)

    async def event(body: kopf.Body, type: str | None, logger: kopf.Logger, **indices: Any) -> None:
        _track(kind, body, type, logger, indices)

    kopf.on.event(GROUP, VERSION, plural, id=f"{singular}_tracked")(event)

    def deleted(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **indices: Any) -> None:
        resource = kind.resource(body.meta, body.spec, body.status, indices)
        handling.delete_external(
            body=body,
            patch=patch,
            logger=logger,
            failure=f"deleting {kind.external_name(resource)} failed",
            run=lambda: kind.remove(resource),
        )

    kopf.on.delete(GROUP, VERSION, plural, id=f"{singular}_deleted", when=_deletion_calls_out)(deleted)


def _deletion_calls_out(spec: kopf.Spec, **_: Any) -> bool:
    """deletionPolicy Delete and not ObserveOnly: only then is there an external object to delete (a finalizer)."""
    return policy.kept_on_delete(_Policies(spec), "") is None


class _Policies:
    """The policy fields of a spec as stored, defaults where unset (a Workspace has neither)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.deletion_policy = str(spec.get("deletionPolicy", "Retain"))
        self.management_policy = str(spec.get("managementPolicy", "Manage"))


def _track(
    kind: Kind[Any, Any, Any], body: kopf.Body, type: str | None, logger: kopf.Logger, indices: Mapping[str, Any]
) -> None:
    """Keep the scheduler's copy of the resource current; a new waking annotation makes it due now.

    A resource being deleted leaves the scheduler; once gone, its bookkeeping is dropped.
    """
    if _Operator.context is None:
        _Operator.context = contextvars.copy_context()
        _Operator.indices = {name: value for name, value in indices.items() if isinstance(value, kopf.Index)}
    uid = str(body.meta["uid"])
    if type == "DELETED" or body.meta.get("deletionTimestamp"):
        SCHEDULER.untrack(uid)
        if type == "DELETED":
            _forget(kind, body, logger, indices)
        return
    before = SCHEDULER.entry(uid)
    entry = _entry(kind, body)
    SCHEDULER.track(uid, entry)
    woken = before is not None and bool(kind.waking_annotations) and _waking(kind, before) != _waking(kind, entry)
    if woken and handling.REGISTRY.seconds_until_due(uid) is not None:
        handling.REGISTRY.schedule(uid, 0)


def _entry(kind: Kind[Any, Any, Any], body: kopf.Body) -> Entry:
    """Only what a reconcile reads: no managedFields, no kubectl's copy of the manifest."""
    meta = body.meta
    namespace, name = str(meta["namespace"]), str(meta["name"])
    trimmed = {
        "namespace": namespace,
        "name": name,
        "uid": str(meta["uid"]),
        "generation": meta.get("generation"),
        "annotations": {key: value for key, value in meta.annotations.items() if key != LAST_APPLIED},
    }
    spec, status = body.get("spec") or {}, body.get("status") or {}
    workspace = str((spec.get("workspaceRef") or {}).get("name") or name)  # a Workspace is its own share
    raw = {"apiVersion": body["apiVersion"], "kind": body["kind"], "metadata": trimmed, "spec": spec, "status": status}
    return Entry(kind.definition.plural, (namespace, workspace), raw)


def _waking(kind: Kind[Any, Any, Any], entry: Entry) -> tuple[str | None, ...]:
    annotations = entry.body["metadata"]["annotations"]
    return tuple(annotations.get(key) for key in kind.waking_annotations)


def _forget(kind: Kind[Any, Any, Any], body: kopf.Body, logger: kopf.Logger, indices: Mapping[str, Any]) -> None:
    """Drop a gone resource's bookkeeping; without a finalizer, its kind's delete runs here (it calls nothing out:
    it says what was kept, or drops a cached connection)."""
    handling.forget(body.meta)
    DEPENDENTS.forget(str(body.meta["uid"]))
    if kind.publishes is not None:
        DEPENDENTS.withdraw((kind.publishes.plural, str(body.meta["namespace"]), str(body.meta["name"])))
    if not _deletion_calls_out(body.spec):
        logger.info(kind.remove(kind.resource(body.meta, body.spec, body.status, indices)))


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


def _check_now(entry: Entry, only_if_woken: bool) -> None:
    kind, body, indices = _Operator.kinds[entry.plural], kopf.Body(cast(kopf.RawBody, entry.body)), _Operator.indices
    assert _Operator.settings is not None  # the scheduler runs only once the operator started
    logger = kopf.ObjectLogger(body=body, settings=_Operator.settings)
    if only_if_woken and not kind.woken(kind.resource(body.meta, body.spec, body.status, indices)):
        return
    try:
        status = _reconcile(kind, body, logger, indices)
        STATUS.patch(entry.plural, str(body.meta["namespace"]), str(body.meta["name"]), status)
    except Exception:  # the scheduler outlives any one failure (an API server outage, a bug): look again soon
        logger.exception("drift check failed; retrying in %.0fs", FAILED_CHECK_RETRY_SECONDS)
        handling.REGISTRY.schedule(str(body.meta["uid"]), FAILED_CHECK_RETRY_SECONDS)


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
