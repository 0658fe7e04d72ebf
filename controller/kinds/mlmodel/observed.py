"""The registry's state as the MLModel reconcile sees it: plain, fully typed values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ObservedModel:
    """A registered model."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]


@dataclass(frozen=True)
class ObservedVersion:
    """One model version."""

    version: int
    status: str
    source: str
    run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None  # the MLflow 3 logged model it was registered from

    @property
    def logged_model_id(self) -> str | None:
        """Its logged model: recorded by the registry, or named by a `models:/<id>` source."""
        if self.model_id:
            return self.model_id
        prefix = "models:/"
        named = self.source[len(prefix) :] if self.source.startswith(prefix) else ""
        return named if named.startswith("m-") and "/" not in named else None


@dataclass(frozen=True)
class SourceRequest:
    """What to register: a logged model id, or a run and the path its model was logged under."""

    model_id: str | None = None
    run_id: str | None = None
    artifact_path: str | None = None

    @property
    def key(self) -> str:
        """A stable text for the source; the fingerprint is derived from it."""
        if self.model_id:
            return f"model:{self.model_id}"
        return f"run:{self.run_id}/{self.artifact_path}"
