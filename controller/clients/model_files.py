"""A model's files, wherever they are, copied one file at a time through a temporary folder.

Two stores: an MLflow artifact location (local paths, `mlflow-artifacts:` proxied servers, cloud stores,
through MLflow's artifact repositories) and a Unity Catalog model version's files (the Files API at
`/Models/<catalog>/<schema>/<model>/<version>`, as MLflow's SDK-based artifact repository for Unity Catalog
reads and writes them). Each file is streamed to disk and from disk, so no model, and no file, is ever held
in memory. Files already in the target with the same size are skipped: a copy a crash interrupted resumes.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.files import FilesAPI
from mlflow.entities import FileInfo
from mlflow.store.artifact.artifact_repo import ArtifactRepository
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

CHUNK_BYTES = 1 << 20


class FileSource(Protocol):
    """A folder of files: listed (path below the root, size) depth first, each fetched to disk."""

    def listing(self) -> Iterator[tuple[str, int | None]]: ...
    def fetch(self, path: str, local: Path) -> None: ...


class FileStore(FileSource, Protocol):
    """A folder of files that can also be written, each put from disk."""

    def put(self, path: str, local: Path) -> None: ...


def copy_between(source: FileSource, target: FileStore) -> int:
    """Copy every file of `source` to the same path in `target`; returns how many were sent."""
    present = dict(target.listing())
    sent = 0
    with tempfile.TemporaryDirectory(prefix="mlops-copy-") as scratch:
        local = Path(scratch) / "file"
        for path, size in source.listing():
            if size is not None and present.get(path) == size:
                continue
            source.fetch(path, local)
            try:
                target.put(path, local)
            finally:
                local.unlink(missing_ok=True)
            sent += 1
    return sent


class ArtifactFiles:
    """Files under an MLflow artifact URI, through MLflow's artifact repositories."""

    def __init__(self, uri: str, tracking_uri: str) -> None:
        self._repo = get_artifact_repository(uri, tracking_uri=tracking_uri)

    def listing(self) -> Iterator[tuple[str, int | None]]:
        return ((item.path, item.file_size) for item in _artifacts(self._repo))

    def fetch(self, path: str, local: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="mlops-fetch-") as folder:
            fetched = Path(self._repo.download_artifacts(path, dst_path=folder))
            fetched.replace(local)

    def put(self, path: str, local: Path) -> None:
        # log_artifact names the file after the local one: give it the target's name first.
        with tempfile.TemporaryDirectory(prefix="mlops-put-") as folder:
            named = Path(folder) / posixpath.basename(path)
            local.replace(named)
            try:
                self._repo.log_artifact(str(named), artifact_path=posixpath.dirname(path) or None)
            finally:
                named.replace(local)


class VersionFiles:
    """A Unity Catalog model version's files, through the Files API (single-shot uploads of up to 5 GiB a file)."""

    def __init__(self, client: WorkspaceClient, model_name: str, version: int) -> None:
        # The generated Files API client, not `client.files`: that one first tries presigned-URL transfers.
        self._files = FilesAPI(client.api_client)
        self.root = f"/Models/{model_name.replace('.', '/')}/{version}"

    def listing(self) -> Iterator[tuple[str, int | None]]:
        yield from self._below(self.root)

    def _below(self, folder: str) -> Iterator[tuple[str, int | None]]:
        try:
            entries = list(self._files.list_directory_contents(folder))
        except NotFound:
            return
        for entry in sorted(entries, key=lambda e: e.path or ""):
            if not entry.path:
                continue
            if entry.is_directory:
                yield from self._below(entry.path)
            else:
                yield posixpath.relpath(entry.path, self.root), entry.file_size

    def fetch(self, path: str, local: Path) -> None:
        stream = self._files.download(f"{self.root}/{path}").contents
        assert stream is not None
        with local.open("wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                out.write(chunk)

    def put(self, path: str, local: Path) -> None:
        with local.open("rb") as contents:
            self._files.upload(f"{self.root}/{path}", contents, overwrite=True)


def _artifacts(repository: ArtifactRepository, path: str | None = None) -> Iterator[FileInfo]:
    """Every file under `path`, depth first (an absent folder has none)."""
    for item in repository.list_artifacts(path):
        if item.is_dir:
            yield from _artifacts(repository, item.path)
        else:
            yield item
