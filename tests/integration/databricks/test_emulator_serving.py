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
    ApiKeyAuth,
    CustomProviderConfig,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointStateReady,
    EndpointTag,
    ExternalModel,
    ExternalModelProvider,
    OpenAiConfig,
    RateLimit,
    RateLimitRenewalPeriod,
    Route,
    ServedEntityInput,
    ServedModelInput,
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


def test_legacy_served_models_read_back_in_both_forms(emu: Emulator, w: WorkspaceClient, wait_for: Any) -> None:
    emu.seed_model_version(MODEL, source="models:/m-1")
    legacy = ServedModelInput(scale_to_zero_enabled=True, model_name=MODEL, model_version="1", workload_size="Small")
    created = w.serving_endpoints.create(
        "fraud", config=EndpointCoreConfigInput(name="fraud", served_models=[legacy])
    ).response
    assert created.pending_config.served_models[0].model_name == MODEL
    assert created.pending_config.served_entities[0].entity_name == MODEL
    ep = wait_for(lambda: w.serving_endpoints.get("fraud"), settled)
    [model] = ep.config.served_models
    [entity] = ep.config.served_entities
    assert (model.name, model.model_name, model.model_version) == ("fraud_detector-1", MODEL, "1")
    assert (entity.name, entity.entity_name, entity.entity_version) == ("fraud_detector-1", MODEL, "1")
    assert model.scale_to_zero_enabled is entity.scale_to_zero_enabled is True
    assert model.state.deployment == ServedModelStateDeployment.DEPLOYMENT_READY
    [route] = ep.config.traffic_config.routes
    assert route.served_model_name == route.served_entity_name == "fraud_detector-1"
    [listed] = w.serving_endpoints.list()
    assert listed.config.served_models[0].model_name == MODEL
    assert listed.config.served_entities[0].entity_name == MODEL


def test_served_entities_also_read_back_as_served_models(
    w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed
) -> None:
    [model] = ready_endpoint.config.served_models
    assert (model.name, model.model_name, model.model_version) == ("champion", MODEL, "1")
    assert model.workload_size == "Small"


def test_served_entities_and_served_models_together_are_refused(emu: Emulator, w: WorkspaceClient) -> None:
    emu.seed_model_version(MODEL, source="models:/m-1")
    both = EndpointCoreConfigInput(
        name="fraud",
        served_entities=[entity("1", "a")],
        served_models=[ServedModelInput(scale_to_zero_enabled=False, model_name=MODEL, model_version="1", name="b")],
    )
    with pytest.raises(InvalidParameterValue, match="served_entities and served_models"):
        w.serving_endpoints.create("fraud", config=both)


def external(**openai: Any) -> ServedEntityInput:
    return ServedEntityInput(
        name="chat",
        external_model=ExternalModel(
            provider=ExternalModelProvider.OPENAI,
            name="gpt-4o-mini",
            task="llm/v1/chat",
            openai_config=OpenAiConfig(openai_api_base="https://api.example.com/v1", **openai),
        ),
    )


def test_plaintext_secrets_are_never_read_back(w: WorkspaceClient, wait_for: Any) -> None:
    custom = ServedEntityInput(
        name="custom",
        external_model=ExternalModel(
            provider=ExternalModelProvider.CUSTOM,
            name="in-house",
            task="llm/v1/chat",
            custom_provider_config=CustomProviderConfig(
                custom_provider_url="https://llm.example.com",
                api_key_auth=ApiKeyAuth(key="X-Api-Key", value_plaintext="custom-secret-123"),
            ),
        ),
        burst_scaling_enabled=True,
    )
    chat = external(openai_api_key_plaintext="sk-secret-456", microsoft_entra_client_secret_plaintext="entra-789")
    routes = [
        Route(served_entity_name="chat", traffic_percentage=50),
        Route(served_entity_name="custom", traffic_percentage=50),
    ]
    body = EndpointCoreConfigInput(
        name="llm", served_entities=[chat, custom], traffic_config=TrafficConfig(routes=routes)
    )
    created = w.serving_endpoints.create("llm", config=body).response
    wait_for(lambda: w.serving_endpoints.get("llm"), settled)
    got = w.api_client.do("GET", "/api/2.0/serving-endpoints/llm")
    assert isinstance(got, dict)
    assert "served_models" not in got["config"]  # the legacy form cannot express an external model
    raw = [created.as_dict(), got, w.api_client.do("GET", "/api/2.0/serving-endpoints")]
    for answer in raw:
        text = str(answer)
        for secret in ("custom-secret-123", "sk-secret-456", "entra-789", "_plaintext", "burst_scaling_enabled"):
            assert secret not in text
    ep = w.serving_endpoints.get("llm")
    served = {e.name: e for e in ep.config.served_entities}
    assert served["chat"].external_model.openai_config.openai_api_base == "https://api.example.com/v1"
    assert served["custom"].external_model.custom_provider_config.api_key_auth.key == "X-Api-Key"


def test_a_new_plaintext_key_is_a_change_of_the_served_entity(w: WorkspaceClient, wait_for: Any) -> None:
    w.serving_endpoints.create(
        "llm", config=EndpointCoreConfigInput(name="llm", served_entities=[external(openai_api_key_plaintext="k1")])
    )
    wait_for(lambda: w.serving_endpoints.get("llm"), settled)
    same = w.serving_endpoints.update_config("llm", served_entities=[external(openai_api_key_plaintext="k1")]).response
    assert same.pending_config.served_entities[0].state.deployment == ServedModelStateDeployment.DEPLOYMENT_READY
    wait_for(lambda: w.serving_endpoints.get("llm"), settled)
    rotated = w.serving_endpoints.update_config("llm", served_entities=[external(openai_api_key_plaintext="k2")])
    state = rotated.response.pending_config.served_entities[0].state
    assert state.deployment == ServedModelStateDeployment.DEPLOYMENT_CREATING


@pytest.mark.parametrize("name", ["risk.fraud_detector", "main.risk.fraud.detector", "main..fraud", "main.risk .x"])
def test_a_dotted_entity_name_must_be_a_full_unity_catalog_name(w: WorkspaceClient, name: str) -> None:
    bad = ServedEntityInput(entity_name=name, entity_version="1")
    with pytest.raises(InvalidParameterValue, match=r"catalog_name\.schema_name\.model_name") as caught:
        w.serving_endpoints.create("fraud", config=config(bad))
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(NotFound):
        w.serving_endpoints.get("fraud")


def test_a_workspace_registry_model_fails_to_deploy(w: WorkspaceClient, wait_for: Any) -> None:
    w.serving_endpoints.create("ads", config=config(ServedEntityInput(entity_name="ads1", entity_version="1")))
    ep = wait_for(lambda: w.serving_endpoints.get("ads"), settled)
    assert ep.state.config_update == EndpointStateConfigUpdate.UPDATE_FAILED
    failed = ep.config.served_entities[0].state
    assert failed.deployment == ServedModelStateDeployment.DEPLOYMENT_FAILED
    assert "workspace model registry" in failed.deployment_state_message


def test_a_refused_config_uses_no_config_version(
    w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed, wait_for: Any
) -> None:
    with pytest.raises(InvalidParameterValue):
        w.serving_endpoints.update_config("fraud", served_entities=[entity("2", workload_size="Huge")])
    assert (
        w.serving_endpoints.update_config("fraud", served_entities=[entity("2")]).response.pending_config.config_version
        == 2
    )


def test_empty_lists_are_left_out(w: WorkspaceClient, ready_endpoint: ServingEndpointDetailed) -> None:
    w.serving_endpoints.patch("fraud", add_tags=[EndpointTag(key="team", value="risk")])
    assert w.api_client.do("PATCH", "/api/2.0/serving-endpoints/fraud/tags", body={"delete_tags": ["team"]}) == {}
    w.serving_endpoints.delete("fraud")
    assert w.api_client.do("GET", "/api/2.0/serving-endpoints") == {}
