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
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from benchmarks import readiness
from sandbox.cluster import LocalCluster, repo_root
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator

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
    parser.add_argument("--models", type=_counts, default=[1000, 5000], help="counts of MLModels (default 1000,5000)")
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
    with LocalCluster(work_dir=work / "cluster") as cluster, Emulator() as emulator:
        kubectl = _Kubectl(cluster.kubeconfig_path)
        kubectl("apply", "--server-side", "-f", str(repo_root() / "crds"))
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
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
    kubectl: _Kubectl,
    emulator: Emulator,
    python: str,
    root: str | None,
    namespace: str,
    levels: list[int],
    work: Path,
    label: str,
) -> Figures:
    _workspace(kubectl, emulator, namespace)
    env = {"PYTHONPATH": root} if root else {}
    controller = ControllerProcess(
        python=python,
        kubeconfig=kubectl.kubeconfig,
        log_path=work / f"{namespace}.log",
        extra_env=env,
        args=["-n", namespace],
    )
    figures = Figures(label)
    with controller:
        kubectl("wait", "--for=condition=Ready", "workspace/dbx", "-n", namespace, "--timeout=300s")
        time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # a few checks of the Workspace since
        figures.idle = settled_rss(controller)
        print(f"  [{label}] idle: {figures.idle:.0f} MiB", flush=True)
        present = 0
        for level in sorted(levels):
            _apply_models(kubectl, emulator, namespace, range(present, level))
            present = level
            time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # settled: every resource drift-checked since it converged
            figures.levels.append((present, settled_rss(controller)))
            print(f"  [{label}] {present} MLModels: {figures.levels[-1][1]:.0f} MiB", flush=True)
    return figures


def _apply_models(kubectl: _Kubectl, emulator: Emulator, namespace: str, indices: range) -> None:
    for index in indices:
        emulator.seed_model_version(_registered(namespace, index), source=f"models:/m-{index}")
    api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(kubectl.kubeconfig)))
    documents = [_model(namespace, index) for index in indices]

    def listed() -> list[dict[str, Any]]:
        found = api.list_namespaced_custom_object("mlops.gitops.dev", "v1alpha1", namespace, "mlmodels")
        return list(found["items"])

    readiness.converge(
        lambda: kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(documents)),
        listed,
        (str(doc["metadata"]["name"]) for doc in documents),
        timeout=3600,
        poll=POLL_SECONDS,
    )


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
        samples.append(rss_mib(controller))
        time.sleep(1)
    return statistics.median(samples)


def rss_mib(controller: ControllerProcess) -> float:
    pid = controller.pid
    assert pid is not None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _workspace(kubectl: _Kubectl, emulator: Emulator, namespace: str) -> None:
    kubectl("create", "namespace", namespace)
    kubectl("create", "secret", "generic", "dbx", "-n", namespace, f"--from-literal=token={DEFAULT_TOKEN}")
    workspace = {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "dbx", "namespace": namespace},
        "spec": {
            "databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "dbx"}},
            "driftInterval": f"{DRIFT_INTERVAL_SECONDS}s",
        },
    }
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(workspace))


def _model(namespace: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": f"m-{index}", "namespace": namespace},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "registeredName": _registered(namespace, index),
            "adopt": True,
            "aliases": {"champion": 1},
        },
    }


def _registered(namespace: str, index: int) -> str:
    return f"main.bench.{namespace.replace('-', '_')}_{index}"


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


class _Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig
        self._env = {**os.environ, "KUBECONFIG": str(kubeconfig)}

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            ["kubectl", *args], input=stdin, env=self._env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0 and "AlreadyExists" not in result.stderr:
            raise RuntimeError(f"kubectl {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout


if __name__ == "__main__":
    sys.exit(main())
