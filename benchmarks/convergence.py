"""Convergence at several counts: the controller against a do-nothing kopf operator on the same API server.

Each count gets a namespace of its own per operator (`bench-noop-N`, `bench-ctl-N`), and its resources are
deleted once measured, so every count starts from the same state for both operators: nothing but the
Workspaces.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import harness, readiness
from sandbox.databricks import Emulator

TARGET_RATIO = 1.5  # issue 12: within 1.5x a do-nothing kopf operator
TIMEOUT_SECONDS = 3600


def poll_seconds(count: int) -> float:
    """Listing thousands of resources is itself work on a 2-core machine: list less often the more there are."""
    return max(readiness.POLL_SECONDS, count / 1000)


def namespaces(prefix: str, levels: Sequence[int]) -> list[str]:
    return [f"bench-{prefix}-{count}" for count in levels]


@dataclass(frozen=True)
class Compared:
    """One count, both operators."""

    controller: readiness.Convergence
    baseline: readiness.Convergence

    @property
    def count(self) -> int:
        return self.controller.count

    @property
    def ratio(self) -> float:
        return self.controller.ready_seconds / self.baseline.ready_seconds

    def report(self) -> str:
        verdict = "met" if self.ratio <= TARGET_RATIO else "NOT met"
        return "\n".join(
            [
                f"convergence of {self.count} MLModels (Ready detected by listing every {poll_seconds(self.count)}s):",
                f"  {self.controller.describe('the controller')}",
                f"  {self.baseline.describe('a do-nothing kopf operator')}",
                f"  ratio {self.ratio:.2f} (target <= {TARGET_RATIO}x: {verdict})",
            ]
        )


def measure(
    kubectl: harness.Kubectl, emulator: Emulator, prefix: str, levels: Sequence[int]
) -> Iterator[readiness.Convergence]:
    """Each count converged in `bench-<prefix>-<count>` by whichever operator runs now, one after the other;
    each count's resources are deleted before the next count."""
    for count, namespace in zip(levels, namespaces(prefix, levels), strict=True):
        yield converge(kubectl, emulator, namespace, count)
        # The local API server runs no namespace controller: the resources are deleted themselves.
        harness.delete_all(kubectl, "mlmodels", namespace)


def converge(kubectl: harness.Kubectl, emulator: Emulator, namespace: str, count: int) -> readiness.Convergence:
    """`count` MLModels applied at once (in chunks), and when each was Ready, detected by listing."""
    stem = namespace.removeprefix("bench-")
    documents = [
        harness.mlmodel(namespace, f"{stem}-{index}", f"main.bench.{stem.replace('-', '_')}_{index}")
        for index in range(-1, count)
    ]
    harness.seed(emulator, documents)
    # One resource first, untimed (index -1): the operator under test has started and connected before the
    # clock runs, as it would have in a cluster where it has been running.
    harness.apply_until_ready(kubectl, namespace, documents[:1], timeout=TIMEOUT_SECONDS)
    return harness.apply_until_ready(
        kubectl, namespace, documents[1:], timeout=TIMEOUT_SECONDS, poll=poll_seconds(count)
    )


def noop_operator(kubeconfig: Path, work: Path) -> subprocess.Popen[bytes]:
    """The baseline (`noop_operator.py`), watching every namespace as the controller does."""
    log = (work / "noop.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "kopf", "run", "--standalone", "-A", str(Path(__file__).with_name("noop_operator.py"))],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )
