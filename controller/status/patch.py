"""What a reconcile writes to status: its Outcome as one merge patch over the status it started from.

The controller sends the patch (`handling.reconcile`); `mlopsctl plan` applies it in memory, so the
resources that follow this one read the status the controller would have written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from controller.clients.redaction import redact
from controller.status import conditions as c
from controller.status.outcome import Outcome


def status_patch(outcome: Outcome, *, status: Mapping[str, Any], generation: int, now: datetime) -> dict[str, Any]:
    """Observed fields, both conditions, observedGeneration and lastObservedAt as one status patch."""
    conditions = [dict(cond) for cond in status.get("conditions") or []]
    ready, synced = (replace(v, message=redact(v.message)) for v in (outcome.ready, outcome.synced))
    conditions = c.set_condition(conditions, type_=c.READY, verdict=ready, generation=generation, now=now)
    conditions = c.set_condition(conditions, type_=c.SYNCED, verdict=synced, generation=generation, now=now)
    applied = {"appliedGeneration": generation} if outcome.applied else {}
    return {
        **_removing_gone_keys(outcome.observed, status),
        **applied,
        "conditions": conditions,
        "observedGeneration": generation,
        "lastObservedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def patched_status(outcome: Outcome, *, status: Mapping[str, Any], generation: int, now: datetime) -> dict[str, Any]:
    """The status as stored once `status_patch` is applied to it."""
    return _merged(status, status_patch(outcome, status=status, generation=generation, now=now))


def _removing_gone_keys(observed: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """`observed` as a merge patch over `status`: a map key observed before and gone now is set to null.

    A merge patch merges maps key by key, so without this an alias deleted from the registry would stay in
    status.aliases for ever. Lists are replaced whole and need nothing.
    """
    patch: dict[str, Any] = {}
    for key, value in observed.items():
        before = status.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            value = {**{gone: None for gone in before if gone not in value}, **_removing_gone_keys(value, before)}
        patch[key] = value
    return patch


def _merged(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7386) applied as the API server applies it: null removes, maps merge."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping):
            before = merged.get(key)
            merged[key] = _merged(before if isinstance(before, Mapping) else {}, value)
        else:
            merged[key] = value
    return merged
