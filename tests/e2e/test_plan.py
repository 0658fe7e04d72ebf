"""`mlopsctl plan` on the real API server, the emulator through the real SDK, and a real MLflow server.

The plan must write nothing (the emulator's and MLflow's request counts do not move) and must agree with the
controller: the writes it predicts are the writes the controller then makes when the same manifests are
applied, for creates, updates and a converged set (no changes).
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.databricks import Emulator
from sandbox.mlflow_server import MlflowServer
from tests.e2e.conftest import DRIFT_INTERVAL, workspace_manifest
from tests.support import PAYLOAD_COLUMNS, Kubectl, inference_log, wait_until

pytestmark = pytest.mark.e2e

API = "mlops.gitops.dev/v1alpha1"
DRIFT_SECONDS = float(DRIFT_INTERVAL.removesuffix("s"))
MLOPSCTL = str(Path(sys.executable).with_name("mlopsctl"))


def plan(kubectl: Kubectl, folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """The real CLI's JSON plan and exit code, with the test's kubeconfig and namespace."""
    command = [MLOPSCTL, "plan", "-f", str(folder), "--kubeconfig", str(kubectl.kubeconfig), "-n", kubectl.namespace]
    done = subprocess.run([*command, *args, "-o", "json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 2), f"plan failed ({done.returncode}): {done.stdout}\n{done.stderr}"
    return done.returncode, json.loads(done.stdout)


def write_manifests(folder: Path, documents: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "all.yaml").write_text(yaml.safe_dump_all(documents))


def settled(count: Callable[[], int]) -> int:
    """The write count once it has not moved for two drift intervals (every resource looked again after its
    last write): the controller has done everything it will do for these manifests."""
    last = [count(), time.monotonic()]

    def still() -> int | None:
        now = count()
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return now if time.monotonic() - last[1] >= 2 * DRIFT_SECONDS else None

    return wait_until(still, timeout=60, interval=0.5, what="the controller's writes to stop")


def actions(planned: dict[str, Any]) -> dict[str, str]:
    return {r["kind"] + "/" + r["name"]: r["action"] for r in planned["resources"]}


def databricks_manifests(schema: str, *, champion: int, runs: int, cron: str) -> list[dict[str, Any]]:
    model = f"main.{schema}.fraud"
    meta = {"workspaceRef": {"name": "dbx"}}
    return [
        {
            "apiVersion": API,
            "kind": "MLModel",
            "metadata": {"name": "fraud"},
            "spec": {
                **meta,
                "registeredName": model,
                "adopt": True,
                "tags": {"team": "risk"},
                "aliases": {"champion": champion},
            },
        },
        {
            "apiVersion": API,
            "kind": "ServingEndpoint",
            "metadata": {"name": "fraud"},
            "spec": {
                **meta,
                "endpointName": f"{schema}-fraud",
                "servedEntities": [{"name": "champion", "modelRef": {"name": "fraud", "alias": "champion"}}],
                "deletionPolicy": "Delete",
            },
        },
        {
            "apiVersion": API,
            "kind": "MLJob",
            "metadata": {"name": "retrain"},
            "spec": {
                **meta,
                "settings": {
                    "name": f"{schema}-retrain",
                    "max_concurrent_runs": runs,
                    "tasks": [{"task_key": "train", "notebook_task": {"notebook_path": "/Repos/risk/train"}}],
                },
                "runOnChange": True,
                "deletionPolicy": "Delete",
            },
        },
        {
            "apiVersion": API,
            "kind": "ModelMonitor",
            "metadata": {"name": "payload"},
            "spec": {
                **meta,
                "tableName": f"main.{schema}.payload",
                "outputSchema": f"main.{schema}",
                "assetsDir": f"/Workspace/Shared/monitors/{schema}",
                "inferenceLog": inference_log(),
                "schedule": {"cron": cron},
                "deletionPolicy": "Delete",
            },
        },
    ]


def test_plan_predicts_the_controllers_databricks_writes_and_writes_nothing(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, tmp_path: Path
) -> None:
    schema = kubectl.namespace.replace("-", "_")
    for _ in range(2):
        emulator.seed_model_version(f"main.{schema}.fraud", source="models:/m-x", run_id="run-x")
    emulator.seed_table(f"main.{schema}.payload", columns=PAYLOAD_COLUMNS)
    folder = tmp_path / "deploy"

    def writes() -> int:
        return int(emulator.counters()["writes"])

    steps = [
        ("create", {"champion": 1, "runs": 1, "cron": "0 0 6 * * ?"}, "adopt create create create"),
        ("update", {"champion": 2, "runs": 2, "cron": "0 0 7 * * ?"}, "update update update update"),
    ]
    for step, values, expected in steps:
        write_manifests(folder, databricks_manifests(schema, **values))
        before = writes()
        code, planned = plan(kubectl, folder)
        assert writes() == before, f"{step}: the plan wrote to the workspace"
        assert code == 2, planned
        order = ["MLModel/fraud", "MLJob/retrain", "ServingEndpoint/fraud", "ModelMonitor/payload"]
        assert [actions(planned)[ref] for ref in order] == expected.split(), planned
        kubectl("apply", "-f", str(folder))
        for kind, name in (
            ("mlmodel", "fraud"),
            ("servingendpoint", "fraud"),
            ("mljob", "retrain"),
            ("modelmonitor", "payload"),
        ):
            kubectl.wait_condition(kind, name, timeout=60)
        made = settled(writes) - before
        assert made == planned["summary"]["writes"], f"{step}: predicted {planned['resources']}, made {made}"

        if step == "update":  # field by field, in the kinds' own words
            changes = {r["kind"]: r["changes"] for r in planned["resources"]}
            assert changes["MLModel"] == ["alias champion points at 1, spec says 2"]
            assert changes["ServingEndpoint"] == ["served entity champion serves version 1, spec says 2"]
            assert changes["MLJob"] == ["max_concurrent_runs differ from the spec"]
            assert "'0 0 6 * * ?'" in changes["ModelMonitor"][0]
            assert "'0 0 7 * * ?'" in changes["ModelMonitor"][0]

    before = writes()
    code, planned = plan(kubectl, folder)
    assert (code, set(actions(planned).values()), writes()) == (0, {"none"}, before), planned


class CountingProxy:
    """Forwards to MLflow and counts the writes it receives (what MLflow's own access log would show)."""

    READS_BY_POST = ("/search",)  # MLflow answers some searches to POST

    def __init__(self, upstream: str) -> None:
        target = urllib.parse.urlsplit(upstream)
        self.writes: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?", 1)[0]
                if self.command != "GET" and not any(part in path for part in proxy.READS_BY_POST):
                    proxy.writes[f"{self.command} {path}"] += 1
                upstream = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward  # noqa: N815 -- http.server's names

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self) -> int:
        return sum(self.writes.values())

    def __enter__(self) -> CountingProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def counted_mlflow(mlflow_server: MlflowServer) -> Iterator[CountingProxy]:
    with CountingProxy(mlflow_server.url) as proxy:
        yield proxy


def test_plan_predicts_the_controllers_mlflow_writes_and_writes_nothing(
    kubectl: Kubectl, counted_mlflow: CountingProxy, tmp_path: Path
) -> None:
    folder = tmp_path / "deploy"
    registered = f"{kubectl.namespace}-classifier"

    def manifests(description: str, tags: dict[str, str]) -> list[dict[str, Any]]:
        spec = {"workspaceRef": {"name": "mlflow"}, "registeredName": registered, "description": description}
        spec["deletionPolicy"] = "Delete"
        model = {
            "apiVersion": API,
            "kind": "MLModel",
            "metadata": {"name": "classifier"},
            "spec": {**spec, "tags": tags},
        }
        return [workspace_manifest("mlflow", counted_mlflow.url), model]

    steps = [
        ("create", manifests("first", {"team": "risk"}), {"Workspace/mlflow": "none", "MLModel/classifier": "create"}),
        (
            "update",
            manifests("second", {"team": "fraud"}),
            {"Workspace/mlflow": "none", "MLModel/classifier": "update"},
        ),
    ]
    for step, documents, expected in steps:
        write_manifests(folder, documents)
        before = counted_mlflow.count()
        code, planned = plan(kubectl, folder)
        assert counted_mlflow.count() == before, f"{step}: the plan wrote to MLflow: {counted_mlflow.writes}"
        assert (code, actions(planned)) == (2, expected), planned
        kubectl("apply", "-f", str(folder))
        kubectl.wait_condition("mlmodel", "classifier", timeout=60)
        made = settled(counted_mlflow.count) - before
        assert made == planned["summary"]["writes"], (
            f"{step}: predicted {planned['resources']}, {counted_mlflow.writes}"
        )
    (model,) = [r for r in planned["resources"] if r["kind"] == "MLModel"]
    assert model["changes"] == ["description is 'first', spec says 'second'", "tag team is 'risk', spec says 'fraud'"]

    code, planned = plan(kubectl, folder, "--prune")
    assert (code, set(actions(planned).values())) == (0, {"none"}), planned

    write_manifests(folder, documents[:1])  # the model left out of the manifests: Argo CD would prune it
    assert actions(plan(kubectl, folder)[1]) == {"Workspace/mlflow": "none"}
    code, planned = plan(kubectl, folder, "--prune")
    assert (code, actions(planned)) == (2, {"Workspace/mlflow": "none", "MLModel/classifier": "delete"}), planned
    assert planned["resources"][-1]["writes"] == [f"delete_model({registered!r})"]
    assert counted_mlflow.count() == before + made
