"""The MLflow adapter against a real `mlflow server`: what the reconcile relies on, and errors by class."""

from __future__ import annotations

import uuid

import pytest

from controller.clients import errors
from controller.clients.mlflow import MlflowCredentials, connect
from controller.kinds.mlmodel.external import MlflowRegistry
from controller.kinds.mlmodel.observed import SourceRequest
from sandbox.cluster import free_loopback_ports
from sandbox.mlflow_server import MlflowServer
from sandbox.training import log_model

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(mlflow_server: MlflowServer) -> MlflowRegistry:
    return MlflowRegistry(connect(tracking_uri=mlflow_server.url, registry_uri=None, credentials=MlflowCredentials()))


def test_model_tags_aliases_and_versions_round_trip(registry: MlflowRegistry, mlflow_server: MlflowServer) -> None:
    name = f"adapter-{uuid.uuid4().hex[:6]}"
    assert registry.get_model(name) is None
    registry.create_model(name, description="first", tags={"team": "risk"})
    logged = log_model(mlflow_server.url)
    by_id = registry.create_version(name, SourceRequest(model_id=logged.model_id), tags={"fp": "1"}, description="v")
    by_run = registry.create_version(
        name, SourceRequest(run_id=logged.run_id, artifact_path="model"), tags={}, description=None
    )
    registry.set_alias(name, "champion", by_id.version)
    registry.set_description(name, "second")

    model = registry.get_model(name)
    assert model is not None
    assert (model.description, model.tags["team"], model.aliases) == ("second", "risk", {"champion": by_id.version})
    versions = registry.list_versions(name)
    assert [v.version for v in versions] == [by_id.version, by_run.version]
    assert versions[0].tags == {"fp": "1"}
    # A run's model is registered from its logged model (MLflow 3), never a bare runs:/ path.
    assert by_run.source == f"models:/{logged.model_id}"
    assert by_run.run_id == logged.run_id

    registry.delete_alias(name, "champion")
    registry.delete_model(name)
    assert registry.get_model(name) is None


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r, n: r.set_alias(n, "latest", 1), errors.Rejected),
        (lambda r, n: r.set_alias(n, "champion", 99), errors.NotFound),
        (lambda r, n: r.create_model(n, description=None, tags={}), errors.AlreadyExists),
        (
            lambda r, n: r.create_version(n, SourceRequest(model_id="m-missing"), tags={}, description=None),
            errors.NotFound,
        ),
    ],
    ids=["reserved-alias", "missing-version", "duplicate-model", "missing-logged-model"],
)
def test_errors_are_translated_by_code(registry: MlflowRegistry, call: object, error: type[Exception]) -> None:
    name = f"errors-{uuid.uuid4().hex[:6]}"
    registry.create_model(name, description=None, tags={})
    with pytest.raises(error):
        call(registry, name)  # type: ignore[operator]


@pytest.mark.timeout(60)  # MLflow's own defaults would block here for minutes
def test_server_down_fails_fast_as_unavailable() -> None:
    port = free_loopback_ports(1)[0]
    registry = MlflowRegistry(
        connect(tracking_uri=f"http://127.0.0.1:{port}", registry_uri=None, credentials=MlflowCredentials())
    )
    with pytest.raises(errors.Unavailable):
        registry.get_model("anything")
