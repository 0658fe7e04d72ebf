"""A serving endpoint as a ServingEndpoint spec that adopts it as it is (for `mlopsctl import`).

The inverse of `wanted.config_payload` and `gateway.gateway_parts`: served entities by name,
version and workload, the traffic split, the AI gateway parts the kind manages, and the tags. An
endpoint the kind cannot express is refused with the reasons, never imported with parts missing:
a later config update from the controller would drop what the spec has no place for.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from controller.api.common import ObjectRef
from controller.kinds.servingendpoint.model import InferenceTable, RateLimit, ServedEntity, ServingEndpointSpec
from controller.kinds.servingendpoint.observed import Json
from controller.reconciling.ownership import TAG_PREFIX

_ENTITY_FIELDS = frozenset(
    {"name", "entity_name", "entity_version", "workload_size", "workload_type", "scale_to_zero_enabled"}
    | {"environment_vars"}
)
_ENTITY_OUTPUT = frozenset({"creation_timestamp", "creator", "state"})
_LEFT_ALONE = {
    "route_optimized": "route optimization",
    "description": "the description",
    "budget_policy_id": "the budget policy",
    "email_notifications": "email notifications",
    "telemetry_config": "telemetry",
}
_GATEWAY_LEFT_ALONE = {"guardrails": "AI gateway guardrails", "fallback_config": "AI gateway fallbacks"}


def spec_of(endpoint: Json, *, workspace: str) -> ServingEndpointSpec | list[str]:
    """The spec adopting the endpoint, or why the kind cannot express it."""
    name = str(endpoint.get("name", ""))
    if endpoint.get("pending_config"):
        return ["a config update is in progress; import it again once it has finished"]
    config = endpoint.get("config") or {}
    entities = config.get("served_entities") or []
    if not entities:
        return ["it has no served entities (no active config)"]
    problems = [p for entity in entities for p in _entity_problems(entity)]
    gateway = endpoint.get("ai_gateway") or {}
    problems += _gateway_problems(gateway)
    if problems:
        return problems
    try:
        return ServingEndpointSpec(
            workspace_ref=ObjectRef(name=workspace),
            endpoint_name=name,
            served_entities=[_entity(e) for e in entities],
            traffic=_traffic(config, len(entities)),
            tags={
                t["key"]: t.get("value") or ""
                for t in endpoint.get("tags") or []
                if not t["key"].startswith(TAG_PREFIX)
            },
            adopt=True,
            **_gateway(gateway),
        )
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]


def left_alone(endpoint: Json) -> list[str]:
    """Settings the endpoint has that the kind neither sets nor changes: they stay as they are, outside Git."""
    found = [what for key, what in _LEFT_ALONE.items() if _set(endpoint.get(key))]
    gateway = endpoint.get("ai_gateway") or {}
    return found + [what for key, what in _GATEWAY_LEFT_ALONE.items() if _set(gateway.get(key))]


def _entity_problems(entity: Json) -> list[str]:
    name = entity.get("name") or "?"
    if entity.get("external_model"):
        return [f"served entity {name} serves an external model, which ServingEndpoint cannot express"]
    if entity.get("foundation_model"):
        return [f"served entity {name} serves a foundation model, which ServingEndpoint cannot express"]
    if not entity.get("entity_name") or not str(entity.get("entity_version") or "").isdigit():
        return [f"served entity {name} names no registered model version"]
    extra = sorted(k for k, v in entity.items() if k not in _ENTITY_FIELDS | _ENTITY_OUTPUT and _unexpressible(k, v))
    return [f"served entity {name} sets {', '.join(extra)}, which ServingEndpoint has no field for"] if extra else []


def _unexpressible(key: str, value: Any) -> bool:
    if key == "burst_scaling_enabled":
        return value is False  # on unless turned off (a guess: docs/import.md)
    return _set(value)


def _entity(entity: Json) -> ServedEntity:
    return ServedEntity(
        name=entity["name"],
        entity_name=entity["entity_name"],
        entity_version=int(entity["entity_version"]),
        workload_size=entity.get("workload_size") or "Small",
        workload_type=entity.get("workload_type") or "CPU",
        scale_to_zero=bool(entity.get("scale_to_zero_enabled")),
        environment_vars=dict(entity.get("environment_vars") or {}),
    )


def _traffic(config: Json, entities: int) -> dict[str, int]:
    """The routes; none when the only entity gets everything (what Databricks does without routes)."""
    routes = {
        str(r.get("served_entity_name") or r.get("served_model_name")): int(r.get("traffic_percentage") or 0)
        for r in (config.get("traffic_config") or {}).get("routes") or []
    }
    if entities == 1 and list(routes.values()) in ([], [100]):
        return {}
    return routes


def _gateway_problems(gateway: Json) -> list[str]:
    limits = gateway.get("rate_limits") or []
    if any(_set(limit.get("tokens")) or limit.get("calls") is None for limit in limits):
        return ["an AI gateway rate limit counts tokens, which ServingEndpoint cannot express"]
    return []


def _gateway(gateway: Json) -> dict[str, Any]:
    """The AI gateway parts the kind manages, as spec fields; parts not set stay unset (left as they are)."""
    fields: dict[str, Any] = {}
    table = gateway.get("inference_table_config") or {}
    if table.get("catalog_name") and table.get("schema_name") and table.get("table_name_prefix"):
        fields["inference_table"] = InferenceTable(
            catalog=table["catalog_name"],
            schema_=table["schema_name"],
            table_prefix=table["table_name_prefix"],
            enabled=bool(table.get("enabled")),
        )
    if "rate_limits" in gateway:
        fields["rate_limits"] = [
            RateLimit(
                calls=limit["calls"],
                renewal_period=limit.get("renewal_period") or "minute",
                key=limit.get("key") or "endpoint",
                principal=limit.get("principal"),
            )
            for limit in gateway["rate_limits"] or []
        ]
    if "usage_tracking_config" in gateway:
        fields["usage_tracking"] = bool((gateway["usage_tracking_config"] or {}).get("enabled"))
    return fields


def _set(value: Any) -> bool:
    return value not in (None, False, "", [], {})
