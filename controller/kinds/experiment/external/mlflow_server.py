"""The Experiment's client for an MLflow tracking server, through mlflow-skinny's REST store."""

from __future__ import annotations

from mlflow.entities import Experiment, ExperimentTag

from controller.clients import errors
from controller.clients.mlflow import MlflowConnection, translated_errors
from controller.kinds.experiment.run import ObservedExperiment
from controller.reconciling.permissions import Levels


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


def _observed(experiment: Experiment) -> ObservedExperiment:
    return ObservedExperiment(
        experiment_id=str(experiment.experiment_id),
        name=experiment.name,
        lifecycle_stage=experiment.lifecycle_stage,
        artifact_location=experiment.artifact_location or "",
        tags=dict(experiment.tags),
    )
