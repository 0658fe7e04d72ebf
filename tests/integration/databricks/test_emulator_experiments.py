"""The emulator's experiments API through the real SDK: the calls the Experiment kind makes, with Databricks'
error classes, and the soft delete that keeps a name until the experiment is restored."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, ResourceAlreadyExists
from databricks.sdk.service.ml import ExperimentTag, ViewType

from controller.kinds.experiment.external.databricks_workspace import DatabricksExperiments

pytestmark = pytest.mark.integration


def test_create_then_read_by_name_with_tags_and_default_location(w: WorkspaceClient) -> None:
    created = w.experiments.create_experiment("/Shared/fraud/training", tags=[ExperimentTag("team", "risk")])
    found = w.experiments.get_by_name("/Shared/fraud/training").experiment
    assert found is not None
    assert found.experiment_id == created.experiment_id
    assert found.lifecycle_stage == "active"
    assert found.artifact_location == f"dbfs:/databricks/mlflow-tracking/{created.experiment_id}"
    assert {t.key: t.value for t in found.tags or []}["team"] == "risk"


def test_a_name_that_is_not_a_workspace_path_is_refused(w: WorkspaceClient) -> None:
    with pytest.raises(InvalidParameterValue, match="absolute path"):
        w.experiments.create_experiment("fraud-training")


def test_delete_keeps_the_name_until_restored(w: WorkspaceClient) -> None:
    experiment = str(w.experiments.create_experiment("/Shared/soft", artifact_location="s3://b/soft").experiment_id)
    w.experiments.delete_experiment(experiment)
    deleted = w.experiments.get_by_name("/Shared/soft").experiment
    assert deleted is not None
    assert deleted.lifecycle_stage == "deleted"
    with pytest.raises(ResourceAlreadyExists):
        w.experiments.create_experiment("/Shared/soft")
    with pytest.raises(InvalidParameterValue):
        w.experiments.set_experiment_tag(experiment, "team", "risk")
    assert [e.name for e in w.experiments.search_experiments(view_type=ViewType.DELETED_ONLY)] == ["/Shared/soft"]
    w.experiments.restore_experiment(experiment)
    restored = w.experiments.get_experiment(experiment).experiment
    assert restored is not None
    assert (restored.lifecycle_stage, restored.artifact_location) == ("active", "s3://b/soft")
    with pytest.raises(InvalidParameterValue):
        w.experiments.restore_experiment(experiment)


def test_rename_and_missing_experiments(w: WorkspaceClient) -> None:
    experiment = str(w.experiments.create_experiment("/Shared/a").experiment_id)
    w.experiments.create_experiment("/Shared/b")
    with pytest.raises(ResourceAlreadyExists):
        w.experiments.update_experiment(experiment, new_name="/Shared/b")
    w.experiments.update_experiment(experiment, new_name="/Shared/c")
    assert [e.experiment_id for e in w.experiments.search_experiments(filter="name = '/Shared/c'")] == [experiment]
    with pytest.raises(NotFound):
        w.experiments.get_by_name("/Shared/a")
    with pytest.raises(NotFound):
        w.experiments.get_experiment("424242")


def test_the_controllers_client_sets_and_removes_tags(w: WorkspaceClient) -> None:
    client = DatabricksExperiments(w)
    experiment = client.create("/Shared/tags", artifact_location=None, tags={"a": "1"})
    client.set_tag(experiment, "b", "2")
    client.delete_tag(experiment, "a")
    found = client.get_by_name("/Shared/tags")
    assert found is not None
    assert {k: v for k, v in found.tags.items() if not k.startswith("mlflow.")} == {"b": "2"}
    assert client.get_by_name("/Shared/none") is None
    assert client.url(experiment).endswith(f"/ml/experiments/{experiment}")
