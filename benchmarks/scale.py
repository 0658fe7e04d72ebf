"""Scale on one controller: many MLModels, a slow Databricks, a long drift interval (`--scale N`).

The models are applied and reconciled first; then every call to the emulator is answered after the
set latency, and one whole drift interval is watched: how late each drift check starts after its due
time (p50/p99), how many checks each resource had, the external calls per resource, and the RSS.
"""

from __future__ import annotations

import time

from benchmarks import harness, lateness
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator

NAMESPACE = "bench-scale"
POLL_SECONDS = 5.0


def measure(
    kubectl: harness.Kubectl,
    emulator: Emulator,
    controller: ControllerProcess,
    *,
    count: int,
    latency: float,
    interval: float,
) -> str:
    """Apply `count` MLModels, wait until all are Ready, then watch one drift interval at `latency` s per call."""
    harness.workspace(kubectl, emulator, NAMESPACE, interval)
    documents = [harness.mlmodel(NAMESPACE, f"scale-{i}", f"main.scale.model_{i}") for i in range(count)]
    harness.seed(emulator, documents)
    converged = harness.apply_until_ready(kubectl, NAMESPACE, documents, timeout=3600, poll=POLL_SECONDS)
    emulator.set_latency(latency)
    before = lateness.scrape(controller.metrics_port)
    emulator.reset_counters()
    time.sleep(interval)
    counted = emulator.counters(prefix="/api/")
    after = lateness.scrape(controller.metrics_port)
    rss = harness.rss_mib(controller)
    emulator.set_latency(0)
    window = after - before if after is not None and before is not None else None
    late = lateness.report(window, count, 1)
    if window is not None:
        late += f" (target p99 < {interval * 0.1:.0f}s)"
    lines = [
        f"scale: {count} MLModels, drift interval {interval:.0f}s, every emulator call answered after {latency}s",
        f"  applied in {converged.apply_seconds:.0f}s, all Ready {converged.ready_seconds:.0f}s after the apply "
        "started (without the latency)",
        f"  over one drift interval with the latency: {late}",
        f"  {counted['reads'] / count:.2f} reads and {counted['writes'] / count:.2f} writes per resource per interval",
        f"  controller RSS {rss:.0f} MiB",
    ]
    return "\n".join(lines)
