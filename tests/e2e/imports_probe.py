"""Run as a process of its own: load what `mlopsctl run` loads, reconcile one Workspace and one MLModel in it
through their kinds' declarations (the call the controller's handlers and drift scheduler make), and print
as JSON which SDKs were imported at each step.

    python -m tests.e2e.imports_probe NAMESPACE WORKSPACE_SPEC_JSON MODEL_SPEC_JSON

KUBECONFIG names the API server the Workspace's credentials Secret is read from.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import controller.runner  # noqa: F401 -- kopf, the operator and every kind's handlers, as `mlopsctl run` loads them

SDKS = ("databricks.sdk", "mlflow")


def loaded() -> list[str]:
    return [name for name in SDKS if name in sys.modules]


def main(namespace: str, workspace_spec: dict[str, Any], model_spec: dict[str, Any]) -> dict[str, Any]:
    report: dict[str, Any] = {"at start": loaded()}
    from controller.kinds.mlmodel.handlers import KIND as MLMODEL
    from controller.kinds.workspace import lookup
    from controller.kinds.workspace.handlers import KIND as WORKSPACE

    def meta(name: str) -> dict[str, Any]:
        return {"namespace": namespace, "name": name, "uid": f"uid-{name}", "generation": 1}

    checked = WORKSPACE.run(WORKSPACE.resource(meta("ws"), workspace_spec, {}, {}))
    report["workspace"] = [checked.ready.ok, checked.ready.message]
    report["after the Workspace"] = loaded()
    # What the Workspace publishes to the resources in it, as kopf's index would hold it.
    indices = {lookup.WORKSPACE.index: {(namespace, "ws"): [lookup.view(workspace_spec, checked.observed)]}}
    outcome = MLMODEL.run(MLMODEL.resource(meta("model"), model_spec, {}, indices))
    report["model"] = [outcome.synced.ok, outcome.synced.message]
    report["after the MLModel"] = loaded()
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]))))
