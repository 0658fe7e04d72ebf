"""The largest specs the CRDs admit, applied server-side as Argo CD and Flux do: each kind becomes Ready, an edit
of its spec is reconciled, and it can be deleted, while what the controller keeps on the object stays small.

The Workspace checks for drift once a day, so within a test only a detected spec change reconciles an edit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import kopf
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from controller.api.crd import GROUP
from controller.persistence import DIGEST_KEY, LEGACY_KEY
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

API = "mlops.gitops.dev/v1alpha1"
JOBS_API = "/api/2.2/jobs"
MAX_ANNOTATIONS = 4096
"""Bytes of annotations (keys and values) the controller may leave on an object, whatever its spec."""
JOB_SPEC_BYTES = 1_400_000
"""etcd refuses a write over 1.5 MiB, and the stored object adds managed fields and status to the spec."""
WAIT = 120.0


@pytest.fixture
def w(emulator: Emulator) -> WorkspaceClient:
    return WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)


@pytest.fixture
def quiet(kubectl: Kubectl, emulator: Emulator) -> dict[str, Any]:
    """A Databricks Workspace `quiet` whose drift checks are a day apart; Ready."""
    kubectl("create", "secret", "generic", "quiet-credentials", f"--from-literal=token={DEFAULT_TOKEN}")
    workspace = _manifest(
        "Workspace",
        "quiet",
        {"databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "quiet-credentials"}}},
    )
    workspace["spec"]["driftInterval"] = "24h"
    _apply(kubectl, workspace)
    _ready(kubectl, "workspace", "quiet")
    return workspace


def test_mljob_with_1000_tasks_near_the_request_size_limit(
    kubectl: Kubectl, quiet: dict[str, Any], w: WorkspaceClient
) -> None:
    tasks = [
        {
            "task_key": f"score-shard-{i:04d}",
            "description": "",
            "notebook_task": {"notebook_path": f"/Repos/risk/score/shard_{i:04d}"},
        }
        for i in range(1000)
    ]
    settings = {
        "name": "n" * 4096,
        "tasks": tasks,
        "tags": {f"{i:02d}".ljust(128, "k"): "v" * 256 for i in range(22)},
    }
    mljob = _manifest("MLJob", "large", {"settings": settings})
    pad = (JOB_SPEC_BYTES - _bytes(mljob["spec"])) // len(tasks)
    for task in tasks:
        task["description"] = "d" * pad

    def edit(spec: dict[str, Any]) -> None:
        spec["settings"]["tasks"][-1]["notebook_task"]["notebook_path"] = "/Repos/risk/score/shard_last_v2"

    obj = _lifecycle(kubectl, mljob, edit, lambda obj: _task_path(w, obj, "score-shard-0999").endswith("last_v2"))
    with pytest.raises(NotFound):
        w.jobs.get(obj["status"]["jobId"])


def test_mlmodel_with_every_list_and_map_full(
    kubectl: Kubectl, quiet: dict[str, Any], emulator: Emulator, w: WorkspaceClient
) -> None:
    name = f"main.{_schema(kubectl)}.large"
    versions = []
    for i in range(100):
        run_id, path = f"run-{i:03d}".ljust(64, "0"), f"model-{i:03d}".ljust(256, "x")
        emulator.seed_model_version(name, source=f"runs:/{run_id}/{path}", run_id=run_id)
        handle = f"v-{i:03d}-".ljust(63, "x")
        versions.append(
            {"name": handle, "source": {"run": {"runId": run_id, "artifactPath": path}}, "description": "d" * 5000}
        )
    aliases = {f"alias-{i:02d}-".ljust(255, "a"): versions[i]["name"] for i in range(32)}
    first = next(iter(aliases))
    spec = {
        "registeredName": name,
        "adopt": True,
        "description": "d" * 5000,
        "tags": {f"tag-{i:02d}-".ljust(250, "k"): "v" * 1000 for i in range(64)},
        "versions": versions,
        "aliases": aliases,
    }

    def edit(spec: dict[str, Any]) -> None:
        spec["aliases"][first] = versions[-1]["name"]

    def applied(_: dict[str, Any]) -> bool:
        model = w.registered_models.get(name, include_aliases=True)
        return {a.alias_name: a.version_num for a in model.aliases or []}.get(first) == 100

    _lifecycle(kubectl, _manifest("MLModel", "large", spec), edit, applied)
    with pytest.raises(NotFound):
        w.registered_models.get(name)


def test_servingendpoint_with_every_list_and_map_full(
    kubectl: Kubectl, quiet: dict[str, Any], emulator: Emulator, w: WorkspaceClient
) -> None:
    schema = _schema(kubectl)
    model = f"main.{schema}.served"
    entities: list[dict[str, Any]] = []
    for i in range(10):
        version = emulator.seed_model_version(model, source=f"models:/m-{i}", run_id=f"run-{i}")
        entities.append(
            {
                "name": f"entity-{i}-".ljust(63, "e"),
                "entityName": model,
                "entityVersion": version,
                "scaleToZero": True,
                "environmentVars": {f"VAR_{j:02d}_".ljust(64, "K"): "v" * 256 for j in range(64)},
            }
        )
    endpoint_name = f"{kubectl.namespace}-".ljust(63, "e")
    spec = {
        "endpointName": endpoint_name,
        "servedEntities": entities,
        "traffic": {e["name"]: 10 for e in entities},
        "inferenceTable": {"catalog": "main", "schema": schema, "tablePrefix": "p" * 200},
        "rateLimits": [
            {"calls": 100 + i, "key": "user", "principal": f"user-{i:02d}@".ljust(256, "u")} for i in range(20)
        ],
        "usageTracking": True,
        "tags": {f"{i:02d}".ljust(128, "k"): "v" * 256 for i in range(64)},
    }
    first, second = entities[0]["name"], entities[1]["name"]

    def edit(spec: dict[str, Any]) -> None:
        spec["traffic"].update({first: 19, second: 1})

    def applied(_: dict[str, Any]) -> bool:
        config = w.serving_endpoints.get(endpoint_name).config
        routes = config.traffic_config.routes if config and config.traffic_config else None
        return {r.served_entity_name: r.traffic_percentage for r in routes or []}.get(first) == 19

    _lifecycle(kubectl, _manifest("ServingEndpoint", "large", spec), edit, applied)
    with pytest.raises(NotFound):
        w.serving_endpoints.get(endpoint_name)


def test_modelmonitor_with_every_list_full(
    kubectl: Kubectl, quiet: dict[str, Any], emulator: Emulator, w: WorkspaceClient
) -> None:
    schema = f"main.{_schema(kubectl)}"
    columns: list[str | dict[str, Any]] = ["prediction", "label", "model_id", "timestamp"]
    table_id = emulator.seed_table(f"{schema}.payload", columns=columns)
    emulator.seed_table(f"{schema}.baseline", columns=columns)
    granularities = ["5 minutes", "30 minutes", "1 hour", "1 day", "1 week"]
    granularities += ["2 weeks", "3 weeks", "4 weeks", "1 month", "1 year"]
    spec = {
        "tableName": f"{schema}.payload",
        "outputSchema": schema,
        "assetsDir": f"/Workspace/Shared/monitors/{kubectl.namespace}/".ljust(1024, "a"),
        "inferenceLog": {
            "problemType": "classification",
            "predictionColumn": "prediction",
            "labelColumn": "label",
            "modelIdColumn": "model_id",
            "timestampColumn": "timestamp",
            "granularities": granularities,
        },
        "schedule": {"cron": "0 0 6 * * ?", "timezone": "Europe/Amsterdam"},
        "slicingExpressions": [f"model_id = 'm-{i:02d}' AND ".ljust(255, " ") + "label IS NOT NULL" for i in range(20)],
        "baselineTableName": f"{schema}.baseline",
        "notifications": {"onFailure": [f"risk-oncall-{i}@example.com" for i in range(5)]},
    }

    def edit(spec: dict[str, Any]) -> None:
        spec["schedule"]["cron"] = "0 30 7 * * ?"

    def applied(_: dict[str, Any]) -> bool:
        config = w.data_quality.get_monitor("table", table_id).data_profiling_config
        return bool(config and config.schedule and config.schedule.quartz_cron_expression == "0 30 7 * * ?")

    _lifecycle(kubectl, _manifest("ModelMonitor", "large", spec), edit, applied)
    assert table_id not in {m.object_id for m in w.data_quality.list_monitor()}


def test_workspace(kubectl: Kubectl, quiet: dict[str, Any]) -> None:
    """Its schema bounds a Workspace's spec to a few hundred bytes: the same life, at its real size."""

    def edit(spec: dict[str, Any]) -> None:
        spec["driftInterval"] = "23h"

    _lifecycle(kubectl, quiet, edit, lambda _: True)  # Ready for the edited generation: nothing more to see


def test_an_object_left_by_the_previous_version_sheds_its_copy_of_the_spec_without_a_reconcile(
    kubectl: Kubectl, quiet: dict[str, Any], emulator: Emulator, w: WorkspaceClient
) -> None:
    tasks = [
        {"task_key": f"t-{i:03d}", "notebook_task": {"notebook_path": f"/Repos/risk/t_{i:03d}"}} for i in range(500)
    ]
    mljob = _manifest("MLJob", "upgraded", {"settings": {"name": "upgraded", "tasks": tasks}})
    _apply(kubectl, mljob)
    obj = _ready(kubectl, "mljob", "upgraded")

    # What the previous version kept instead of digests: kopf's annotation storage, the whole essence.
    previous, body, patch = (
        kopf.AnnotationsDiffBaseStorage(prefix=GROUP, key=LEGACY_KEY),
        kopf.Body(cast(kopf.RawBody, obj)),
        kopf.Patch(),
    )
    previous.store(body=body, patch=patch, essence=previous.build(body=body))
    patch["metadata"]["annotations"][f"{GROUP}/{DIGEST_KEY}"] = None
    emulator.reset_counters()
    patched = kubectl("patch", "mljob", "upgraded", "--type=merge", "-o", "json", "-p", json.dumps(patch)).stdout
    assert _annotation_bytes(json.loads(patched)) > _bytes(mljob["spec"])

    wait_until(
        lambda: _annotation_bytes(kubectl.get("mljob", "upgraded")) < MAX_ANNOTATIONS,
        timeout=WAIT,
        interval=1,
        what="the previous version's annotation replaced",
    )
    assert emulator.counters(prefix=JOBS_API)["calls"] == {}  # the spec did not change: nothing to reconcile

    def edit(spec: dict[str, Any]) -> None:
        spec["settings"]["tasks"][0]["notebook_task"]["notebook_path"] = "/Repos/risk/t_first_v2"

    _lifecycle(kubectl, mljob, edit, lambda obj: _task_path(w, obj, "t-000").endswith("t_first_v2"))


def _lifecycle(
    kubectl: Kubectl,
    manifest: dict[str, Any],
    edit: Callable[[dict[str, Any]], None],
    applied: Callable[[dict[str, Any]], bool],
) -> dict[str, Any]:
    """Apply, edit, delete; the object's annotations stay small throughout. Returns the object as last seen."""
    kind, name = manifest["kind"].lower(), manifest["metadata"]["name"]
    spec_bytes = _apply(kubectl, manifest)
    created = _ready(kubectl, kind, name)
    assert _annotation_bytes(created) < MAX_ANNOTATIONS, created["metadata"].get("annotations")

    edit(manifest["spec"])
    _apply(kubectl, manifest)
    edited = _ready(kubectl, kind, name)
    assert edited["metadata"]["generation"] == created["metadata"]["generation"] + 1
    wait_until(lambda: applied(edited), timeout=WAIT, interval=1, what=f"the edit of {kind}/{name} applied")
    assert _annotation_bytes(edited) < MAX_ANNOTATIONS, edited["metadata"].get("annotations")
    print(f"{manifest['kind']}: spec {spec_bytes} bytes; annotations {_annotation_bytes(edited)} bytes")

    kubectl("delete", kind, name, f"--timeout={WAIT:.0f}s")
    assert not kubectl.exists(kind, name)
    return edited


def _apply(kubectl: Kubectl, manifest: dict[str, Any]) -> int:
    """`kubectl apply --server-side`, as Argo CD and Flux apply; returns the spec's size in bytes."""
    kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))
    return _bytes(manifest["spec"])


def _bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def _ready(kubectl: Kubectl, kind: str, name: str) -> dict[str, Any]:
    """The object once Ready=True for its current generation (polled without fetching the large spec each time)."""
    template = '{.metadata.generation} {.status.conditions[?(@.type=="Ready")].observedGeneration}'
    template += ' {.status.conditions[?(@.type=="Ready")].status}'

    def ready() -> bool:
        fields = kubectl("get", kind, name, "-o", f"jsonpath={template}").stdout.split()
        return len(fields) == 3 and fields[0] == fields[1] and fields[2] == "True"

    wait_until(ready, timeout=WAIT, interval=1, what=f"{kind}/{name} Ready")
    return kubectl.get(kind, name)


def _task_path(w: WorkspaceClient, obj: dict[str, Any], task_key: str) -> str:
    """A notebook task's path in the job as Databricks holds it."""
    job = w.jobs.get(obj["status"]["jobId"]).settings
    task = next(t for t in (job.tasks if job else None) or [] if t.task_key == task_key)
    return task.notebook_task.notebook_path if task.notebook_task else ""


def _annotation_bytes(obj: dict[str, Any]) -> int:
    return sum(len(k) + len(v) for k, v in (obj["metadata"].get("annotations") or {}).items())


def _manifest(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    workspace = {} if kind == "Workspace" else {"workspaceRef": {"name": "quiet"}, "deletionPolicy": "Delete"}
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name}, "spec": {**workspace, **spec}}


def _schema(kubectl: Kubectl) -> str:
    """A Unity Catalog schema of the test's own (the emulator is shared by the session)."""
    return kubectl.namespace.replace("-", "_")
