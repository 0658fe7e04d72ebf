"""Promotion latency: an MLModel alias edit, through the registry, to the endpoint that follows the alias.

One MLModel (Unity Catalog, two READY versions) and one ServingEndpoint serving its `champion` alias.
Each round moves `champion` to the other version with `kubectl patch` and times, from the patch:
- the MLModel's status showing the new alias (the registry alias was moved), seen by a watch;
- the endpoint's config update arriving at the emulator (seen in-process, every 5 ms);
and, between those two, the wake-up path itself: from the MLModel's status change to the endpoint's update.
"""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from kubernetes import watch

from benchmarks import harness
from sandbox.databricks import Emulator

NAMESPACE = "bench-promo"
MODEL = "main.bench.promo"
POLL_SECONDS = 0.005
ROUND_TIMEOUT_SECONDS = 60.0


def measure(kubectl: harness.Kubectl, emulator: Emulator, rounds: int) -> dict[str, list[float]]:
    """Seconds per round: patch → alias in status, patch → config update sent, status → config update sent."""
    for version in (1, 2):
        emulator.seed_model_version(MODEL, source=f"models:/m-promo-{version}")
    emulator.set_timings(endpoint_update=0.2)
    kubectl("apply", "-n", NAMESPACE, "-f", "-", stdin=yaml.safe_dump_all(_manifests()))
    both = ("mlmodel/promo", "servingendpoint/promo")
    kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", *both, "--timeout=300s")
    aliases = _AliasWatch(kubectl.kubeconfig)
    figures: dict[str, list[float]] = {"alias": [], "update": [], "wake": []}
    try:
        for round_ in range(rounds):
            target = 2 if round_ % 2 == 0 else 1
            sent = _config_updates(emulator)
            patch = {"spec": {"aliases": {"champion": target}}}
            started = time.monotonic()
            kubectl("patch", "-n", NAMESPACE, "mlmodel/promo", "--type=merge", "-p", yaml.safe_dump(patch))
            updated = _update_after(emulator, sent)
            moved = aliases.seen(target, after=started)
            figures["alias"].append(moved - started)
            figures["update"].append(updated - started)
            figures["wake"].append(updated - moved)
            kubectl(
                "wait", "-n", NAMESPACE, f"--for=jsonpath={{.status.servedEntities[0].entityVersion}}={target}",
                "servingendpoint/promo", "--timeout=120s",
            )  # fmt: skip
            kubectl("wait", "-n", NAMESPACE, "--for=condition=Ready", "servingendpoint/promo", "--timeout=120s")
    finally:
        aliases.stop()
    return figures


def report(figures: dict[str, list[float]]) -> str:
    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]

    lines = [f"promotion latency over {len(figures['alias'])} promotions (p50 / p95 / max):"]
    for key, what in (
        ("alias", "kubectl patch -> registry alias moved (MLModel status)"),
        ("update", "kubectl patch -> endpoint config update sent"),
        ("wake", "MLModel status change -> endpoint config update sent"),
    ):
        values = figures[key]
        lines.append(f"  {p(values, 50):.3f}s / {p(values, 95):.3f}s / {max(values):.3f}s  {what}")
    return "\n".join(lines)


def _config_updates(emulator: Emulator) -> int:
    calls = emulator.counters(prefix="/api/2.0/serving-endpoints")["calls"]
    return sum(n for call, n in calls.items() if call.startswith("PUT ") and call.endswith("/config"))


def _update_after(emulator: Emulator, sent: int) -> float:
    """When the emulator received one more config update than `sent`."""
    deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
    while _config_updates(emulator) <= sent:
        if time.monotonic() > deadline:
            raise TimeoutError("the endpoint's config update did not arrive")
        time.sleep(POLL_SECONDS)
    return time.monotonic()


class _AliasWatch:
    """Watches the MLModel and remembers when its status first showed each champion version."""

    def __init__(self, kubeconfig: Path) -> None:
        self._api = harness.custom_objects(kubeconfig)
        self._watch = watch.Watch()
        self._seen: list[tuple[float, int | None]] = []
        self._changed = threading.Condition()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._follow()
        except Exception:  # the API server went away with the benchmark's end: nothing more to time
            if not self._stopped.is_set():
                raise

    def _follow(self) -> None:
        stream = self._watch.stream(
            self._api.list_namespaced_custom_object,
            "mlops.gitops.dev", "v1alpha1", NAMESPACE, "mlmodels",
            field_selector="metadata.name=promo",
        )  # fmt: skip
        for event in stream:
            obj: dict[str, Any] = event["object"]
            champion = (obj.get("status") or {}).get("aliases", {}).get("champion")
            with self._changed:
                self._seen.append((time.monotonic(), champion))
                self._changed.notify_all()

    def seen(self, version: int, *, after: float) -> float:
        """When the status first showed `version` after `after`."""
        deadline = time.monotonic() + ROUND_TIMEOUT_SECONDS
        with self._changed:
            while True:
                found = [at for at, champion in self._seen if at >= after and champion == version]
                if found:
                    return found[0]
                if not self._changed.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"the MLModel's status never showed champion={version}")

    def stop(self) -> None:
        self._stopped.set()
        self._watch.stop()


def _manifests() -> list[dict[str, Any]]:
    return [
        harness.mlmodel(NAMESPACE, "promo", MODEL),
        {
            "apiVersion": harness.API_VERSION,
            "kind": "ServingEndpoint",
            "metadata": {"name": "promo", "namespace": NAMESPACE},
            "spec": {
                "workspaceRef": {"name": "dbx"},
                "endpointName": "bench-promo",
                "servedEntities": [{"name": "main", "modelRef": {"name": "promo", "alias": "champion"}}],
                "deletionPolicy": "Delete",
            },
        },
    ]
