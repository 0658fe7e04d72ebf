"""The controller's wheel (what the image, pip and pipx install) carries the controller, the `mlopsctl`
command, and nothing of the sandbox."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support import REPO

# Built from a copy, so the build's own files (build/, *.egg-info) never land in the checkout.
_NOT_SOURCES = shutil.ignore_patterns(".*", "build", "*.egg-info", "__pycache__")


def source_copy(folder: Path) -> Path:
    """The checkout's sources copied into `folder`, to build or install from."""
    source = folder / "source"
    shutil.copytree(REPO, source, ignore=_NOT_SOURCES)
    return source


def test_the_wheel_has_the_controller_and_no_emulator(tmp_path: Path) -> None:
    source = source_copy(tmp_path)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    result = subprocess.run(
        [*build, "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (entry_points,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert "mlopsctl = controller.cli:main" in scripts
    assert "controller/cli.py" in names
    assert not [name for name in names if name.startswith(("sandbox/", "controller/sandbox/"))]
    assert {name.split("/")[0] for name in names if name.endswith(".py")} == {"controller"}
