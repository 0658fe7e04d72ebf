"""Stand-in for a training job: log tiny real models to MLflow and register versions.

Used by the sandbox and the tests to create what training creates in real life.
Needs the full `mlflow` package (a test dependency), unlike the controller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from sandbox.databricks import Emulator

TRAINED_METRICS: Mapping[str, float] = {"val_auc": 0.93}
"""What the stand-in training measures on each model it logs, unless told otherwise."""


@dataclass(frozen=True)
class LoggedModel:
    """A model logged by a run: what an MLModel's version source points at."""

    model_id: str
    run_id: str
    artifact_path: str


def log_model(
    tracking_uri: str,
    *,
    experiment: str = "sandbox",
    artifact_path: str = "model",
    metrics: Mapping[str, float] | None = None,
) -> LoggedModel:
    """Log a tiny pyfunc model in a new run and return its ids; `metrics` are logged to the run and linked to the
    model, as MLflow 3 training does with `log_metric(..., model_id=...)`."""
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
        for key, value in (metrics or {}).items():
            client.log_metric(run.info.run_id, key, value, model_id=info.model_id)
    return LoggedModel(model_id=info.model_id, run_id=run.info.run_id, artifact_path=artifact_path)


def register_versions(
    tracking_uri: str, name: str, count: int, *, metrics: Mapping[str, float] = TRAINED_METRICS
) -> list[int]:
    """Register `count` new versions of `name` from freshly logged models, as training would (each measured
    with `metrics`)."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    if not _exists(client, name):
        client.create_registered_model(name)
    versions = []
    for _ in range(count):
        logged = log_model(tracking_uri, metrics=metrics)
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


def log_run_metrics(tracking_uri: str, run_id: str, metrics: Mapping[str, float]) -> None:
    """Log metrics to a run only (not linked to any logged model), as MLflow 2 style training does."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)


def train_on_databricks(
    emulator: Emulator, w: WorkspaceClient, full_name: str, metrics: Mapping[str, float], *, experiment: str
) -> int:
    """Train as a Databricks job would: a run and a logged model in the workspace's MLflow tracking (in a new
    experiment), `metrics` logged to both, then a Unity Catalog version registered from the logged model.
    Returns the version."""
    from databricks.sdk.service.ml import LoggedModelStatus, UpdateRunStatus

    experiment_id = w.experiments.create_experiment(experiment).experiment_id
    run = w.experiments.create_run(experiment_id=experiment_id).run
    run_id = run.info.run_id if run and run.info else None
    assert experiment_id is not None
    assert run_id is not None
    model = w.experiments.create_logged_model(experiment_id, source_run_id=run_id).model
    model_id = model.info.model_id if model and model.info else None
    assert model_id is not None
    for key, value in metrics.items():
        w.experiments.log_metric(key, value, emulator.clock.now_ms(), run_id=run_id, model_id=model_id)
    w.experiments.finalize_logged_model(model_id, LoggedModelStatus.LOGGED_MODEL_READY)
    w.experiments.update_run(run_id=run_id, status=UpdateRunStatus.FINISHED)
    return emulator.seed_model_version(full_name, source=f"models:/{model_id}", run_id=run_id)
