"""The Helm chart as a user installs it, and the identity its ServiceAccount gives the controller."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sandbox.cluster import find_binary
from tests.support import REPO, Kubectl

CHART = REPO / "charts" / "mlops-gitops-controller"
CHART_NAME = "mlops-gitops-controller"


def helm(*args: str, kubeconfig: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real helm binary (built into the cache by tests/cluster/build.sh)."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)} if kubeconfig else None
    result = subprocess.run(
        [str(find_binary("helm")), *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def set_args(values: dict[str, str]) -> list[str]:
    return [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]


def render(*extra: str, release: str = "ctl", namespace: str = "mlops-system") -> list[dict[str, Any]]:
    """`helm template` output as a list of objects."""
    out = helm("template", release, str(CHART), "--namespace", namespace, *extra).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@dataclass(frozen=True)
class Release:
    """An installed release: its name, namespace and the ServiceAccount the controller runs as."""

    name: str
    namespace: str
    kubeconfig: Path

    @property
    def fullname(self) -> str:
        """The name the chart gives its Deployment, ServiceAccount and RBAC objects."""
        return f"{self.name}-{CHART_NAME}"

    @property
    def service_account(self) -> str:
        return self.fullname

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"

    @classmethod
    def install(cls, kubeconfig: Path, name: str, namespace: str, values: dict[str, str] | None = None) -> Release:
        helm(
            "install", name, str(CHART), "--namespace", namespace, "--create-namespace",
            *set_args(values or {}), kubeconfig=kubeconfig,
        )  # fmt: skip
        return cls(name=name, namespace=namespace, kubeconfig=kubeconfig)

    def uninstall(self) -> None:
        helm("uninstall", self.name, "--namespace", self.namespace, "--wait", kubeconfig=self.kubeconfig)
        Kubectl(self.kubeconfig)("delete", "namespace", self.namespace, "--wait=false")

    def manifest(self) -> list[dict[str, Any]]:
        """What the release put into the cluster, as Helm recorded it."""
        out = helm("get", "manifest", self.name, "--namespace", self.namespace, kubeconfig=self.kubeconfig).stdout
        return [doc for doc in yaml.safe_load_all(out) if doc]

    def service_account_kubeconfig(self, path: Path, *, duration_seconds: int = 3600) -> Path:
        """A kubeconfig for the same cluster that authenticates with a token of the chart's ServiceAccount."""
        return token_kubeconfig(self.kubeconfig, self.namespace, self.service_account, path, duration_seconds)


def token_kubeconfig(
    admin_kubeconfig: Path, namespace: str, service_account: str, path: Path, duration_seconds: int = 3600
) -> Path:
    """Like a pod's mounted token: a TokenRequest token, on whatever cluster the admin kubeconfig points at."""
    admin = Kubectl(admin_kubeconfig, namespace)
    token = admin("create", "token", service_account, f"--duration={duration_seconds}s").stdout.strip()
    config = json.loads(admin("config", "view", "--raw", "--minify", "--flatten", "-o", "json").stdout)
    user = f"system:serviceaccount:{namespace}:{service_account}"
    config["users"] = [{"name": user, "user": {"token": token}}]
    context = config["contexts"][0]
    context["context"] = {**context["context"], "user": user, "namespace": namespace}
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return path


def can_i(kubeconfig: Path, verb: str, resource: str, *, namespace: str | None = None) -> bool:
    """`kubectl auth can-i` for the identity in that kubeconfig, answered by the API server's RBAC."""
    scope: Sequence[str] = ("--all-namespaces",) if namespace is None else ("--namespace", namespace)
    result = Kubectl(kubeconfig)("auth", "can-i", verb, resource, *scope, check=False)
    return result.stdout.strip() == "yes"
