"""Unity Catalog: schemas, tables, registered models, model versions, aliases, tags.

Model versions cannot be created through the Databricks SDK (MLflow's client
makes them), so the emulator offers `seed_model_version` to stand in for a
training job. Names are lower-cased, as Unity Catalog stores identifiers.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sandbox.databricks.state import (
    ApiError,
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

_IDENT = re.compile(r"^[^.\s/]+$")
VERSION_STATUSES = ("PENDING_REGISTRATION", "READY", "FAILED_REGISTRATION")
METASTORE_ID = "11111111-2222-3333-4444-555555555555"


def _split(full_name: str, parts: int, what: str) -> list[str]:
    names = full_name.lower().split(".")
    if len(names) != parts or not all(_IDENT.match(n) for n in names):
        levels = "three levels (catalog.schema.name)" if parts == 3 else "two levels (catalog.schema)"
        raise invalid(f"Invalid {what} name '{full_name}': specify all {levels}")
    return names


@dataclasses.dataclass
class Schema:
    full_name: str
    schema_id: str
    created_at: int
    owner: str

    def info(self) -> Json:
        catalog, name = self.full_name.split(".")
        return {
            "full_name": self.full_name,
            "catalog_name": catalog,
            "name": name,
            "schema_id": self.schema_id,
            "owner": self.owner,
            "created_at": self.created_at,
            "created_by": self.owner,
            "updated_at": self.created_at,
            "updated_by": self.owner,
            "metastore_id": METASTORE_ID,
            "catalog_type": "MANAGED_CATALOG",
        }


@dataclasses.dataclass
class Table:
    full_name: str
    table_id: str
    created_at: int
    owner: str
    columns: list[Json]

    def info(self) -> Json:
        catalog, schema, name = self.full_name.split(".")
        return {
            "full_name": self.full_name,
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "table_id": self.table_id,
            "table_type": "MANAGED",
            "data_source_format": "DELTA",
            "columns": [dict(c) for c in self.columns],
            "owner": self.owner,
            "created_at": self.created_at,
            "created_by": self.owner,
            "updated_at": self.created_at,
            "updated_by": self.owner,
            "metastore_id": METASTORE_ID,
            "storage_location": f"s3://emulator-metastore/tables/{self.table_id}",
        }


@dataclasses.dataclass
class Version:
    version: int
    id: str
    source: str
    run_id: str | None
    status: str
    created_at: int
    created_by: str
    updated_at: int
    comment: str | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Model:
    full_name: str
    owner: str
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str
    storage_location: str
    comment: str | None = None
    versions: dict[int, Version] = dataclasses.field(default_factory=dict)
    aliases: dict[str, int] = dataclasses.field(default_factory=dict)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    next_version: int = 1

    @property
    def parts(self) -> list[str]:
        return self.full_name.split(".")

    def alias_list(self, version: int | None = None) -> list[Json]:
        catalog, schema, name = self.parts
        return [
            {
                "alias_name": alias,
                "version_num": num,
                "catalog_name": catalog,
                "schema_name": schema,
                "model_name": name,
            }
            for alias, num in sorted(self.aliases.items())
            if version is None or num == version
        ]

    def info(self, include_aliases: bool) -> Json:
        catalog, schema, name = self.parts
        out: Json = {
            "full_name": self.full_name,
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "owner": self.owner,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "storage_location": self.storage_location,
            "metastore_id": METASTORE_ID,
        }
        if self.comment is not None:
            out["comment"] = self.comment
        if include_aliases:
            out["aliases"] = self.alias_list()
        return out

    def version_info(self, v: Version, include_aliases: bool) -> Json:
        catalog, schema, name = self.parts
        out: Json = {
            "model_name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "version": v.version,
            "id": v.id,
            "source": v.source,
            "status": v.status,
            "created_at": v.created_at,
            "created_by": v.created_by,
            "updated_at": v.updated_at,
            "updated_by": v.created_by,
            "storage_location": f"{self.storage_location}/versions/{v.id}",
            "metastore_id": METASTORE_ID,
        }
        if v.run_id is not None:
            out["run_id"] = v.run_id
        if v.comment is not None:
            out["comment"] = v.comment
        if include_aliases:
            out["aliases"] = self.alias_list(v.version)
        return out


class Catalog:
    """State and REST handlers of the Unity Catalog subset the controller uses."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.schemas: dict[str, Schema] = {}
        self.tables: dict[str, Table] = {}
        self.models: dict[str, Model] = {}

    # ---- admin (seeding, as training jobs and data pipelines would) ----

    def seed_schema(self, full_name: str, owner: str) -> Schema:
        catalog, name = _split(full_name, 2, "schema")
        key = f"{catalog}.{name}"
        if key not in self.schemas:
            self.schemas[key] = Schema(key, new_uuid(), self._clock.now_ms(), owner)
        return self.schemas[key]

    def seed_table(self, full_name: str, owner: str, columns: list[str | Json] | None = None) -> Table:
        """Create (or return) a table; `columns` are names or ColumnInfo-shaped objects."""
        catalog, schema, name = _split(full_name, 3, "table")
        self.seed_schema(f"{catalog}.{schema}", owner)
        key = f"{catalog}.{schema}.{name}"
        if key not in self.tables:
            cols = [
                {"name": c, "type_name": "STRING", "type_text": "string", "position": i, "nullable": True}
                if isinstance(c, str)
                else {"position": i, **c}
                for i, c in enumerate(columns or [])
            ]
            self.tables[key] = Table(key, new_uuid(), self._clock.now_ms(), owner, cols)
        return self.tables[key]

    def seed_model_version(
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
            catalog, schema, name = _split(full_name, 3, "registered model")
            self.seed_schema(f"{catalog}.{schema}", owner)
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
        return model.version_info(version, include_aliases=True)

    def set_version_status(self, full_name: str, version: int, status: str) -> Json:
        """Move a version between registration states (e.g. PENDING_REGISTRATION → READY)."""
        if status not in VERSION_STATUSES:
            raise invalid(f"Invalid model version status '{status}'")
        model, v = self._version(full_name, version)
        v.status = status
        v.updated_at = self._clock.now_ms()
        return model.version_info(v, include_aliases=True)

    def version_problem(self, entity_name: str, entity_version: str | None) -> str | None:
        """Why a served entity cannot be deployed, or None when it can.

        Only three-level (Unity Catalog) names are checked; `system.*` models
        (foundation models) and two-level workspace-registry names are accepted.
        """
        parts = entity_name.lower().split(".")
        if len(parts) != 3 or parts[0] == "system":
            return None
        model = self.models.get(entity_name.lower())
        if model is None:
            return f"Registered model '{entity_name}' does not exist."
        if entity_version is None or not entity_version.isdigit():
            return f"Invalid model version '{entity_version}' for model '{entity_name}'."
        found = model.versions.get(int(entity_version))
        if found is None:
            return f"Model version {entity_version} of '{entity_name}' does not exist."
        if found.status != "READY":
            return f"Model version {entity_version} of '{entity_name}' is not READY (status {found.status})."
        return None

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

    # ---- schemas and tables ----

    def get_schema(self, req: Request) -> Json:
        full = req.params["full_name"].lower()
        schema = self.schemas.get(full)
        if schema is None:
            raise not_found(f"Schema '{req.params['full_name']}' does not exist.", "SCHEMA_DOES_NOT_EXIST")
        return schema.info()

    def get_table(self, req: Request) -> Json:
        return self._table(req.params["full_name"]).info()

    def table_exists(self, req: Request) -> Json:
        return {"table_exists": req.params["full_name"].lower() in self.tables}

    def delete_table(self, req: Request) -> Json:
        table = self._table(req.params["full_name"])
        del self.tables[table.full_name]
        return {}

    def _table(self, full_name: str) -> Table:
        table = self.tables.get(full_name.lower())
        if table is None:
            raise not_found(f"Table '{full_name}' does not exist.", "TABLE_DOES_NOT_EXIST")
        return table

    def table_by_id(self, table_id: str) -> Table | None:
        return next((t for t in self.tables.values() if t.table_id == table_id), None)

    def schema_by_id(self, schema_id: str) -> Schema | None:
        return next((s for s in self.schemas.values() if s.schema_id == schema_id), None)

    # ---- registered models ----

    def create_model(self, req: Request) -> Json:
        body = req.body
        catalog = require(body, "catalog_name").lower()
        schema = require(body, "schema_name").lower()
        name = require(body, "name").lower()
        comment = optional(body, "comment", str)
        if not _IDENT.match(name):
            raise invalid(f"Invalid name '{body['name']}': a model name cannot contain '.', '/' or spaces")
        if f"{catalog}.{schema}" not in self.schemas:
            raise not_found(f"Schema '{catalog}.{schema}' does not exist.", "SCHEMA_DOES_NOT_EXIST")
        full = f"{catalog}.{schema}.{name}"
        if full in self.models:
            raise already_exists(f"Routine or Model '{full}' already exists.")
        owner = optional(body, "owner", str) or req.principal
        return self._add_model(catalog, schema, name, owner, comment).info(include_aliases=False)

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
        out: Json = {"registered_models": items}
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
            if not _IDENT.match(new_name):
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
        out: Json = {"model_versions": items}
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

    # ---- MLflow-on-UC endpoints (tags; the SDK has no call for them) ----

    def mlflow_get_model(self, req: Request) -> Json:
        model = self._model(_mlflow_arg(req, "name"))
        return {"registered_model": self._mlflow_model(model)}

    def mlflow_get_version(self, req: Request) -> Json:
        model, v = self._version(_mlflow_arg(req, "name"), _mlflow_arg(req, "version"))
        out: Json = {
            "name": model.full_name,
            "version": str(v.version),
            "creation_timestamp": v.created_at,
            "last_updated_timestamp": v.updated_at,
            "user_id": v.created_by,
            "source": v.source,
            "status": v.status,
            "tags": [{"key": k, "value": val} for k, val in sorted(v.tags.items())],
            "aliases": [a for a, n in sorted(model.aliases.items()) if n == v.version],
        }
        if v.run_id is not None:
            out["run_id"] = v.run_id
        if v.comment is not None:
            out["description"] = v.comment
        return {"model_version": out}

    def mlflow_set_model_tag(self, req: Request) -> Json:
        model = self._model(require(req.body, "name"))
        key = require(req.body, "key")
        model.tags[key] = str(req.body.get("value") or "")
        return {}

    def mlflow_delete_model_tag(self, req: Request) -> Json:
        model = self._model(_mlflow_arg(req, "name"))
        key = _mlflow_arg(req, "key")
        if key not in model.tags:
            raise not_found(f"Tag '{key}' does not exist on model '{model.full_name}'.")
        del model.tags[key]
        return {}

    def mlflow_set_version_tag(self, req: Request) -> Json:
        _, v = self._version(require(req.body, "name"), require(req.body, "version", (str, int)))
        key = require(req.body, "key")
        v.tags[key] = str(req.body.get("value") or "")
        return {}

    def mlflow_delete_version_tag(self, req: Request) -> Json:
        model, v = self._version(_mlflow_arg(req, "name"), _mlflow_arg(req, "version"))
        key = _mlflow_arg(req, "key")
        if key not in v.tags:
            raise not_found(f"Tag '{key}' does not exist on version {v.version} of '{model.full_name}'.")
        del v.tags[key]
        return {}

    @staticmethod
    def _mlflow_model(model: Model) -> Json:
        out: Json = {
            "name": model.full_name,
            "creation_timestamp": model.created_at,
            "last_updated_timestamp": model.updated_at,
            "user_id": model.created_by,
            "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
            "aliases": [{"alias": a, "version": str(n)} for a, n in sorted(model.aliases.items())],
        }
        if model.comment is not None:
            out["description"] = model.comment
        return out

    def routes(self) -> list[Route]:
        uc = "/api/2.1/unity-catalog"
        ml = "/api/2.0/mlflow/unity-catalog"
        return [
            Route("GET", f"{uc}/schemas/{{full_name}}", self.get_schema),
            Route("GET", f"{uc}/tables/{{full_name}}", self.get_table),
            Route("GET", f"{uc}/tables/{{full_name}}/exists", self.table_exists),
            Route("DELETE", f"{uc}/tables/{{full_name}}", self.delete_table),
            Route("POST", f"{uc}/models", self.create_model),
            Route("GET", f"{uc}/models", self.list_models),
            Route("GET", f"{uc}/models/{{full_name}}", self.get_model),
            Route("PATCH", f"{uc}/models/{{full_name}}", self.update_model),
            Route("DELETE", f"{uc}/models/{{full_name}}", self.delete_model),
            Route("PUT", f"{uc}/models/{{full_name}}/aliases/{{alias}}", self.set_alias),
            Route("DELETE", f"{uc}/models/{{full_name}}/aliases/{{alias}}", self.delete_alias),
            Route("GET", f"{uc}/models/{{full_name}}/aliases/{{alias}}", self.get_by_alias),
            Route("GET", f"{uc}/models/{{full_name}}/versions", self.list_versions),
            Route("GET", f"{uc}/models/{{full_name}}/versions/{{version}}", self.get_version),
            Route("PATCH", f"{uc}/models/{{full_name}}/versions/{{version}}", self.update_version),
            Route("DELETE", f"{uc}/models/{{full_name}}/versions/{{version}}", self.delete_version),
            Route("GET", f"{ml}/registered-models/get", self.mlflow_get_model),
            Route("GET", f"{ml}/model-versions/get", self.mlflow_get_version),
            Route("POST", f"{ml}/registered-models/set-tag", self.mlflow_set_model_tag),
            Route("DELETE", f"{ml}/registered-models/delete-tag", self.mlflow_delete_model_tag),
            Route("POST", f"{ml}/model-versions/set-tag", self.mlflow_set_version_tag),
            Route("DELETE", f"{ml}/model-versions/delete-tag", self.mlflow_delete_version_tag),
        ]


def _check_alias(alias: str) -> None:
    """MLflow's alias rules: word characters and dashes, not `latest`, not `v<digits>`."""
    if not re.fullmatch(r"[\w-]{1,255}", alias):
        raise invalid(f"Invalid alias name '{alias}': only letters, digits, '_' and '-' are allowed")
    if alias.lower() == "latest" or re.fullmatch(r"[vV]\d+", alias):
        raise invalid(f"Invalid alias name '{alias}': 'latest' and 'v<number>' are reserved")


def _mlflow_arg(req: Request, name: str) -> str:
    """MLflow's DELETE/GET calls carry their fields in the query string or the body, depending on the client."""
    value = req.arg(name) or req.body.get(name)
    if value is None or value == "":
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{name}'.")
    return str(value)
