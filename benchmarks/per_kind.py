"""External reads and writes per resource per drift interval, for every kind, in steady state.

Each kind gets a namespace of its own whose Workspace points at an emulator of its own, so each
emulator's counters are that kind's calls alone. A namespace with only a Workspace measures the
Workspace's own connection check, which is taken off the others' counts (each has one Workspace).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import yaml

from benchmarks import harness
from sandbox.databricks import Emulator

SHA_MAIN, SHA_TAG = "1" * 40, "3" * 40


@dataclass(frozen=True)
class Counted:
    """One kind's calls over the window: reads and writes per resource per interval, and calls by path."""

    kind: str
    resources: int
    reads: float
    writes: float
    calls: dict[str, float]
    not_ready: str | None = None  # why not all were Ready before the count began


def measure(kubectl: harness.Kubectl, *, count: int, interval: float, intervals: int) -> list[Counted]:
    """`count` resources of each kind, Ready, then counted over `intervals` drift intervals of `interval` s."""
    with ExitStack() as stack:
        kinds = {kind: stack.enter_context(Emulator()) for kind in (*_MAKERS, "Workspace")}
        for kind, emulator in kinds.items():
            emulator.set_timings(endpoint_update=0.2, monitor_pending=0.3, refresh_pending=0.2, refresh_running=0.3)
            namespace = _namespace(kind)
            harness.workspace(kubectl, emulator, namespace, interval)
            if kind in _MAKERS:
                documents = list(_MAKERS[kind](emulator, namespace, count))
                kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(documents))
        not_ready: dict[str, str] = {}
        for kind in kinds:
            plural = "workspaces" if kind == "Workspace" else _plural(kind)
            try:
                kubectl("wait", "-n", _namespace(kind), "--for=condition=Ready", plural, "--all", "--timeout=300s")
            except RuntimeError as exc:  # counted all the same, and said so
                not_ready[kind] = str(exc)
        time.sleep(interval * 2)  # past the first drift checks after creation
        for emulator in kinds.values():
            emulator.reset_counters()
        time.sleep(interval * intervals)
        counted = {kind: emulator.counters(prefix="/api/") for kind, emulator in kinds.items()}
        for kind in _MAKERS:  # gone before their emulators stop (the local API server deletes no namespace's content)
            harness.delete_all(kubectl, _plural(kind), _namespace(kind), timeout=300)
    own = per_resource(counted.pop("Workspace")["calls"], {}, resources=1, intervals=intervals)
    found = [Counted("Workspace", 1, *split(own), own, not_ready.get("Workspace"))]
    for kind, numbers in counted.items():
        calls = per_resource(numbers["calls"], own, resources=count, intervals=intervals)
        found.append(Counted(kind, count, *split(calls), calls, not_ready.get(kind)))
    return found


def per_resource(
    calls: dict[str, int], workspace: dict[str, float], *, resources: int, intervals: int
) -> dict[str, float]:
    """Calls per resource per interval, by call, without the one Workspace's own checks (per interval)."""
    found = {call: (n / intervals - workspace.get(call, 0.0)) / resources for call, n in calls.items()}
    return {call: n for call, n in found.items() if n > 1e-9}


def report(counted: list[Counted], interval: float, intervals: int) -> str:
    lines = [
        f"external calls per resource per drift interval ({interval:.0f}s), by kind, "
        f"counted over {intervals} intervals in steady state (target: reads <= 1.0, writes 0):"
    ]
    for c in counted:
        lines.append(f"  {c.kind:<22} reads {c.reads:.2f}  writes {c.writes:.2f}  ({c.resources} resources)")
        if c.not_ready:
            lines.append(f"    NOT ALL READY: {c.not_ready}")
        for call, n in sorted(c.calls.items(), key=lambda item: -item[1]):
            lines.append(f"    {n:.2f}  {call}")
    return "\n".join(lines)


def split(calls: dict[str, float]) -> tuple[float, float]:
    """Reads (GET, HEAD) and writes (every other verb) of calls counted by `METHOD /path`."""
    reads = sum(n for call, n in calls.items() if call.startswith(("GET ", "HEAD ")))
    return reads, sum(calls.values()) - reads


def _namespace(kind: str) -> str:
    return "bench-reads-" + kind.lower().replace(" ", "-").replace("(", "").replace(")", "")


def _plural(kind: str) -> str:
    return kind.split(" ")[0].lower() + "s"


def _resource(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    ref = {"workspaceRef": {"name": "dbx"}}
    return {"apiVersion": harness.API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": {**ref, **spec}}


def _mlmodels(emulator: Emulator, namespace: str, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        name = f"main.reads.model_{i}"
        emulator.seed_model_version(name, source=f"models:/m-reads-{i}")
        yield harness.mlmodel(namespace, f"model-{i}", name)


def _endpoints(emulator: Emulator, namespace: str, count: int) -> Iterator[dict[str, Any]]:
    emulator.seed_model_version("main.reads.served", source="models:/m-served")
    for i in range(count):
        served = [{"name": "main", "entityName": "main.reads.served", "entityVersion": 1}]
        yield _resource("ServingEndpoint", f"endpoint-{i}", {"endpointName": f"reads-{i}", "servedEntities": served})


def _jobs(emulator: Emulator, namespace: str, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        task = {"task_key": "score", "notebook_task": {"notebook_path": "/Repos/risk/score"}}
        settings = {"name": f"reads-{i}", "tasks": [task], "max_concurrent_runs": 1}
        yield _resource("MLJob", f"job-{i}", {"settings": settings})


def _monitors(emulator: Emulator, namespace: str, count: int) -> Iterator[dict[str, Any]]:
    emulator.seed_schema("main.risk")
    log = {
        "problemType": "classification",
        "predictionColumn": "prediction",
        "labelColumn": "label",
        "modelIdColumn": "model_id",
        "timestampColumn": "timestamp",
        "granularities": ["1 day"],
    }
    for i in range(count):
        table = f"main.risk.payload_{i}"
        emulator.seed_table(table, columns=["prediction", "label", "model_id", "timestamp"])
        spec = {
            "tableName": table,
            "outputSchema": "main.risk",
            "assetsDir": f"/Workspace/Shared/monitors/reads-{i}",
            "inferenceLog": log,
            "schedule": {"cron": "0 0 6 * * ?"},
        }
        yield _resource("ModelMonitor", f"monitor-{i}", spec)


def _experiments(emulator: Emulator, namespace: str, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        yield _resource("Experiment", f"experiment-{i}", {"name": f"/Shared/reads/experiment-{i}"})


def _folders(at: str) -> Callable[[Emulator, str, int], Iterator[dict[str, Any]]]:
    def make(emulator: Emulator, namespace: str, count: int) -> Iterator[dict[str, Any]]:
        for i in range(count):
            url = f"https://github.com/acme/reads-{at}-{i}.git"
            emulator.seed_git_remote(url, branches={"main": SHA_MAIN}, tags={"v1": SHA_TAG})
            checkout = {"branch": "main"} if at == "branch" else {"tag": "v1"}
            spec = {"url": url, "path": f"/Repos/bench/reads-{at}-{i}", **checkout}
            yield _resource("GitFolder", f"folder-{i}", spec)

    return make


_MAKERS: dict[str, Callable[[Emulator, str, int], Iterator[dict[str, Any]]]] = {
    "MLModel": _mlmodels,
    "ServingEndpoint": _endpoints,
    "MLJob": _jobs,
    "ModelMonitor": _monitors,
    "Experiment": _experiments,
    "GitFolder (branch)": _folders("branch"),
    "GitFolder (tag)": _folders("tag"),
}
