"""Reads per MLModel drift check, against the real registries: the emulator through the databricks-sdk
(Unity Catalog) and a real `mlflow server`. A drift check with nothing to do reads the model once and
writes nothing; its versions are read only when something needs them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config

from controller.clients.mlflow import MlflowCredentials, connect
from controller.kinds.mlmodel import reconcile as r
from controller.kinds.mlmodel.external import MlflowRegistry
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.observed import SourceRequest
from controller.kinds.mlmodel.run import REGISTRY_READS
from controller.kinds.mlmodel.unity_catalog import UnityCatalogRegistry
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.mlflow_server import MlflowServer
from sandbox.training import log_model

pytestmark = pytest.mark.integration

OWNER = "bench/reads"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def _uc(emu: Emulator) -> UnityCatalogRegistry:
    return UnityCatalogRegistry(WorkspaceClient(config=Config(host=emu.url, token=DEFAULT_TOKEN, auth_type="pat")))


def _spec(name: str, **fields: Any) -> MLModelSpec:
    return MLModelSpec.model_validate({"workspaceRef": {"name": "w"}, "registeredName": name, "adopt": True, **fields})


def _reconcile(spec: MLModelSpec, registry: r.Registry, *, spec_changed: bool) -> r.Outcome:
    return r.reconcile(spec, registry=registry, request=r.Request(owner=OWNER, spec_changed=spec_changed))


def test_unity_catalog_drift_check_is_one_read(emulator: Emulator) -> None:
    name = f"main.reads.m_{uuid.uuid4().hex[:6]}"
    for n in (1, 2):
        emulator.seed_model_version(name, source=f"models:/m-reads-{n}")
    registry, spec = _uc(emulator), _spec(name, aliases={"champion": 1})
    first = _reconcile(spec, registry, spec_changed=True)
    assert first.ready.ok, first.ready.message
    assert first.observed["latestVersion"] == 2  # the spec changed: versions read

    emulator.reset_counters()
    steady = _reconcile(spec, registry, spec_changed=False)
    counted = emulator.counters(prefix="/api/")
    assert (counted["reads"], counted["writes"]) == (1, 0), counted["calls"]
    assert steady.ready.ok
    assert steady.drift_corrections == 0
    assert "latestVersion" not in steady.observed  # status keeps the last figure read

    # The alias moved out of band: the check reads the versions too and puts it back.
    registry.set_alias(name, "champion", 2)
    emulator.reset_counters()
    corrected = _reconcile(spec, registry, spec_changed=False)
    counted = emulator.counters(prefix="/api/")
    assert corrected.drift_corrections == 1
    assert registry.get_model(name).aliases == {"champion": 1}  # type: ignore[union-attr]
    assert (counted["reads"], counted["writes"]) == (2, 1), counted["calls"]
    assert corrected.observed["latestVersion"] == 2


def test_unity_catalog_alias_to_a_deleted_version_waits(emulator: Emulator) -> None:
    """An alias whose version is gone is no longer where the spec points it: versions are read, and it waits."""
    name = f"main.reads.gone_{uuid.uuid4().hex[:6]}"
    emulator.seed_model_version(name, source="models:/m-gone-1")
    registry = _uc(emulator)
    outcome = _reconcile(_spec(name, aliases={"champion": 2}), registry, spec_changed=False)
    assert not outcome.ready.ok
    assert "version 2 does not exist" in outcome.ready.message


@dataclass
class _Counting:
    """The real MLflow registry, with the reads the reconcile makes through it counted by method."""

    inner: MlflowRegistry
    reads: list[str] = field(default_factory=list)

    def __getattr__(self, attr: str) -> Any:
        if attr in REGISTRY_READS and attr not in ("source_uri", "model_url"):  # those two call nothing
            self.reads.append(attr)
        return getattr(self.inner, attr)


def test_mlflow_drift_check_is_one_read_with_the_latest_version(mlflow_server: MlflowServer) -> None:
    real = MlflowRegistry(connect(tracking_uri=mlflow_server.url, registry_uri=None, credentials=MlflowCredentials()))
    name = f"reads-{uuid.uuid4().hex[:6]}"
    real.create_model(name, description=None, tags={})
    logged = log_model(mlflow_server.url)
    real.create_version(name, SourceRequest(model_id=logged.model_id), tags={}, description=None)
    registry, spec = _Counting(real), _spec(name, aliases={"champion": 1})
    assert _reconcile(spec, registry, spec_changed=True).ready.ok  # type: ignore[arg-type]

    # Training registers version 2: the model's own read reports it as the latest, without reading versions.
    real.create_version(name, SourceRequest(model_id=logged.model_id), tags={}, description=None)
    registry.reads.clear()
    steady = _reconcile(spec, registry, spec_changed=False)  # type: ignore[arg-type]
    assert registry.reads == ["get_model"]
    assert steady.ready.ok
    assert steady.drift_corrections == 0
    assert steady.observed["latestVersion"] == 2
