"""Helpers the test layers share: kubectl as a user runs it, and waiting on conditions."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

T = TypeVar("T")


class Timeout(AssertionError):
    """A condition did not hold in time."""


def wait_until(check: Callable[[], T | None], *, timeout: float, interval: float = 0.25, what: str = "") -> T:
    """Poll `check` until it returns something truthy; fail with `what` and the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise Timeout(f"timed out after {timeout}s waiting for {what or check}; last value: {last!r}")
        time.sleep(interval)


@dataclass(frozen=True)
class Kubectl:
    """The real kubectl, with a kubeconfig and a default namespace."""

    kubeconfig: Path
    namespace: str = "default"

    def __call__(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        result = subprocess.run(
            ["kubectl", "-n", self.namespace, *args],
            input=stdin,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def apply(self, manifest: dict[str, Any] | str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
        return self("apply", "-f", "-", stdin=text, check=check)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return dict(json.loads(self("get", kind, name, "-o", "json").stdout))

    def exists(self, kind: str, name: str) -> bool:
        return self("get", kind, name, "--ignore-not-found", "-o", "name").stdout.strip() != ""

    def condition(self, kind: str, name: str, type_: str) -> dict[str, Any]:
        status = self.get(kind, name).get("status") or {}
        return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})

    def wait_condition(
        self,
        kind: str,
        name: str,
        type_: str = "Ready",
        *,
        status: str = "True",
        reason: str | None = None,
        timeout: float = 60,
    ) -> dict[str, Any]:
        """Wait until the condition has that status (and reason), for the object's current generation."""

        def check() -> dict[str, Any] | None:
            obj = self.get(kind, name)
            cond = next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})
            current = cond.get("observedGeneration") == obj["metadata"].get("generation")
            if current and cond.get("status") == status and (reason is None or cond.get("reason") == reason):
                return obj
            return None

        return wait_until(check, timeout=timeout, what=f"{kind}/{name} {type_}={status} reason={reason}")

    def events(self, name: str) -> list[dict[str, Any]]:
        out = self("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json").stdout
        return list(json.loads(out)["items"])


def load_example(relative: str) -> list[dict[str, Any]]:
    """The documents of an example manifest."""
    return [d for d in yaml.safe_load_all((EXAMPLES / relative).read_text()) if d]


PAYLOAD_COLUMNS = ["prediction", "label", "model_id", "timestamp"]
"""The columns of the inference tables the e2e tests seed for ModelMonitors."""


def inference_log() -> dict[str, Any]:
    """A ModelMonitor's `inferenceLog` over `PAYLOAD_COLUMNS`: a classifier's, by day (a new dict each call)."""
    return {
        "problemType": "classification",
        "predictionColumn": "prediction",
        "labelColumn": "label",
        "modelIdColumn": "model_id",
        "timestampColumn": "timestamp",
        "granularities": ["1 day"],
    }


def metric_samples(port: int, metric: str) -> list[tuple[dict[str, str], float]]:
    """The samples of one metric on a controller's /metrics endpoint (waiting while the controller starts)."""
    text = wait_until(lambda: scrape_metrics(port), timeout=30, what=f"metrics on port {port}")
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == metric
    ]


def metric_sum(port: int, metric: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    return sum(value for found, value in metric_samples(port, metric) if labels.items() <= found.items())


def scrape_metrics(port: int) -> str | None:
    """A controller's /metrics page, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return None
