"""Unity Catalog objects as the emulator stores them and the API renders them, and their names.

Renderings follow proto3 JSON: an empty list (a table without columns, a model
without aliases) is left out, not sent as `[]`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from sandbox.databricks.state import Json, invalid

VERSION_STATUSES = ("PENDING_REGISTRATION", "READY", "FAILED_REGISTRATION")
METASTORE_ID = "11111111-2222-3333-4444-555555555555"

IDENT = re.compile(r"^[^.\s/]+$")
"""One part of a Unity Catalog name."""


def split_name(full_name: str, parts: int, what: str) -> list[str]:
    """The lower-cased parts of a two- or three-level name, or the 400 for a malformed one."""
    names = full_name.lower().split(".")
    if len(names) != parts or not all(IDENT.match(n) for n in names):
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
        out: Json = {
            "full_name": self.full_name,
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "table_id": self.table_id,
            "table_type": "MANAGED",
            "data_source_format": "DELTA",
            "owner": self.owner,
            "created_at": self.created_at,
            "created_by": self.owner,
            "updated_at": self.created_at,
            "updated_by": self.owner,
            "metastore_id": METASTORE_ID,
            "storage_location": f"s3://emulator-metastore/tables/{self.table_id}",
        }
        if self.columns:
            out["columns"] = [dict(c) for c in self.columns]
        return out


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
    files: dict[str, StoredFile] = dataclasses.field(default_factory=dict)
    """The version's files by path below its root (`/Models/<catalog>/<schema>/<model>/<version>` in the Files API)."""


@dataclasses.dataclass(frozen=True)
class StoredFile:
    contents: bytes
    modified: int  # ms


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
    deployment_job_id: str | None = None  # MLflow 3's deployment job, run for each new version

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
        if include_aliases and self.aliases:
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
        if include_aliases and (aliases := self.alias_list(v.version)):
            out["aliases"] = aliases
        return out


def version_problem(models: Mapping[str, Model], entity_name: str, entity_version: str | None) -> str | None:
    """Why a served entity cannot be deployed, or None when it can.

    `system.*` models (foundation models) are always there. A name without dots
    is a workspace-registry model, and the emulator has no workspace registry.
    """
    parts = entity_name.lower().split(".")
    if parts[0] == "system":
        return None
    if len(parts) == 1:
        return f"Registered model '{entity_name}' does not exist in the workspace model registry."
    model = models.get(entity_name.lower())
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
