"""What `mlopsctl run` loads at start imports no SDK: each is imported when a Workspace of its kind first connects
(tests/e2e/test_imports_on_demand.py reconciles one of each kind and checks the other SDK is never imported)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO

_LOADED = """
import json, sys
import controller.runner
from controller.kinds.catalog import KINDS
import importlib
for definition in KINDS:
    importlib.import_module(f"controller.kinds.{definition.singular}.handlers")
print(json.dumps(sorted(sys.modules)))
"""


def _modules_at_start() -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", _LOADED], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(result.stdout))


def test_starting_the_controller_imports_neither_sdk_nor_a_kinds_sdk_adapter() -> None:
    loaded = _modules_at_start()
    assert "kopf" in loaded  # the probe loaded the operator
    assert "controller.kinds.mlmodel.handlers" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("databricks", "mlflow")}
    sdk_bound = {
        "controller.clients.databricks",
        "controller.clients.mlflow",
        "controller.clients.artifacts",
        "controller.clients.object_permissions",
        "controller.kinds.mlmodel.unity_catalog",
        "controller.kinds.mlmodel.external",
        "controller.kinds.experiment.external.mlflow_server",
        "controller.kinds.experiment.external.databricks_workspace",
        *(f"controller.kinds.{kind}.external" for kind in ("gitfolder", "mljob", "modelmonitor", "servingendpoint")),
    }
    assert not sdk_bound & loaded
