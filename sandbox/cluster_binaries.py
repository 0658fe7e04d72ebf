"""Where the local cluster's binaries are (built by tests/cluster/build.sh, cached outside Git) and what they can do."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

BUILD_COMMAND = "bash tests/cluster/build.sh"
CLUSTER_BINARIES = ("etcd", "kube-apiserver")


class ClusterError(RuntimeError):
    """The local cluster could not be prepared, started or used."""


def repo_root() -> Path:
    """The checkout this module belongs to: the binary cache sits beside its sources."""
    for candidate in Path(__file__).resolve().parents:
        if (candidate / "tests" / "cluster" / "go.mod").is_file():
            return candidate
    raise ClusterError("cannot find the repository root; set MLOPS_CACHE_DIR to the binary cache")


def cache_dir() -> Path:
    """Where build.sh puts its output; ``MLOPS_CACHE_DIR`` overrides the in-repo default."""
    override = os.environ.get("MLOPS_CACHE_DIR")
    return Path(override) if override else repo_root() / ".cache"


def find_binary(name: str, *, bin_dir: Path | None = None) -> Path:
    """Path of a built binary, or an error that says how to build it."""
    path = (bin_dir or cache_dir() / "bin") / name
    if not os.access(path, os.X_OK):
        raise ClusterError(f"{path} is missing: run `{BUILD_COMMAND}` first")
    return path


def missing_binaries(*, bin_dir: Path | None = None) -> list[Path]:
    """The cluster's binaries not built yet, so callers can fail early with one clear message."""
    folder = bin_dir or cache_dir() / "bin"
    return [folder / name for name in CLUSTER_BINARIES if not os.access(folder / name, os.X_OK)]


def kubernetes_minor(apiserver: Path) -> int:
    """The minor version of a kube-apiserver binary (`--version` prints e.g. "Kubernetes v1.36.3")."""
    result = subprocess.run([str(apiserver), "--version"], capture_output=True, text=True, check=False, timeout=30)
    found = re.search(r"v1\.(\d+)\.", result.stdout)
    if found is None:
        raise ClusterError(
            f"{apiserver} --version printed no version: {result.stdout.strip() or result.stderr.strip()}"
        )
    return int(found.group(1))
