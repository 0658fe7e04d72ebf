"""What a serving endpoint accepts besides its config: the AI gateway, legacy rate limits and tags."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.databricks.state import Json, invalid

_GATEWAY_KEYS = ("user", "endpoint", "user_group", "service_principal")
_LEGACY_KEYS = ("user", "endpoint")
_TABLE_FIELDS = ("catalog_name", "schema_name", "table_name_prefix", "enabled")


def gateway(body: Json, current: Json | None, endpoint: str) -> Json:
    """The AI gateway a `put_ai_gateway` (or a create's `ai_gateway`) sets, given the current one."""
    out: Json = {}
    table = body.get("inference_table_config")
    if table is not None:
        out["inference_table_config"] = _inference_table(table, (current or {}).get("inference_table_config"), endpoint)
    limits = body.get("rate_limits")
    if limits is not None:
        for limit in limits:
            if limit.get("renewal_period") != "minute":
                raise invalid("rate_limits.renewal_period must be 'minute'.")
            if limit.get("calls") is None and limit.get("tokens") is None:
                raise invalid("A rate limit needs 'calls' or 'tokens'.")
            if limit.get("key") is not None and limit["key"] not in _GATEWAY_KEYS:
                raise invalid(f"Invalid rate limit key '{limit['key']}'.")
        out["rate_limits"] = copy.deepcopy(limits)
    for key in ("usage_tracking_config", "guardrails", "fallback_config"):
        if body.get(key) is not None:
            out[key] = copy.deepcopy(body[key])
    return out


def _inference_table(table: Json, old: Json | None, endpoint: str) -> Json:
    table = {k: table[k] for k in _TABLE_FIELDS if k in table}
    if table.get("enabled"):
        for key in ("catalog_name", "schema_name"):
            if not table.get(key):
                raise invalid(f"Missing required field: inference_table_config.{key}")
        table.setdefault("table_name_prefix", endpoint)
    if (old or {}).get("enabled") and table.get("enabled"):
        for key in ("catalog_name", "schema_name", "table_name_prefix"):
            if table.get(key) != (old or {}).get(key):
                raise invalid(
                    f"Cannot change {key} of the inference table while it is enabled; "
                    "disable the inference table first."
                )
    return table


def legacy_rate_limits(limits: list[Json]) -> list[Json]:
    """The endpoint-level rate limits of the legacy `put` call."""
    for limit in limits:
        if limit.get("renewal_period") != "minute" or not isinstance(limit.get("calls"), int):
            raise invalid("Each rate limit needs integer 'calls' and renewal_period 'minute'.")
        if limit.get("key") is not None and limit["key"] not in _LEGACY_KEYS:
            raise invalid(f"Invalid rate limit key '{limit['key']}'.")
    return copy.deepcopy(limits)


def tags(raw: Any) -> list[Json]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) and t.get("key") for t in raw):
        raise invalid("Each tag must be an object with a non-empty 'key'.")
    return raw
