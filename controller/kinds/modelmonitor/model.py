"""ModelMonitor: a data-quality monitor over an inference table."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from controller.api.common import CamelModel, ManagedSpec, ManagedStatus, ObjectRef
from controller.api.crd import KindDefinition, PrinterColumn

TABLE_NAME_PATTERN = r"^[^.\s]+\.[^.\s]+\.[^.\s]+$"

Granularity = Literal[
    "5 minutes",
    "30 minutes",
    "1 hour",
    "1 day",
    "1 week",
    "2 weeks",
    "3 weeks",
    "4 weeks",
    "1 month",
    "1 year",
]


class InferenceLog(CamelModel):
    """The inference-log profile: which columns hold what."""

    problem_type: Literal["classification", "regression"]
    """The kind of model being monitored."""

    prediction_column: str = Field(min_length=1, max_length=255)
    """The column with the model's prediction."""

    label_column: str | None = Field(default=None, min_length=1, max_length=255)
    """The column with the ground-truth label, when known."""

    model_id_column: str = Field(min_length=1, max_length=255)
    """The column naming the model version that served the request."""

    timestamp_column: str = Field(min_length=1, max_length=255)
    """The column with the request time."""

    granularities: list[Granularity] = Field(min_length=1, max_length=10)
    """Time windows to aggregate over, such as "1 day" or "1 hour"."""


class Schedule(CamelModel):
    """When the monitor refreshes its metrics."""

    cron: str = Field(min_length=1, max_length=128)
    """A Quartz cron expression."""

    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    """A Java time zone id."""


class Notifications(CamelModel):
    """Who hears about the monitor."""

    on_failure: list[str] = Field(default_factory=list, max_length=5)
    """Email addresses told when a refresh fails (Databricks allows five)."""


class ModelMonitorSpec(ManagedSpec):
    """The desired monitor."""

    model_config = ManagedSpec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.tableName) != has(self.endpointRef)",
                    "message": "set exactly one of tableName or endpointRef",
                }
            ]
        }
    }

    table_name: str | None = Field(default=None, min_length=5, max_length=767, pattern=TABLE_NAME_PATTERN)
    """The table to monitor, as catalog.schema.table."""

    endpoint_ref: ObjectRef | None = None
    """A ServingEndpoint in this namespace whose inference (payload) table is monitored."""

    output_schema: str = Field(min_length=3, max_length=511, pattern=r"^[^.\s]+\.[^.\s]+$")
    """Where metric tables are written, as catalog.schema."""

    assets_dir: str = Field(min_length=1, max_length=1024, pattern=r"^/")
    """The workspace folder for the dashboard and other assets. Cannot change in place. It also marks the
    monitor as this resource's (monitors carry no tags): an existing monitor on the table is taken over only
    when its assets directory is this one."""

    inference_log: InferenceLog
    """The inference-log profile."""

    schedule: Schedule | None = None
    """When to refresh; without it, refreshes run only on demand."""

    slicing_expressions: list[str] = Field(default_factory=list, max_length=20)
    """Expressions to slice the metrics by, such as "country" or "age > 18"."""

    baseline_table_name: str | None = Field(default=None, min_length=5, max_length=767, pattern=TABLE_NAME_PATTERN)
    """A table with baseline data to compare drift against."""

    notifications: Notifications | None = None
    """Notification settings."""

    on_immutable_change: Literal["Refuse", "Recreate"] = "Refuse"
    """When a field that cannot change in place changes (table, output schema, assets directory): Refuse reports
    it and changes nothing; Recreate deletes the monitor and creates it again (its metric tables stay)."""


class LastRefresh(CamelModel):
    """The latest metric refresh."""

    refresh_id: str
    """The refresh's id."""

    state: str
    """PENDING, RUNNING, SUCCESS, FAILED or CANCELED."""

    message: str = ""
    """The service's message for the refresh."""


class ModelMonitorStatus(ManagedStatus):
    """The monitor as last observed."""

    table_name: str | None = None
    """The table monitored (resolved from the endpoint when endpointRef is used)."""

    table_id: str | None = None
    """The monitored table's id. The monitor this resource manages is the one on this table: Data Quality
    monitors carry no tags, so this record (and the assets directory) is what marks the monitor as ours."""

    output_schema_id: str | None = None
    """The id of the output schema, as the monitor refers to it."""

    monitor_status: str | None = None
    """PENDING, ACTIVE, ERROR, FAILED or DELETE_PENDING."""

    dashboard_id: str | None = None
    """The monitor's dashboard."""

    profile_metrics_table: str | None = None
    """The profile metrics table."""

    drift_metrics_table: str | None = None
    """The drift metrics table."""

    last_refresh: LastRefresh | None = None
    """The latest refresh. Refreshes are listed when the monitor becomes active or the spec changes, while
    one runs, and at least hourly otherwise."""

    refreshes_checked_at: datetime | None = None
    """When the refreshes were last listed."""

    managed_fields: list[str] = Field(default_factory=list)
    """Optional spec fields this resource set on the monitor; one removed from the spec is cleared."""

    drift: list[str] = Field(default_factory=list)
    """Settings that differ from the spec and, under ObserveOnly, were left alone."""


DEFINITION = KindDefinition(
    kind="ModelMonitor",
    plural="modelmonitors",
    short_names=("mlmon",),
    description="A Databricks data-quality monitor over a model's inference table.",
    spec=ModelMonitorSpec,
    status=ModelMonitorStatus,
    printer_columns=(
        PrinterColumn("Table", ".status.tableName"),
        PrinterColumn("Monitor", ".status.monitorStatus"),
        PrinterColumn("Refresh", ".status.lastRefresh.state"),
    ),
)
