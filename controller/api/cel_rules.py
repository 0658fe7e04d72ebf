"""Evaluate the CRDs' CEL rules (`x-kubernetes-validations`) offline, as the API server would at apply.

The rules are read from the same generated schema the API server gets, so an offline
check can never disagree with the cluster about what they say. Transition rules
(those using `oldSelf`) need the stored object and are left to the API server.
"""

from __future__ import annotations

import functools
from typing import Any

import celpy
from celpy import celtypes

JsonSchema = dict[str, Any]

_ENVIRONMENT = celpy.Environment()


def violations(schema: JsonSchema, value: Any, path: str) -> list[str]:
    """`field: message` for every rule in `schema` (and below) that `value` breaks."""
    found: list[str] = []
    if value is None:
        return found
    for rule in schema.get("x-kubernetes-validations") or []:
        if "oldSelf" in rule["rule"]:
            continue
        if not _holds(rule["rule"], value):
            found.append(f"{path}{rule.get('fieldPath', '')}: {rule.get('message') or 'failed rule ' + rule['rule']}")
    if isinstance(value, dict):
        for name, child in (schema.get("properties") or {}).items():
            found += violations(child, value.get(name), f"{path}.{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for key, child_value in value.items():
                found += violations(extra, child_value, f"{path}.{key}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += violations(schema["items"], item, f"{path}[{index}]")
    return found


@functools.cache
def _program(rule: str) -> Any:
    return _ENVIRONMENT.program(_ENVIRONMENT.compile(rule))


def _holds(rule: str, value: Any) -> bool:
    result = _program(rule).evaluate({"self": celpy.json_to_cel(value)})
    return isinstance(result, celtypes.BoolType) and bool(result)
