"""An in-memory model registry that behaves like MLflow's for the calls the reconcile makes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from controller.clients import errors
from controller.kinds.mlmodel.observed import ObservedModel, ObservedVersion, SourceRequest


@dataclass
class FakeRegistry:
    models: dict[str, ObservedModel] = field(default_factory=dict)
    versions: dict[str, list[ObservedVersion]] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)
    missing_sources: set[str] = field(default_factory=set)
    down: bool = False
    refuse: dict[str, errors.ExternalError] = field(default_factory=dict)  # call name → error it raises
    creates_versions: bool = True

    def seed(
        self,
        name: str,
        *,
        versions: int = 0,
        tags: dict[str, str] | None = None,
        aliases: dict[str, int] | None = None,
        description: str = "",
    ) -> None:
        self.models[name] = ObservedModel(
            name=name, description=description, tags=dict(tags or {}), aliases=dict(aliases or {})
        )
        self.versions[name] = [
            ObservedVersion(version=n, status="READY", source=f"models:/seed-{n}", run_id=None)
            for n in range(1, versions + 1)
        ]

    def _check(self, call: str = "") -> None:
        if self.down:
            raise errors.Unavailable("connection refused")
        if call in self.refuse:
            raise self.refuse[call]

    def _model(self, name: str) -> ObservedModel:
        if name not in self.models:
            raise errors.NotFound(f"Registered Model with name={name} not found")
        return self.models[name]

    def get_model(self, name: str) -> ObservedModel | None:
        self._check("get_model")
        model = self.models.get(name)
        return None if model is None else replace(model, tags=dict(model.tags), aliases=dict(model.aliases))

    def create_model(self, name: str, *, description: str | None, tags: dict[str, str]) -> None:
        self._check("create_model")
        if name in self.models:
            raise errors.AlreadyExists(f"Registered Model (name={name}) already exists.")
        self.models[name] = ObservedModel(name=name, description=description or "", tags=dict(tags), aliases={})
        self.versions[name] = []
        self.writes.append(f"create_model {name}")

    def set_description(self, name: str, description: str) -> None:
        self.models[name] = replace(self._model(name), description=description)
        self.writes.append(f"set_description {description}")

    def set_tag(self, name: str, key: str, value: str) -> None:
        self._model(name).tags[key] = value
        self.writes.append(f"set_tag {key}={value}")

    def delete_tag(self, name: str, key: str) -> None:
        self._model(name).tags.pop(key, None)
        self.writes.append(f"delete_tag {key}")

    def list_versions(self, name: str) -> list[ObservedVersion]:
        self._check("list_versions")
        return list(self.versions.get(name, []))

    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion:
        self._check("create_version")
        if source.key in self.missing_sources:
            raise errors.NotFound(f"Logged model {source.model_id} not found")
        existing = self.versions.setdefault(name, [])
        version = ObservedVersion(
            version=len(existing) + 1,
            status="READY",
            source=self.source_uri(source),
            run_id=source.run_id,
            tags=dict(tags),
        )
        existing.append(version)
        self.writes.append(f"create_version {version.version}")
        return version

    def tag_version(self, name: str, version: int, key: str, value: str) -> None:
        found = next(v for v in self.versions[name] if v.version == version)
        found.tags[key] = value
        self.writes.append(f"tag_version {version} {key}")

    def set_alias(self, name: str, alias: str, version: int) -> None:
        if alias.lower() == "latest":
            raise errors.Rejected("alias 'latest' is reserved")
        if version not in {v.version for v in self.versions[name]}:
            raise errors.NotFound(f"version {version} not found")
        self._model(name).aliases[alias] = version
        self.writes.append(f"set_alias {alias}={version}")

    def delete_alias(self, name: str, alias: str) -> None:
        self._model(name).aliases.pop(alias, None)
        self.writes.append(f"delete_alias {alias}")

    def delete_model(self, name: str) -> None:
        self._model(name)
        del self.models[name]
        self.writes.append(f"delete_model {name}")

    def source_uri(self, source: SourceRequest) -> str:
        return f"models:/{source.model_id}" if source.model_id else f"runs:/{source.run_id}/{source.artifact_path}"

    def model_url(self, name: str) -> str:
        return f"http://mlflow/#/models/{name}"
