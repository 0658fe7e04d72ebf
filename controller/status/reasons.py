"""What a condition reason is, and the catalog of them that the docs' reason tables are generated from.

The reasons themselves are declared in controller/status/conditions.py, each with `reason(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The kinds a reason applies to (their `kind`; the docs page is docs/kinds/<kind lower-cased>.md).
WORKSPACE = "Workspace"
# The kinds that reference a Workspace.
MANAGED = ("MLModel", "ServingEndpoint", "MLJob", "ModelMonitor", "Experiment", "GitFolder")
EVERY_KIND = (WORKSPACE, *MANAGED)
ON_DATABRICKS = ("ServingEndpoint", "MLJob", "ModelMonitor", "GitFolder")  # the kinds an MLflow Workspace cannot serve

# How a reason shows in the two conditions.
READY_TRUE = "Ready=True"
NOT_READY = "Ready=False, Synced=True"  # nothing failed: something is missing, not done, or not ours
FAILING = "Ready=False, Synced=False"


@dataclass(frozen=True)
class Reason:
    """One condition reason, as the docs explain it."""

    name: str
    condition: str
    kinds: tuple[str, ...]
    meaning: str
    action: str = ""  # empty: nothing to do
    per_kind: Mapping[str, str] = field(default_factory=dict)  # a kind's own wording of the meaning

    def meaning_for(self, kind: str) -> str:
        return self.per_kind.get(kind, self.meaning)


CATALOG: dict[str, Reason] = {}


def reason(
    name: str,
    condition: str,
    kinds: tuple[str, ...],
    meaning: str,
    action: str = "",
    *,
    per_kind: Mapping[str, str] | None = None,
) -> str:
    """Declare a reason in the catalog; returns its name, the value conditions carry."""
    if name in CATALOG:
        raise ValueError(f"reason {name} is declared twice")
    CATALOG[name] = Reason(name, condition, kinds, meaning, action, dict(per_kind or {}))
    return name
