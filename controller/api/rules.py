"""The CRDs' CEL rules (`x-kubernetes-validations`), each refused at the field it names.

`cel_rules` evaluates them one at a time, on the value as the API server stores it (nulls dropped,
defaults applied). A rule is not evaluated over a value the schema already refused or that kubectl would
not send as written: it would fail for a reason already reported, or evaluate something else than the API
server would.
"""

from __future__ import annotations

import re
from typing import Any

from controller.api import cel_rules
from controller.api.located import Path, Problem

JsonSchema = dict[str, Any]

CHECKED_RULE_KEYS = frozenset({"rule", "message", "fieldPath", "reason"})
"""Every key of a rule this module understands (a test holds the CRDs to it); `reason` only picks the
API server's error type, which the printed problem does not show."""

_FIELD_PATH_PART = re.compile(r"\.([A-Za-z_$][A-Za-z0-9_$]*)|\['((?:[^'\\]|\\.)*)'\]")


def problems(schema: JsonSchema, value: Any, path: Path, refused: list[Path]) -> list[Problem]:
    """Every rule in `schema` and below that `value` breaks, skipping values at or above `refused` paths."""
    found: list[Problem] = []
    _walk(schema, value, path, refused, found)
    return found


def _walk(schema: JsonSchema, value: Any, path: Path, refused: list[Path], found: list[Problem]) -> None:
    if value is None:
        return
    if not any(bad[: len(path)] == path for bad in refused):
        for rule in schema.get("x-kubernetes-validations") or []:
            found.extend(_broken(rule, value, path))
    if isinstance(value, dict):
        properties: dict[str, JsonSchema] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            child = properties[key] if key in properties else extra if isinstance(extra, dict) else None
            if child is not None:
                _walk(child, item, (*path, key), refused, found)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _walk(schema["items"], item, (*path, index), refused, found)


def _broken(rule: dict[str, Any], value: Any, path: Path) -> list[Problem]:
    try:
        failed = cel_rules.violations({"x-kubernetes-validations": [rule]}, value, "")
    except Exception as error:  # the evaluator failing on some value must not hide the other files' problems
        return [Problem(path, f"could not evaluate the rule `{rule['rule']}` offline: {error}")]
    if not failed:
        return []
    message = rule.get("message") or f"failed rule: {rule['rule']}"
    return [Problem(path + _relative(rule.get("fieldPath", "")), message)]


def _relative(field_path: str) -> Path:
    """A rule's fieldPath (`.aliases`, `['a.b'].c`) as path parts; () when it cannot be read."""
    parts: list[str | int] = []
    position = 0
    while position < len(field_path):
        match = _FIELD_PATH_PART.match(field_path, position)
        if match is None:
            return ()
        parts.append(match.group(1) if match.group(1) is not None else re.sub(r"\\(.)", r"\1", match.group(2)))
        position = match.end()
    return tuple(parts)
