"""Stand-in for a training job: log tiny real models to MLflow and register versions.

Used by the sandbox and the tests to create what training creates in real life.
Needs the full `mlflow` package (a test dependency), unlike the controller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LoggedModel:
    """A model logged by a run: what an MLModel's version source points at."""

    model_id: str
    run_id: str
    artifact_path: str


def log_model(tracking_uri: str, *, experiment: str = "sandbox", artifact_path: str = "model") -> LoggedModel:
    """Log a tiny pyfunc model in a new run and return its ids."""
    import mlflow
    import mlflow.pyfunc

    class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input * 2

    client = mlflow.MlflowClient(tracking_uri)
    existing = client.get_experiment_by_name(experiment)
    experiment_id = existing.experiment_id if existing else client.create_experiment(experiment)
    mlflow.set_tracking_uri(tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        info = mlflow.pyfunc.log_model(name=artifact_path, python_model=Doubler(), pip_requirements=["mlflow"])
    return LoggedModel(model_id=info.model_id, run_id=run.info.run_id, artifact_path=artifact_path)


def register_versions(tracking_uri: str, name: str, count: int) -> list[int]:
    """Register `count` new versions of `name` from freshly logged models, as training would."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    if not _exists(client, name):
        client.create_registered_model(name)
    versions = []
    for _ in range(count):
        logged = log_model(tracking_uri)
        version = client.create_model_version(
            name, f"models:/{logged.model_id}", run_id=logged.run_id, model_id=logged.model_id
        )
        versions.append(int(version.version))
    return versions


def _exists(client: Any, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        return False
    return True
