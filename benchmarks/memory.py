"""The controller's memory alone: `python -m benchmarks.memory [--models 1000,5000] [--controller PATH ...]`.

The same figures as the memory part of `make bench` (RSS idle with one Workspace, with each count of MLModels
on Unity Catalog reconciled and drift-checked, and the slope per resource between counts), without the
convergence, steady-state and promotion runs. Each `--controller` runs the controller with that PYTHONPATH
(a `git worktree` of an earlier commit, say; default: as installed), one after the other on the same API
server and emulator, each in a namespace of its own that it alone watches; the figures are printed side by
side. Each RSS figure is the median of 30 readings a second apart, starting two drift intervals after the last
resource was Ready.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import harness
from sandbox.cluster import repo_root
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator

DRIFT_INTERVAL_SECONDS = 10
POLL_SECONDS = 2.0  # listing thousands of resources is itself work on a 2-core machine
SAMPLE_SECONDS = 30


@dataclass
class Figures:
    """RSS in MiB, idle and at each count of MLModels reconciled."""

    label: str
    idle: float = 0.0
    levels: list[tuple[int, float]] = field(default_factory=list)

    def slope(self, index: int) -> float:
        """KiB per resource from the figure before (idle for the first)."""
        count, rss = self.levels[index]
        before_count, before_rss = self.levels[index - 1] if index else (0, self.idle)
        return (rss - before_rss) * 1024 / (count - before_count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument(
        "--models", type=harness.counts, default=[1000, 5000], help="counts of MLModels (default 1000,5000)"
    )
    parser.add_argument(
        "--controller",
        action="append",
        default=[],
        metavar="PYTHONPATH",
        help="run the controller from this checkout (repeatable; default: the installed one)",
    )
    args = parser.parse_args(argv)
    python = os.environ.get("MLOPS_CONTROLLER_PYTHON", str(repo_root() / ".cache/venv-runtime/bin/python"))
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-memory-"))
    # The controller process starts in this folder, so `python -m controller` finds the checkout on PYTHONPATH
    # (or the installed one), never a `controller/` in the current directory.
    os.chdir(work)
    results: list[Figures] = []
    with harness.cluster(work) as (kubectl, emulator):
        roots: list[str | None] = args.controller or [None]
        for number, root in enumerate(roots):
            label = root or "as installed"
            namespace = f"bench-memory-{number}"
            figures = _measure(kubectl, emulator, python, root, namespace, args.models, work, label)
            print(_describe(figures), flush=True)
            results.append(figures)
    if len(results) > 1:
        print(side_by_side(results))
    return 0


def _measure(
    kubectl: harness.Kubectl,
    emulator: Emulator,
    python: str,
    root: str | None,
    namespace: str,
    levels: list[int],
    work: Path,
    label: str,
) -> Figures:
    harness.workspace(kubectl, emulator, namespace, DRIFT_INTERVAL_SECONDS)
    env = {"PYTHONPATH": root} if root else {}
    controller = harness.controller(
        kubectl, work / f"{namespace}.log", python=python, extra_env=env, args=["-n", namespace]
    )
    figures = Figures(label)
    with controller:
        kubectl("wait", "--for=condition=Ready", "workspace/dbx", "-n", namespace, "--timeout=300s")
        time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # a few checks of the Workspace since
        figures.idle = settled_rss(controller)
        print(f"  [{label}] idle: {figures.idle:.0f} MiB", flush=True)
        present = 0
        for level in levels:
            _apply_models(kubectl, emulator, namespace, range(present, level))
            present = level
            time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # settled: every resource drift-checked since it converged
            figures.levels.append((present, settled_rss(controller)))
            print(f"  [{label}] {present} MLModels: {figures.levels[-1][1]:.0f} MiB", flush=True)
    return figures


def _apply_models(kubectl: harness.Kubectl, emulator: Emulator, namespace: str, indices: range) -> None:
    registered = f"main.bench.{namespace.replace('-', '_')}"
    documents = [harness.mlmodel(namespace, f"m-{index}", f"{registered}_{index}") for index in indices]
    harness.seed(emulator, documents)
    harness.apply_until_ready(kubectl, namespace, documents, timeout=3600, poll=POLL_SECONDS)


def _describe(figures: Figures) -> str:
    lines = [f"memory of the controller from {figures.label}: RSS {figures.idle:.0f} MiB idle (one Workspace)"]
    for index, (count, rss) in enumerate(figures.levels):
        since = f"{figures.levels[index - 1][0]}" if index else "idle"
        slope = figures.slope(index)
        lines.append(f"  {rss:.0f} MiB with {count} MLModels; {slope:.0f} KiB per resource since {since}")
    return "\n".join(lines)


def side_by_side(results: Sequence[Figures]) -> str:
    """A Markdown table: one column per controller, rows idle, each count, and each slope."""
    rows = [["", *(figures.label for figures in results)], ["---"] * (len(results) + 1)]
    rows.append(["RSS idle (one Workspace)", *(f"{figures.idle:.0f} MiB" for figures in results)])
    for index, (count, _) in enumerate(results[0].levels):
        rows.append([f"RSS with {count} MLModels", *(f"{f.levels[index][1]:.0f} MiB" for f in results)])
    for index, (count, _) in enumerate(results[0].levels):
        since = f"{results[0].levels[index - 1][0]}" if index else "idle"
        rows.append([f"per resource, {since} to {count}", *(f"{f.slope(index):.0f} KiB" for f in results)])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def settled_rss(controller: ControllerProcess) -> float:
    """The median of RSS read every second for SAMPLE_SECONDS: one reading swings by tens of MiB with the
    churn of drift checks and the heap trims between them."""
    samples = []
    for _ in range(SAMPLE_SECONDS):
        samples.append(harness.rss_mib(controller))
        time.sleep(1)
    return statistics.median(samples)


if __name__ == "__main__":
    sys.exit(main())
