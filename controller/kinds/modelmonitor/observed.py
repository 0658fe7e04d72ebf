"""A data-quality monitor and its refreshes as the ModelMonitor reconcile sees them: plain values.

Configuration stays in the Data Quality API's own JSON form (`data_profiling_config`, snake_case),
so what the reconcile compares is what Databricks returns; statuses are the short words status shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

FINISHED_REFRESH_STATES = frozenset({"SUCCESS", "FAILED", "CANCELED", "UNKNOWN"})
"""Refresh states after which a refresh never changes again."""


def short_status(value: str, prefix: str) -> str:
    """`DATA_PROFILING_STATUS_ACTIVE` → `ACTIVE`: the short words status shows."""
    return value[len(prefix) :] if value.startswith(prefix) else value


@dataclass(frozen=True)
class ObservedMonitor:
    """A table's monitor: its settings and what the service reports about it."""

    table_id: str
    status: str
    """PENDING, ACTIVE, ERROR, FAILED or DELETE_PENDING."""
    config: Json = field(default_factory=dict)
    """The `data_profiling_config` settings, without the fields only the service writes."""
    failure_message: str = ""
    dashboard_id: str | None = None
    profile_metrics_table: str | None = None
    drift_metrics_table: str | None = None

    @property
    def assets_dir(self) -> str | None:
        value = self.config.get("assets_dir")
        return str(value) if value is not None else None

    @property
    def output_schema_id(self) -> str | None:
        value = self.config.get("output_schema_id")
        return str(value) if value is not None else None


@dataclass(frozen=True)
class ObservedRefresh:
    """One metric refresh."""

    refresh_id: str
    state: str
    """PENDING, RUNNING, SUCCESS, FAILED, CANCELED or UNKNOWN."""
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED_REFRESH_STATES

    def as_status(self) -> Json:
        """The refresh in status' camelCase form."""
        return {"refreshId": self.refresh_id, "state": self.state, "message": self.message}
