"""Unity Catalog through the real SDK: registered models, versions seeded as training makes them, aliases, tags."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service.catalog import ModelVersionInfoStatus, TableType

from sandbox.databricks import Emulator

pytestmark = pytest.mark.integration
MODEL = "main.risk.fraud_detector"


@pytest.fixture
def model(emu: Emulator, w: WorkspaceClient) -> str:
    emu.seed_schema("main.risk")
    w.registered_models.create(catalog_name="main", schema_name="risk", name="fraud_detector", comment="v0")
    emu.seed_model_version(MODEL, source="models:/m-1", run_id="run-1")
    emu.seed_model_version(MODEL, source="models:/m-2", run_id="run-2")
    return MODEL


def test_registered_model_life_cycle(emu: Emulator, w: WorkspaceClient) -> None:
    emu.seed_schema("main.risk")
    created = w.registered_models.create(catalog_name="main", schema_name="risk", name="Fraud", comment="first")
    assert created.full_name == "main.risk.fraud"
    assert created.owner == "emulator-user@example.com"
    with pytest.raises(ResourceAlreadyExists):
        w.registered_models.create(catalog_name="main", schema_name="risk", name="fraud")
    updated = w.registered_models.update("main.risk.fraud", comment="second")
    assert updated.comment == "second"
    assert w.registered_models.get("main.risk.fraud").comment == "second"
    assert [m.full_name for m in w.registered_models.list(catalog_name="main", schema_name="risk")] == [
        "main.risk.fraud"
    ]
    w.registered_models.delete("main.risk.fraud")
    with pytest.raises(NotFound):
        w.registered_models.get("main.risk.fraud")


def test_model_create_is_refused_without_schema_or_with_bad_name(w: WorkspaceClient, emu: Emulator) -> None:
    with pytest.raises(NotFound) as caught:
        w.registered_models.create(catalog_name="main", schema_name="nope", name="m")
    assert caught.value.error_code == "SCHEMA_DOES_NOT_EXIST"
    emu.seed_schema("main.risk")
    with pytest.raises(InvalidParameterValue):
        w.registered_models.create(catalog_name="main", schema_name="risk", name="a.b")


def test_list_pages(w: WorkspaceClient, emu: Emulator) -> None:
    emu.seed_schema("main.risk")
    for i in range(5):
        w.registered_models.create(catalog_name="main", schema_name="risk", name=f"m{i}")
    emu.reset_counters()
    assert len(list(w.registered_models.list(catalog_name="main", max_results=2))) == 5
    assert emu.counters()["calls"]["GET /api/2.1/unity-catalog/models"] == 3


def test_versions_as_training_makes_them(w: WorkspaceClient, model: str, emu: Emulator) -> None:
    version = w.model_versions.get(model, 2)
    assert version.version == 2
    assert version.status == ModelVersionInfoStatus.READY
    assert version.source == "models:/m-2"
    assert version.run_id == "run-2"
    assert [v.version for v in w.model_versions.list(model)] == [2, 1]
    pending = emu.seed_model_version(model, source="models:/m-3", status="PENDING_REGISTRATION")
    assert w.model_versions.get(model, pending).status == ModelVersionInfoStatus.PENDING_REGISTRATION
    emu.set_model_version_status(model, pending, "READY")
    assert w.model_versions.get(model, pending).status == ModelVersionInfoStatus.READY
    assert w.model_versions.update(model, 1, comment="baseline").comment == "baseline"
    w.model_versions.delete(model, 1)
    with pytest.raises(NotFound):
        w.model_versions.get(model, 1)


def test_aliases(w: WorkspaceClient, model: str) -> None:
    alias = w.registered_models.set_alias(model, "champion", 1)
    assert alias.alias_name == "champion"
    assert alias.version_num == 1
    w.registered_models.set_alias(model, "challenger", 2)
    w.registered_models.set_alias(model, "champion", 2)
    got = w.registered_models.get(model, include_aliases=True)
    assert {a.alias_name: a.version_num for a in got.aliases} == {"champion": 2, "challenger": 2}
    assert not w.registered_models.get(model).aliases
    assert w.model_versions.get_by_alias(model, "champion").version == 2
    assert [a.alias_name for a in w.model_versions.get(model, 2, include_aliases=True).aliases] == [
        "challenger",
        "champion",
    ]
    w.registered_models.delete_alias(model, "challenger")
    with pytest.raises(NotFound):
        w.model_versions.get_by_alias(model, "challenger")
    with pytest.raises(NotFound):
        w.registered_models.set_alias(model, "champion", 99)
    with pytest.raises(InvalidParameterValue):
        w.registered_models.set_alias(model, "latest", 1)
    w.model_versions.delete(model, 2)
    assert not w.registered_models.get(model, include_aliases=True).aliases


def test_mlflow_uc_tags(w: WorkspaceClient, model: str) -> None:
    base = "/api/2.0/mlflow/unity-catalog"
    w.api_client.do("POST", f"{base}/registered-models/set-tag", body={"name": model, "key": "team", "value": "risk"})
    w.api_client.do(
        "POST", f"{base}/model-versions/set-tag", body={"name": model, "version": "1", "key": "fp", "value": "abc"}
    )
    got = w.api_client.do("GET", f"{base}/registered-models/get", query={"name": model})
    assert isinstance(got, dict)
    assert got["registered_model"]["tags"] == [{"key": "team", "value": "risk"}]
    got = w.api_client.do("GET", f"{base}/model-versions/get", query={"name": model, "version": "1"})
    assert isinstance(got, dict)
    assert got["model_version"]["tags"] == [{"key": "fp", "value": "abc"}]
    w.api_client.do("DELETE", f"{base}/registered-models/delete-tag", query={"name": model, "key": "team"})
    got = w.api_client.do("GET", f"{base}/registered-models/get", query={"name": model})
    assert isinstance(got, dict)
    # proto3 JSON, as Databricks answers, leaves an empty repeated field out: no tags (nor aliases) at all.
    assert not {"tags", "aliases"} & set(got["registered_model"])


def test_tables_and_schemas(w: WorkspaceClient, emu: Emulator) -> None:
    table_id = emu.seed_table("main.risk.fraud_payload", columns=["prediction", "model_id"])
    table = w.tables.get("main.risk.fraud_payload")
    assert table.table_id == table_id
    assert table.table_type == TableType.MANAGED
    assert [c.name for c in table.columns] == ["prediction", "model_id"]
    assert w.tables.exists("main.risk.fraud_payload").table_exists is True
    assert w.schemas.get("main.risk").schema_id
    w.tables.delete("main.risk.fraud_payload")
    assert w.tables.exists("main.risk.fraud_payload").table_exists is False
    with pytest.raises(NotFound) as caught:
        w.tables.get("main.risk.fraud_payload")
    assert caught.value.error_code == "TABLE_DOES_NOT_EXIST"


def test_create_ignores_owner_the_caller_owns_the_model(emu: Emulator, w: WorkspaceClient) -> None:
    emu.seed_schema("main.risk")
    created = w.registered_models.create(
        catalog_name="main", schema_name="risk", name="fraud", owner="someone-else@example.com"
    )
    assert created.owner == "emulator-user@example.com"
    assert w.registered_models.get("main.risk.fraud").owner == "emulator-user@example.com"
    assert w.registered_models.update("main.risk.fraud", owner="ml-team").owner == "ml-team"
    assert w.registered_models.get("main.risk.fraud").owner == "ml-team"


def test_empty_lists_are_left_out(emu: Emulator, w: WorkspaceClient) -> None:
    emu.seed_schema("main.risk")
    emu.seed_table("main.risk.bare")
    assert "columns" not in w.api_client.do("GET", "/api/2.1/unity-catalog/tables/main.risk.bare")
    assert w.api_client.do("GET", "/api/2.1/unity-catalog/models", query={"catalog_name": "main"}) == {}
    w.registered_models.create(catalog_name="main", schema_name="risk", name="fresh")
    model = w.api_client.do("GET", "/api/2.1/unity-catalog/models/main.risk.fresh", query={"include_aliases": "true"})
    assert isinstance(model, dict)
    assert "aliases" not in model
    assert w.api_client.do("GET", "/api/2.1/unity-catalog/models/main.risk.fresh/versions") == {}
