"""Compare job settings as Databricks stores them: only what the user set counts, keyed arrays by key.

Databricks fills defaults into every job it stores (`format`, `max_concurrent_runs`,
each task's `run_if`, ...) and may return tasks in any order. Comparing the whole
document would show drift forever; comparing only the fields the user wrote, with
tasks matched by `task_key`, converges.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

Json = dict[str, Any]

KEYED_ARRAYS = {
    "tasks": "task_key",
    "job_clusters": "job_cluster_key",
    "environments": "environment_key",
    "parameters": "name",
    "depends_on": "task_key",
}
"""Arrays whose items are identified by a key rather than by position."""


def canonical(value: Any, field: str = "") -> Any:
    """`value` with every keyed array sorted by its key, so equal settings have one form."""
    if isinstance(value, dict):
        return {k: canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        key = KEYED_ARRAYS.get(field)
        if key and all(isinstance(i, dict) and key in i for i in items):
            items.sort(key=lambda i: str(i[key]))
        return items
    return value


def fingerprint(settings: Json) -> str:
    """A short stable hash of the settings' canonical form."""
    text = json.dumps(canonical(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def differences(desired: Any, actual: Any, path: str = "") -> list[str]:
    """The paths where `actual` does not hold what `desired` says.

    Fields present only in `actual` are the server's defaults and are ignored; an empty
    object or list in `desired` matches an absent field. Keyed arrays must hold the same
    keys (a task added out of band is a difference), each item compared the same way.
    """
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return [path or "settings"]
        found: list[str] = []
        for key, value in desired.items():
            sub = f"{path}.{key}" if path else key
            if key not in actual or actual[key] is None:
                if not _empty(value):
                    found.append(sub)
                continue
            found.extend(_compare_field(key, value, actual[key], sub))
        return found
    return [] if desired == actual else [path]


def _compare_field(field: str, desired: Any, actual: Any, path: str) -> list[str]:
    if not isinstance(desired, list):
        return differences(desired, actual, path)
    if not isinstance(actual, list):
        return [path]
    key = KEYED_ARRAYS.get(field)
    if key and all(isinstance(i, dict) and key in i for i in [*desired, *actual]):
        wanted = {str(i[key]): i for i in desired}
        have = {str(i[key]): i for i in actual}
        found = [f"{path}[{k}]" for k in sorted(wanted.keys() ^ have.keys())]
        for k in sorted(wanted.keys() & have.keys()):
            found.extend(differences(wanted[k], have[k], f"{path}[{k}]"))
        return found
    if len(desired) != len(actual):
        return [path]
    found = []
    for index, (want, have_item) in enumerate(zip(desired, actual, strict=True)):
        found.extend(_compare_field("", want, have_item, f"{path}[{index}]"))
    return found


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []
