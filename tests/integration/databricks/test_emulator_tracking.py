"""The emulator's MLflow tracking subset through the real SDK: runs and logged models with metrics, as
training leaves them and promotion gates read them."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service.ml import LoggedModelStatus

from controller.kinds.mlmodel.observed import ObservedVersion
from controller.kinds.mlmodel.unity_catalog import UnityCatalogRegistry
from sandbox.databricks import Emulator
from sandbox.training import train_on_databricks

pytestmark = pytest.mark.integration


def test_run_answers_the_latest_value_of_each_metric(w: WorkspaceClient) -> None:
    experiment = w.experiments.create_experiment("/Shared/fraud").experiment_id
    assert experiment is not None
    run = w.experiments.create_run(experiment_id=experiment, run_name="nightly").run
    assert run is not None
    assert run.info is not None
    run_id = str(run.info.run_id)
    for value, timestamp in [(0.7, 1), (0.9, 3), (0.8, 2)]:
        w.experiments.log_metric("val_auc", value, timestamp, run_id=run_id, step=timestamp)
    w.experiments.log_metric("loss", 0.2, 5, run_id=run_id)
    w.experiments.log_metric("loss", 0.3, 5, run_id=run_id)  # same time: the higher value, as Databricks answers

    got = w.experiments.get_run(run_id).run
    assert got is not None
    assert got.data is not None
    assert {m.key: m.value for m in got.data.metrics or []} == {"val_auc": 0.9, "loss": 0.3}
    assert got.info is not None
    assert (got.info.run_name, got.info.experiment_id) == ("nightly", experiment)


def test_metrics_logged_with_a_model_id_belong_to_the_logged_model(w: WorkspaceClient) -> None:
    experiment = str(w.experiments.create_experiment("/Shared/models").experiment_id)
    run = w.experiments.create_run(experiment_id=experiment).run
    assert run is not None
    assert run.info is not None
    run_id = str(run.info.run_id)
    created = w.experiments.create_logged_model(experiment, name="fraud", source_run_id=run_id).model
    assert created is not None
    assert created.info is not None
    assert created.info.status == LoggedModelStatus.LOGGED_MODEL_PENDING
    model_id = str(created.info.model_id)
    assert model_id.startswith("m-")

    w.experiments.log_metric("val_auc", 0.95, 10, run_id=run_id, model_id=model_id, dataset_name="holdout")
    w.experiments.log_metric("train_loss", 0.1, 10, run_id=run_id)  # the run's only
    w.experiments.finalize_logged_model(model_id, LoggedModelStatus.LOGGED_MODEL_READY)

    model = w.experiments.get_logged_model(model_id).model
    assert model is not None
    assert model.info is not None
    assert (model.info.status, model.info.source_run_id, model.info.name) == (
        LoggedModelStatus.LOGGED_MODEL_READY,
        run_id,
        "fraud",
    )
    assert model.data is not None
    assert [(m.key, m.value, m.dataset_name, m.model_id) for m in model.data.metrics or []] == [
        ("val_auc", 0.95, "holdout", model_id)
    ]
    run_after = w.experiments.get_run(run_id).run
    assert run_after is not None
    assert run_after.data is not None
    assert {m.key for m in run_after.data.metrics or []} == {"val_auc", "train_loss"}


def test_refusals_carry_databricks_error_codes(w: WorkspaceClient) -> None:
    experiment = str(w.experiments.create_experiment("/Shared/x").experiment_id)
    with pytest.raises(ResourceAlreadyExists):
        w.experiments.create_experiment("/Shared/x")
    with pytest.raises(NotFound, match="not found"):
        w.experiments.get_run("0" * 32)
    with pytest.raises(NotFound):
        w.experiments.get_logged_model("m-0123")
    with pytest.raises(NotFound):
        w.experiments.create_run(experiment_id="999")
    run = w.experiments.create_run(experiment_id=experiment).run
    assert run is not None
    assert run.info is not None
    with pytest.raises(NotFound):
        w.experiments.log_metric("val_auc", 0.9, 1, run_id=str(run.info.run_id), model_id="m-missing")
    with pytest.raises(InvalidParameterValue):
        w.api_client.do("POST", "/api/2.0/mlflow/runs/log-metric", body={"run_id": run.info.run_id, "key": "k"})


def test_the_controller_reads_a_trained_versions_tags_and_metrics(emu: Emulator, w: WorkspaceClient) -> None:
    name = "main.risk.fraud"
    version = train_on_databricks(emu, w, name, {"val_auc": 0.94}, experiment="/Shared/training")
    w.api_client.do(
        "POST",
        "/api/2.0/mlflow/unity-catalog/model-versions/set-tag",
        body={"name": name, "version": str(version), "key": "validation_status", "value": "approved"},
    )
    registry = UnityCatalogRegistry(w)
    [listed] = registry.list_versions(name)
    evidence = registry.evidence(name, listed)
    assert evidence.tags == {"validation_status": "approved"}
    assert evidence.metric("val_auc") == (0.94, "logged model")
    assert evidence.run_metrics == {"val_auc": 0.94}


def test_a_version_whose_run_is_gone_has_no_metrics(w: WorkspaceClient, emu: Emulator) -> None:
    name = "main.risk.orphan"
    version = emu.seed_model_version(name, source="models:/m-gone", run_id="f" * 32)
    evidence = UnityCatalogRegistry(w).evidence(name, ObservedVersion(version, "READY", "models:/m-gone", "f" * 32))
    assert (evidence.model_metrics, evidence.run_metrics) == ({}, {})
    assert evidence.metric("val_auc") is None
