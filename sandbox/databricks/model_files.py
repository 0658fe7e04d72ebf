"""The Files API (`/api/2.0/fs/files`, `/api/2.0/fs/directories`) over Unity Catalog model versions' files.

MLflow's SDK-based artifact repository for Unity Catalog models reads and writes a version's files at
`/Models/<catalog>/<schema>/<model>/<version>/<path>`; that is the only part of the Files API emulated
(volumes are not). Uploads are single-shot PUTs of raw bytes, downloads raw bytes. A version's files
can be written only while it is PENDING_REGISTRATION: finalizing it freezes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.databricks.catalog_objects import Model, StoredFile, Version
from sandbox.databricks.state import ApiError, Clock, Json, Request, Route, Text, int_param, page

_MODEL_PATH = re.compile(r"^/Models/([^/]+)/([^/]+)/([^/]+)/([^/]+)(/.*)?$")
_PAGE = 1000  # the Files API's largest (and default) directory page
OCTET_STREAM = "application/octet-stream"


def _not_found(what: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"The {what} being accessed is not found.")


class ModelFiles:
    """REST handlers of the Files API for model version paths, given the catalog's version lookup."""

    def __init__(self, clock: Clock, version: Callable[[str, Any], tuple[Model, Version]]) -> None:
        self._clock = clock
        self._version = version

    def _locate(self, path: str, what: str) -> tuple[Model, Version, str]:
        """The version a path lies in and the path below the version's root ('' for the root)."""
        found = _MODEL_PATH.match(path)
        if found is None:
            raise _not_found(what)
        catalog, schema, model, number, rest = found.groups()
        try:
            owner, version = self._version(f"{catalog}.{schema}.{model}", int_param(number, "version"))
        except ApiError as exc:
            if exc.status in (400, 404):
                raise _not_found(what) from exc
            raise
        parts = [p for p in (rest or "").split("/") if p]
        if any(p in (".", "..") for p in parts):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid path: {path}")
        return owner, version, "/".join(parts)

    def upload(self, req: Request) -> Json:
        model, version, inner = self._locate(req.params["path"], "file")
        if not inner:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "The path must name a file, not the version's root.")
        if version.status != "PENDING_REGISTRATION":
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                f"Model version {version.version} of '{model.full_name}' is {version.status}: its files can no "
                "longer be written.",
            )
        if inner in version.files and req.arg("overwrite") == "false":
            raise ApiError(409, "ALREADY_EXISTS", f"The file {req.params['path']} already exists.")
        if any(other.startswith(f"{inner}/") for other in version.files):
            raise ApiError(409, "ALREADY_EXISTS", f"{req.params['path']} is a directory.")
        version.files[inner] = StoredFile(req.body["bytes"], self._clock.now_ms())
        return {}

    def download(self, req: Request) -> Text:
        _, version, inner = self._locate(req.params["path"], "file")
        stored = version.files.get(inner)
        if stored is None:
            raise _not_found("file")
        return Text(stored.contents, OCTET_STREAM)

    def list_directory(self, req: Request) -> Json:
        path = req.params["path"].rstrip("/")
        _, version, inner = self._locate(path, "directory")
        entries = self._entries(path, version, inner)
        size = int_param(req.arg("page_size") or str(_PAGE), "page_size")
        items, token = page(entries, req.arg("page_token"), min(max(size, 1), _PAGE))
        out: Json = {"contents": items} if items else {}
        if token:
            out["next_page_token"] = token
        return out

    def directory_exists(self, req: Request) -> Json:
        path = req.params["path"].rstrip("/")
        _, version, inner = self._locate(path, "directory")
        self._entries(path, version, inner)
        return {}

    def _entries(self, path: str, version: Version, inner: str) -> list[Json]:
        """The directory's children: its files, and one entry per subdirectory. A version's root always exists."""
        prefix = f"{inner}/" if inner else ""
        below = {name[len(prefix) :]: stored for name, stored in version.files.items() if name.startswith(prefix)}
        if inner and not below:
            raise _not_found("directory")
        children: dict[str, Json] = {}
        for rest, stored in sorted(below.items()):
            name, _, deeper = rest.partition("/")
            if deeper:
                children.setdefault(name, {"path": f"{path}/{name}", "is_directory": True, "name": name})
            else:
                children[name] = {
                    "path": f"{path}/{name}",
                    "is_directory": False,
                    "file_size": len(stored.contents),
                    "last_modified": stored.modified,
                    "name": name,
                }
        return list(children.values())

    def routes(self) -> list[Route]:
        files, directories = "/api/2.0/fs/files{path*}", "/api/2.0/fs/directories{path*}"
        return [
            Route("PUT", files, self.upload, binary=True),
            Route("GET", files, self.download),
            Route("GET", directories, self.list_directory),
            Route("HEAD", directories, self.directory_exists),
        ]
