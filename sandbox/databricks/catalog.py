"""Unity Catalog: schemas and tables, with registered models kept by `RegisteredModels`.

Schemas and tables are made by seeding, as data pipelines would; names are
lower-cased, as Unity Catalog stores identifiers.
"""

from __future__ import annotations

from sandbox.databricks.catalog_objects import Schema, Table, split_name, version_problem
from sandbox.databricks.registered_models import RegisteredModels
from sandbox.databricks.state import Clock, Json, Request, Route, new_uuid, not_found


class Catalog:
    """State and REST handlers of the Unity Catalog subset the controller uses."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.schemas: dict[str, Schema] = {}
        self.tables: dict[str, Table] = {}
        self.registry = RegisteredModels(clock, self.schemas, self.seed_schema)

    # ---- admin (seeding, as training jobs and data pipelines would) ----

    def seed_schema(self, full_name: str, owner: str) -> Schema:
        catalog, name = split_name(full_name, 2, "schema")
        key = f"{catalog}.{name}"
        if key not in self.schemas:
            self.schemas[key] = Schema(key, new_uuid(), self._clock.now_ms(), owner)
        return self.schemas[key]

    def seed_table(self, full_name: str, owner: str, columns: list[str | Json] | None = None) -> Table:
        """Create (or return) a table; `columns` are names or ColumnInfo-shaped objects."""
        catalog, schema, name = split_name(full_name, 3, "table")
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
        """Register a version as MLflow's client would (creating the model and its schema if needed)."""
        return self.registry.seed_version(
            full_name, owner, source=source, run_id=run_id, status=status, comment=comment, tags=tags
        )

    def set_version_status(self, full_name: str, version: int, status: str) -> Json:
        """Move a version between registration states (e.g. PENDING_REGISTRATION → READY)."""
        return self.registry.set_version_status(full_name, version, status)

    def version_problem(self, entity_name: str, entity_version: str | None) -> str | None:
        """Why a served entity cannot be deployed, or None when it can."""
        return version_problem(self.registry.models, entity_name, entity_version)

    # ---- lookups ----

    def table(self, full_name: str) -> Table:
        table = self.tables.get(full_name.lower())
        if table is None:
            raise not_found(f"Table '{full_name}' does not exist.", "TABLE_DOES_NOT_EXIST")
        return table

    def schema(self, full_name: str) -> Schema:
        schema = self.schemas.get(full_name.lower())
        if schema is None:
            raise not_found(f"Schema '{full_name}' does not exist.", "SCHEMA_DOES_NOT_EXIST")
        return schema

    def table_by_id(self, table_id: str) -> Table | None:
        return next((t for t in self.tables.values() if t.table_id == table_id), None)

    def schema_by_id(self, schema_id: str) -> Schema | None:
        return next((s for s in self.schemas.values() if s.schema_id == schema_id), None)

    # ---- handlers ----

    def get_schema(self, req: Request) -> Json:
        return self.schema(req.params["full_name"]).info()

    def get_table(self, req: Request) -> Json:
        return self.table(req.params["full_name"]).info()

    def table_exists(self, req: Request) -> Json:
        return {"table_exists": req.params["full_name"].lower() in self.tables}

    def delete_table(self, req: Request) -> Json:
        table = self.table(req.params["full_name"])
        del self.tables[table.full_name]
        return {}

    def routes(self) -> list[Route]:
        uc = "/api/2.1/unity-catalog"
        return [
            Route("GET", f"{uc}/schemas/{{full_name}}", self.get_schema),
            Route("GET", f"{uc}/tables/{{full_name}}", self.get_table),
            Route("GET", f"{uc}/tables/{{full_name}}/exists", self.table_exists),
            Route("DELETE", f"{uc}/tables/{{full_name}}", self.delete_table),
            *self.registry.routes(),
        ]
