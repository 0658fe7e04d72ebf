"""Ownership tags: every external object the controller creates names the resource that owns it.

An object tagged with another resource is never changed or deleted; an untagged one is taken over
(tagged) only when the spec asks for it with `adopt: true`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from controller.status import conditions as c

TAG_PREFIX = "mlops.gitops.dev"
OWNER_TAG = f"{TAG_PREFIX}/owner"
MANAGED_BY_TAG = f"{TAG_PREFIX}/managed-by"
MANAGED_TAG = f"{TAG_PREFIX}/managed"  # JSON: what this resource set (tag keys, aliases), to remove only its own
CONTROLLER_NAME = "mlops-gitops-controller"


def ownership_tags(owner: str) -> dict[str, str]:
    """The tags naming `owner` ("namespace/name") and the controller."""
    return {OWNER_TAG: owner, MANAGED_BY_TAG: CONTROLLER_NAME}


@dataclass(frozen=True)
class Claim:
    """Whether a resource may manage an existing external object."""

    mine: bool  # it may (it owns it, or adopts it now)
    adopt: bool = False  # it takes the object over now: the caller writes the ownership tags
    reason: str = ""  # why not (a condition reason) when not `mine`
    message: str = ""


def claim(tags: Mapping[str, str], *, owner: str, adopt: bool, what: str) -> Claim:
    """Refuse an object owned by another resource; adopt an unowned one only when asked."""
    current = tags.get(OWNER_TAG)
    if current == owner:
        return Claim(mine=True)
    if current:
        return Claim(mine=False, reason=c.OWNED_BY_ANOTHER, message=f"{what} is owned by {current}")
    if not adopt:
        message = f"{what} already exists and is not managed; set spec.adopt: true to take it over"
        return Claim(mine=False, reason=c.ADOPTION_REQUIRED, message=message)
    return Claim(mine=True, adopt=True)


def owned_by(tags: Mapping[str, str], owner: str) -> bool:
    return tags.get(OWNER_TAG) == owner


def read_managed(tags: Mapping[str, str], *groups: str) -> dict[str, set[str]]:
    """What this resource recorded as set by it, per group ("tags", "aliases"); empty when unreadable."""
    try:
        raw = json.loads(tags.get(MANAGED_TAG) or "{}")
    except json.JSONDecodeError:
        raw = {}
    if not isinstance(raw, dict):
        raw = {}
    return {group: {str(item) for item in raw.get(group) or []} for group in groups}


def encode_managed(**groups: Iterable[str]) -> str:
    """The managed record's tag value, groups in the order given, items sorted (stable across reconciles)."""
    return json.dumps({group: sorted(items) for group, items in groups.items()}, separators=(",", ":"))
