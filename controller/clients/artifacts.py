"""Copy a model's files from one artifact store to another, one file at a time.

Through MLflow's artifact repositories (local paths, mlflow-artifacts: proxied servers, cloud stores), so a
model of any size passes through a temporary directory file by file and is never held in memory. Files
already in the target with the same size are skipped: a copy interrupted by a crash resumes where it stopped.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mlflow.entities import FileInfo
from mlflow.store.artifact.artifact_repo import ArtifactRepository
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

from controller.clients.file_copy import copy_between


def copy_files(source_uri: str, source_tracking_uri: str, target_uri: str, target_tracking_uri: str) -> int:
    """Copy every file under `source_uri` to the same path under `target_uri`; returns how many were sent."""
    return copy_between(ArtifactFiles(source_uri, source_tracking_uri), ArtifactFiles(target_uri, target_tracking_uri))


def _files(repository: ArtifactRepository, path: str | None = None) -> Iterator[FileInfo]:
    """Every file under `path`, depth first (an absent folder has none)."""
    for item in repository.list_artifacts(path):
        if item.is_dir:
            yield from _files(repository, item.path)
        else:
            yield item


class ArtifactFiles:
    """Files under an MLflow artifact URI, through MLflow's artifact repositories."""

    def __init__(self, uri: str, tracking_uri: str) -> None:
        self._repo = get_artifact_repository(uri, tracking_uri=tracking_uri)

    def listing(self) -> Iterator[tuple[str, int | None]]:
        return ((item.path, item.file_size) for item in _files(self._repo))

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
