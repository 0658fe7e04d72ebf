"""ModelMonitors against the Databricks emulator through the real SDK: the example, drift, dependencies,
immutable fields, deletion policies and what steady state costs."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.dataquality import CronSchedule, DataProfilingConfig, Monitor, Refresh

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import DRIFT_INTERVAL
from tests.support import PAYLOAD_COLUMNS, Kubectl, inference_log, load_example, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = float(DRIFT_INTERVAL.removesuffix("s"))
MONITORS_API = "/api/data-quality/v1/monitors"
TABLES_API = "/api/2.1/unity-catalog/tables"
SCHEMAS_API = "/api/2.1/unity-catalog/schemas"
EXAMPLE_TABLE = "main.risk.fraud_payload_baseline"


def test_example_reaches_ready_shows_status_and_drift_is_put_back(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    table_id = emulator.seed_table(EXAMPLE_TABLE, columns=PAYLOAD_COLUMNS)  # what the sandbox seeds
    (example,) = load_example("databricks/modelmonitor.yaml")
    kubectl.apply(example)
    try:
        monitor = kubectl.wait_condition("modelmonitor", "fraud-detector", timeout=30)
        status = monitor["status"]
        assert status["monitorStatus"] == "ACTIVE"
        assert status["tableName"] == EXAMPLE_TABLE
        assert status["tableId"] == table_id
        assert status["dashboardId"]
        assert status["profileMetricsTable"] == "main.risk.fraud_payload_baseline_profile_metrics"
        assert status["url"] == f"{emulator.url}/explore/data/main/risk/fraud_payload_baseline"
        row = kubectl("get", "modelmonitors", "fraud-detector", "--no-headers").stdout.split()
        assert row[:3] == ["fraud-detector", EXAMPLE_TABLE, "ACTIVE"], row

        config = _config(w, table_id)
        assert config.assets_dir == example["spec"]["assetsDir"]
        assert config.schedule is not None
        assert config.schedule.quartz_cron_expression == "0 0 6 * * ?"
        assert config.slicing_exprs == ["model_id"]

        # Someone changes the schedule in the UI (a second client, as the same principal).
        _set_cron(w, table_id, config.output_schema_id, "0 30 * * * ?")
        wait_until(
            lambda: _cron(w, table_id) == "0 0 6 * * ?", timeout=3 * DRIFT_SECONDS + 5, what="the schedule put back"
        )
        events = wait_until(
            lambda: [e for e in kubectl.events("fraud-detector") if e["reason"] == "DriftCorrected"],
            timeout=10,
            what="a DriftCorrected event",
        )
        assert "schedule" in events[0]["message"]
    finally:
        kubectl("delete", "modelmonitor", "fraud-detector", "--timeout=30s")
    assert _monitor_ids(w) & {table_id} == set()  # deletionPolicy Delete


def test_steady_state_costs_one_read_per_monitor_per_drift_interval_and_no_write(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    schema = _schema(kubectl)
    tables = {name: emulator.seed_table(f"{schema}.{name}", columns=PAYLOAD_COLUMNS) for name in ("a", "b", "watched")}
    made_elsewhere = w.data_quality.create_monitor(
        Monitor(
            object_type="table",
            object_id=tables["watched"],
            data_profiling_config=DataProfilingConfig.from_dict(
                {**_api_config(emulator, schema), "assets_dir": "/Workspace/Shared/monitors/made-in-the-ui"}
            ),
        )
    )
    assert made_elsewhere.data_profiling_config is not None
    kubectl.apply(_monitor("a", f"{schema}.a"))
    kubectl.apply(_monitor("b", f"{schema}.b", deletionPolicy="Retain"))
    kubectl.apply(
        _monitor(
            "watched",
            f"{schema}.watched",
            managementPolicy="ObserveOnly",
            assetsDir="/Workspace/Shared/monitors/made-in-the-ui",
        )
    )
    for name in ("a", "b", "watched"):
        kubectl.wait_condition("modelmonitor", name, timeout=30)
    assert kubectl.condition("modelmonitor", "watched", "Ready")["reason"] == "Observed"
    time.sleep(DRIFT_SECONDS)  # let every monitor's first drift check after turning active pass

    intervals = 3
    emulator.reset_counters()
    time.sleep(intervals * DRIFT_SECONDS - 0.5)
    monitors = emulator.counters(prefix=MONITORS_API)
    lookups = {**emulator.counters(prefix=TABLES_API)["calls"], **emulator.counters(prefix=SCHEMAS_API)["calls"]}
    print(f"steady state over {intervals} drift intervals, 3 ModelMonitors: {monitors}, table/schema reads {lookups}")
    assert monitors["writes"] == 0, monitors
    assert lookups == {}, lookups  # table and schema ids come from status
    assert monitors["reads"] <= intervals * 3, monitors
    assert monitors["reads"] >= 3, monitors  # the drift checks did run

    # ObserveOnly reports a change made in the UI and leaves it.
    _set_cron(w, tables["watched"], _config(w, tables["watched"]).output_schema_id, "0 15 * * * ?")
    kubectl.wait_condition("modelmonitor", "watched", reason="DriftDetected", timeout=3 * DRIFT_SECONDS + 5)
    assert _cron(w, tables["watched"]) == "0 15 * * * ?"

    kubectl("delete", "modelmonitor", "a", "b", "watched", "--timeout=30s")
    assert _monitor_ids(w) & set(tables.values()) == {tables["b"], tables["watched"]}  # Delete, Retain, ObserveOnly
    assert w.tables.exists(f"{schema}.a").table_exists  # deleting a monitor never touches its table


def test_waits_for_a_missing_table_and_proceeds_when_it_appears(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    schema = _schema(kubectl)
    emulator.seed_schema(schema)
    kubectl.apply(_monitor("late", f"{schema}.late"))
    waiting = kubectl.wait_condition("modelmonitor", "late", status="False", reason="WaitingForInferenceTable")
    assert f"{schema}.late" in _ready(waiting)["message"]
    assert kubectl.condition("modelmonitor", "late", "Synced")["status"] == "True"

    emulator.seed_table(f"{schema}.late", columns=PAYLOAD_COLUMNS)
    kubectl.wait_condition("modelmonitor", "late", timeout=3 * DRIFT_SECONDS + 10)
    kubectl("delete", "modelmonitor", "late", "--timeout=30s")


def test_endpoint_ref_waits_for_the_endpoints_inference_table(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    schema = _schema(kubectl)
    model = f"{schema}.fraud"
    emulator.seed_model_version(model, source="models:/m-monitor", run_id="r-monitor")
    endpoint_name = f"{kubectl.namespace}-ep"
    monitor = _monitor("by-endpoint", None, endpointRef={"name": "ep"})
    monitor["spec"]["inferenceLog"] = {
        "problemType": "classification",
        "predictionColumn": "response",
        "modelIdColumn": "served_entity_id",
        "timestampColumn": "timestamp_ms",
        "granularities": ["1 day"],
    }
    kubectl.apply(monitor)
    missing = kubectl.wait_condition("modelmonitor", "by-endpoint", status="False", reason="WaitingForDependency")
    assert "ServingEndpoint ep does not exist" in _ready(missing)["message"]

    # The payload table appears only once the endpoint is deployed: hold the deployment long enough to see the wait.
    deploy_seconds = emulator.timings.endpoint_update
    emulator.set_timings(endpoint_update=8.0)
    try:
        kubectl.apply(
            {
                "apiVersion": "mlops.gitops.dev/v1alpha1",
                "kind": "ServingEndpoint",
                "metadata": {"name": "ep"},
                "spec": {
                    "workspaceRef": {"name": databricks_workspace},
                    "endpointName": endpoint_name,
                    "servedEntities": [{"name": "main", "entityName": model, "entityVersion": 1}],
                    "inferenceTable": {"catalog": "main", "schema": schema.split(".")[1], "tablePrefix": "fraud"},
                    "deletionPolicy": "Delete",
                },
            }
        )
        waiting = kubectl.wait_condition(
            "modelmonitor", "by-endpoint", status="False", reason="WaitingForInferenceTable", timeout=8
        )
        assert "ServingEndpoint ep" in _ready(waiting)["message"]
    finally:
        emulator.set_timings(endpoint_update=deploy_seconds)
    ready = kubectl.wait_condition("modelmonitor", "by-endpoint", timeout=60)
    assert ready["status"]["tableName"] == f"{schema}.fraud_payload"
    assert ready["status"]["monitorStatus"] == "ACTIVE"
    kubectl("delete", "modelmonitor", "by-endpoint", "--timeout=30s")
    kubectl("delete", "servingendpoint", "ep", "--timeout=30s")


def test_latest_refresh_is_reported_and_followed_until_it_ends(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    schema = _schema(kubectl)
    table_id = emulator.seed_table(f"{schema}.scored", columns=PAYLOAD_COLUMNS)
    manifest = _monitor("refreshed", f"{schema}.scored")
    kubectl.apply(manifest)
    kubectl.wait_condition("modelmonitor", "refreshed", timeout=30)
    started = w.data_quality.create_refresh("table", table_id, Refresh(object_type="table", object_id=table_id))

    manifest["spec"]["slicingExpressions"] = ["model_id"]  # a spec change lists the refreshes again
    kubectl.apply(manifest)
    seen = wait_until(
        lambda: (_status(kubectl, "refreshed").get("lastRefresh") or {}).get("state"),
        timeout=3 * DRIFT_SECONDS + 5,
        what="a refresh in status",
    )
    assert seen in ("PENDING", "RUNNING", "SUCCESS")
    wait_until(
        lambda: (_status(kubectl, "refreshed").get("lastRefresh") or {}).get("state") == "SUCCESS",
        timeout=20,
        what="the refresh followed to SUCCESS",
    )
    assert _status(kubectl, "refreshed")["lastRefresh"]["refreshId"] == str(started.refresh_id)
    kubectl("delete", "modelmonitor", "refreshed", "--timeout=30s")


def test_immutable_change_is_refused_then_recreated_when_asked(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    schema = _schema(kubectl)
    table_id = emulator.seed_table(f"{schema}.payload", columns=PAYLOAD_COLUMNS)
    manifest = _monitor("fixed", f"{schema}.payload")
    kubectl.apply(manifest)
    kubectl.wait_condition("modelmonitor", "fixed", timeout=30)
    old_dir = manifest["spec"]["assetsDir"]

    moved = copy.deepcopy(manifest)
    moved["spec"]["assetsDir"] = old_dir + "-v2"
    kubectl.apply(moved)
    refused = kubectl.wait_condition("modelmonitor", "fixed", status="False", reason="ImmutableFieldChanged")
    assert "assetsDir" in _ready(refused)["message"]
    synced = kubectl.condition("modelmonitor", "fixed", "Synced")
    assert (synced["status"], synced["reason"]) == ("False", "ImmutableFieldChanged")
    assert _config(w, table_id).assets_dir == old_dir  # nothing changed

    moved["spec"]["onImmutableChange"] = "Recreate"
    kubectl.apply(moved)
    kubectl.wait_condition("modelmonitor", "fixed", timeout=30)
    assert _config(w, table_id).assets_dir == old_dir + "-v2"
    events = [e for e in kubectl.events("fixed") if e["reason"] == "Recreated"]
    assert events, kubectl.events("fixed")
    assert "assetsDir" in events[0]["message"]
    kubectl("delete", "modelmonitor", "fixed", "--timeout=30s")


def _schema(kubectl: Kubectl) -> str:
    """A Unity Catalog schema of this test's own (the emulator is shared by the session)."""
    return "main.mon_" + kubectl.namespace.replace("-", "_")


def _monitor(name: str, table: str | None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workspaceRef": {"name": "dbx"},
        "outputSchema": "main.risk",
        "assetsDir": f"/Workspace/Shared/monitors/{name}",
        "inferenceLog": inference_log(),
        "schedule": {"cron": "0 0 6 * * ?"},
        "deletionPolicy": "Delete",
        **spec,
    }
    if table is not None:
        body["tableName"] = table
    return {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": "ModelMonitor", "metadata": {"name": name}, "spec": body}


def _api_config(emulator: Emulator, schema: str) -> dict[str, Any]:
    return {
        "output_schema_id": emulator.seed_schema("main.risk"),
        "inference_log": {
            "problem_type": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
            "prediction_column": "prediction",
            "label_column": "label",
            "model_id_column": "model_id",
            "timestamp_column": "timestamp",
            "granularities": ["AGGREGATION_GRANULARITY_1_DAY"],
        },
        "schedule": {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC"},
    }


def _config(w: WorkspaceClient, table_id: str) -> DataProfilingConfig:
    config = w.data_quality.get_monitor("table", table_id).data_profiling_config
    assert config is not None
    return config


def _cron(w: WorkspaceClient, table_id: str) -> str | None:
    schedule = _config(w, table_id).schedule
    return schedule.quartz_cron_expression if schedule else None


def _set_cron(w: WorkspaceClient, table_id: str, output_schema_id: str, cron: str) -> None:
    config = DataProfilingConfig(output_schema_id=output_schema_id, schedule=CronSchedule(cron, "UTC"))
    w.data_quality.update_monitor(
        "table",
        table_id,
        Monitor(object_type="table", object_id=table_id, data_profiling_config=config),
        update_mask="data_profiling_config.schedule.quartz_cron_expression",
    )


def _monitor_ids(w: WorkspaceClient) -> set[str]:
    return {m.object_id for m in w.data_quality.list_monitor()}


def _status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return dict(kubectl.get("modelmonitor", name).get("status") or {})


def _ready(obj: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
