"""The Experiment's clients: an MLflow tracking server through mlflow-skinny's REST store, a Databricks
workspace's MLflow tracking through the databricks-sdk.

The SDK has no call to remove an experiment tag; the workspace serves MLflow's own
`experiments/delete-experiment-tag` route, called through the SDK's API client.
"""

from __future__ import annotations

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import ml
from mlflow.entities import Experiment, ExperimentTag

from controller.clients import databricks, errors
from controller.clients.mlflow import MlflowConnection, translated_errors
from controller.clients.object_permissions import ObjectPermissions
from controller.kinds.experiment.run import Experiments, ObservedExperiment
from controller.kinds.workspace.connections import Connection
from controller.reconciling.permissions import Levels


def for_connection(connection: Connection) -> Experiments:
    """The workspace's MLflow tracking on a Databricks Workspace, the MLflow server on an MLflow one."""
    if connection.databricks is not None:
        return DatabricksExperiments(connection.databricks)
    assert connection.mlflow is not None
    return MlflowExperiments(connection.mlflow)


class MlflowExperiments:
    """Implements the reconcile's `Experiments` protocol against an MLflow server."""

    def __init__(self, connection: MlflowConnection) -> None:
        self._conn = connection

    def get_by_name(self, name: str) -> ObservedExperiment | None:
        with translated_errors("get_experiment_by_name"):
            found = self._conn.tracking.get_experiment_by_name(name)  # None when there is none
        return _observed(found) if found is not None else None

    def create(self, name: str, *, artifact_location: str | None, tags: dict[str, str]) -> str:
        with translated_errors("create_experiment"):
            return str(
                self._conn.tracking.create_experiment(
                    name, artifact_location=artifact_location, tags=[ExperimentTag(k, v) for k, v in tags.items()]
                )
            )

    def restore(self, experiment_id: str) -> None:
        with translated_errors("restore_experiment"):
            self._conn.tracking.restore_experiment(experiment_id)

    def set_tag(self, experiment_id: str, key: str, value: str) -> None:
        with translated_errors("set_experiment_tag"):
            self._conn.tracking.set_experiment_tag(experiment_id, ExperimentTag(key, value))

    def delete_tag(self, experiment_id: str, key: str) -> None:
        with translated_errors("delete_experiment_tag"):
            self._conn.tracking.delete_experiment_tag(experiment_id, key)

    def delete(self, experiment_id: str) -> None:
        with translated_errors("delete_experiment"):
            self._conn.tracking.delete_experiment(experiment_id)

    def url(self, experiment_id: str) -> str:
        return f"{self._conn.tracking_uri}/#/experiments/{experiment_id}"

    def get_permissions(self, experiment_id: str) -> Levels | None:
        return None  # MLflow's own server has no object permissions (its auth app's are not read; see the docs)

    def write_permissions(self, experiment_id: str, levels: Levels, *, replace: bool) -> None:
        raise errors.Rejected("an MLflow server has no permissions API")


class DatabricksExperiments:
    """Implements the reconcile's `Experiments` protocol against a Databricks workspace."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._w = client

    def get_by_name(self, name: str) -> ObservedExperiment | None:
        try:
            with databricks.translated_errors():
                found = self._w.experiments.get_by_name(name).experiment
        except errors.NotFound:
            return None
        if found is None or found.experiment_id is None:
            return None
        return ObservedExperiment(
            experiment_id=found.experiment_id,
            name=found.name or name,
            lifecycle_stage=found.lifecycle_stage or "active",
            artifact_location=found.artifact_location or "",
            tags={t.key: t.value or "" for t in found.tags or [] if t.key},
        )

    def create(self, name: str, *, artifact_location: str | None, tags: dict[str, str]) -> str:
        with databricks.translated_errors():
            created = self._w.experiments.create_experiment(
                name,
                artifact_location=artifact_location,
                tags=[ml.ExperimentTag(key=k, value=v) for k, v in tags.items()],
            )
        return created.experiment_id or ""

    def restore(self, experiment_id: str) -> None:
        with databricks.translated_errors():
            self._w.experiments.restore_experiment(experiment_id)

    def set_tag(self, experiment_id: str, key: str, value: str) -> None:
        with databricks.translated_errors():
            self._w.experiments.set_experiment_tag(experiment_id, key, value)

    def delete_tag(self, experiment_id: str, key: str) -> None:
        with databricks.translated_errors():
            self._w.api_client.do(
                "POST",
                "/api/2.0/mlflow/experiments/delete-experiment-tag",
                body={"experiment_id": experiment_id, "key": key},
            )

    def delete(self, experiment_id: str) -> None:
        with databricks.translated_errors():
            self._w.experiments.delete_experiment(experiment_id)

    def url(self, experiment_id: str) -> str:
        return f"{(self._w.config.host or '').rstrip('/')}/ml/experiments/{experiment_id}"

    def get_permissions(self, experiment_id: str) -> Levels | None:
        return ObjectPermissions(self._w, "experiments").direct(experiment_id)

    def write_permissions(self, experiment_id: str, levels: Levels, *, replace: bool) -> None:
        grants = ObjectPermissions(self._w, "experiments")
        (grants.replace if replace else grants.grant)(experiment_id, levels)


def _observed(experiment: Experiment) -> ObservedExperiment:
    return ObservedExperiment(
        experiment_id=str(experiment.experiment_id),
        name=experiment.name,
        lifecycle_stage=experiment.lifecycle_stage,
        artifact_location=experiment.artifact_location or "",
        tags=dict(experiment.tags),
    )
