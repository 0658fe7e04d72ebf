"""Promotion across catalogs and across Databricks workspaces: a Unity Catalog version copied once, then served.

Each Databricks workspace is an emulator of this module's own (the session's is shared, and these tests
count calls). Source versions are registered the way MLflow's client registers them on Unity Catalog:
created PENDING_REGISTRATION, files uploaded through the Files API, finalized.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.files import FilesAPI

from sandbox.databricks import DEFAULT_TOKEN, Emulator, Timings
from tests.e2e.test_plan import plan, write_manifests
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

API = "mlops.gitops.dev/v1alpha1"
PREFIX = "mlops.gitops.dev/"
ML = "/api/2.0/mlflow/unity-catalog/model-versions"
TIMINGS = Timings(endpoint_update=1.0, run_pending=0.5, run_running=1.0, monitor_pending=1.0)


@pytest.fixture(scope="module")
def staging() -> Iterator[Emulator]:
    with Emulator(timings=TIMINGS) as emu:
        yield emu


@pytest.fixture(scope="module")
def production() -> Iterator[Emulator]:
    with Emulator(timings=TIMINGS, workspace_id="2222222222222222") as emu:
        yield emu


def _client(emu: Emulator) -> WorkspaceClient:
    return WorkspaceClient(host=emu.url, token=DEFAULT_TOKEN)


def _model_files() -> dict[str, bytes]:
    """A model's files: small text, a nested folder, and a binary file of a few MiB."""
    return {
        "MLmodel": b"flavors:\n  python_function: {loader_module: mlflow.pyfunc.model}\n",
        "requirements.txt": b"mlflow\n",
        "data/model.bin": os.urandom(3 * (1 << 20) + 17),
    }


def _train(emu: Emulator, name: str, files: dict[str, bytes], tags: dict[str, str], auc: float = 0.93) -> int:
    """Register a version as MLflow's client does on Unity Catalog: a run measured it; create, upload, finalize."""
    w = _client(emu)
    catalog, schema, model = name.split(".")
    emu.seed_schema(f"{catalog}.{schema}")
    if model not in {m.name for m in w.registered_models.list(catalog_name=catalog, schema_name=schema)}:
        w.registered_models.create(catalog_name=catalog, schema_name=schema, name=model)
    experiment = w.experiments.create_experiment(f"/Shared/train-{name}-{len(files)}-{os.urandom(4).hex()}")
    run = w.experiments.create_run(experiment_id=experiment.experiment_id).run
    assert run is not None
    assert run.info is not None
    assert run.info.run_id
    w.experiments.log_metric("val_auc", auc, 0, run_id=run.info.run_id)
    body = {
        "name": name,
        "source": "models:/m-trained",
        "run_id": run.info.run_id,
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
    }
    version = int(w.api_client.do("POST", f"{ML}/create", body=body)["model_version"]["version"])
    api = FilesAPI(w.api_client)
    for path, contents in files.items():
        api.upload(f"/Models/{name.replace('.', '/')}/{version}/{path}", io.BytesIO(contents))
    w.api_client.do("POST", f"{ML}/finalize", body={"name": name, "version": str(version)})
    return version


def _files_of(emu: Emulator, name: str, version: int) -> dict[str, bytes]:
    api = FilesAPI(_client(emu).api_client)
    root = f"/Models/{name.replace('.', '/')}/{version}"

    def walk(folder: str) -> Iterator[tuple[str, bytes]]:
        for entry in api.list_directory_contents(folder):
            assert entry.path
            if entry.is_directory:
                yield from walk(entry.path)
            else:
                contents = api.download(entry.path).contents
                assert contents is not None
                yield entry.path.removeprefix(f"{root}/"), contents.read()

    return dict(walk(root))


def _versions(emu: Emulator, name: str) -> list[dict[str, Any]]:
    answer = _client(emu).api_client.do("GET", f"{ML}/search", query={"filter": f"name = '{name}'"})
    assert isinstance(answer, dict)
    return sorted(answer.get("model_versions") or [], key=lambda v: int(v["version"]))


def _version_tags(emu: Emulator, name: str, version: int) -> dict[str, str]:
    answer = _client(emu).api_client.do("GET", f"{ML}/get", query={"name": name, "version": str(version)})
    assert isinstance(answer, dict)
    return {t["key"]: t.get("value", "") for t in answer["model_version"].get("tags") or []}


def _workspace(kubectl: Kubectl, name: str, emu: Emulator) -> None:
    kubectl("create", "secret", "generic", f"{name}-credentials", f"--from-literal=token={DEFAULT_TOKEN}")
    kubectl.apply(
        {
            "apiVersion": API,
            "kind": "Workspace",
            "metadata": {"name": name},
            "spec": {
                "databricks": {"host": emu.url, "credentialsSecretRef": {"name": f"{name}-credentials"}},
                "driftInterval": "3s",
            },
        }
    )
    kubectl.wait_condition("workspace", name)


class Trained(NamedTuple):
    """A version trained in staging, to be copied into production."""

    name: str
    files: dict[str, bytes]
    version: int

    def source(self) -> dict[str, Any]:
        """The MLModel's `fromModel`: this version, in the staging Workspace."""
        return {"workspaceRef": {"name": "staging"}, "registeredName": self.name, "version": self.version}


def _staging_and_production(kubectl: Kubectl, staging: Emulator, production: Emulator, model: str) -> Trained:
    """An approved version of `main.<namespace>.<model>` in staging, its schema in production, a Workspace for each."""
    schema = kubectl.namespace.replace("-", "_")
    name = f"main.{schema}.{model}"
    files = _model_files()
    version = _train(staging, name, files, {"validation_status": "approved"})
    production.seed_schema(f"main.{schema}")
    _workspace(kubectl, "staging", staging)
    _workspace(kubectl, "production", production)
    return Trained(name, files, version)


def _model(name: str, workspace: str, registered: str, source: dict[str, Any]) -> dict[str, Any]:
    gates = {
        "champion": {"requireTags": {"validation_status": "approved"}, "metrics": [{"name": "val_auc", "min": 0.9}]}
    }
    return {
        "apiVersion": API,
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {
            "workspaceRef": {"name": workspace},
            "registeredName": registered,
            "versions": [{"name": "promoted", "source": {"fromModel": source}}],
            "aliases": {"champion": "promoted"},
            "promotion": gates,
        },
    }


def test_a_version_copied_from_catalog_staging_to_catalog_prod_in_one_workspace(
    kubectl: Kubectl, staging: Emulator
) -> None:
    schema = kubectl.namespace.replace("-", "_")
    source, target = f"staging.{schema}.fraud", f"prod.{schema}.fraud"
    files = _model_files()
    version = _train(staging, source, files, {"validation_status": "approved"})
    staging.seed_schema(f"prod.{schema}")
    _workspace(kubectl, "dbx", staging)
    staging.reset_counters()

    kubectl.apply(
        _model("fraud", "dbx", target, {"workspaceRef": {"name": "dbx"}, "registeredName": source, "version": version})
    )
    status = kubectl.wait_condition("mlmodel", "fraud", timeout=90)["status"]

    [copy] = _versions(staging, target)
    number = int(copy["version"])
    assert copy["status"] == "READY"
    assert copy["source"] == f"models:/{source}/{version}@{staging.url}"
    tags = _version_tags(staging, target, number)
    assert tags[f"{PREFIX}copied-from-location"] == staging.url
    assert tags[f"{PREFIX}copied-from-model"] == source
    assert tags[f"{PREFIX}copied-from-version"] == str(version)
    assert tags["validation_status"] == "approved"  # the source's approval came along: the tag gate passed
    assert _files_of(staging, target, number) == files
    assert status["versions"] == [
        {
            "name": "promoted",
            "version": number,
            "status": "READY",
            "message": "",
            "copiedFrom": f"{source} version {version} at {staging.url}",
        }
    ]
    assert status["aliases"] == {"champion": number}
    calls = staging.counters()["calls"]
    assert calls[f"POST {ML}/create"] == 1
    assert calls[f"POST {ML}/finalize"] == 1
    assert calls["PUT /api/2.0/fs/files{path*}"] == len(files)

    # Drift checks run every few seconds: nothing is copied again.
    observed = kubectl.get("mlmodel", "fraud")["status"]["lastObservedAt"]
    wait_until(
        lambda: kubectl.get("mlmodel", "fraud")["status"]["lastObservedAt"] != observed,
        timeout=30,
        what="a drift check",
    )
    assert len(_versions(staging, target)) == 1
    assert staging.counters()["calls"][f"POST {ML}/create"] == 1


def test_a_version_copied_between_two_workspaces_is_aliased_and_served(
    kubectl: Kubectl, staging: Emulator, production: Emulator
) -> None:
    trained = _staging_and_production(kubectl, staging, production, "churn")
    name, files, version = trained
    endpoint = f"{kubectl.namespace}-churn"

    kubectl.apply(_model("churn", "production", name, trained.source()))
    kubectl.apply(
        {
            "apiVersion": API,
            "kind": "ServingEndpoint",
            "metadata": {"name": "churn"},
            "spec": {
                "workspaceRef": {"name": "production"},
                "endpointName": endpoint,
                "servedEntities": [{"name": "main", "modelRef": {"name": "churn", "alias": "champion"}}],
            },
        }
    )
    status = kubectl.wait_condition("mlmodel", "churn", timeout=90)["status"]
    [copy] = _versions(production, name)
    number = int(copy["version"])
    assert status["aliases"] == {"champion": number}
    assert _files_of(production, name, number) == files
    assert _version_tags(production, name, number)[f"{PREFIX}copied-from-location"] == staging.url
    # The gate judged the copy on the metric measured in staging, recorded on a run in production.
    assert status["promotion"]["champion"]["state"] == "Promoted"
    assert copy["run_id"] != _versions(staging, name)[-1]["run_id"]
    recorded = _client(production).experiments.get_run(copy["run_id"]).run
    assert recorded is not None
    assert recorded.data is not None
    assert [(m.key, m.value) for m in recorded.data.metrics or []] == [("val_auc", 0.93)]

    kubectl.wait_condition("servingendpoint", "churn", timeout=120)
    served = _client(production).serving_endpoints.get(endpoint)
    assert served.config is not None
    assert [(e.entity_name, e.entity_version) for e in served.config.served_entities or []] == [(name, str(number))]
    assert _versions(staging, name)[-1]["version"] == str(version)  # the source is left as it was


def test_a_failure_between_upload_and_finalize_leaves_no_duplicate_and_is_completed(
    kubectl: Kubectl, staging: Emulator, production: Emulator
) -> None:
    trained = _staging_and_production(kubectl, staging, production, "risk")
    name, files = trained.name, trained.files
    production.reset_counters()
    # The first finalize fails (the SDK does not retry a 500): the reconcile stops with the copy created and
    # its files uploaded, as a controller killed between upload and finalize would leave it.
    production.inject_fault(500, count=1, path_prefix=f"{ML}/finalize", method="POST")

    kubectl.apply(_model("risk", "production", name, trained.source()))
    status = kubectl.wait_condition("mlmodel", "risk", timeout=120)["status"]

    [copy] = _versions(production, name)
    assert copy["status"] == "READY"
    assert status["aliases"] == {"champion": int(copy["version"])}
    assert _files_of(production, name, int(copy["version"])) == files
    calls = production.counters()["calls"]
    assert calls[f"POST {ML}/create"] == 1  # the pending version was found and completed, not made again
    assert calls[f"POST {ML}/finalize"] == 2  # the failed one, then the one that completed it
    assert calls["PUT /api/2.0/fs/files{path*}"] == len(files)  # files already uploaded were not sent again


def test_the_plan_shows_the_copy_as_a_planned_version_and_writes_nothing(
    kubectl: Kubectl, staging: Emulator, production: Emulator, tmp_path: Path
) -> None:
    trained = _staging_and_production(kubectl, staging, production, "plan")
    name, version = trained.name, trained.version
    folder = tmp_path / "deploy"
    write_manifests(folder, [_model("plan", "production", name, trained.source())])
    before = staging.counters()["writes"], production.counters()["writes"]

    code, planned = plan(kubectl, folder)

    assert (staging.counters()["writes"], production.counters()["writes"]) == before
    assert code == 2, planned
    [model] = [r for r in planned["resources"] if r["kind"] == "MLModel"]
    assert model["action"] == "create", model
    assert any(w.startswith("create_version(") for w in model["writes"]), model["writes"]
    # The tag and metric gates judge the planned copy on staging's evidence, as the controller will.
    assert f"set_alias({name!r}, 'champion', 1)" in model["writes"], model["writes"]
    copied = [n for n in model["notes"] if n["reason"] == "VersionCopied"]
    assert [n["message"] for n in copied] == [f"copied {name} version {version} as version 1"], model["notes"]
