"""Serving endpoints through the real SDK: defaults, the update state machine, conflicts, tags, AI gateway."""

from __future__ import annotations

from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists, ResourceConflict
from databricks.sdk.service.serving import (
    AiGatewayInferenceTableConfig,
    AiGatewayRateLimit,
    AiGatewayRateLimitKey,
    AiGatewayRateLimitRenewalPeriod,
    AiGatewayUsageTrackingConfig,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    RateLimit,
    RateLimitRenewalPeriod,
    Route,
    ServedEntityInput,
    ServedModelStateDeployment,
    ServingEndpointDetailed,
    ServingModelWorkloadType,
    TrafficConfig,
)

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration
MODEL = "main.risk.fraud_detector"


def entity(version: str, name: str | None = None, **extra: Any) -> ServedEntityInput:
    return ServedEntityInput(entity_name=MODEL, entity_version=version, name=name, **extra)


def config(*entities: ServedEntityInput, traffic: dict[str, int] | None = None) -> EndpointCoreConfigInput:
    routes = [Route(served_entity_name=k, traffic_percentage=v) for k, v in (traffic or {}).items()]
    return EndpointCoreConfigInput(
        name="ignored", served_entities=list(entities), traffic_config=TrafficConfig(routes=routes) if routes else None
    )


def settled(ep: ServingEndpointDetailed) -> bool:
    assert ep.state is not None
    return ep.state.config_update != EndpointStateConfigUpdate.IN_PROGRESS


@pytest.fixture
def ready_endpoint(emu: Emulator, w: WorkspaceClient, wait_for: Any) -> ServingEndpointDetailed:
    emu.seed_model_version(MODEL, source="models:/m-1", run_id="r1")
    emu.seed_model_version(MODEL, source="models:/m-2", run_id="r2")
    w.serving_endpoints.create("fraud", config=config(entity("1", "champion")))
    return wait_for(lambda: w.serving_endpoints.get("fraud"), settled)  # type: ignore[no-any-return]


def test_create_is_asynchronous_and_fills_defaults(emu: Emulator, w: WorkspaceClient, wait_for: Any) -> None:
    emu.seed_model_version(MODEL, source="models:/m-1")
    created = w.serving_endpoints.create("fraud", config=config(entity("1"))).response
    assert created.state is not None
    assert created.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    assert created.state.ready == EndpointStateReady.NOT_READY
    assert created.config is None
    assert created.pending_config is not None
    assert created.pending_config.config_version == 1
    pending = created.pending_config.served_entities
    assert pending is not None
    assert pending[0].state is not None
    assert pending[0].state.deployment == ServedModelStateDeployment.DEPLOYMENT_CREATING

    ep = wait_for(lambda: w.serving_endpoints.get("fraud"), settled)
    assert ep.state.config_update == EndpointStateConfigUpdate.NOT_UPDATING
    assert ep.state.ready == EndpointStateReady.READY
    assert ep.pending_config is None
    served = ep.config.served_entities[0]
    assert served.name == "fraud_detector-1"
    assert served.workload_type == ServingModelWorkloadType.CPU
    assert served.workload_size == "Small"
    assert served.scale_to_zero_enabled is False
    assert served.state.deployment == ServedModelStateDeployment.DEPLOYMENT_READY
    assert ep.config.traffic_config.routes[0].served_entity_name == "fraud_detector-1"
    assert ep.config.traffic_config.routes[0].traffic_percentage == 100
    assert ep.id
    assert ep.creator == "emulator-user@example.com"


def test_update_config_keeps_serving_old_config_until_done(
    w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed, wait_for: Any
) -> None:
    updated = w.serving_endpoints.update_config(
        "fraud",
        served_entities=[entity("1", "champion"), entity("2", "challenger", scale_to_zero_enabled=True)],
        traffic_config=TrafficConfig(
            routes=[
                Route(served_entity_name="champion", traffic_percentage=90),
                Route(served_entity_name="challenger", traffic_percentage=10),
            ]
        ),
    ).response
    assert updated.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    assert updated.state.ready == EndpointStateReady.READY
    assert [e.name for e in updated.config.served_entities] == ["champion"]
    assert updated.pending_config.config_version == 2
    states = {e.name: e.state.deployment for e in updated.pending_config.served_entities}
    assert states == {
        "champion": ServedModelStateDeployment.DEPLOYMENT_READY,
        "challenger": ServedModelStateDeployment.DEPLOYMENT_CREATING,
    }
    done = wait_for(lambda: w.serving_endpoints.get("fraud"), settled)
    assert done.config.config_version == 2
    assert {r.served_entity_name: r.traffic_percentage for r in done.config.traffic_config.routes} == {
        "champion": 90,
        "challenger": 10,
    }


def test_writes_while_updating_are_refused_with_conflict(w: WorkspaceClient, emu: Emulator) -> None:
    emu.seed_model_version(MODEL, source="models:/m-1")
    w.serving_endpoints.create("fraud", config=config(entity("1")))
    with pytest.raises(ResourceConflict) as caught:
        w.serving_endpoints.update_config("fraud", served_entities=[entity("1")])
    assert caught.value.error_code == "RESOURCE_CONFLICT"
    with pytest.raises(ResourceConflict):
        w.serving_endpoints.patch("fraud", add_tags=[EndpointTag(key="team", value="risk")])
    with pytest.raises(ResourceConflict):
        w.serving_endpoints.put_ai_gateway("fraud", usage_tracking_config=AiGatewayUsageTrackingConfig(enabled=True))
    emu.advance_clock(1)
    assert w.serving_endpoints.get("fraud").state.config_update == EndpointStateConfigUpdate.NOT_UPDATING
    w.serving_endpoints.patch("fraud", add_tags=[EndpointTag(key="team", value="risk")])


@pytest.mark.parametrize("status", ["missing", "PENDING_REGISTRATION"])
def test_update_fails_when_model_version_is_not_ready(
    emu: Emulator, w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed, status: str, wait_for: Any
) -> None:
    if status != "missing":
        emu.seed_model_version(MODEL, source="models:/m-3", status=status)
    w.serving_endpoints.update_config("fraud", served_entities=[entity("3", "champion")])
    ep = wait_for(lambda: w.serving_endpoints.get("fraud"), settled)
    assert ep.state.config_update == EndpointStateConfigUpdate.UPDATE_FAILED
    assert ep.state.ready == EndpointStateReady.READY
    assert ep.pending_config is None
    assert ep.config.served_entities[0].entity_version == "1"


def test_first_deploy_failure_reports_the_entity(emu: Emulator, w: WorkspaceClient, wait_for: Any) -> None:
    w.serving_endpoints.create("fraud", config=config(entity("9", "champion")))
    ep = wait_for(lambda: w.serving_endpoints.get("fraud"), settled)
    assert ep.state.config_update == EndpointStateConfigUpdate.UPDATE_FAILED
    assert ep.state.ready == EndpointStateReady.NOT_READY
    failed = ep.config.served_entities[0].state
    assert failed.deployment == ServedModelStateDeployment.DEPLOYMENT_FAILED
    assert "does not exist" in failed.deployment_state_message
    emu.seed_model_version(MODEL, source="models:/m-1")
    w.serving_endpoints.update_config("fraud", served_entities=[entity("1", "champion")])
    assert wait_for(lambda: w.serving_endpoints.get("fraud"), settled).state.ready == EndpointStateReady.READY


def test_list_returns_summaries(w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed) -> None:
    w.serving_endpoints.create("empty")
    listed = {e.name: e for e in w.serving_endpoints.list()}
    assert set(listed) == {"fraud", "empty"}
    assert listed["fraud"].config.served_entities[0].entity_version == "1"
    assert listed["empty"].config is None
    assert listed["empty"].state.ready == EndpointStateReady.NOT_READY


def test_tags_are_patched_in_batches(w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed) -> None:
    tags = w.serving_endpoints.patch(
        "fraud", add_tags=[EndpointTag(key="team", value="risk"), EndpointTag(key="owner", value="a")]
    )
    assert {t.key: t.value for t in tags.tags} == {"team": "risk", "owner": "a"}
    tags = w.serving_endpoints.patch("fraud", add_tags=[EndpointTag(key="owner", value="b")], delete_tags=["team"])
    assert {t.key: t.value for t in tags.tags} == {"owner": "b"}
    assert {t.key: t.value for t in w.serving_endpoints.get("fraud").tags} == {"owner": "b"}


def test_ai_gateway_and_inference_table(
    emu: Emulator, w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed
) -> None:
    table = AiGatewayInferenceTableConfig(catalog_name="main", schema_name="risk", enabled=True)
    limit = AiGatewayRateLimit(
        calls=100, renewal_period=AiGatewayRateLimitRenewalPeriod.MINUTE, key=AiGatewayRateLimitKey.USER
    )
    gateway = w.serving_endpoints.put_ai_gateway("fraud", inference_table_config=table, rate_limits=[limit])
    assert gateway.inference_table_config.table_name_prefix == "fraud"
    assert gateway.rate_limits[0].calls == 100
    assert w.serving_endpoints.get("fraud").ai_gateway.inference_table_config.enabled is True
    assert w.tables.get("main.risk.fraud_payload").table_id
    moved = AiGatewayInferenceTableConfig(catalog_name="main", schema_name="other", enabled=True)
    with pytest.raises(InvalidParameterValue, match="disable the inference table first"):
        w.serving_endpoints.put_ai_gateway("fraud", inference_table_config=moved)


def test_legacy_rate_limits(w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed) -> None:
    answer = w.serving_endpoints.put(
        "fraud", rate_limits=[RateLimit(calls=5, renewal_period=RateLimitRenewalPeriod.MINUTE)]
    )
    assert answer.rate_limits[0].calls == 5


def test_delete_then_get_is_not_found(w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed) -> None:
    w.serving_endpoints.delete("fraud")
    with pytest.raises(NotFound) as caught:
        w.serving_endpoints.get("fraud")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_duplicate_name_is_refused(w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed) -> None:
    with pytest.raises(ResourceAlreadyExists):
        w.serving_endpoints.create("fraud")


@pytest.mark.parametrize(
    ("name", "cfg", "message"),
    [
        ("bad name!", None, "Invalid endpoint name"),
        ("ok", config(ServedEntityInput(entity_name=MODEL)), "entity_version"),
        ("ok", config(entity("1", "a"), entity("2", "b")), "traffic_config is required"),
        ("ok", config(entity("1", "a"), entity("2", "b"), traffic={"a": 50, "b": 40}), "add up to 100"),
        ("ok", config(entity("1", "a"), traffic={"zzz": 100}), "not in the config"),
        ("ok", config(entity("1", "a"), entity("2", "a")), "unique"),
        ("ok", config(entity("1", workload_size="Huge")), "workload_size"),
        ("ok", config(entity("1", workload_size="Small", min_provisioned_concurrency=4)), "cannot be combined"),
    ],
)
def test_invalid_requests_are_refused(
    w: WorkspaceClient, name: str, cfg: EndpointCoreConfigInput | None, message: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=message) as caught:
        w.serving_endpoints.create(name, config=cfg)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
