"""The serving metrics export, through the real databricks-sdk: per served entity, following the traffic split
and how each model version is set to behave; read back by the controller's own client."""

from __future__ import annotations

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.serving import EndpointCoreConfigInput, Route, ServedEntityInput, TrafficConfig
from prometheus_client.parser import text_string_to_metric_families

from controller.clients import errors
from controller.kinds.servingendpoint.external import DatabricksServing
from controller.kinds.servingendpoint.health import ENDPOINT_METRICS, parse_export
from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration

MODEL = "main.risk.fraud"
ENDPOINT = "fraud"
LATER = 60.0
"""Seconds of emulator clock that finish an endpoint update."""


def served(stable: int, canary: int) -> tuple[list[ServedEntityInput], TrafficConfig]:
    entities = [
        ServedEntityInput(name=name, entity_name=MODEL, entity_version=version, workload_size="Small")
        for name, version in (("stable", "2"), ("canary", "3"))
    ]
    routes = [Route(served_entity_name="stable", traffic_percentage=stable)]
    routes.append(Route(served_entity_name="canary", traffic_percentage=canary))
    return entities, TrafficConfig(routes=routes)


@pytest.fixture
def endpoint(emu: Emulator, w: WorkspaceClient) -> str:
    """Versions 2 and 3 served as `stable` and `canary`, 90/10."""
    for version in (1, 2, 3):
        emu.seed_model_version(MODEL, source=f"models:/m-{version}")
    entities, traffic = served(90, 10)
    config = EndpointCoreConfigInput(name=ENDPOINT, served_entities=entities, traffic_config=traffic)
    w.serving_endpoints.create(ENDPOINT, config=config)
    emu.advance_clock(LATER)
    return ENDPOINT


def export(w: WorkspaceClient, name: str) -> str:
    contents = w.serving_endpoints.export_metrics(name).contents
    assert contents is not None
    return contents.read().decode()


def test_the_export_is_prometheus_text_with_the_series_databricks_exports(w: WorkspaceClient, endpoint: str) -> None:
    families = {f.name: f for f in text_string_to_metric_families(export(w, endpoint))}

    assert {name: f.type for name, f in families.items()} == {
        "cpu_usage_percentage": "gauge",
        "mem_usage_percentage": "gauge",
        "provisioned_concurrent_requests_total": "gauge",
        "request_4xx_count_total": "gauge",
        "request_5xx_count_total": "gauge",
        "request_count_total": "gauge",
        "request_latency_ms": "histogram",
    }
    for family in families.values():
        assert {s.labels["served_model_name"] for s in family.samples} == {"stable", "canary"}


def test_request_counts_follow_the_traffic_split(w: WorkspaceClient, endpoint: str) -> None:
    health = parse_export(export(w, endpoint))

    # 10 requests/s by default: 600 in the minute, 540 and 60 of them.
    assert health["stable"].values["request_rate"] == 9.0
    assert health["canary"].values["request_rate"] == 1.0


def test_a_version_set_to_fail_and_slow_down_shows_in_the_entity_serving_it_alone(
    emu: Emulator, w: WorkspaceClient, endpoint: str
) -> None:
    emu.set_version_behaviour(MODEL, 3, error_rate=0.05, latency_p99_ms=800)

    health = parse_export(export(w, endpoint))

    canary, stable = health["canary"].values, health["stable"].values
    assert canary["error_rate"] == 0.05  # 3 of 60
    assert stable["error_rate"] == 0.0
    # Estimated from histogram buckets, so precise to the bucket: 800 ms lies in (500, 1000].
    assert 500 < canary["latency_p99_ms"] <= 1000
    assert stable["latency_p99_ms"] < 500
    assert 25 < canary["latency_p50_ms"] <= 50  # the median left as it was: 40 ms
    assert 25 < stable["latency_p50_ms"] <= 50


def test_the_split_followed_is_the_active_config_until_an_update_completes(
    emu: Emulator, w: WorkspaceClient, endpoint: str
) -> None:
    entities, traffic = served(50, 50)
    w.serving_endpoints.update_config(endpoint, served_entities=entities, traffic_config=traffic)
    assert parse_export(export(w, endpoint))["canary"].values["request_rate"] == 1.0  # still updating

    emu.advance_clock(LATER)

    health = parse_export(export(w, endpoint))
    assert health["canary"].values["request_rate"] == health["stable"].values["request_rate"] == 5.0


def test_the_request_rate_is_set_per_endpoint_and_an_entity_without_traffic_gets_none(
    emu: Emulator, w: WorkspaceClient, endpoint: str
) -> None:
    emu.set_request_rate(endpoint, 2)
    entities, traffic = served(100, 0)
    w.serving_endpoints.update_config(endpoint, served_entities=entities, traffic_config=traffic)
    emu.advance_clock(LATER)

    health = parse_export(export(w, endpoint))

    assert health["stable"].values["request_rate"] == 2.0
    idle = health["canary"].values
    assert idle["request_rate"] == 0.0
    assert not {"error_rate", "client_error_rate", "latency_p50_ms", "latency_p99_ms"} & set(idle)


def test_samples_are_stamped_with_the_last_minute_of_the_emulator_clock(
    emu: Emulator, w: WorkspaceClient, endpoint: str
) -> None:
    def stamp() -> float:
        samples = [s for f in text_string_to_metric_families(export(w, endpoint)) for s in f.samples]
        assert len({s.timestamp for s in samples}) == 1
        assert samples[0].timestamp is not None
        return float(samples[0].timestamp)

    before = stamp()
    emu.advance_clock(120)

    assert before % 60 == 0
    assert stamp() - before in (120, 180)  # a minute may have ended between the two reads


def test_an_unknown_endpoint_is_resource_does_not_exist(w: WorkspaceClient) -> None:
    with pytest.raises(NotFound) as refused:
        w.serving_endpoints.export_metrics("missing")

    assert refused.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_the_controller_reads_each_entity_health(emu: Emulator, w: WorkspaceClient, endpoint: str) -> None:
    emu.set_version_behaviour(MODEL, 3, client_error_rate=0.1, cpu_usage_percent=75, memory_usage_percent=50)
    client = DatabricksServing(w)

    health = client.endpoint_health(endpoint)

    assert set(health) == {"stable", "canary"}
    assert set(health["canary"].values) == set(ENDPOINT_METRICS)
    assert health["canary"].values["client_error_rate"] == 0.1
    assert health["canary"].values["cpu_usage_percent"] == 75.0
    assert health["canary"].values["memory_usage_percent"] == 50.0
    with pytest.raises(errors.NotFound):
        client.endpoint_health("missing")


def test_the_admin_api_sets_behaviour_and_refuses_what_cannot_be(emu: Emulator, endpoint: str) -> None:
    admin = f"{emu.url}/_emulator"

    answer = requests.put(
        f"{admin}/serving/model-versions/behaviour", json={"model": MODEL, "version": 3, "error_rate": 0.2}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.json()["error_rate"] == 0.2
    rate_path = f"{admin}/serving-endpoints/{endpoint}/request-rate"
    rate = requests.put(rate_path, json={"requests_per_second": 1}, timeout=5)
    assert rate.status_code == 200
    refusals = [
        ("serving/model-versions/behaviour", {"model": MODEL, "version": 3, "error_rat": 0.2}, "Unknown behaviour"),
        ("serving/model-versions/behaviour", {"model": MODEL, "version": 3, "error_rate": -1}, "non-negative"),
        ("serving/model-versions/behaviour", {"model": MODEL, "version": 3, "client_error_rate": 0.9}, "exceed 1"),
        ("serving/model-versions/behaviour", {"model": MODEL, "version": 3, "latency_p50_ms": 2000}, "latency_p50_ms"),
        ("serving/model-versions/behaviour", {"version": 3}, "model"),
        (f"serving-endpoints/{endpoint}/request-rate", {"requests_per_second": "fast"}, "requests_per_second"),
    ]
    for path, body, message in refusals:
        refused = requests.put(f"{admin}/{path}", json=body, timeout=5)
        assert refused.status_code == 400, body
        assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert message in refused.json()["message"]
