"""The ServingEndpoint's external client: Model Serving endpoints through the databricks-sdk.

Create and config updates return at once with the endpoint as Databricks accepted it;
the SDK's waiter (`Wait.result()`) is never used: the reconcile looks again later.
"""

from __future__ import annotations

import urllib.parse

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    EndpointCoreConfigInput,
    EndpointTag,
    ServedEntityOutput,
    ServingEndpointDetailed,
    TrafficConfig,
)

from controller.clients import errors
from controller.clients.databricks import translated_errors
from controller.clients.object_permissions import ObjectPermissions
from controller.kinds.mljob.observed import TERMINAL_STATES as ENDED
from controller.kinds.servingendpoint.health import EntityHealth, parse_export
from controller.kinds.servingendpoint.observed import (
    NOT_UPDATING,
    Json,
    ObservedConfig,
    ObservedEndpoint,
    ObservedEntity,
)
from controller.reconciling.permissions import Levels


class DatabricksServing:
    """Implements the reconcile's `Serving` protocol against one workspace."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._w = client

    def get_endpoint(self, name: str) -> ObservedEndpoint | None:
        try:
            with translated_errors():
                return _endpoint(self._w.serving_endpoints.get(name))
        except errors.NotFound:
            return None

    def list_endpoint_names(self) -> list[str]:
        """The names of every serving endpoint in the workspace (for `mlopsctl import`)."""
        with translated_errors():
            return sorted(e.name for e in self._w.serving_endpoints.list() if e.name)

    def endpoint_document(self, name: str) -> Json | None:
        """The endpoint as Databricks returns it (ServingEndpointDetailed's JSON form), or None when it is gone."""
        try:
            with translated_errors():
                return self._w.serving_endpoints.get(name).as_dict()
        except errors.NotFound:
            return None

    def create_endpoint(
        self, name: str, *, config: Json, tags: dict[str, str], gateway: Json | None
    ) -> ObservedEndpoint:
        with translated_errors():
            created = self._w.serving_endpoints.create(
                name,
                config=EndpointCoreConfigInput.from_dict(config),
                tags=[EndpointTag(key=k, value=v) for k, v in sorted(tags.items())],
                ai_gateway=AiGatewayConfig.from_dict(gateway) if gateway else None,
            )
        return _endpoint(created.response)

    def update_config(self, name: str, config: Json) -> ObservedEndpoint:
        core = EndpointCoreConfigInput.from_dict(config)
        with translated_errors():
            updated = self._w.serving_endpoints.update_config(
                name, served_entities=core.served_entities, traffic_config=core.traffic_config
            )
        return _endpoint(updated.response)

    def patch_tags(self, name: str, *, add: dict[str, str], remove: list[str]) -> dict[str, str]:
        with translated_errors():
            answer = self._w.serving_endpoints.patch(
                name,
                add_tags=[EndpointTag(key=k, value=v) for k, v in sorted(add.items())] or None,
                delete_tags=remove or None,
            )
        return _tags(answer.tags)

    def put_ai_gateway(self, name: str, gateway: Json) -> Json:
        parsed = AiGatewayConfig.from_dict(gateway)
        with translated_errors():
            answer = self._w.serving_endpoints.put_ai_gateway(
                name,
                fallback_config=parsed.fallback_config,
                guardrails=parsed.guardrails,
                inference_table_config=parsed.inference_table_config,
                rate_limits=parsed.rate_limits,
                usage_tracking_config=parsed.usage_tracking_config,
            )
        return answer.as_dict()

    def delete_endpoint(self, name: str) -> None:
        with translated_errors():
            self._w.serving_endpoints.delete(name)

    def version_status(self, model: str, version: int) -> str | None:
        try:
            with translated_errors():
                found = self._w.model_versions.get(model, version)
        except errors.NotFound:
            return None
        return found.status.value if found.status else "UNKNOWN"

    def endpoint_health(self, name: str) -> dict[str, EntityHealth]:
        """Each served entity's last minute, from the metrics export; NotFound when the endpoint is missing."""
        with translated_errors():
            contents = self._w.serving_endpoints.export_metrics(name).contents
            text = contents.read().decode() if contents else ""
        try:  # outside translated_errors, which takes a ValueError for a configuration error
            return parse_export(text)
        except ValueError as exc:
            raise errors.Unavailable(f"Databricks answered a metrics export that does not parse: {exc}") from exc

    def run_job(self, job_id: int, *, params: dict[str, str], idempotency_token: str) -> int:
        """Start a run of a job (a rollout's analysis); the same token gives back the same run."""
        with translated_errors():
            waiter = self._w.jobs.run_now(job_id, job_parameters=params, idempotency_token=idempotency_token)
        if waiter.response is None or waiter.response.run_id is None:
            raise errors.Unavailable("Databricks answered run-now without a run id")
        return int(waiter.response.run_id)

    def job_run_result(self, run_id: int) -> str | None:
        """How a run ended (its result state, or the life-cycle state it ended in), or None while it runs."""
        with translated_errors():
            state = self._w.jobs.get_run(run_id).state
        life = state.life_cycle_state.value if state and state.life_cycle_state else None
        if life not in ENDED:
            return None
        return state.result_state.value if state and state.result_state else life

    def get_permissions(self, endpoint_id: str) -> Levels:
        return ObjectPermissions(self._w, "serving-endpoints").direct(endpoint_id)

    def write_permissions(self, endpoint_id: str, levels: Levels, *, replace: bool) -> None:
        grants = ObjectPermissions(self._w, "serving-endpoints")
        (grants.replace if replace else grants.grant)(endpoint_id, levels)

    def endpoint_url(self, name: str) -> str:
        return f"{(self._w.config.host or '').rstrip('/')}/ml/endpoints/{urllib.parse.quote(name, safe='')}"


def _endpoint(detailed: ServingEndpointDetailed | None) -> ObservedEndpoint:
    if detailed is None or not detailed.name:
        raise errors.Unavailable("Databricks answered without the serving endpoint")
    state = detailed.state
    config = detailed.config
    pending = detailed.pending_config
    return ObservedEndpoint(
        name=detailed.name,
        id=detailed.id,
        ready=state.ready.value if state and state.ready else "NOT_READY",
        config_update=state.config_update.value if state and state.config_update else NOT_UPDATING,
        config=_config(config.config_version, config.served_entities, config.traffic_config) if config else None,
        pending=_config(pending.config_version, pending.served_entities, pending.traffic_config) if pending else None,
        pending_since_ms=pending.start_time if pending else None,
        tags=_tags(detailed.tags),
        gateway=detailed.ai_gateway.as_dict() if detailed.ai_gateway else {},
    )


def _tags(tags: list[EndpointTag] | None) -> dict[str, str]:
    return {t.key: t.value or "" for t in tags or []}


def _config(
    version: int | None, entities: list[ServedEntityOutput] | None, traffic: TrafficConfig | None
) -> ObservedConfig:
    routes = {
        str(r.served_entity_name or r.served_model_name): r.traffic_percentage
        for r in (traffic.routes if traffic else None) or []
    }
    return ObservedConfig(version=version, entities=tuple(_entity(e) for e in entities or []), traffic=routes)


def _entity(entity: ServedEntityOutput) -> ObservedEntity:
    state = entity.state
    return ObservedEntity(
        name=entity.name or "",
        entity_name=entity.entity_name,
        entity_version=entity.entity_version,
        workload_size=entity.workload_size,
        workload_type=entity.workload_type.value if entity.workload_type else None,
        scale_to_zero=entity.scale_to_zero_enabled,
        environment_vars=dict(entity.environment_vars or {}),
        deployment=state.deployment.value if state and state.deployment else None,
        message=(state.deployment_state_message or "") if state else "",
    )
