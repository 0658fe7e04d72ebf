"""The endpoint's AI gateway: only the parts the spec sets are compared and written, the others kept.

The gateway stays in Databricks' JSON form, so parts the controller does not know (guardrails)
are sent back as they were.
"""

from __future__ import annotations

import dataclasses

from controller.kinds.servingendpoint.model import ServingEndpointSpec
from controller.kinds.servingendpoint.observed import Json, ObservedEndpoint
from controller.kinds.servingendpoint.state import EndpointRun

Table = tuple[str, str, str, bool]


def gateway_parts(spec: ServingEndpointSpec) -> Json:
    """The AI gateway parts the spec sets, in Databricks' form."""
    parts: Json = {}
    table = spec.inference_table
    if table is not None:
        parts["inference_table_config"] = {
            "catalog_name": table.catalog,
            "schema_name": table.schema_,
            "table_name_prefix": table.table_prefix,
            "enabled": table.enabled,
        }
    if spec.rate_limits is not None:
        parts["rate_limits"] = [
            {
                "renewal_period": limit.renewal_period,
                "calls": limit.calls,
                "key": limit.key,
                **({"principal": limit.principal} if limit.principal else {}),
            }
            for limit in spec.rate_limits
        ]
    if spec.usage_tracking is not None:
        parts["usage_tracking_config"] = {"enabled": spec.usage_tracking}
    return parts


def gateway_differences(spec: ServingEndpointSpec, gateway: Json) -> list[str]:
    """How the endpoint's AI gateway differs from the parts the spec sets."""
    wanted = gateway_parts(spec)
    found: list[str] = []
    if "inference_table_config" in wanted:
        now, want = _table(gateway.get("inference_table_config")), _table(wanted["inference_table_config"])
        if now != want:
            found.append(f"inference table is {_describe_table(now)}, spec says {_describe_table(want)}")
    if "rate_limits" in wanted and _limits(gateway.get("rate_limits")) != _limits(wanted["rate_limits"]):
        found.append("rate limits differ")
    if "usage_tracking_config" in wanted:
        now_tracking = bool((gateway.get("usage_tracking_config") or {}).get("enabled"))
        if now_tracking != wanted["usage_tracking_config"]["enabled"]:
            found.append(f"usage tracking is {now_tracking}, spec says {not now_tracking}")
    return found


def sync_gateway(run: EndpointRun, endpoint: ObservedEndpoint) -> ObservedEndpoint:
    """Put the AI gateway parts the spec sets, keeping the others as they are."""
    differences = gateway_differences(run.spec, endpoint.gateway)
    if not differences:
        return endpoint
    desired = {**endpoint.gateway, **gateway_parts(run.spec)}
    now = endpoint.gateway.get("inference_table_config") or {}
    want = desired.get("inference_table_config") or {}
    if now.get("enabled") and want.get("enabled") and _table(now) != _table(want):
        # Databricks refuses to move an enabled inference table: turn capture off first.
        paused = {**endpoint.gateway, "inference_table_config": {**now, "enabled": False}}
        if run.attempt(lambda: run.serving.put_ai_gateway(run.name, paused)) is None:
            return endpoint
    gateway = run.attempt(lambda: run.serving.put_ai_gateway(run.name, desired))
    if gateway is None:
        return endpoint
    run.changed("AI gateway: " + "; ".join(differences))
    return dataclasses.replace(endpoint, gateway=gateway)


def _table(raw: Json | None) -> Table | None:
    """An inference table's location, or None when capture is off (where a disabled table points is moot)."""
    if not raw or not raw.get("enabled"):
        return None
    return (str(raw.get("catalog_name")), str(raw.get("schema_name")), str(raw.get("table_name_prefix")), True)


def _describe_table(table: Table | None) -> str:
    return "off" if table is None else f"{table[0]}.{table[1]}.{table[2]}_payload"


def _limits(raw: list[Json] | None) -> list[tuple[object, ...]]:
    """Rate limits without order, with Databricks' defaults made explicit."""
    return sorted(
        (
            (
                limit.get("calls"),
                limit.get("tokens"),
                limit.get("key") or "endpoint",
                limit.get("renewal_period") or "minute",
                limit.get("principal"),
            )
            for limit in raw or []
        ),
        key=repr,
    )
