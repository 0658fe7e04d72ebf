"""The ModelMonitor's external client: Unity Catalog ids and the Data Quality API (`w.data_quality`).

The current API addresses a monitor by the table's id, not its name, so tables and schemas are
resolved through the Tables and Schemas APIs. Everything goes through the databricks-sdk's own
dataclasses; configuration crosses to the reconcile in the API's JSON form.
"""

from __future__ import annotations

import itertools

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.dataquality import DataProfilingConfig, Monitor, Refresh

from controller.clients import errors
from controller.clients.databricks import translated_errors
from controller.kinds.modelmonitor.observed import Json, ObservedMonitor, ObservedRefresh, short_status

OBJECT_TYPE = "table"
STATUS_PREFIX = "DATA_PROFILING_STATUS_"
REFRESH_PREFIX = "MONITOR_REFRESH_STATE_"
REFRESH_PAGE = 25

# Fields of data_profiling_config only the service writes: reported, never compared or sent.
OUTPUT_ONLY = frozenset(
    {
        "status",
        "dashboard_id",
        "profile_metrics_table_name",
        "drift_metrics_table_name",
        "monitor_version",
        "monitored_table_name",
        "latest_monitor_failure_message",
        "effective_warehouse_id",
    }
)


class DatabricksMonitors:
    """Implements the reconcile's `Monitors` protocol against one workspace."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._w = client

    def table_id(self, full_name: str) -> str | None:
        try:
            with translated_errors():
                table = self._w.tables.get(full_name)
        except errors.NotFound:
            return None
        if not table.table_id:
            raise errors.Unavailable(f"Databricks returned table {full_name} without an id")
        return table.table_id

    def schema_id(self, full_name: str) -> str | None:
        try:
            with translated_errors():
                schema = self._w.schemas.get(full_name)
        except errors.NotFound:
            return None
        if not schema.schema_id:
            raise errors.Unavailable(f"Databricks returned schema {full_name} without an id")
        return schema.schema_id

    def get_monitor(self, table_id: str) -> ObservedMonitor | None:
        try:
            with translated_errors():
                return _monitor(self._w.data_quality.get_monitor(OBJECT_TYPE, table_id), table_id)
        except errors.NotFound:
            return None

    def list_monitors(self) -> list[Json]:
        """Every monitor's `data_profiling_config` as the service returns it, output fields included (for
        `mlopsctl import`); a monitor of another kind (no profiling config) is left out."""
        with translated_errors():
            monitors = list(self._w.data_quality.list_monitor())
        return [
            {**m.data_profiling_config.as_dict(), "object_id": m.object_id}
            for m in monitors
            if m.data_profiling_config is not None and m.object_type == OBJECT_TYPE
        ]

    def create_monitor(self, table_id: str, config: Json) -> ObservedMonitor:
        with translated_errors():
            created = self._w.data_quality.create_monitor(_request(table_id, config))
        return _monitor(created, table_id)

    def update_monitor(self, table_id: str, config: Json, mask: list[str]) -> ObservedMonitor:
        with translated_errors():
            updated = self._w.data_quality.update_monitor(
                OBJECT_TYPE, table_id, _request(table_id, config), update_mask=",".join(mask)
            )
        return _monitor(updated, table_id)

    def delete_monitor(self, table_id: str) -> None:
        with translated_errors():
            self._w.data_quality.delete_monitor(OBJECT_TYPE, table_id)

    def latest_refresh(self, table_id: str) -> ObservedRefresh | None:
        """The newest of the most recent page of refreshes (one call)."""
        try:
            with translated_errors():
                page = list(
                    itertools.islice(
                        self._w.data_quality.list_refresh(OBJECT_TYPE, table_id, page_size=REFRESH_PAGE), REFRESH_PAGE
                    )
                )
        except errors.NotFound:
            return None
        if not page:
            return None
        return _refresh(max(page, key=lambda r: (r.start_time_ms or 0, r.refresh_id or 0)))

    def table_url(self, full_name: str) -> str:
        """The table's page in Catalog Explorer, where the monitor's Quality tab is."""
        host = (self._w.config.host or "").rstrip("/")
        return f"{host}/explore/data/" + "/".join(full_name.split("."))


def _request(table_id: str, config: Json) -> Monitor:
    return Monitor(
        object_type=OBJECT_TYPE, object_id=table_id, data_profiling_config=DataProfilingConfig.from_dict(config)
    )


def _monitor(monitor: Monitor, table_id: str) -> ObservedMonitor:
    profiling = monitor.data_profiling_config
    if profiling is None:
        raise errors.Rejected(f"the monitor on table {table_id} is not a data-profiling monitor")
    # A monitor the service has not given a status yet is still being set up.
    status = short_status(profiling.status.value, STATUS_PREFIX) if profiling.status else "PENDING"
    return ObservedMonitor(
        table_id=monitor.object_id or table_id,
        status=status,
        config={k: v for k, v in profiling.as_dict().items() if k not in OUTPUT_ONLY},
        failure_message=profiling.latest_monitor_failure_message or "",
        dashboard_id=profiling.dashboard_id or None,
        profile_metrics_table=profiling.profile_metrics_table_name,
        drift_metrics_table=profiling.drift_metrics_table_name,
    )


def _refresh(refresh: Refresh) -> ObservedRefresh:
    state = short_status(refresh.state.value, REFRESH_PREFIX) if refresh.state else "UNKNOWN"
    return ObservedRefresh(refresh_id=str(refresh.refresh_id), state=state, message=refresh.message or "")
