"""What an import found: assets it can write as manifests, and assets it cannot (with why)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from controller.api.crd import KindDefinition


@dataclass
class Asset:
    """One external object and the spec that adopts it; `name` is set once every asset is known."""

    kind: KindDefinition
    external: str
    """What it is called outside the cluster, e.g. "serving endpoint fraud-detector"."""
    base_name: str
    """The external name the resource's name is derived from."""
    disambiguator: str
    """Appended to the name when another asset of the kind derives the same one (a job id, a hash)."""
    spec: BaseModel
    comments: list[str] = field(default_factory=list)
    """Said in the manifest and the report: a reference kept explicit, a setting left outside Git."""
    name: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.kind.kind.lower()}-{self.name}.yaml"


@dataclass(frozen=True)
class Skipped:
    """An external object no manifest was written for, and why."""

    kind: KindDefinition
    external: str
    reasons: tuple[str, ...]
