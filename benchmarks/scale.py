"""Scale on one controller: many MLModels, a slow Databricks, a long drift interval (`--scale N`).

The models are applied and reconciled first; then every call to the emulator is answered after the
set latency, and one whole drift interval is watched: how late each drift check starts after its due
time (p50/p99), how many checks each resource had, the external calls per resource, and the RSS.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from benchmarks import lateness, per_kind
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator

NAMESPACE = "bench-scale"
CHUNK = 500  # documents per kubectl apply
POLL_SECONDS = 5.0
Kubectl = Callable[..., str]


def measure(
    kubectl: Kubectl,
    kubeconfig: Path,
    emulator: Emulator,
    controller: ControllerProcess,
    *,
    count: int,
    latency: float,
    interval: float,
) -> str:
    """Apply `count` MLModels, wait until all are Ready, then watch one drift interval at `latency` s per call."""
    per_kind.workspace(kubectl, emulator, NAMESPACE, interval)
    for i in range(count):
        emulator.seed_model_version(f"main.scale.model_{i}", source=f"models:/m-scale-{i}")
    started = time.monotonic()
    for first in range(0, count, CHUNK):
        documents = [_model(i) for i in range(first, min(first + CHUNK, count))]
        kubectl("apply", "-n", NAMESPACE, "-f", "-", stdin=yaml.safe_dump_all(documents))
    applied = time.monotonic() - started
    _wait_ready(kubeconfig, count, timeout=3600)
    converged = time.monotonic() - started
    emulator.set_latency(latency)
    before = lateness.scrape(controller.metrics_port)
    emulator.reset_counters()
    time.sleep(interval)
    counted = emulator.counters(prefix="/api/")
    after = lateness.scrape(controller.metrics_port)
    rss = rss_mib(controller)
    emulator.set_latency(0)
    window = after - before if after is not None and before is not None else None
    late = lateness.report(window, count, 1)
    if window is not None:
        late += f" (target p99 < {interval * 0.1:.0f}s)"
    lines = [
        f"scale: {count} MLModels, drift interval {interval:.0f}s, every emulator call answered after {latency}s",
        f"  applied in {applied:.0f}s, all Ready {converged:.0f}s after the apply started (without the latency)",
        f"  over one drift interval with the latency: {late}",
        f"  {counted['reads'] / count:.2f} reads and {counted['writes'] / count:.2f} writes per resource per interval",
        f"  controller RSS {rss:.0f} MiB",
    ]
    return "\n".join(lines)


def rss_mib(controller: ControllerProcess) -> float:
    for line in Path(f"/proc/{controller.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _wait_ready(kubeconfig: Path, count: int, *, timeout: float) -> None:
    """Until a listing (in pages) shows `count` MLModels Ready."""
    api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(kubeconfig)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, token = 0, None
        while True:
            page: dict[str, Any] = api.list_namespaced_custom_object(
                "mlops.gitops.dev", "v1alpha1", NAMESPACE, "mlmodels", limit=1000, _continue=token
            )
            ready += sum(1 for item in page["items"] if _ready(item))
            token = page["metadata"].get("continue")
            if not token:
                break
        if ready >= count:
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"not all {count} MLModels were Ready after {timeout:.0f}s")


def _ready(item: dict[str, Any]) -> bool:
    conditions = (item.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _model(index: int) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": f"scale-{index}", "namespace": NAMESPACE},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "registeredName": f"main.scale.model_{index}",
            "adopt": True,
            "aliases": {"champion": 1},
        },
    }
