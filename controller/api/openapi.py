"""Check a value against a CRD's structural OpenAPI schema, as the API server does before the CEL rules.

The API server first drops nulls of fields that are not nullable (a default fills one in), applies the
schema's defaults, then refuses what the schema does not allow. `check` does the same and returns the value
as it would be stored, which is what the CEL rules and the controller see. Unknown fields are refused, as
`kubectl apply` asks for by default (`--validate=strict`).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from controller.api.located import Path, Problem, shown
from controller.api.yaml_scalars import INT64_MAX, INT64_MIN

JsonSchema = dict[str, Any]

CHECKED_KEYWORDS = frozenset(
    {
        "type", "description", "default", "nullable", "enum", "pattern", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minItems", "maxItems", "items", "minProperties", "maxProperties", "properties", "required",
        "additionalProperties", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string",
        "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-validations",
    }
)  # fmt: skip
"""Every schema keyword this module enforces (the CEL rules are `rules.py`'s); a test holds the CRDs to it."""

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass
class Checked:
    """The value as the API server would store it, and what the schema refuses in it."""

    value: Any
    problems: list[Problem] = field(default_factory=list)


def check(schema: JsonSchema, value: Any, path: Path) -> Checked:
    """`value` (found at `path`) as stored under `schema`, with the schema's problems in it."""
    checked = Checked(None)
    checked.value = _Checker(checked.problems).value(schema, value, path)
    return checked


class _Checker:
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def refuse(self, path: Path, message: str, *, at_key: bool = False) -> None:
        self.problems.append(Problem(path, message, at_key=at_key))

    def value(self, schema: JsonSchema, value: Any, path: Path) -> Any:
        if value is None and schema.get("nullable"):
            return None
        if not self._typed(schema, value, path):
            return value
        if "enum" in schema and not any(_same(value, allowed) for allowed in schema["enum"]):
            supported = ", ".join(shown(allowed) for allowed in schema["enum"])
            self.refuse(path, f"Unsupported value: {shown(value)}: supported values: {supported}")
        if isinstance(value, str):
            self._string(schema, value, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            self._number(schema, value, path)
        elif isinstance(value, dict):
            return self._object(schema, value, path)
        elif isinstance(value, list):
            return self._array(schema, value, path)
        return value

    def _typed(self, schema: JsonSchema, value: Any, path: Path) -> bool:
        if schema.get("x-kubernetes-int-or-string"):
            wanted, ok = "integer or string", isinstance(value, (int, str)) and not isinstance(value, bool)
        elif "type" in schema:
            wanted = schema["type"]
            ok = isinstance(value, _TYPES[wanted]) and not (isinstance(value, bool) and wanted != "boolean")
        else:
            return True
        if not ok:
            self.refuse(path, f"Invalid value: {shown(value)}: must be of type {wanted}")
        return ok

    def _string(self, schema: JsonSchema, value: str, path: Path) -> None:
        if len(value) < schema.get("minLength", 0):
            self.refuse(path, f"Invalid value: {shown(value)}: must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.refuse(path, f"Too long: may not be more than {schema['maxLength']} characters")
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            self.refuse(path, f"Invalid value: {shown(value)}: should match '{schema['pattern']}'")

    def _number(self, schema: JsonSchema, value: float, path: Path) -> None:
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            self.refuse(path, f"Invalid value: {shown(value)}: integers must fit in 64 bits")
        if "minimum" in schema:
            low, exclusive = schema["minimum"], schema.get("exclusiveMinimum") is True
            if value < low or (exclusive and value == low):
                relation = "greater than" if exclusive else "greater than or equal to"
                self.refuse(path, f"Invalid value: {shown(value)}: should be {relation} {low}")
        if "maximum" in schema:
            high, exclusive = schema["maximum"], schema.get("exclusiveMaximum") is True
            if value > high or (exclusive and value == high):
                relation = "less than" if exclusive else "less than or equal to"
                self.refuse(path, f"Invalid value: {shown(value)}: should be {relation} {high}")
        if "multipleOf" in schema and value % schema["multipleOf"]:
            self.refuse(path, f"Invalid value: {shown(value)}: should be a multiple of {schema['multipleOf']}")

    def _object(self, schema: JsonSchema, value: dict[str, Any], path: Path) -> dict[str, Any]:
        properties: dict[str, JsonSchema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        keep_unknown = schema.get("x-kubernetes-preserve-unknown-fields") is True
        stored: dict[str, Any] = {}
        for key, item in value.items():
            child = properties[key] if key in properties else extra if isinstance(extra, dict) else None
            if child is None:
                if keep_unknown:
                    stored[key] = item
                else:
                    self.refuse((*path, key), "field not declared in the schema", at_key=True)
                continue
            if item is None and not child.get("nullable"):
                if "default" not in child:
                    continue  # a null is dropped, as if the field were not there
                item = copy.deepcopy(child["default"])
            stored[key] = self.value(child, item, (*path, key))
        for key, child in properties.items():
            if key not in stored and "default" in child:
                stored[key] = self.value(child, copy.deepcopy(child["default"]), (*path, key))
        for key in schema.get("required", []):
            if key not in stored:
                self.refuse((*path, key), "Required value")
        if len(stored) < schema.get("minProperties", 0):
            self.refuse(path, f"Invalid value: {len(stored)}: must have at least {schema['minProperties']} properties")
        if "maxProperties" in schema and len(stored) > schema["maxProperties"]:
            self.refuse(path, f"Too many: {len(stored)}: must have at most {schema['maxProperties']} properties")
        return stored

    def _array(self, schema: JsonSchema, value: list[Any], path: Path) -> list[Any]:
        if len(value) < schema.get("minItems", 0):
            self.refuse(path, f"Invalid value: {len(value)}: must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.refuse(path, f"Too many: {len(value)}: must have at most {schema['maxItems']} items")
        items = schema.get("items")
        stored = [self.value(items, item, (*path, i)) if items else item for i, item in enumerate(value)]
        list_type = schema.get("x-kubernetes-list-type")
        if list_type == "map":
            names = schema.get("x-kubernetes-list-map-keys", [])
            self._unique(path, [_map_key(item, names) for item in stored])
        elif list_type == "set":
            self._unique(path, [json.dumps(item, sort_keys=True, default=repr) for item in stored])
        return stored

    def _unique(self, path: Path, keys: list[str | None]) -> None:
        """A list-map's keys, or a set's items, appear once: the API server refuses the repeat."""
        first: dict[str, int] = {}
        for index, key in enumerate(keys):
            if key is not None and key in first:
                self.refuse((*path, index), f"Duplicate value: {key}: the same as item {first[key]}")
            elif key is not None:
                first[key] = index


def _map_key(item: Any, names: list[str]) -> str | None:
    """`{"name": "nov"}` for an item of a list-map keyed by name; None when it has no key to compare."""
    if not isinstance(item, dict) or not all(name in item for name in names):
        return None
    return json.dumps({name: item[name] for name in names}, default=repr)


def _same(value: Any, allowed: Any) -> bool:
    """JSON equality: true is not 1, and 1 is 1.0."""
    if isinstance(value, bool) or isinstance(allowed, bool):
        return value is allowed
    return bool(value == allowed)


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """The schema's pattern as Go's regexp reads it: `$` is the end of the text, never before a final newline."""
    translated, in_class, escaped = "", False, False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            translated += r"\Z"
            continue
        translated += char
    return re.compile(translated)
