"""Memory per shard: `python -m benchmarks.shards [--models 2000] [--shards 2] [--drift-interval 30]`.

On one local API server (sharded list and watch on) and the Databricks emulator: N MLModels on Unity
Catalog spread over 20 namespaces, each with its Workspace and credentials Secret, the namespaces chosen
so that each shard gets an equal number of them. First one unsharded controller reconciles them all;
then it is stopped and `--shards` controllers (`--shard-index i --shard-count n`) take over the same,
already Ready, resources. Each RSS figure is the median of 30 readings a second apart
(`benchmarks.memory.settled_rss`), starting two drift intervals after the controller holds all its
resources; the shards are read at the same time. Printed: the unsharded RSS, each shard's RSS with the
resources it holds, its ratio to the unsharded, and the sum over the shards.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from benchmarks import harness, lateness, memory
from controller import sharding
from sandbox.cluster import repo_root
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator

NAMESPACES = 20
HELD_METRIC = "mlops_resources_by_condition"  # one sample per kind and condition: summed, what a process holds
HELD_TIMEOUT_SECONDS = 900  # a shard starting on 1,000 resources lists and resumes them all first
READY_TIMEOUT_SECONDS = 1800


@dataclass(frozen=True)
class Figure:
    """One controller process: its median RSS, the resources it held, and its drift checks meanwhile."""

    label: str
    rss: float
    held: int
    namespaces: int
    checks: str


def balanced_namespaces(shards: int, total: int = NAMESPACES) -> list[list[str]]:
    """`total` namespace names, as evenly split between `shards` as the API server's hash splits them.

    Numbered names (`bench-00`, `bench-01`, ...) hash close together and can all land in one shard, so
    candidates carry a hex digest of a counter instead: varied, and the same in every run.
    """
    wanted = [total // shards + (1 if index < total % shards else 0) for index in range(shards)]
    found: list[list[str]] = [[] for _ in range(shards)]
    candidate = 0
    while any(len(names) < want for names, want in zip(found, wanted, strict=True)):
        name = f"bench-shards-{hashlib.sha256(str(candidate).encode()).hexdigest()[:6]}"
        candidate += 1
        shard = sharding.shard_of(name, shards)
        if len(found[shard]) < wanted[shard]:
            found[shard].append(name)
    return found


def interleaved(by_shard: Sequence[Sequence[str]]) -> list[str]:
    """One namespace of each shard in turn, so models dealt out in this order split evenly between shards."""
    longest = max(len(names) for names in by_shard)
    return [names[i] for i in range(longest) for names in by_shard if i < len(names)]


def spread(models: int, namespaces: Sequence[str]) -> dict[str, int]:
    """How many of `models` MLModels go to each namespace: dealt out in turn, the first get one more."""
    return {
        ns: models // len(namespaces) + (1 if i < models % len(namespaces) else 0) for i, ns in enumerate(namespaces)
    }


def report(unsharded: Figure, shards: Sequence[Figure], *, models: int, interval: float) -> str:
    """The figures side by side, each line saying what it is."""
    total = sum(figure.rss for figure in shards)
    lines = [
        f"memory per shard: {models} MLModels (Unity Catalog, one alias) in {NAMESPACES} namespaces, each with "
        f"its Workspace; drift interval {interval:.0f}s; RSS = median of {memory.SAMPLE_SECONDS} readings a "
        "second apart, from two drift intervals after the process held all its resources",
        f"  {'process':<26} {'RSS':>8} {'resources held':>15} {'of unsharded':>13}",
        _row(unsharded, unsharded),
        *(_row(figure, unsharded) for figure in shards),
        f"  {f'all {len(shards)} shards together':<26} {total:>4.0f} MiB {sum(f.held for f in shards):>15} "
        f"{total / unsharded.rss:>13.0%}",
    ]
    if len(shards) > 1:
        # Linear in resources held: the sum pays the per-process part n times, the unsharded once.
        base = (total - unsharded.rss) / (len(shards) - 1)
        per_resource = (unsharded.rss - base) * 1024 / unsharded.held
        lines.append(
            f"  read as one line through these figures: about {base:.0f} MiB every process pays, plus "
            f"{per_resource:.0f} KiB per resource held"
        )
    lines.append("  drift checks over the two intervals before the readings (did each keep up?):")
    lines.extend(f"    {figure.label}: {figure.checks}" for figure in (unsharded, *shards))
    return "\n".join(lines)


def _row(figure: Figure, unsharded: Figure) -> str:
    label = f"{figure.label} ({figure.namespaces} ns)"
    return f"  {label:<26} {figure.rss:>4.0f} MiB {figure.held:>15} {figure.rss / unsharded.rss:>13.0%}"


def held(port: int) -> int | None:
    """The resources a controller holds (its condition gauge over all kinds); None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    return round(
        sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == HELD_METRIC
        )
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shards", description=__doc__)
    parser.add_argument("--models", type=_at_least(1), default=2000, help="MLModels in all (default 2000)")
    parser.add_argument("--shards", type=_at_least(2), default=2, help="shards compared with one (default 2)")
    parser.add_argument(
        "--drift-interval", type=_at_least(5), default=30, help="the Workspaces' driftInterval in s (default 30)"
    )
    args = parser.parse_args(argv)
    python = os.environ.get("MLOPS_CONTROLLER_PYTHON", str(repo_root() / ".cache/venv-runtime/bin/python"))
    work = Path(tempfile.mkdtemp(prefix="mlops-bench-shards-"))
    os.chdir(work)  # so `python -m controller` never finds a `controller/` in the current directory
    by_shard = balanced_namespaces(args.shards)
    counts = spread(args.models, interleaved(by_shard))
    with harness.cluster(work) as (kubectl, emulator):
        for ns in counts:
            harness.workspace(kubectl, emulator, ns, args.drift_interval)
        one = harness.controller(kubectl, work / "unsharded.log", python=python)
        with one:
            _apply(kubectl, emulator, counts)
            print(f"all {args.models} MLModels Ready with one unsharded controller", flush=True)
            expected = args.models + len(counts)
            unsharded = _measure({"unsharded": (one, expected, len(counts))}, args.drift_interval)[0]
        shards = {
            f"shard {index} of {args.shards}": (
                harness.controller(
                    kubectl,
                    work / f"shard-{index}.log",
                    python=python,
                    args=["--shard-index", str(index), "--shard-count", str(args.shards)],
                ),
                sum(counts[ns] for ns in names) + len(names),
                len(names),
            )
            for index, names in enumerate(by_shard)
        }
        try:
            for process, _, _ in shards.values():
                process.start()
            figures = _measure(shards, args.drift_interval)
        finally:
            for process, _, _ in shards.values():
                process.stop()
    print(report(unsharded, figures, models=args.models, interval=args.drift_interval))
    return 0


def _apply(kubectl: harness.Kubectl, emulator: Emulator, counts: dict[str, int]) -> None:
    for number, (ns, count) in enumerate(counts.items()):
        documents = [harness.mlmodel(ns, f"m-{i}", f"main.bench.shards_{number}_{i}") for i in range(count)]
        harness.seed(emulator, documents)
        harness.apply_until_ready(kubectl, ns, documents, timeout=READY_TIMEOUT_SECONDS, poll=memory.POLL_SECONDS)
        print(f"  {ns}: {count} MLModels Ready ({number + 1} of {len(counts)} namespaces)", flush=True)


def _measure(processes: dict[str, tuple[ControllerProcess, int, int]], interval: float) -> list[Figure]:
    """Once each process holds its resources: two drift intervals (its checks counted), then its RSS."""
    for label, (process, expected, _) in processes.items():
        _wait_held(label, process, expected)
    before = {label: lateness.scrape(process.metrics_port) for label, (process, _, _) in processes.items()}
    time.sleep(interval * 2)
    checks = {}
    for label, (process, expected, _) in processes.items():
        after, earlier = lateness.scrape(process.metrics_port), before[label]
        window = after - earlier if after is not None and earlier is not None else None
        checks[label] = lateness.report(window, expected, 2)
    with ThreadPoolExecutor(len(processes)) as pool:  # read at the same time, so all see the same moment
        rss = list(pool.map(memory.settled_rss, (process for process, _, _ in processes.values())))
    return [
        Figure(label, value, expected, namespaces, checks[label])
        for (label, (_, expected, namespaces)), value in zip(processes.items(), rss, strict=True)
    ]


def _wait_held(label: str, process: ControllerProcess, expected: int) -> None:
    deadline, last = time.monotonic() + HELD_TIMEOUT_SECONDS, None
    while time.monotonic() < deadline:
        if not process.running:
            raise RuntimeError(f"{label} exited (code {process.exit_code}); see {process.log_path}")
        last = held(process.metrics_port)
        if last == expected:
            print(f"{label} holds its {expected} resources", flush=True)
            return
        time.sleep(2)
    raise RuntimeError(f"{label} held {last} resources after {HELD_TIMEOUT_SECONDS}s, not {expected}")


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, not {number}")
        return number

    return parse


if __name__ == "__main__":
    sys.exit(main())
