"""Unity Catalog registered models, their versions and aliases (`/api/2.1/unity-catalog/models`).

Model versions cannot be created through the Databricks SDK (MLflow's client
makes them), so `seed_version` stands in for a training job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from sandbox.databricks.catalog_objects import IDENT, VERSION_STATUSES, Model, Schema, Version, split_name
from sandbox.databricks.deployment_jobs import DeploymentJobs
from sandbox.databricks.mlflow_uc import MlflowUnityCatalog
from sandbox.databricks.model_files import ModelFiles
from sandbox.databricks.state import (
    Clock,
    Json,
    Request,
    Route,
    already_exists,
    int_param,
    invalid,
    new_uuid,
    not_found,
    optional,
    page,
    require,
)


class RegisteredModels:
    """State and REST handlers of registered models, versions and aliases, including MLflow's tag calls."""

    def __init__(self, clock: Clock, schemas: Mapping[str, Schema], seed_schema: Callable[[str, str], Schema]) -> None:
        self._clock = clock
        self._schemas = schemas
        self._seed_schema = seed_schema
        self.models: dict[str, Model] = {}
        self.deployment_jobs: DeploymentJobs | None = None  # set once the workspace's jobs exist

    def seed_version(
        self,
        full_name: str,
        owner: str,
        *,
        source: str,
        run_id: str | None = None,
        status: str = "READY",
        comment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Json:
        """Register a version as MLflow's client would (creating the model if needed)."""
        if status not in VERSION_STATUSES:
            raise invalid(f"Invalid model version status '{status}'")
        model = self.models.get(full_name.lower())
        if model is None:
            catalog, schema, name = split_name(full_name, 3, "registered model")
            self._seed_schema(f"{catalog}.{schema}", owner)
            model = self._add_model(catalog, schema, name, owner, None)
        now = self._clock.now_ms()
        version = Version(
            version=model.next_version,
            id=new_uuid(),
            source=source,
            run_id=run_id,
            status=status,
            created_at=now,
            created_by=owner,
            updated_at=now,
            comment=comment,
            tags=dict(tags or {}),
        )
        model.versions[version.version] = version
        model.next_version += 1
        if self.deployment_jobs is not None:
            self.deployment_jobs.registered(model, version)
        return model.version_info(version, include_aliases=True)

    def set_version_status(self, full_name: str, version: int, status: str) -> Json:
        """Move a version between registration states (e.g. PENDING_REGISTRATION → READY)."""
        if status not in VERSION_STATUSES:
            raise invalid(f"Invalid model version status '{status}'")
        model, v = self._version(full_name, version)
        v.status = status
        v.updated_at = self._clock.now_ms()
        if self.deployment_jobs is not None:
            self.deployment_jobs.registered(model, v)
        return model.version_info(v, include_aliases=True)

    # ---- lookups ----

    def _model(self, full_name: str) -> Model:
        model = self.models.get(full_name.lower())
        if model is None:
            raise not_found(f"Routine or Model '{full_name}' does not exist.")
        return model

    def _version(self, full_name: str, version: Any) -> tuple[Model, Version]:
        model = self._model(full_name)
        number = int_param(version, "version")
        found = model.versions.get(number)
        if found is None:
            raise not_found(f"Model version {number} of '{full_name}' does not exist.")
        return model, found

    def _add_model(self, catalog: str, schema: str, name: str, owner: str, comment: str | None) -> Model:
        now = self._clock.now_ms()
        full = f"{catalog}.{schema}.{name}"
        model = Model(
            full_name=full,
            owner=owner,
            created_at=now,
            created_by=owner,
            updated_at=now,
            updated_by=owner,
            storage_location=f"s3://emulator-metastore/models/{new_uuid()}",
            comment=comment,
        )
        self.models[full] = model
        return model

    # ---- registered models ----

    def create_model(self, req: Request) -> Json:
        body = req.body
        catalog = require(body, "catalog_name").lower()
        schema = require(body, "schema_name").lower()
        name = require(body, "name").lower()
        comment = optional(body, "comment", str)
        if not IDENT.match(name):
            raise invalid(f"Invalid name '{body['name']}': a model name cannot contain '.', '/' or spaces")
        if f"{catalog}.{schema}" not in self._schemas:
            raise not_found(f"Schema '{catalog}.{schema}' does not exist.", "SCHEMA_DOES_NOT_EXIST")
        full = f"{catalog}.{schema}.{name}"
        if full in self.models:
            raise already_exists(f"Routine or Model '{full}' already exists.")
        # `owner` is not honoured on create: the caller owns the new model (an update can change it).
        return self._add_model(catalog, schema, name, req.principal, comment).info(include_aliases=False)

    def get_model(self, req: Request) -> Json:
        return self._model(req.params["full_name"]).info(include_aliases=req.flag("include_aliases"))

    def list_models(self, req: Request) -> Json:
        catalog = (req.arg("catalog_name") or "").lower()
        schema = (req.arg("schema_name") or "").lower()
        if schema and not catalog:
            raise invalid("catalog_name is required when schema_name is given")
        size = int_param(req.arg("max_results") or "100", "max_results") or 100
        if size < 0 or size > 1000:
            raise invalid("max_results must be between 0 and 1000")
        matching = [
            m.info(include_aliases=False)
            for m in sorted(self.models.values(), key=lambda m: m.full_name)
            if (not catalog or m.parts[0] == catalog) and (not schema or m.parts[1] == schema)
        ]
        items, token = page(matching, req.arg("page_token"), size)
        out: Json = {"registered_models": items} if items else {}
        if token:
            out["next_page_token"] = token
        return out

    def update_model(self, req: Request) -> Json:
        model = self._model(req.params["full_name"])
        body = req.body
        comment = optional(body, "comment", str)
        owner = optional(body, "owner", str)
        new_name = optional(body, "new_name", str)
        if comment is not None:
            model.comment = comment
        if owner:
            model.owner = owner
        if new_name and new_name.lower() != model.parts[2]:
            if not IDENT.match(new_name):
                raise invalid(f"Invalid name '{new_name}'")
            catalog, schema, _ = model.parts
            target = f"{catalog}.{schema}.{new_name.lower()}"
            if target in self.models:
                raise already_exists(f"Routine or Model '{target}' already exists.")
            del self.models[model.full_name]
            model.full_name = target
            self.models[target] = model
        model.updated_at = self._clock.now_ms()
        model.updated_by = req.principal
        return model.info(include_aliases=False)

    def delete_model(self, req: Request) -> Json:
        model = self._model(req.params["full_name"])
        del self.models[model.full_name]
        return {}

    # ---- aliases ----

    def set_alias(self, req: Request) -> Json:
        model = self._model(req.params["full_name"])
        alias = req.params["alias"]
        _check_alias(alias)
        number = int_param(req.body.get("version_num"), "version_num")
        if number not in model.versions:
            raise not_found(f"Model version {number} of '{model.full_name}' does not exist.")
        model.aliases[alias.lower()] = number
        model.updated_at = self._clock.now_ms()
        return next(a for a in model.alias_list() if a["alias_name"] == alias.lower())

    def delete_alias(self, req: Request) -> Json:
        model = self._model(req.params["full_name"])
        alias = req.params["alias"].lower()
        if alias not in model.aliases:
            raise not_found(f"Alias '{alias}' does not exist on model '{model.full_name}'.")
        del model.aliases[alias]
        return {}

    def get_by_alias(self, req: Request) -> Json:
        model = self._model(req.params["full_name"])
        alias = req.params["alias"].lower()
        if alias not in model.aliases:
            raise not_found(f"Alias '{alias}' does not exist on model '{model.full_name}'.")
        return model.version_info(model.versions[model.aliases[alias]], include_aliases=req.flag("include_aliases"))

    # ---- model versions ----

    def get_version(self, req: Request) -> Json:
        model, v = self._version(req.params["full_name"], req.params["version"])
        return model.version_info(v, include_aliases=req.flag("include_aliases"))

    def list_versions(self, req: Request) -> Json:
        model = self._model(req.params["full_name"])
        size = int_param(req.arg("max_results") or "100", "max_results") or 100
        if size < 0 or size > 1000:
            raise invalid("max_results must be between 0 and 1000")
        listed = [
            model.version_info(v, include_aliases=False)
            for v in sorted(model.versions.values(), key=lambda v: -v.version)
        ]
        items, token = page(listed, req.arg("page_token"), size)
        out: Json = {"model_versions": items} if items else {}
        if token:
            out["next_page_token"] = token
        return out

    def update_version(self, req: Request) -> Json:
        model, v = self._version(req.params["full_name"], req.params["version"])
        comment = optional(req.body, "comment", str)
        if comment is not None:
            v.comment = comment
            v.updated_at = self._clock.now_ms()
        return model.version_info(v, include_aliases=False)

    def delete_version(self, req: Request) -> Json:
        model, v = self._version(req.params["full_name"], req.params["version"])
        del model.versions[v.version]
        model.aliases = {a: n for a, n in model.aliases.items() if n != v.version}
        return {}

    def routes(self) -> list[Route]:
        base = "/api/2.1/unity-catalog/models"
        return [
            Route("POST", base, self.create_model),
            Route("GET", base, self.list_models),
            Route("GET", f"{base}/{{full_name}}", self.get_model),
            Route("PATCH", f"{base}/{{full_name}}", self.update_model),
            Route("DELETE", f"{base}/{{full_name}}", self.delete_model),
            Route("PUT", f"{base}/{{full_name}}/aliases/{{alias}}", self.set_alias),
            Route("DELETE", f"{base}/{{full_name}}/aliases/{{alias}}", self.delete_alias),
            Route("GET", f"{base}/{{full_name}}/aliases/{{alias}}", self.get_by_alias),
            Route("GET", f"{base}/{{full_name}}/versions", self.list_versions),
            Route("GET", f"{base}/{{full_name}}/versions/{{version}}", self.get_version),
            Route("PATCH", f"{base}/{{full_name}}/versions/{{version}}", self.update_version),
            Route("DELETE", f"{base}/{{full_name}}/versions/{{version}}", self.delete_version),
            *MlflowUnityCatalog(
                self._model, self._version, lambda: self.deployment_jobs, self._register, self._finalized
            ).routes(),
            *ModelFiles(self._clock, self._version).routes(),
        ]

    def _register(
        self, model: Model, owner: str, source: str, run_id: str | None, comment: str | None, tags: dict[str, str]
    ) -> Version:
        info = self.seed_version(
            model.full_name,
            owner,
            source=source,
            run_id=run_id,
            status="PENDING_REGISTRATION",
            comment=comment,
            tags=tags,
        )
        return model.versions[int(info["version"])]

    def _finalized(self, model: Model, version: Version) -> None:
        self.set_version_status(model.full_name, version.version, "READY")


def _check_alias(alias: str) -> None:
    """MLflow's alias rules: word characters and dashes, not `latest`, not `v<digits>`."""
    if not re.fullmatch(r"[\w-]{1,255}", alias):
        raise invalid(f"Invalid alias name '{alias}': only letters, digits, '_' and '-' are allowed")
    if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise invalid(f"Invalid alias name '{alias}': 'latest' and 'v<number>' are reserved")
