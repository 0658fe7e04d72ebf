"""A Unity Catalog version registered as MLflow's client does: created pending, files uploaded, finalized."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import AlreadyExists, InvalidParameterValue, NotFound, PermissionDenied
from databricks.sdk.service.catalog import ModelVersionInfoStatus
from databricks.sdk.service.files import FilesAPI

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration
MODEL = "main.risk.fraud"
ML = "/api/2.0/mlflow/unity-catalog/model-versions"
ROOT = "/Models/main/risk/fraud"


@pytest.fixture
def files(emu: Emulator, w: WorkspaceClient) -> FilesAPI:
    emu.seed_schema("main.risk")
    w.registered_models.create(catalog_name="main", schema_name="risk", name="fraud")
    return FilesAPI(w.api_client)


def _create(w: WorkspaceClient, **body: Any) -> dict[str, Any]:
    answer = w.api_client.do("POST", f"{ML}/create", body={"name": MODEL, "source": "models:/m-1", **body})
    assert isinstance(answer, dict)
    return dict(answer["model_version"])


def test_a_version_is_pending_until_finalized_and_its_files_frozen_then(
    emu: Emulator, w: WorkspaceClient, files: FilesAPI
) -> None:
    made = _create(w, run_id="run-1", description="copied", tags=[{"key": "team", "value": "risk"}])
    assert (made["version"], made["status"], made["run_id"]) == ("1", "PENDING_REGISTRATION", "run-1")
    assert made["tags"] == [{"key": "team", "value": "risk"}]
    assert made["storage_location"]
    assert w.model_versions.get(MODEL, 1).status == ModelVersionInfoStatus.PENDING_REGISTRATION
    assert list(files.list_directory_contents(f"{ROOT}/1")) == []  # the root exists before any upload

    big = os.urandom(5 * (1 << 20) + 3)  # more than one read chunk
    files.upload(f"{ROOT}/1/data/model.bin", io.BytesIO(big))
    files.upload(f"{ROOT}/1/MLmodel", io.BytesIO(b"flavors: {}\n"))
    listed = {(e.name, e.is_directory, e.file_size) for e in files.list_directory_contents(f"{ROOT}/1")}
    assert listed == {("MLmodel", False, 12), ("data", True, None)}
    downloaded = files.download(f"{ROOT}/1/data/model.bin").contents
    assert downloaded is not None
    assert downloaded.read() == big

    answer = w.api_client.do("POST", f"{ML}/finalize", body={"name": MODEL, "version": "1"})
    assert isinstance(answer, dict)
    assert answer["model_version"]["status"] == "READY"
    assert w.model_versions.get(MODEL, 1).status == ModelVersionInfoStatus.READY
    with pytest.raises(PermissionDenied, match="READY"):
        files.upload(f"{ROOT}/1/MLmodel", io.BytesIO(b"changed"))
    with pytest.raises(InvalidParameterValue, match="not PENDING_REGISTRATION"):
        w.api_client.do("POST", f"{ML}/finalize", body={"name": MODEL, "version": "1"})
    assert files.download(f"{ROOT}/1/MLmodel").contents.read() == b"flavors: {}\n"  # type: ignore[union-attr]


def test_what_is_refused_carries_the_files_apis_codes(emu: Emulator, w: WorkspaceClient, files: FilesAPI) -> None:
    _create(w)
    files.upload(f"{ROOT}/1/MLmodel", io.BytesIO(b"a"))
    with pytest.raises(AlreadyExists):
        files.upload(f"{ROOT}/1/MLmodel", io.BytesIO(b"b"), overwrite=False)
    files.upload(f"{ROOT}/1/MLmodel", io.BytesIO(b"b"), overwrite=True)
    for missing in (f"{ROOT}/1/nope", f"{ROOT}/9/MLmodel", "/Models/main/risk/other/1/MLmodel", "/Volumes/a/b/c/f"):
        with pytest.raises(NotFound):
            files.download(missing)
    with pytest.raises(NotFound):
        list(files.list_directory_contents(f"{ROOT}/1/nope"))
    with pytest.raises(NotFound):
        _create(w, name="main.risk.missing")
    with pytest.raises(InvalidParameterValue):
        w.api_client.do("POST", f"{ML}/create", body={"name": MODEL})  # no source


def test_a_directory_is_listed_in_pages(emu: Emulator, w: WorkspaceClient, files: FilesAPI) -> None:
    _create(w)
    for n in range(5):
        files.upload(f"{ROOT}/1/f{n}", io.BytesIO(b"x" * n))
    first = w.api_client.do("GET", f"/api/2.0/fs/directories{ROOT}/1", query={"page_size": 2})
    assert isinstance(first, dict)
    assert [e["name"] for e in first["contents"]] == ["f0", "f1"]
    assert first["next_page_token"]
    assert sorted(e.name or "" for e in files.list_directory_contents(f"{ROOT}/1", page_size=2)) == [
        f"f{n}" for n in range(5)
    ]
