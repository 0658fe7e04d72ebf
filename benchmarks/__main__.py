"""Benchmarks: `python -m benchmarks [--models N1,N2] [--memory-models M1,M2]` (or `make bench`);
`python -m benchmarks --scale 10000 [--latency 0.1] [--drift-interval 300]` runs only the scale figures.

Prints these figures, on a local API server and the Databricks emulator:
- convergence, at each count N: N MLModels (Unity Catalog, aliases to set) applied at once, time until a
  listing shows all Ready with the controller, against a kopf operator that only marks them Ready on the
  same API server (ratio, against the 1.5x target), with the apply's own time and the per-resource latency
  apart (`convergence`, `readiness`);
- steady state: the smallest count of MLModels again, in a namespace whose Workspace has a 10 s drift
  interval (convergence runs at the default 5 minutes, as clusters do: a short interval there would have
  the controller drift-check the first resources while the last are still being created, work the
  do-nothing operator never does): external reads and writes per resource over several drift intervals,
  and how late drift checks start after their due time (p50/p99, from the controller's histogram:
  `lateness.py`);
- memory, from a second controller process once the convergence resources are gone: RSS idle (Workspaces
  only), with each M resources reconciled, and the slope per resource between those counts (with the
  lateness of drift checks at each);
- promotion: an alias edit to the registry and on to the endpoint that follows it (`promotion.py`);
- reads and writes per resource per drift interval for every kind, each on an emulator of its own (`per_kind.py`);
- scale, alone: lateness of drift checks, checks and calls per resource, RSS with a slow Databricks (`scale.py`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import convergence, harness, lateness, per_kind, promotion, scale
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator

DRIFT_INTERVAL_SECONDS = 10
CONVERGENCE_DRIFT_INTERVAL_SECONDS = 300  # the default driftInterval
MEMORY_NAMESPACE = "bench-mem"
STEADY_NAMESPACE = "bench-steady"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--models",
        type=harness.counts,
        default=[500, 2000],
        help="resources applied at once for convergence, comma-separated (default 500,2000)",
    )
    parser.add_argument(
        "--memory-models",
        type=harness.counts,
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
    with harness.cluster(work) as (kubectl, emulator):
        levels: list[int] = args.models
        for namespace in (*convergence.namespaces("noop", levels), *convergence.namespaces("ctl", levels)):
            harness.workspace(kubectl, emulator, namespace, CONVERGENCE_DRIFT_INTERVAL_SECONDS)
        for namespace in (STEADY_NAMESPACE, MEMORY_NAMESPACE, promotion.NAMESPACE):
            harness.workspace(kubectl, emulator, namespace, DRIFT_INTERVAL_SECONDS)

        noop = convergence.noop_operator(kubectl.kubeconfig, work)
        try:
            baselines = list(convergence.measure(kubectl, emulator, "noop", levels))
        finally:
            noop.terminate()
            noop.wait(timeout=30)
        with harness.controller(kubectl, work / "controller.log") as controller:
            _serving(controller)
            measured = convergence.measure(kubectl, emulator, "ctl", levels)
            for baseline, ours in zip(baselines, measured, strict=True):
                print(convergence.Compared(ours, baseline).report(), flush=True)
            convergence.converge(kubectl, emulator, STEADY_NAMESPACE, levels[0])
            _print_steady_state(emulator, controller, levels[0], args.drift_intervals)
            harness.delete_all(kubectl, "mlmodels", STEADY_NAMESPACE)
        # Memory from a second controller process, so no figure carries the heap of the convergence runs.
        with harness.controller(kubectl, work / "controller-memory.log") as controller:
            _memory(kubectl, emulator, controller, args.memory_models)
            # Gone before promotion and the per-kind counts: thousands drift-checked every 10 s are a backlog
            # those figures would measure instead.
            harness.delete_all(kubectl, "mlmodels", MEMORY_NAMESPACE)
            figures = promotion.measure(kubectl, emulator, args.promotions)
            print(promotion.report(figures))
            counted = per_kind.measure(
                kubectl, count=args.kind_resources, interval=DRIFT_INTERVAL_SECONDS, intervals=args.drift_intervals
            )
            print(per_kind.report(counted, DRIFT_INTERVAL_SECONDS, args.drift_intervals))
    return 0


def _scale(work: Path, count: int, *, latency: float, interval: float, args: list[str]) -> int:
    with (
        harness.cluster(work) as (kubectl, emulator),
        harness.controller(kubectl, work / "controller.log", args=args) as controller,
    ):
        print(f"controller options: {' '.join(args) or 'the defaults'}")
        print(scale.measure(kubectl, emulator, controller, count=count, latency=latency, interval=interval))
    return 0


def _print_steady_state(emulator: Emulator, controller: ControllerProcess, converged: int, intervals: int) -> None:
    reads, writes, calls, late = _steady_state(emulator, controller, intervals)
    present = converged + 1  # and the warm-up resource
    per_cr = reads / present / intervals
    print(
        f"steady state of {present} MLModels (a Workspace drift-checked every {DRIFT_INTERVAL_SECONDS}s): "
        f"{reads} reads, {writes} writes over {intervals} drift intervals "
        f"of {DRIFT_INTERVAL_SECONDS}s: {per_cr:.2f} reads per resource per interval"
    )
    for call, count in sorted(calls.items(), key=lambda item: -item[1]):
        print(f"  {count / present / intervals:.2f} per resource per interval: {call}")
    print(f"  {lateness.report(late, present, intervals)}")


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


def _serving(controller: ControllerProcess) -> None:
    """Until the controller serves its metrics, then one drift interval: the Workspaces have been checked."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            lateness.scrape(controller.metrics_port)
            break
        except OSError:
            time.sleep(0.5)
    time.sleep(DRIFT_INTERVAL_SECONDS)


def _memory(kubectl: harness.Kubectl, emulator: Emulator, controller: ControllerProcess, levels: list[int]) -> None:
    """RSS idle, at each count of MLModels (applied in bench-mem), the slope between counts, and lateness there."""
    _serving(controller)
    idle = harness.rss_mib(controller)
    print(
        f"memory (a controller process of its own, started once the convergence resources were deleted; "
        f"MLModels in {MEMORY_NAMESPACE}): RSS {idle:.0f} MiB idle (Workspaces only)"
    )
    figures: list[tuple[int, float]] = []
    present = 0
    for level in levels:
        documents = [
            harness.mlmodel(MEMORY_NAMESPACE, f"mem-{index}", f"main.bench.mem_{index}")
            for index in range(present, level)
        ]
        harness.seed(emulator, documents)
        poll = convergence.poll_seconds(len(documents))
        harness.apply_until_ready(kubectl, MEMORY_NAMESPACE, documents, timeout=convergence.TIMEOUT_SECONDS, poll=poll)
        present = level
        time.sleep(DRIFT_INTERVAL_SECONDS * 2)  # settled: every resource drift-checked since it converged
        before = lateness.scrape(controller.metrics_port)
        time.sleep(DRIFT_INTERVAL_SECONDS)
        after = lateness.scrape(controller.metrics_port)
        rss = harness.rss_mib(controller)
        slope = ""
        if figures:
            count, earlier = figures[-1]
            slope = f"; {(rss - earlier) * 1024 / (present - count):.0f} KiB per resource since {count}"
        print(f"  {rss:.0f} MiB with {present} MLModels reconciled{slope}")
        late = after - before if after is not None and before is not None else None
        print(f"    {lateness.report(late, present, 1)}")
        figures.append((present, rss))


if __name__ == "__main__":
    sys.exit(main())
