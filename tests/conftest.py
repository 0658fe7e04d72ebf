"""Fixtures shared by every test layer: a real MLflow server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.mlflow_server import MlflowServer


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real `mlflow server` (SQLite, local artifacts) for the whole run."""
    work_dir: Path = tmp_path_factory.mktemp("mlflow")
    with MlflowServer(work_dir=work_dir) as server:
        yield server
