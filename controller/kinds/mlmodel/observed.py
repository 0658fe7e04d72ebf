"""The registry's state as the MLModel reconcile sees it: plain, fully typed values."""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.kinds.mlmodel.deployment_job import DeploymentRun


@dataclass(frozen=True)
class ObservedModel:
    """A registered model."""

    name: str
    description: str
    tags: dict[str, str]
    aliases: dict[str, int]
    deployment_job_id: str | None = None  # Unity Catalog: MLflow 3's deployment job
    latest_version: int | None = None  # MLflow: the highest version, from the model's own read; else not known


@dataclass(frozen=True)
class ObservedVersion:
    """One model version."""

    version: int
    status: str
    source: str
    run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    model_id: str | None = None  # the MLflow 3 logged model it was registered from
    deployment_run: DeploymentRun | None = None  # Unity Catalog: the model's deployment job run for it

    @property
    def logged_model_id(self) -> str | None:
        """Its logged model: recorded by the registry, or named by a `models:/<id>` source."""
        if self.model_id:
            return self.model_id
        prefix = "models:/"
        named = self.source[len(prefix) :] if self.source.startswith(prefix) else ""
        return named if named.startswith("m-") and "/" not in named else None


@dataclass(frozen=True)
class CopySource:
    """A version in another registry whose files are copied into this one to make a new version."""

    location: str  # the source registry: its tracking URI or workspace host
    registered_name: str
    version: int
    artifact_uri: str  # where the source version's files are (read with MLflow's artifact repositories)
    metrics: dict[str, float] = field(default_factory=dict)  # measured on the source, recorded with the copy

    @property
    def uri(self) -> str:
        return f"models:/{self.registered_name}/{self.version}@{self.location}"


@dataclass(frozen=True)
class SourceRequest:
    """What to register: a logged model id, a run and the path its model was logged under, or a copy."""

    model_id: str | None = None
    run_id: str | None = None
    artifact_path: str | None = None
    copy_of: CopySource | None = None

    @property
    def key(self) -> str:
        """A stable text for the source; the fingerprint is derived from it."""
        if self.copy_of:
            return f"copy:{self.copy_of.uri}"
        if self.model_id:
            return f"model:{self.model_id}"
        return f"run:{self.run_id}/{self.artifact_path}"
