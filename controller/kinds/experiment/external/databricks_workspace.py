"""The Experiment's client for a Databricks workspace's MLflow tracking, through the databricks-sdk.

The SDK has no call to remove an experiment tag; the workspace serves MLflow's own
`experiments/delete-experiment-tag` route, called through the SDK's API client.
"""

from __future__ import annotations

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import ml

from controller.clients import databricks, errors
from controller.clients.object_permissions import ObjectPermissions
from controller.kinds.experiment.run import ObservedExperiment
from controller.reconciling.permissions import Levels


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
