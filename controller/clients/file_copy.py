"""A model's files copied from one store to another, one file at a time through a temporary folder.

The stores: an MLflow artifact location (artifacts.ArtifactFiles) and a Unity Catalog model version
(model_files.VersionFiles), each in its own module so that only the SDK in use is loaded. Each file goes to
disk and from disk, so no model, and no file, is ever held in memory. Files already in the target with the
same size are skipped: a copy a crash interrupted resumes where it stopped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from controller.clients import errors


class FileSource(Protocol):
    """A folder of files: listed (path below the root, size) depth first, each fetched to disk."""

    def listing(self) -> Iterator[tuple[str, int | None]]: ...
    def fetch(self, path: str, local: Path) -> None: ...


class FileStore(FileSource, Protocol):
    """A folder of files that can also be written, each put from disk."""

    def put(self, path: str, local: Path) -> None: ...


def copy_between(source: FileSource, target: FileStore) -> int:
    """Copy every file of `source` to the same path in `target`; returns how many were sent.

    A source with no files is refused: a model has at least its MLmodel file, and registering an empty copy
    would serve nothing.
    """
    present = dict(target.listing())
    seen = sent = 0
    with tempfile.TemporaryDirectory(prefix="mlops-copy-") as scratch:
        local = Path(scratch) / "file"
        for path, size in source.listing():
            seen += 1
            if size is not None and present.get(path) == size:
                continue
            source.fetch(path, local)
            try:
                target.put(path, local)
            finally:
                local.unlink(missing_ok=True)
            sent += 1
    if not seen:
        raise errors.Rejected("the source version has no files to copy")
    return sent
