"""A second official client: Databricks' Go SDK drives the emulator through every kind's life cycle.

The program (tests/contract/go) asserts the Go SDK's own waiters and typed errors; an answer the
Python SDK tolerates but the Go SDK does not fails here. It runs once with a PAT and once with
OAuth M2M, and prints one line per check.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.cluster import cache_dir
from sandbox.databricks import DEFAULT_TOKEN, DEFAULT_USER, Emulator
from tests.integration.databricks.conftest import CLIENT_ID, CLIENT_SECRET
from tests.support import REPO

pytestmark = pytest.mark.integration

BUILD = REPO / "tests" / "contract" / "go" / "build.sh"
PROGRAM = "databricks-go-contract"
MODEL = "main.contract.fraud"
TABLE = "main.contract.requests"
OUTPUT_SCHEMA = "main.contract_monitoring"


@pytest.fixture(scope="module")
def program() -> Path:
    """The contract program, built through its script (seconds when cached, minutes cold)."""
    if shutil.which("go") is None:
        pytest.fail("Go is not installed: the Go SDK contract test needs it (see README.md, 'Try it')")
    built = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, check=False, timeout=1200)
    if built.returncode != 0:
        pytest.fail(f"{BUILD} failed ({built.returncode}):\n{built.stdout}\n{built.stderr}")
    return cache_dir() / "bin" / PROGRAM


@pytest.mark.timeout(1500)  # the first test may include a cold build of the Go SDK
@pytest.mark.parametrize(
    ("auth", "credentials", "user"),
    [
        ("pat", {"DATABRICKS_TOKEN": DEFAULT_TOKEN}, DEFAULT_USER),
        ("oauth-m2m", {"DATABRICKS_CLIENT_ID": CLIENT_ID, "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET}, CLIENT_ID),
    ],
)
def test_go_sdk_drives_every_kind(
    program: Path, emu: Emulator, tmp_path: Path, auth: str, credentials: dict[str, str], user: str
) -> None:
    # Long enough that the writes the program makes during an update surely land inside it.
    emu.set_timings(endpoint_update=2.0)
    emu.seed_model_version(MODEL, source="models:/m-1", run_id="r1")
    emu.seed_model_version(MODEL, source="models:/m-2", run_id="r2")
    emu.seed_table(TABLE, columns=["prediction", "label", "model_id", "timestamp"])
    emu.seed_schema(OUTPUT_SCHEMA)
    # Only what is given here: no ~/.databrickscfg and no DATABRICKS_* variables of the machine.
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABRICKS_HOST": emu.url,
        "DATABRICKS_AUTH_TYPE": auth,
        **credentials,
    }
    command = [str(program), "-expect-user", user, "-model", MODEL, "-table", TABLE, "-output-schema", OUTPUT_SCHEMA]
    ran = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=300)
    report = f"{ran.stdout}\n{ran.stderr}"
    assert ran.returncode == 0, f"the Go SDK contract failed with {auth}:\n{report}"
    assert ran.stdout.rstrip().endswith("all checks passed"), report
