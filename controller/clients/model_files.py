"""A model's files, wherever they are, copied one file at a time through a temporary folder.

Stores: a Unity Catalog model version's files, here (the Files API at
`/Models/<catalog>/<schema>/<model>/<version>`, as MLflow's SDK-based artifact repository for Unity Catalog
reads and writes them), and an MLflow artifact location, in artifacts.py (apart, so that MLflow is loaded
only where it is used). Each file is streamed to disk and from disk, so no model, and no file, is ever held
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
