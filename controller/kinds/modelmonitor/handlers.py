"""ModelMonitor, wired: its monitors client, its request from the typed status, and the claims on tables.

A monitor with endpointRef follows that ServingEndpoint: when the endpoint's published entry names an
inference table, a monitor waiting for it is woken at once. Monitors carry no tags, so which resource
manages the monitor on which table is kept in an in-memory index over this kind's own statuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from controller.clients.on_demand import on_demand
from controller.kinds.modelmonitor import reconcile as modelmonitor
from controller.kinds.modelmonitor.model import DEFINITION, ModelMonitorSpec, ModelMonitorStatus
from controller.kinds.modelmonitor.observed import ObservedRefresh
from controller.kinds.servingendpoint.published import SERVINGENDPOINT
from controller.kinds.workspace import lookup
from controller.kinds.workspace.connection import databricks_of
from controller.status.outcome import Outcome
from controller.wiring.kind import Index, Kind, Ref, Resource

if TYPE_CHECKING:
    from controller.kinds.modelmonitor import external
else:
    external = on_demand("controller.kinds.modelmonitor.external")

POLL_SECONDS = 15.0
CLAIMS = "modelmonitor_claims"

Monitor = Resource[ModelMonitorSpec, ModelMonitorStatus]


def _claims(namespace: str, name: str, spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[Any, Any]:
    """Table id → the resource managing the monitor on it (an empty result drops the resource's earlier claim)."""
    table_id = status.get("tableId")
    if not table_id or spec.get("managementPolicy") == "ObserveOnly":
        return {}
    return {table_id: f"{namespace}/{name}"}


def _connect(resource: Monitor) -> modelmonitor.Monitors:
    client = databricks_of(resource, kind=DEFINITION.kind)
    return external.DatabricksMonitors(client)  # imports databricks-sdk, once a Databricks Workspace has connected


def _reconcile(resource: Monitor, monitors: modelmonitor.Monitors) -> Outcome:
    spec = resource.spec
    claims = resource.index(CLAIMS)

    def claimant(table_id: str) -> str | None:
        return next((o for o in claims.get(table_id, ()) if o != resource.owner), None)

    request = modelmonitor.Request(
        owner=resource.owner,
        spec_changed=resource.spec_changed,
        now=datetime.now(UTC),
        recorded=_recorded(resource.status),
        endpoint=resource.find(SERVINGENDPOINT, spec.endpoint_ref.name) if spec.endpoint_ref else None,
        claimant=claimant,
        poll_seconds=min(POLL_SECONDS, lookup.drift_seconds(resource)),
    )
    return modelmonitor.reconcile(spec, monitors=monitors, request=request)


def _delete(resource: Monitor, connect: Callable[[], modelmonitor.Monitors]) -> str:
    return modelmonitor.delete(resource.spec, connect=connect, recorded=_recorded(resource.status))


def _follows(resource: Monitor) -> Iterable[Ref]:
    endpoint = resource.spec.endpoint_ref
    return (*lookup.follows(resource), *((("servingendpoints", endpoint.name),) if endpoint else ()))


def _recorded(status: ModelMonitorStatus) -> modelmonitor.Recorded:
    """What earlier reconciles left in status."""
    last = status.last_refresh
    return modelmonitor.Recorded(
        table_name=status.table_name,
        table_id=status.table_id,
        output_schema_id=status.output_schema_id,
        monitor_status=status.monitor_status,
        managed_fields=tuple(status.managed_fields),
        last_refresh=ObservedRefresh(refresh_id=last.refresh_id, state=last.state, message=last.message)
        if last
        else None,
        refreshes_checked_at=status.refreshes_checked_at,
    )


def _monitored(resource: Monitor) -> str:
    """The monitor by its table, or, before an endpoint's inference table is known, by the endpoint."""
    table = resource.status.table_name or resource.spec.table_name
    if table is None and resource.spec.endpoint_ref is not None:
        return f"the monitor on the inference table of ServingEndpoint {resource.spec.endpoint_ref.name}"
    return f"the monitor on {table}"


KIND = Kind(
    definition=DEFINITION,
    spec=ModelMonitorSpec,
    status=ModelMonitorStatus,
    connect=_connect,
    reconcile=_reconcile,
    delete=_delete,
    drift_seconds=lookup.drift_seconds,
    external_name=_monitored,
    follows=_follows,
    indices=(Index(CLAIMS, "modelmonitors", _claims),),
)
