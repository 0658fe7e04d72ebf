"""kopf handlers for ModelMonitor: reconcile on spec change, on resume, and on the drift timer.

Two in-memory indices feed the reconcile: the ServingEndpoints' inference tables (for endpointRef),
and which ModelMonitor manages the monitor on which table (monitors carry no tags, so two
resources on one table are told apart here). A monitor waiting for an endpoint's inference table
is woken as soon as the endpoint's status names one, instead of at its next retry.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.kinds.modelmonitor import reconcile as modelmonitor
from controller.kinds.modelmonitor.external import DatabricksMonitors
from controller.kinds.modelmonitor.model import LastRefresh, ModelMonitorSpec
from controller.kinds.modelmonitor.observed import EndpointView, ObservedRefresh
from controller.kinds.workspace import lookup
from controller.kinds.workspace.handlers import NotUsable, databricks, databricks_client
from controller.settings import TIMER_INTERVAL
from controller.status import conditions as c
from controller.status.outcome import Outcome

KIND = "ModelMonitor"
POLL_SECONDS = 15.0


class _Waiters:
    """ModelMonitors (by uid) waiting for a ServingEndpoint's inference table, by (namespace, endpoint name)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: dict[tuple[str, str], set[str]] = {}

    def wait(self, endpoint: tuple[str, str], uid: str) -> None:
        with self._guard:
            self._waiting.setdefault(endpoint, set()).add(uid)

    def wake(self, endpoint: tuple[str, str]) -> None:
        """Make every monitor waiting for this endpoint due now (the timer reconciles it on its next tick)."""
        with self._guard:
            uids = self._waiting.pop(endpoint, set())
        for uid in uids:
            handling.REGISTRY.schedule(uid, 0)

    def forget(self, uid: str) -> None:
        with self._guard:
            for uids in self._waiting.values():
                uids.discard(uid)


WAITERS = _Waiters()


@kopf.index(GROUP, VERSION, "servingendpoints")
def modelmonitor_endpoints(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[Any, Any]:
    entry = endpoint_entry(spec, status)
    if entry["table"]:
        WAITERS.wake((str(namespace), name))
    return {(namespace, name): entry}


@kopf.index(GROUP, VERSION, "modelmonitors")
def modelmonitor_claims(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[Any, Any]:
    """Table id → the resource managing the monitor on it (an empty result drops the resource's earlier claim)."""
    table_id = status.get("tableId")
    if not table_id or spec.get("managementPolicy") == "ObserveOnly":
        return {}
    return {table_id: f"{namespace}/{name}"}


@kopf.on.resume(GROUP, VERSION, "modelmonitors")
@kopf.on.create(GROUP, VERSION, "modelmonitors")
@kopf.on.update(GROUP, VERSION, "modelmonitors", field="spec")
def modelmonitor_changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    _reconcile(body, patch, logger, kwargs)


@kopf.timer(GROUP, VERSION, "modelmonitors", interval=TIMER_INTERVAL)
def modelmonitor_drift(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    if handling.is_due(body.meta):
        _reconcile(body, patch, logger, kwargs)


@kopf.on.delete(GROUP, VERSION, "modelmonitors")
def modelmonitor_deleted(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    spec = ModelMonitorSpec.model_validate(dict(body.spec))
    namespace = str(body.meta["namespace"])
    table = body.status.get("tableName") or spec.table_name or "its table"

    def connect() -> modelmonitor.Monitors:
        return DatabricksMonitors(
            databricks_client(kwargs["workspaces"], namespace, spec.workspace_ref.name, kind=KIND)
        )

    handling.delete_external(
        body=body,
        patch=patch,
        logger=logger,
        failure=f"deleting the monitor on {table} failed",
        run=lambda: modelmonitor.delete(spec, connect=connect, recorded=_recorded(body.status)),
    )
    WAITERS.forget(str(body.meta["uid"]))


def _reconcile(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, indices: Mapping[str, Any]) -> None:
    spec = ModelMonitorSpec.model_validate(dict(body.spec))
    namespace, uid = str(body.meta["namespace"]), str(body.meta["uid"])
    owner = f"{namespace}/{body.meta['name']}"
    view = lookup.find(indices["workspaces"].get((namespace, spec.workspace_ref.name)))
    drift = view.drift_seconds if view else lookup.DEFAULT_DRIFT_SECONDS
    claims: kopf.Index[Any, Any] = indices["modelmonitor_claims"]

    def claimant(table_id: str) -> str | None:
        return next((o for o in claims.get(table_id, ()) if o != owner), None)

    def run() -> Outcome:
        try:
            monitors = DatabricksMonitors(databricks(view, namespace, spec.workspace_ref.name, kind=KIND))
        except NotUsable as exc:
            return exc.outcome
        endpoint = None
        if spec.endpoint_ref is not None:
            endpoint = _endpoint(indices["modelmonitor_endpoints"].get((namespace, spec.endpoint_ref.name)))
        request = modelmonitor.Request(
            owner=owner,
            spec_changed=handling.spec_changed(body),
            now=datetime.now(UTC),
            recorded=_recorded(body.status),
            endpoint=endpoint,
            claimant=claimant,
            poll_seconds=min(POLL_SECONDS, drift),
        )
        outcome = modelmonitor.reconcile(spec, monitors=monitors, request=request)
        if spec.endpoint_ref is not None and outcome.ready.reason in (
            c.WAITING_FOR_DEPENDENCY,
            c.WAITING_FOR_INFERENCE_TABLE,
        ):
            WAITERS.wait((namespace, spec.endpoint_ref.name), uid)
        return outcome

    handling.reconcile(kind=KIND, body=body, patch=patch, logger=logger, drift_seconds=drift, run=run)


def endpoint_entry(spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """What the endpoint index keeps of a ServingEndpoint."""
    capture = spec.get("inferenceTable") or {}
    return {
        "table": status.get("inferenceTableName") or None,
        "ready": c.is_true(list(status.get("conditions") or []), c.READY),
        "capture": bool(capture) and capture.get("enabled", True) is not False,
    }


def _endpoint(entries: Any) -> EndpointView | None:
    for entry in entries or ():
        return EndpointView(
            inference_table_name=entry["table"], ready=bool(entry["ready"]), capture_declared=bool(entry["capture"])
        )
    return None


def _recorded(status: Mapping[str, Any]) -> modelmonitor.Recorded:
    """What earlier reconciles left in status."""
    last: ObservedRefresh | None = None
    try:
        if status.get("lastRefresh"):
            parsed = LastRefresh.model_validate(dict(status["lastRefresh"]))
            last = ObservedRefresh(refresh_id=parsed.refresh_id, state=parsed.state, message=parsed.message)
    except ValidationError:
        last = None
    checked: datetime | None = None
    if status.get("refreshesCheckedAt"):
        try:
            checked = datetime.fromisoformat(str(status["refreshesCheckedAt"]))
        except ValueError:
            checked = None
    return modelmonitor.Recorded(
        table_name=status.get("tableName"),
        table_id=status.get("tableId"),
        output_schema_id=status.get("outputSchemaId"),
        monitor_status=status.get("monitorStatus"),
        managed_fields=tuple(status.get("managedFields") or ()),
        last_refresh=last,
        refreshes_checked_at=checked,
    )
