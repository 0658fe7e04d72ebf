"""Benchmarks: `python -m benchmarks [--models N] [--memory-models M1,M2]` (or `make bench`);
`python -m benchmarks --scale 10000 [--latency 0.1] [--drift-interval 300]` runs only the scale figures.

Prints these figures, on a local API server and the Databricks emulator:
- convergence: N MLModels (Unity Catalog, aliases to set) applied at once, time until a listing shows
  all Ready with the controller, against a kopf operator that only marks them Ready (ratio), with the
  apply's own time and the per-resource latency apart (`readiness`);
- steady state: external reads and writes per resource over several drift intervals, and how late drift
  checks start after their due time (p50/p99, from the controller's histogram: `lateness.py`);
- memory: the controller's RSS idle (Workspaces only), with each M resources reconciled, and the slope
  per resource between those counts (with the lateness of drift checks at each);
- promotion: an alias edit to the registry and on to the endpoint that follows it (`promotion.py`);
- reads and writes per resource per drift interval for every kind, each on an emulator of its own (`per_kind.py`);
- scale, alone: lateness of drift checks, checks and calls per resource, RSS with a slow Databricks (`scale.py`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config

from benchmarks import lateness, per_kind, promotion, readiness, scale
from sandbox.cluster import LocalCluster, repo_root
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator

DRIFT_INTERVAL_SECONDS = 10


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--models", type=int, default=500, help="resources applied at once for convergence")
    parser.add_argument(
        "--memory-models",
        type=_counts,
        default=[1000, 5000],
        help="resources present for each memory figure, comma-separated (default 1000,5000)",
    )
    parser.add_argument("--promotions", type=int, default=10, help="alias promotions timed end to end")
    parser.add_argument(
        "--drift-intervals", type=int, default=3, help="drift intervals the steady state is counted over"
    )
    parser.add_argument(
        "--kind-resources", type=int, default=20, help="resources of each kind whose steady-state calls are counted"
    )
    parser.add_argument("--scale", type=int, default=0, help="only the scale run, with this many MLModels")
    parser.add_argument("--latency", type=float, default=0.1, help="scale run: seconds the emulator waits per call")
    parser.add_argument("--drift-interval", type=float, default=300, help="scale run: the drift interval in seconds")
    parser.add_argument(
        "--max-concurrent-reconciles", type=int, default=0, help="scale run: the controller's setting (0: its default)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-"))
    if args.scale:
        slots = (
            ["--max-concurrent-reconciles", str(args.max_concurrent_reconciles)]
            if args.max_concurrent_reconciles
            else []
        )
        return _scale(work, args.scale, latency=args.latency, interval=args.drift_interval, args=slots)
    with LocalCluster(work_dir=work / "cluster") as cluster, Emulator() as emulator:
        kubectl = _Kubectl(cluster.kubeconfig_path)
        kubectl("apply", "--server-side", "-f", str(repo_root() / "crds"))
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        _workspace(kubectl, emulator)

        baseline = _converge(kubectl, "noop", args.models, _noop_operator(cluster.kubeconfig_path, work), emulator)
        controller = ControllerProcess(
            python=os.environ.get("MLOPS_CONTROLLER_PYTHON", sys.executable),
            kubeconfig=cluster.kubeconfig_path,
            log_path=work / "controller.log",
        )
        with controller:
            idle = _idle_rss(controller)
            measured = _converge(kubectl, "ctl", args.models, None, emulator)
            ratio = measured.ready_seconds / baseline.ready_seconds
            print(f"convergence of {args.models} MLModels (Ready detected by listing every {readiness.POLL_SECONDS}s):")
            print(f"  {measured.describe('the controller')}")
            print(f"  {baseline.describe('a do-nothing kopf operator')}")
            print(f"  ratio {ratio:.2f}")
            reads, writes, calls, late = _steady_state(emulator, controller, args.drift_intervals)
            present = args.models + 1  # and the warm-up resource
            per_cr = reads / present / args.drift_intervals
            print(
                f"steady state: {reads} reads, {writes} writes over {args.drift_intervals} drift intervals "
                f"of {DRIFT_INTERVAL_SECONDS}s for {present} MLModels: {per_cr:.2f} reads per resource per interval"
            )
            for call, count in sorted(calls.items(), key=lambda item: -item[1]):
                print(f"  {count / present / args.drift_intervals:.2f} per resource per interval: {call}")
            print(f"  {lateness.report(late, present, args.drift_intervals)}")
            _memory(kubectl, emulator, controller, idle, present, args.memory_models)
            figures = promotion.measure(kubectl, emulator, str(cluster.kubeconfig_path), args.promotions)
            print(promotion.report(figures))
            counted = per_kind.measure(
                kubectl, count=args.kind_resources, interval=DRIFT_INTERVAL_SECONDS, intervals=args.drift_intervals
            )
            print(per_kind.report(counted, DRIFT_INTERVAL_SECONDS, args.drift_intervals))
    return 0


def _scale(work: Path, count: int, *, latency: float, interval: float, args: list[str]) -> int:
    with LocalCluster(work_dir=work / "cluster") as cluster, Emulator() as emulator:
        kubectl = _Kubectl(cluster.kubeconfig_path)
        kubectl("apply", "--server-side", "-f", str(repo_root() / "crds"))
        kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        controller = ControllerProcess(
            python=os.environ.get("MLOPS_CONTROLLER_PYTHON", sys.executable),
            kubeconfig=cluster.kubeconfig_path,
            log_path=work / "controller.log",
            args=args,
        )
        with controller:
            print(f"controller options: {' '.join(args) or 'the defaults'}")
            figures = scale.measure(
                kubectl, cluster.kubeconfig_path, emulator, controller, count=count, latency=latency, interval=interval
            )
            print(figures)
    return 0


def _converge(
    kubectl: _Kubectl,
    prefix: str,
    count: int,
    operator: subprocess.Popen[bytes] | None,
    emulator: Emulator,
    *,
    namespace: str | None = None,
) -> readiness.Convergence:
    """`count` MLModels applied at once, and when each was Ready, detected by listing (`readiness`)."""
    namespace = namespace or f"bench-{prefix}"
    kubectl("create", "namespace", namespace)
    for index in range(-1, count):
        emulator.seed_model_version(f"main.bench.{prefix}_{index}", source=f"models:/m-{prefix}-{index}")
    api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(kubectl.kubeconfig)))

    def list_models() -> list[dict[str, Any]]:
        listed = api.list_namespaced_custom_object("mlops.gitops.dev", "v1alpha1", namespace, "mlmodels")
        return list(listed["items"])

    def apply_and_time(documents: list[dict[str, Any]]) -> readiness.Convergence:
        return readiness.converge(
            lambda: kubectl("apply", "-n", namespace, "-f", "-", stdin=yaml.safe_dump_all(documents)),
            list_models,
            (str(doc["metadata"]["name"]) for doc in documents),
            timeout=1800,
        )

    # One resource first, untimed (index -1): the operator under test has started and connected before the
    # clock runs, as it would have in a cluster where it has been running.
    apply_and_time([_model(namespace, prefix, -1)])
    measured = apply_and_time([_model(namespace, prefix, index) for index in range(count)])
    if operator is not None:
        operator.terminate()
        operator.wait(timeout=30)
        # Gone before the controller starts (the local API server runs no namespace controller, so the
        # resources are deleted themselves; the baseline operator put no finalizer on them).
        kubectl("delete", "mlmodels", "--all", "-n", namespace, "--timeout=300s")
    return measured


def _steady_state(
    emulator: Emulator, controller: ControllerProcess, intervals: int
) -> tuple[int, int, dict[str, int], lateness.Buckets | None]:
    """External reads and writes while nothing changes, over whole drift intervals, the calls by path, and
    the drift checks' lateness in the same window."""
    time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # let the first drift checks after convergence pass
    emulator.reset_counters()
    before = lateness.scrape(controller.metrics_port)
    time.sleep(DRIFT_INTERVAL_SECONDS * intervals)
    after = lateness.scrape(controller.metrics_port)
    counted = emulator.counters(prefix="/api/")
    late = after - before if after is not None and before is not None else None
    return int(counted["reads"]), int(counted["writes"]), dict(counted["calls"]), late


def _idle_rss(controller: ControllerProcess) -> float:
    """RSS once the controller serves its metrics and has checked the Workspaces (no other resources yet)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            lateness.scrape(controller.metrics_port)
            break
        except OSError:
            time.sleep(0.5)
    time.sleep(DRIFT_INTERVAL_SECONDS)
    return _rss_mib(controller)


def _memory(
    kubectl: _Kubectl, emulator: Emulator, controller: ControllerProcess, idle: float, present: int, levels: list[int]
) -> None:
    """RSS at each count of MLModels (more applied in bench-mem), the slope between counts, and lateness there."""
    print(f"memory: controller RSS {idle:.0f} MiB idle (Workspaces only)")
    figures: list[tuple[int, float]] = []
    for level in sorted(levels):
        extra = level - present
        if extra > 0:
            _converge(kubectl, f"mem{level}", extra, None, emulator, namespace="bench-mem")
            present += extra + 1  # and the converge's warm-up resource
        time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # settled: every resource drift-checked since it converged
        before = lateness.scrape(controller.metrics_port)
        time.sleep(DRIFT_INTERVAL_SECONDS)
        after = lateness.scrape(controller.metrics_port)
        rss = _rss_mib(controller)
        slope = ""
        if figures:
            count, earlier = figures[-1]
            slope = f"; {(rss - earlier) * 1024 / (present - count):.0f} KiB per resource since {count}"
        print(f"  {rss:.0f} MiB with {present} MLModels reconciled{slope}")
        late = after - before if after is not None and before is not None else None
        print(f"    {lateness.report(late, present, 1)}")
        figures.append((present, rss))


def _counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _model(namespace: str, prefix: str, index: int) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": f"{prefix}-{index}", "namespace": namespace},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "registeredName": f"main.bench.{prefix}_{index}",
            "adopt": True,
            "aliases": {"champion": 1},
        },
    }


def _workspace(kubectl: _Kubectl, emulator: Emulator) -> None:
    for namespace in ("bench-noop", "bench-ctl", "bench-mem", promotion.NAMESPACE):
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


def _noop_operator(kubeconfig: Path, work: Path) -> subprocess.Popen[bytes]:
    log = (work / "noop.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "kopf", "run", "--standalone", "-A", str(Path(__file__).with_name("noop_operator.py"))],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )


def _rss_mib(controller: ControllerProcess) -> float:
    pid = controller.pid
    assert pid is not None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


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
