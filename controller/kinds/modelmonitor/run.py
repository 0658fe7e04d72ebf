"""What one ModelMonitor reconcile works with: the service, its input, what status recorded, its state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.modelmonitor.observed import Json, ObservedMonitor, ObservedRefresh
from controller.kinds.servingendpoint.published import EndpointView
from controller.reconciling.run import Run


class Monitors(Protocol):
    """What the reconcile needs from Unity Catalog and the Data Quality API."""

    def table_id(self, full_name: str) -> str | None: ...
    def schema_id(self, full_name: str) -> str | None: ...
    def get_monitor(self, table_id: str) -> ObservedMonitor | None: ...
    def create_monitor(self, table_id: str, config: Json) -> ObservedMonitor: ...
    def update_monitor(self, table_id: str, config: Json, mask: list[str]) -> ObservedMonitor: ...
    def delete_monitor(self, table_id: str) -> None: ...
    def latest_refresh(self, table_id: str) -> ObservedRefresh | None: ...
    def table_url(self, full_name: str) -> str: ...


# Which Monitors methods only read and which write: `mlopsctl plan` passes reads through and records writes
# instead of making them (a unit test fails when a method of the Protocol is in neither set).
MONITORS_READS = frozenset({"table_id", "schema_id", "get_monitor", "latest_refresh", "table_url"})
MONITORS_WRITES = frozenset({"create_monitor", "update_monitor", "delete_monitor"})


@dataclass(frozen=True)
class Recorded:
    """What status remembers from earlier reconciles."""

    table_name: str | None = None
    table_id: str | None = None
    output_schema_id: str | None = None
    monitor_status: str | None = None
    managed_fields: tuple[str, ...] = ()
    last_refresh: ObservedRefresh | None = None
    refreshes_checked_at: datetime | None = None


def _nobody(_table_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    spec_changed: bool  # this generation has not been applied yet
    now: datetime
    recorded: Recorded = Recorded()
    endpoint: EndpointView | None = None  # the referenced ServingEndpoint; None when it does not exist
    claimant: Callable[[str], str | None] = _nobody  # another resource managing the monitor on a table id
    poll_seconds: float = 15.0  # how soon to look again while waiting or while something is in progress


@dataclass(kw_only=True)
class MonitorRun(Run):
    """What one reconcile has done and found so far."""

    spec: ModelMonitorSpec
    request: Request
    monitors: Monitors
    fresh: bool = False  # the monitor was (re)created by this reconcile: it has no refreshes yet

    @property
    def recorded(self) -> Recorded:
        return self.request.recorded
