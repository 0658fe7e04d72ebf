"""The local API server behaves like a real cluster: CRDs get established and RBAC is enforced.

Needs the binaries from ``bash tests/cluster/build.sh``; a missing build is a failure, not a
skip, so a broken setup never passes silently.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cluster import BUILD_COMMAND, LocalCluster, missing_binaries

pytestmark = pytest.mark.e2e

NAMESPACE = "cluster-check"

WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.test
spec:
  group: example.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: integer}}}
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    if missing := missing_binaries():
        pytest.fail(f"missing {', '.join(map(str, missing))}: run `{BUILD_COMMAND}` first", pytrace=False)
    with LocalCluster() as local_cluster:
        yield local_cluster


def kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    result = subprocess.run(
        ["kubectl", *args], input=stdin, env=environment, capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result


def test_custom_resource_definition_gets_established(cluster: LocalCluster) -> None:
    admin = cluster.kubeconfig_path
    kubectl(admin, "apply", "-f", "-", stdin=WIDGET_CRD)
    kubectl(admin, "wait", "--for=condition=Established", "crd/widgets.example.test", "--timeout=30s")

    kubectl(admin, "create", "namespace", f"{NAMESPACE}-crd")
    widget = "apiVersion: example.test/v1\nkind: Widget\nmetadata: {name: small}\nspec: {size: 1}\n"
    kubectl(admin, "apply", "--namespace", f"{NAMESPACE}-crd", "-f", "-", stdin=widget)
    size = kubectl(admin, "get", "widget", "small", "-n", f"{NAMESPACE}-crd", "-o", "jsonpath={.spec.size}")
    assert size.stdout == "1"


def test_service_account_gets_only_what_its_roles_grant(cluster: LocalCluster, tmp_path: Path) -> None:
    admin = cluster.kubeconfig_path
    kubectl(admin, "create", "namespace", NAMESPACE)
    kubectl(admin, "create", "serviceaccount", "reader", "-n", NAMESPACE)
    reader = cluster.service_account_kubeconfig(NAMESPACE, "reader", tmp_path / "reader.kubeconfig")

    refused = kubectl(reader, "get", "secrets", "-n", NAMESPACE, check=False)
    assert refused.returncode != 0
    assert "Forbidden" in refused.stderr
    assert f"system:serviceaccount:{NAMESPACE}:reader" in refused.stderr

    kubectl(admin, "get", "secrets", "-n", NAMESPACE)

    kubectl(admin, "create", "role", "secret-reader", "--verb=list", "--resource=secrets", "-n", NAMESPACE)
    kubectl(
        admin,
        "create",
        "rolebinding",
        "reader-reads-secrets",
        "--role=secret-reader",
        f"--serviceaccount={NAMESPACE}:reader",
        "-n",
        NAMESPACE,
    )
    kubectl(reader, "get", "secrets", "-n", NAMESPACE)
