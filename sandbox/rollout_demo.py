"""After the examples are Ready: a new version of the rollout example's model, rolled out step by step.

What training and a promotion in Git would do: a third version is registered in Unity Catalog and the
`champion` alias of the MLModel in examples/databricks/rollout.yaml moves to it; the ServingEndpoint there
follows the alias with spec.rollout and rolls it out. Each change of its Rollout column is printed until the
rollout completes (or aborts, or takes too long).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable

from sandbox.databricks import Emulator

MODEL_RESOURCE = "chargeback-scorer"
ROLLOUT_MODEL = "main.risk.chargeback_scorer"
ROLLOUT_ENDPOINT = "chargeback-scorer"
ALIAS = "champion"
TIMEOUT_SECONDS = 180.0

Kubectl = Callable[..., "subprocess.CompletedProcess[str]"]


def show_rollout(kubectl: Kubectl, emulator: Emulator, say: Callable[[str], None]) -> bool:
    """Register a new version, move the alias to it, print the rollout as it goes; True when it completed."""
    version = emulator.seed_model_version(ROLLOUT_MODEL, source="models:/m-sandbox", run_id="sandbox-run")
    patch = {"spec": {"aliases": {ALIAS: version}}}
    kubectl("patch", "mlmodel", MODEL_RESOURCE, "--type=merge", "-p", json.dumps(patch))
    say(f"moved alias {ALIAS} of {MODEL_RESOURCE} to version {version}; {ROLLOUT_ENDPOINT} rolls it out:")
    shown = ""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        summary = _summary(kubectl)
        if summary != shown and summary:
            say(f"  rollout of {ROLLOUT_ENDPOINT}: {summary}")
            shown = summary
        if summary == f"complete v{version}" or summary.startswith("aborted"):
            return summary == f"complete v{version}"
        time.sleep(1)
    say(f"the rollout of {ROLLOUT_ENDPOINT} did not end within {TIMEOUT_SECONDS:.0f}s")
    return False


def _summary(kubectl: Kubectl) -> str:
    path = "jsonpath={.status.rollout.summary}"
    return str(kubectl("get", "servingendpoint", ROLLOUT_ENDPOINT, "-o", path, check=False).stdout.strip())
