"""The import layering the design promises: the import-linter contracts in pyproject.toml hold."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support import REPO


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_controller_is_forbidden_to_import_the_sandbox() -> None:
    """The wheel and the image carry no sandbox/, so the contract that keeps it so must stay."""
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert any(
        contract["type"] == "forbidden"
        and "controller" in contract["source_modules"]
        and "sandbox" in contract["forbidden_modules"]
        and not contract.get("ignore_imports")
        for contract in contracts
    )
