"""Data quality monitors (current API) through the real SDK: async status, updates by mask, refreshes."""

from __future__ import annotations

from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
)
from databricks.sdk.service.catalog import (
    MonitorCronSchedule,
    MonitorCronSchedulePauseStatus,
    MonitorDataClassificationConfig,
    MonitorDestination,
    MonitorInferenceLog,
    MonitorInferenceLogProblemType,
    MonitorInfoStatus,
    MonitorNotifications,
    MonitorRefreshInfoState,
    MonitorRefreshInfoTrigger,
)
from databricks.sdk.service.dataquality import (
    AggregationGranularity,
    CronSchedule,
    DataProfilingConfig,
    DataProfilingStatus,
    InferenceLogConfig,
    InferenceProblemType,
    Monitor,
    Refresh,
    RefreshState,
    RefreshTrigger,
)

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration
TABLE = "main.risk.fraud_payload"
COLUMNS = ["prediction", "label", "model_id", "timestamp"]


def profiling(schema_id: str, **extra: Any) -> DataProfilingConfig:
    extra.setdefault("schedule", CronSchedule(quartz_cron_expression="0 0 * * * ?", timezone_id="UTC"))
    return DataProfilingConfig(
        output_schema_id=schema_id,
        inference_log=InferenceLogConfig(
            problem_type=InferenceProblemType.INFERENCE_PROBLEM_TYPE_CLASSIFICATION,
            prediction_column="prediction",
            label_column="label",
            model_id_column="model_id",
            timestamp_column="timestamp",
            granularities=[AggregationGranularity.AGGREGATION_GRANULARITY_1_DAY],
        ),
        **extra,
    )


def status(monitor: Monitor) -> DataProfilingStatus | None:
    assert monitor.data_profiling_config is not None
    return monitor.data_profiling_config.status


@pytest.fixture
def ids(emu: Emulator, w: WorkspaceClient) -> tuple[str, str]:
    """(table_id, output schema_id), resolved through the SDK as the controller must."""
    emu.seed_table(TABLE, columns=COLUMNS)
    emu.seed_schema("main.risk_monitoring")
    return w.tables.get(TABLE).table_id or "", w.schemas.get("main.risk_monitoring").schema_id or ""


@pytest.fixture
def active(w: WorkspaceClient, ids: tuple[str, str], wait_for: Any) -> Monitor:
    table_id, schema_id = ids
    w.data_quality.create_monitor(
        Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id))
    )
    done = wait_for(lambda: w.data_quality.get_monitor("table", table_id), lambda m: status(m) != _PENDING)
    assert status(done) == DataProfilingStatus.DATA_PROFILING_STATUS_ACTIVE
    return done  # type: ignore[no-any-return]


_PENDING = DataProfilingStatus.DATA_PROFILING_STATUS_PENDING


def test_monitor_goes_pending_then_active(w: WorkspaceClient, ids: tuple[str, str], wait_for: Any) -> None:
    table_id, schema_id = ids
    created = w.data_quality.create_monitor(
        Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id))
    )
    config = created.data_profiling_config
    assert config.status == _PENDING
    assert not config.dashboard_id
    assert config.monitored_table_name == TABLE
    assert config.profile_metrics_table_name == "main.risk_monitoring.fraud_payload_profile_metrics"
    assert config.drift_metrics_table_name == "main.risk_monitoring.fraud_payload_drift_metrics"
    assert config.assets_dir.endswith(f"/databricks_lakehouse_monitoring/{TABLE}")
    assert config.schedule.pause_status.value == "CRON_SCHEDULE_PAUSE_STATUS_UNPAUSED"
    done = wait_for(lambda: w.data_quality.get_monitor("table", table_id), lambda m: status(m) != _PENDING)
    assert status(done) == DataProfilingStatus.DATA_PROFILING_STATUS_ACTIVE
    assert done.data_profiling_config.dashboard_id
    assert [m.object_id for m in w.data_quality.list_monitor()] == [table_id]
    with pytest.raises(ResourceAlreadyExists):
        w.data_quality.create_monitor(
            Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id))
        )


def test_monitor_errors_when_columns_are_missing(emu: Emulator, w: WorkspaceClient) -> None:
    table_id = emu.seed_table("main.risk.other", columns=["prediction"])
    schema_id = emu.seed_schema("main.risk_monitoring")
    w.data_quality.create_monitor(
        Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id))
    )
    emu.advance_clock(1)
    got = w.data_quality.get_monitor("table", table_id)
    assert status(got) == DataProfilingStatus.DATA_PROFILING_STATUS_ERROR
    assert "does not exist" in (got.data_profiling_config.latest_monitor_failure_message or "")


def test_monitor_errors_when_table_is_dropped_while_pending(
    emu: Emulator, w: WorkspaceClient, ids: tuple[str, str]
) -> None:
    table_id, schema_id = ids
    w.data_quality.create_monitor(
        Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id))
    )
    w.tables.delete(TABLE)
    emu.advance_clock(1)
    assert status(w.data_quality.get_monitor("table", table_id)) == DataProfilingStatus.DATA_PROFILING_STATUS_ERROR


def test_create_is_refused_for_unknown_objects_and_bad_profiles(w: WorkspaceClient, ids: tuple[str, str]) -> None:
    table_id, schema_id = ids
    with pytest.raises(NotFound):
        w.data_quality.create_monitor(
            Monitor(object_type="table", object_id="no-such-id", data_profiling_config=profiling(schema_id))
        )
    with pytest.raises(NotFound):
        w.data_quality.create_monitor(
            Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling("no-such-schema"))
        )
    with pytest.raises(InvalidParameterValue, match="Exactly one"):
        w.data_quality.create_monitor(
            Monitor(object_type="table", object_id=table_id, data_profiling_config=DataProfilingConfig(schema_id))
        )


def test_update_by_mask(w: WorkspaceClient, active: Monitor) -> None:
    table_id = active.object_id
    change = Monitor(
        object_type="table",
        object_id=table_id,
        data_profiling_config=profiling(
            active.data_profiling_config.output_schema_id,
            schedule=CronSchedule(quartz_cron_expression="0 30 * * * ?", timezone_id="UTC"),
        ),
    )
    updated = w.data_quality.update_monitor(
        "table", table_id, change, "data_profiling_config.schedule.quartz_cron_expression"
    )
    assert updated.data_profiling_config.schedule.quartz_cron_expression == "0 30 * * * ?"
    assert updated.data_profiling_config.monitor_version == 2
    assert updated.data_profiling_config.assets_dir == active.data_profiling_config.assets_dir
    got = w.data_quality.get_monitor("table", table_id)
    assert got.data_profiling_config.schedule.quartz_cron_expression == "0 30 * * * ?"


def test_fields_that_cannot_change_in_place_are_refused(w: WorkspaceClient, active: Monitor) -> None:
    change = Monitor(
        object_type="table",
        object_id=active.object_id,
        data_profiling_config=profiling(active.data_profiling_config.output_schema_id, assets_dir="/elsewhere"),
    )
    with pytest.raises(InvalidParameterValue, match="assets_dir"):
        w.data_quality.update_monitor("table", active.object_id, change, "data_profiling_config.assets_dir")


def test_only_the_creator_may_update(emu: Emulator, make_client: Any, active: Monitor) -> None:
    emu.add_token("dapi-other", "someone@example.com")
    other: WorkspaceClient = make_client(token="dapi-other")
    with pytest.raises(PermissionDenied):
        other.data_quality.update_monitor("table", active.object_id, active, "data_profiling_config.schedule")


def test_refresh_life_cycle(w: WorkspaceClient, active: Monitor, wait_for: Any) -> None:
    table_id = active.object_id
    refresh = w.data_quality.create_refresh("table", table_id, Refresh(object_type="table", object_id=table_id))
    assert refresh.state == RefreshState.MONITOR_REFRESH_STATE_PENDING
    assert refresh.trigger == RefreshTrigger.MONITOR_REFRESH_TRIGGER_MANUAL
    with pytest.raises(ResourceConflict):
        w.data_quality.create_refresh("table", table_id, Refresh(object_type="table", object_id=table_id))
    seen = set()

    def probe() -> Refresh:
        got = w.data_quality.get_refresh("table", table_id, refresh.refresh_id)
        seen.add(got.state)
        return got

    done = wait_for(probe, lambda r: r.state == RefreshState.MONITOR_REFRESH_STATE_SUCCESS)
    assert RefreshState.MONITOR_REFRESH_STATE_RUNNING in seen
    assert done.end_time_ms >= done.start_time_ms
    assert [r.refresh_id for r in w.data_quality.list_refresh("table", table_id)] == [refresh.refresh_id]
    with pytest.raises(NotFound):
        w.data_quality.get_refresh("table", table_id, 999)


def test_refresh_is_refused_while_pending(w: WorkspaceClient, ids: tuple[str, str]) -> None:
    table_id, schema_id = ids
    w.data_quality.create_monitor(
        Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id))
    )
    with pytest.raises(BadRequest) as caught:
        w.data_quality.create_refresh("table", table_id, Refresh(object_type="table", object_id=table_id))
    assert caught.value.error_code == "INVALID_STATE"


def test_delete(w: WorkspaceClient, active: Monitor) -> None:
    w.data_quality.delete_monitor("table", active.object_id)
    with pytest.raises(NotFound):
        w.data_quality.get_monitor("table", active.object_id)


def test_empty_lists_are_left_out(w: WorkspaceClient, active: Monitor) -> None:
    assert w.api_client.do("GET", f"/api/data-quality/v1/monitors/table/{active.object_id}/refreshes") == {}
    w.data_quality.delete_monitor("table", active.object_id)
    assert w.api_client.do("GET", "/api/data-quality/v1/monitors") == {}


# ---- schedules: Quartz cron expressions and Java time-zone ids ----

BAD_CRONS = [
    "0 0 * * *",  # five fields: standard cron, not Quartz
    "* * * * * *",  # no '?' in either day field
    "0 0 * ? * ?",  # '?' in both
    "0 0 25 * * ?",  # hour 25
    "0 0 12 ? * MON#6",  # no sixth Monday
]


@pytest.mark.parametrize("cron", BAD_CRONS)
def test_create_refuses_a_cron_expression_quartz_does_not_take(
    w: WorkspaceClient, ids: tuple[str, str], cron: str
) -> None:
    table_id, schema_id = ids
    schedule = CronSchedule(quartz_cron_expression=cron, timezone_id="UTC")
    with pytest.raises(InvalidParameterValue, match="Invalid quartz_cron_expression") as caught:
        w.data_quality.create_monitor(
            Monitor(
                object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id, schedule=schedule)
            )
        )
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(NotFound):
        w.data_quality.get_monitor("table", table_id)


@pytest.mark.parametrize("cron", ["0 0 6 * * ?", "0 15 10 ? * MON-FRI", "0 0/30 8-18 L * ? 2030", "0 0 12 ? * 6#3"])
def test_quartz_expressions_are_accepted(w: WorkspaceClient, ids: tuple[str, str], cron: str) -> None:
    table_id, schema_id = ids
    schedule = CronSchedule(quartz_cron_expression=cron, timezone_id="Europe/Berlin")
    created = w.data_quality.create_monitor(
        Monitor(object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id, schedule=schedule))
    )
    assert created.data_profiling_config.schedule.quartz_cron_expression == cron


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "utc", "+02:00"])
def test_create_refuses_a_time_zone_java_does_not_know(w: WorkspaceClient, ids: tuple[str, str], timezone: str) -> None:
    table_id, schema_id = ids
    schedule = CronSchedule(quartz_cron_expression="0 0 6 * * ?", timezone_id=timezone)
    with pytest.raises(InvalidParameterValue, match="Invalid timezone_id"):
        w.data_quality.create_monitor(
            Monitor(
                object_type="table", object_id=table_id, data_profiling_config=profiling(schema_id, schedule=schedule)
            )
        )


def test_update_refuses_a_bad_schedule_and_keeps_the_old_one(w: WorkspaceClient, active: Monitor) -> None:
    bad = profiling(
        active.data_profiling_config.output_schema_id,
        schedule=CronSchedule(quartz_cron_expression="0 0 * * *", timezone_id="UTC"),
    )
    change = Monitor(object_type="table", object_id=active.object_id, data_profiling_config=bad)
    with pytest.raises(InvalidParameterValue, match="Invalid quartz_cron_expression"):
        w.data_quality.update_monitor(
            "table", active.object_id, change, "data_profiling_config.schedule.quartz_cron_expression"
        )
    got = w.data_quality.get_monitor("table", active.object_id)
    assert got.data_profiling_config.schedule.quartz_cron_expression == "0 0 * * * ?"
    assert got.data_profiling_config.monitor_version == 1


# ---- the legacy API (w.quality_monitors) over the same monitors ----

LEGACY_LOG = MonitorInferenceLog(
    problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION,
    timestamp_col="timestamp",
    granularities=["1 day", "1 hour"],
    prediction_col="prediction",
    model_id_col="model_id",
    label_col="label",
    prediction_proba_col="prediction",
)
ASSETS = "/Workspace/Shared/monitors/fraud"


@pytest.fixture
def legacy(w: WorkspaceClient, ids: tuple[str, str]) -> None:
    w.quality_monitors.create(
        TABLE,
        "main.risk_monitoring",
        ASSETS,
        inference_log=LEGACY_LOG,
        schedule=MonitorCronSchedule(quartz_cron_expression="0 0 6 * * ?", timezone_id="UTC"),
        notifications=MonitorNotifications(on_failure=MonitorDestination(email_addresses=["ml@example.com"])),
        data_classification_config=MonitorDataClassificationConfig(enabled=True),
        slicing_exprs=["model_id"],
        warehouse_id="wh-1",
    )


def test_legacy_create_reads_back_in_its_own_shapes(w: WorkspaceClient, ids: tuple[str, str], wait_for: Any) -> None:
    created = w.quality_monitors.create(TABLE, "main.risk_monitoring", ASSETS, inference_log=LEGACY_LOG)
    assert created.table_name == TABLE
    assert created.status == MonitorInfoStatus.MONITOR_STATUS_PENDING
    assert created.output_schema_name == "main.risk_monitoring"
    assert created.assets_dir == ASSETS
    assert created.profile_metrics_table_name == "main.risk_monitoring.fraud_payload_profile_metrics"
    assert created.monitor_version == 1
    assert created.inference_log == LEGACY_LOG
    done = wait_for(
        lambda: w.quality_monitors.get(TABLE), lambda m: m.status != MonitorInfoStatus.MONITOR_STATUS_PENDING
    )
    assert done.status == MonitorInfoStatus.MONITOR_STATUS_ACTIVE
    assert done.dashboard_id


def test_legacy_and_data_quality_apis_share_monitors(w: WorkspaceClient, ids: tuple[str, str], legacy: None) -> None:
    table_id, schema_id = ids
    current = w.data_quality.get_monitor("table", table_id).data_profiling_config
    assert current.output_schema_id == schema_id
    assert current.assets_dir == ASSETS
    assert current.inference_log.timestamp_column == "timestamp"
    assert current.inference_log.granularities == [
        AggregationGranularity.AGGREGATION_GRANULARITY_1_DAY,
        AggregationGranularity.AGGREGATION_GRANULARITY_1_HOUR,
    ]
    assert current.notification_settings.on_failure.email_addresses == ["ml@example.com"]
    assert current.warehouse_id == "wh-1"
    change = Monitor(
        object_type="table",
        object_id=table_id,
        data_profiling_config=profiling(
            schema_id, schedule=CronSchedule(quartz_cron_expression="0 30 6 * * ?", timezone_id="UTC")
        ),
    )
    w.data_quality.update_monitor("table", table_id, change, "data_profiling_config.schedule.quartz_cron_expression")
    got = w.quality_monitors.get(TABLE)
    assert got.schedule.quartz_cron_expression == "0 30 6 * * ?"
    assert got.schedule.pause_status == MonitorCronSchedulePauseStatus.UNPAUSED
    assert got.monitor_version == 2
    assert got.data_classification_config.enabled is True  # kept, though the Data Quality API has no such field
    assert got.inference_log.prediction_proba_col == "prediction"
    raw = w.api_client.do("GET", f"/api/2.1/unity-catalog/tables/{TABLE}/monitor")
    assert isinstance(raw, dict)
    assert "warehouse_id" not in raw  # given on create, never read back
    w.quality_monitors.delete(TABLE)
    with pytest.raises(NotFound):
        w.data_quality.get_monitor("table", table_id)


def test_legacy_update_replaces_the_config(w: WorkspaceClient, legacy: None) -> None:
    updated = w.quality_monitors.update(
        TABLE,
        "main.risk_monitoring",
        inference_log=LEGACY_LOG,
        schedule=MonitorCronSchedule(quartz_cron_expression="0 0 7 * * ?", timezone_id="America/New_York"),
    )
    assert updated.schedule.quartz_cron_expression == "0 0 7 * * ?"
    assert updated.schedule.timezone_id == "America/New_York"
    assert updated.monitor_version == 2
    assert updated.assets_dir == ASSETS
    assert not updated.slicing_exprs
    assert updated.notifications is None
    with pytest.raises(InvalidParameterValue, match="Invalid timezone_id"):
        w.quality_monitors.update(
            TABLE,
            "main.risk_monitoring",
            inference_log=LEGACY_LOG,
            schedule=MonitorCronSchedule(quartz_cron_expression="0 0 7 * * ?", timezone_id="Mars/Olympus"),
        )


def test_legacy_refreshes(w: WorkspaceClient, legacy: None, wait_for: Any, ids: tuple[str, str]) -> None:
    assert not w.quality_monitors.list_refreshes(TABLE).refreshes
    wait_for(lambda: w.quality_monitors.get(TABLE), lambda m: m.status == MonitorInfoStatus.MONITOR_STATUS_ACTIVE)
    refresh = w.quality_monitors.run_refresh(TABLE)
    assert refresh.state == MonitorRefreshInfoState.PENDING
    assert refresh.trigger == MonitorRefreshInfoTrigger.MANUAL
    done = wait_for(
        lambda: w.quality_monitors.get_refresh(TABLE, refresh.refresh_id),
        lambda r: r.state == MonitorRefreshInfoState.SUCCESS,
    )
    assert done.end_time_ms >= done.start_time_ms
    assert [r.refresh_id for r in w.quality_monitors.list_refreshes(TABLE).refreshes] == [refresh.refresh_id]
    assert [r.refresh_id for r in w.data_quality.list_refresh("table", ids[0])] == [refresh.refresh_id]


def test_legacy_errors(emu: Emulator, w: WorkspaceClient, ids: tuple[str, str], legacy: None) -> None:
    with pytest.raises(NotFound) as caught:
        w.quality_monitors.get("main.risk.no_such_table")
    assert caught.value.error_code == "TABLE_DOES_NOT_EXIST"
    with pytest.raises(ResourceAlreadyExists):
        w.quality_monitors.create(TABLE, "main.risk_monitoring", ASSETS, inference_log=LEGACY_LOG)
    emu.seed_table("main.risk.other")
    with pytest.raises(NotFound) as caught:
        w.quality_monitors.create("main.risk.other", "main.nope", ASSETS, inference_log=LEGACY_LOG)
    assert caught.value.error_code == "SCHEMA_DOES_NOT_EXIST"
    w.quality_monitors.delete(TABLE)
    with pytest.raises(NotFound):
        w.quality_monitors.get(TABLE)
    bad_log = MonitorInferenceLog(
        problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_REGRESSION,
        timestamp_col="timestamp",
        granularities=["2 days"],
        prediction_col="prediction",
        model_id_col="model_id",
    )
    with pytest.raises(InvalidParameterValue, match="granularity"):
        w.quality_monitors.create(TABLE, "main.risk_monitoring", ASSETS, inference_log=bad_log)
    with pytest.raises(InvalidParameterValue, match="Invalid quartz_cron_expression"):
        w.quality_monitors.create(
            TABLE,
            "main.risk_monitoring",
            ASSETS,
            inference_log=LEGACY_LOG,
            schedule=MonitorCronSchedule(quartz_cron_expression="0 0 * * *", timezone_id="UTC"),
        )
