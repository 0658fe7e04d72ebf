"""The layering the design promises, checked on the source: what each layer may import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import REPO

SDKS = ("kopf", "kubernetes", "databricks", "mlflow", "requests")
KUBERNETES = ("kopf", "kubernetes")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("path", sorted(REPO.glob("controller/kinds/*/reconcile.py")), ids=lambda p: p.parent.name)
def test_reconcile_imports_neither_kopf_nor_an_sdk(path: Path) -> None:
    assert _imports(path).isdisjoint(SDKS)


@pytest.mark.parametrize("path", sorted(REPO.glob("controller/clients/*.py")), ids=lambda p: p.name)
def test_clients_know_no_kubernetes(path: Path) -> None:
    assert _imports(path).isdisjoint(KUBERNETES)


@pytest.mark.parametrize("path", sorted(REPO.glob("controller/kinds/*/model.py")), ids=lambda p: p.parent.name)
def test_models_depend_on_nothing_external(path: Path) -> None:
    assert _imports(path).isdisjoint(SDKS)
