"""Kubernetes names from external names: valid (a DNS-1123 label), deterministic, and one per asset."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

from controller.importing.assets import Asset

MAX_LENGTH = 63
"""A DNS-1123 label: a valid name for every kind, and short enough for kubectl's columns."""


def derived(external: str) -> str:
    """`main.risk.Fraud_Detector` → `main-risk-fraud-detector`: lowercase, anything else a single '-'."""
    name = re.sub(r"[^a-z0-9]+", "-", external.lower()).strip("-")
    return name[:MAX_LENGTH].rstrip("-")


def short_hash(text: str) -> str:
    """Six hex digits that tell two external names apart whatever else is imported with them."""
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def assign(assets: Iterable[Asset]) -> list[str]:
    """Name every asset; where two of a kind would share a name, each gets its disambiguator appended.

    Returns a line per renamed asset, for the report.
    """
    groups: dict[tuple[str, str], list[Asset]] = defaultdict(list)
    for asset in assets:
        groups[(asset.kind.kind, derived(asset.base_name) or asset.kind.kind.lower())].append(asset)
    renamed: list[str] = []
    for (_, base), members in sorted(groups.items()):
        if len(members) == 1:
            members[0].name = base
            continue
        for asset in members:
            suffix = derived(asset.disambiguator) or short_hash(asset.external)
            asset.name = f"{base[: MAX_LENGTH - len(suffix) - 1].rstrip('-')}-{suffix}"
            renamed.append(f"{asset.kind.kind} {asset.name} ({asset.external}): {base} is shared by {len(members)}")
    return renamed
