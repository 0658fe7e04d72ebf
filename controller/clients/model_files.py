"""A Unity Catalog model version's files, as a store file_copy copies from and to.

Through the Files API at `/Models/<catalog>/<schema>/<model>/<version>`, as MLflow's SDK-based artifact
repository for Unity Catalog reads and writes them; each file streamed to or from disk in chunks.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.service.files import FilesAPI

CHUNK_BYTES = 1 << 20


class VersionFiles:
    """A Unity Catalog model version's files, through the Files API (single-shot uploads of up to 5 GiB a file)."""

    def __init__(self, client: WorkspaceClient, model_name: str, version: int) -> None:
        # The generated Files API client, not `client.files`: that one first tries presigned-URL transfers.
        self._files = FilesAPI(client.api_client)  # type: ignore[no-untyped-call]  # the SDK leaves its __init__ unannotated
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
