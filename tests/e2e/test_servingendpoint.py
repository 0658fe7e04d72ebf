"""ServingEndpoints against the Databricks emulator through the real SDK: the example, promotions, drift, costs."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.serving import ServedEntityInput, ServingEndpointDetailed

from controller.reconciling.ownership import MANAGED_BY_TAG, OWNER_TAG
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import DRIFT_INTERVAL
from tests.support import EXAMPLES, Kubectl, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = float(DRIFT_INTERVAL.removesuffix("s"))
SERVING_API = "/api/2.0/serving-endpoints"
API = "mlops.gitops.dev/v1alpha1"
SLOW_UPDATE_SECONDS = 6.0


@pytest.fixture
def w(emulator: Emulator) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)


@pytest.fixture
def slow_updates(emulator: Emulator) -> Iterator[Callable[[], None]]:
    """Makes config updates stay IN_PROGRESS for seconds when called; restored afterwards (the emulator is shared)."""
    before = emulator.timings.endpoint_update

    def slow() -> None:
        emulator.set_timings(endpoint_update=SLOW_UPDATE_SECONDS)

    yield slow
    emulator.set_timings(endpoint_update=before)


def test_example_follows_promotions_and_never_writes_while_updating(
    kubectl: Kubectl,
    databricks_workspace: str,
    emulator: Emulator,
    w: WorkspaceClient,
    slow_updates: Callable[[], None],
) -> None:
    ns = kubectl.namespace
    schema = ns.replace("-", "_")
    model = f"main.{schema}.fraud_detector"
    for n in (1, 2, 3):
        emulator.seed_model_version(model, source=f"models:/m-{n}", run_id=f"run-{n}")
    endpoint_name, follower_name = f"{ns}-fraud", f"{ns}-fraud-follower"

    # The endpoints first: they wait for the model, and go on by themselves once it is Ready.
    kubectl.apply(_example_endpoint(endpoint_name, schema))
    kubectl.apply(_endpoint("follower", follower_name, [_follow("main", "champion")]))
    waiting = kubectl.wait_condition("servingendpoint", "fraud-detector", status="False")
    assert _ready(waiting)["reason"] == "WaitingForDependency"
    assert "MLModel fraud-detector-uc does not exist" in _ready(waiting)["message"]
    kubectl.apply(_example("mlmodel.yaml").replace("main.risk.fraud_detector", model))

    ready = kubectl.wait_condition("servingendpoint", "fraud-detector", timeout=60)
    kubectl.wait_condition("servingendpoint", "follower", timeout=60)
    status = ready["status"]
    assert status["servedVersions"] == "champion=2,challenger=1"
    assert status["url"] == f"{emulator.url}/ml/endpoints/{endpoint_name}"
    assert status["inferenceTableName"] == f"main.{schema}.fraud_detector_payload"
    assert [(e["name"], e["entityVersion"], e["desiredVersion"]) for e in status["servedEntities"]] == [
        ("champion", 2, 2),
        ("challenger", 1, 1),
    ]
    row = kubectl("get", "servingendpoints", "fraud-detector", "--no-headers").stdout.split()
    assert row[:5] == ["fraud-detector", endpoint_name, "champion=2,challenger=1", "NOT_UPDATING", status["url"]], row

    live = w.serving_endpoints.get(endpoint_name)
    assert _served(live) == {"champion": "2", "challenger": "1"}
    assert live.config is not None
    assert live.config.traffic_config is not None
    assert {r.served_entity_name: r.traffic_percentage for r in live.config.traffic_config.routes or []} == {
        "champion": 90,
        "challenger": 10,
    }
    tags = {t.key: t.value for t in live.tags or []}
    assert (tags["team"], tags[OWNER_TAG], tags[MANAGED_BY_TAG]) == (
        "risk",
        f"{ns}/fraud-detector",
        "mlops-gitops-controller",
    )
    assert live.ai_gateway is not None
    assert live.ai_gateway.inference_table_config is not None
    assert live.ai_gateway.inference_table_config.table_name_prefix == "fraud_detector"
    assert [(r.calls, r.key.value if r.key else None) for r in live.ai_gateway.rate_limits or []] == [(100, "user")]

    # Promotion: champion moves to 3. Both endpoints that follow it roll; while Databricks
    # applies the update (IN_PROGRESS), the controller only reads.
    slow_updates()
    kubectl.apply(
        _example("mlmodel.yaml").replace("main.risk.fraud_detector", model).replace("champion: 2", "champion: 3")
    )
    for name in ("fraud-detector", "follower"):
        wait_until(
            functools.partial(_rolling_to, kubectl, name, 3),
            timeout=20,
            what=f"{name} rolling to version 3",
        )
    emulator.reset_counters()
    assert _config_update(w, endpoint_name) == "IN_PROGRESS"
    for name in ("fraud-detector", "follower"):
        kubectl.wait_condition("servingendpoint", name, timeout=30)
    counts = emulator.counters(prefix=SERVING_API)
    assert counts["writes"] == 0, counts  # no write, and so no 409, while the update was in progress
    assert counts["reads"] >= 2, counts  # each endpoint looked at least once
    assert _served(w.serving_endpoints.get(endpoint_name)) == {"champion": "3", "challenger": "1"}
    assert _served(w.serving_endpoints.get(follower_name)) == {"main": "3"}
    assert _status(kubectl, "follower")["servedVersions"] == "main=3"
    moved = [e for e in kubectl.events("fraud-detector") if e["reason"] == "AliasMoved"]
    assert moved
    assert "champion to version 3 (alias champion of MLModel fraud-detector-uc)" in moved[0]["message"]

    _delete_all(kubectl, w, [endpoint_name, follower_name])


def test_out_of_band_change_is_put_back_and_steady_state_costs_one_read_per_interval(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.scorer"
    emulator.seed_model_version(model, source="models:/m-1", run_id="run-1")
    names = [f"{ns}-a", f"{ns}-b"]
    for letter, name in zip("ab", names, strict=True):
        kubectl.apply(_endpoint(letter, name, [_version("main", model, 1)], tags={"team": "risk"}))
    for letter in "ab":
        kubectl.wait_condition("servingendpoint", letter, timeout=60)

    # Someone edits endpoint a in the UI: a bigger workload size, and a tag removed.
    w.serving_endpoints.update_config(
        names[0],
        served_entities=[
            ServedEntityInput(
                name="main", entity_name=model, entity_version="1", workload_size="Medium", scale_to_zero_enabled=False
            )
        ],
    )
    wait_until(
        lambda: _workload(w, names[0]) == "Small" and _config_update(w, names[0]) == "NOT_UPDATING",
        timeout=4 * DRIFT_SECONDS + 10,
        what="the workload size put back",
    )
    events = wait_until(
        lambda: [e for e in kubectl.events("a") if e["reason"] == "DriftCorrected"],
        timeout=10,
        what="a DriftCorrected event",
    )
    assert "served entity main workload size is Medium, spec says Small" in events[0]["message"]
    w.serving_endpoints.patch(names[1], delete_tags=["team"])
    wait_until(
        lambda: {t.key: t.value for t in w.serving_endpoints.get(names[1]).tags or []}.get("team") == "risk",
        timeout=2 * DRIFT_SECONDS + 5,
        what="the tag put back",
    )
    for letter in "ab":
        kubectl.wait_condition("servingendpoint", letter, timeout=30)

    # Steady state: over N drift intervals, at most one read per endpoint per interval and no write.
    intervals = 3
    time.sleep(DRIFT_SECONDS)  # let the reconciles that followed the corrections settle
    emulator.reset_counters()
    time.sleep(intervals * DRIFT_SECONDS)
    counts = emulator.counters(prefix=SERVING_API)
    print(f"steady state over {intervals} drift intervals, {len(names)} endpoints: {counts}")
    assert counts["writes"] == 0, counts
    assert counts["reads"] <= len(names) * (intervals + 1), counts
    assert set(counts["calls"]) <= {f"GET {SERVING_API}/{{name}}"}, counts

    # A conflict answer (409: "being updated") is transient: the change goes through on a retry.
    emulator.seed_model_version(model, source="models:/m-2", run_id="run-2")
    emulator.inject_fault(409, count=1, path_prefix=SERVING_API, method="PUT")
    try:
        kubectl.apply(_endpoint("a", names[0], [_version("main", model, 2)], tags={"team": "risk"}))
        wait_until(lambda: _served(w.serving_endpoints.get(names[0])) == {"main": "2"}, timeout=30, what="version 2")
    finally:
        emulator.clear_faults()
    kubectl.wait_condition("servingendpoint", "a", timeout=30)
    conflicts = [e for e in kubectl.events("a") if e["reason"] == "ExternalUnavailable"]
    assert conflicts, kubectl.events("a")

    _delete_all(kubectl, w, names)


def test_waits_for_a_missing_version_and_proceeds_when_training_registers_it(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.late"
    name = f"{ns}-late"
    emulator.seed_model_version(model, source="models:/m-1", run_id="run-1")
    kubectl.apply(_endpoint("late", name, [_version("main", model, 2)]))
    obj = kubectl.wait_condition("servingendpoint", "late", status="False", reason="WaitingForModelVersion")
    assert f"version 2 of {model} does not exist" in _ready(obj)["message"]
    with pytest.raises(NotFound):
        w.serving_endpoints.get(name)  # nothing sent that Databricks would fail

    emulator.seed_model_version(model, source="models:/m-2", run_id="run-2")
    obj = kubectl.wait_condition("servingendpoint", "late", timeout=45)
    assert obj["status"]["servedVersions"] == "main=2"
    _delete_all(kubectl, w, [name])


def test_deletion_policies_and_invalid_specs(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.disposable"
    emulator.seed_model_version(model, source="models:/m-1", run_id="run-1")

    # What the schema can refuse, the API server refuses at apply time.
    bad = _endpoint("bad", f"{ns}-bad", [_version("main", model, 1)])
    bad["spec"]["traffic"] = {"main": 50, "shadow": 50}
    refused = kubectl.apply(bad, check=False)
    assert refused.returncode != 0
    assert "every traffic route must name a served entity" in refused.stderr

    # What only Databricks refuses ends in Ready=False with its message.
    huge = _endpoint("huge", f"{ns}-huge", [{**_version("main", model, 1), "workloadSize": "Huge"}])
    kubectl.apply(huge)
    obj = kubectl.wait_condition("servingendpoint", "huge", status="False", reason="ExternalRejected")
    assert "Invalid workload_size 'Huge'" in _ready(obj)["message"]
    kubectl("delete", "servingendpoint", "huge", "--timeout=30s")

    names = {"delete": f"{ns}-delete", "retain": f"{ns}-retain"}
    kubectl.apply(_endpoint("delete", names["delete"], [_version("main", model, 1)], deletionPolicy="Delete"))
    kubectl.apply(_endpoint("retain", names["retain"], [_version("main", model, 1)], deletionPolicy="Retain"))
    for cr in names:
        kubectl.wait_condition("servingendpoint", cr, timeout=60)
    for cr in names:
        kubectl("delete", "servingendpoint", cr, "--timeout=30s")
    with pytest.raises(NotFound):
        w.serving_endpoints.get(names["delete"])
    kept = w.serving_endpoints.get(names["retain"])
    assert {t.key: t.value for t in kept.tags or []}[OWNER_TAG] == f"{ns}/retain"
    w.serving_endpoints.delete(names["retain"])


def _example(name: str) -> str:
    return (EXAMPLES / "databricks" / name).read_text()


def _example_endpoint(endpoint_name: str, schema: str) -> str:
    """The example, with names unique to this test (the emulator is shared by the session)."""
    document = yaml.safe_load(_example("servingendpoint.yaml"))
    document["spec"]["endpointName"] = endpoint_name
    document["spec"]["inferenceTable"]["schema"] = schema
    return yaml.safe_dump(document)


def _endpoint(name: str, endpoint_name: str, entities: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ServingEndpoint",
        "metadata": {"name": name},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "endpointName": endpoint_name,
            "servedEntities": entities,
            "deletionPolicy": "Delete",
            **spec,
        },
    }


def _follow(name: str, alias: str) -> dict[str, Any]:
    return {"name": name, "modelRef": {"name": "fraud-detector-uc", "alias": alias}}


def _version(name: str, model: str, version: int) -> dict[str, Any]:
    return {"name": name, "entityName": model, "entityVersion": version}


def _status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return dict(kubectl.get("servingendpoint", name).get("status") or {})


def _rolling_to(kubectl: Kubectl, name: str, version: int) -> bool:
    status = _status(kubectl, name)
    pending = [e.get("pendingVersion") for e in status.get("servedEntities") or []]
    return status.get("configUpdate") == "IN_PROGRESS" and version in pending


def _ready(obj: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")


def _served(endpoint: ServingEndpointDetailed) -> dict[str, str | None]:
    assert endpoint.config is not None
    return {str(e.name): e.entity_version for e in endpoint.config.served_entities or []}


def _workload(w: WorkspaceClient, name: str) -> str | None:
    config = w.serving_endpoints.get(name).config
    return config.served_entities[0].workload_size if config and config.served_entities else None


def _config_update(w: WorkspaceClient, name: str) -> str | None:
    state = w.serving_endpoints.get(name).state
    return state.config_update.value if state and state.config_update else None


def _delete_all(kubectl: Kubectl, w: WorkspaceClient, endpoint_names: list[str]) -> None:
    """Delete this test's endpoints through their resources (deletionPolicy Delete) while the Workspace exists."""
    kubectl("delete", "servingendpoints", "--all", "--timeout=60s")
    for name in endpoint_names:
        with pytest.raises(NotFound):
            w.serving_endpoints.get(name)
