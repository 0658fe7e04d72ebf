"""The Helm chart: lints, renders a hardened Deployment and least-privilege RBAC, installs into a real API server."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.cluster import LocalCluster
from tests.e2e.chart import CHART, Release, helm, render, set_args
from tests.e2e.conftest import EXISTING_CLUSTER
from tests.support import REPO, Kubectl

pytestmark = pytest.mark.e2e

GROUP = "mlops.gitops.dev"
GENERATED_CRDS = [yaml.safe_load(path.read_text()) for path in sorted((REPO / "crds").glob("*.yaml"))]
PLURALS = {crd["spec"]["names"]["plural"] for crd in GENERATED_CRDS}


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == kind]


def only(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [obj] = by_kind(objects, kind)
    return obj


def verbs_by_resource(rules: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(apiGroup, resource) → verbs, merged over all rules."""
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        assert "resourceNames" not in rule, rule
        assert "nonResourceURLs" not in rule, rule
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


def reconcile_grants() -> dict[tuple[str, str], set[str]]:
    """What the controller needs in every namespace it watches (docs/install.md explains each)."""
    grants = {(GROUP, plural): {"list", "watch", "patch"} for plural in PLURALS}
    grants |= {(GROUP, f"{plural}/status"): {"patch"} for plural in PLURALS}
    grants |= {("", "events"): {"create"}, ("", "secrets"): {"get"}}
    return grants


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({}, id="defaults"),
        pytest.param({"watchNamespaces": "{team-a,team-b}"}, id="namespaced"),
        pytest.param(
            {"replicaCount": "2", "metrics.serviceMonitor.enabled": "true", "rbac.create": "false",
             "serviceAccount.create": "false", "serviceAccount.name": "existing"},
            id="ha-servicemonitor-own-rbac",
        ),
    ],
)  # fmt: skip
def test_lint(values: dict[str, str]) -> None:
    result = helm("lint", "--strict", str(CHART), *set_args(values))
    assert "0 chart(s) failed" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        pytest.param({"watchNamespace": "{team-a}"}, "additional properties 'watchNamespace'", id="misspelt-key"),
        pytest.param({"watchNamespaces": "{Team_A}"}, "'/watchNamespaces/0'", id="invalid-namespace-name"),
        pytest.param({"logFormat": "yaml"}, "'/logFormat'", id="unknown-log-format"),
        pytest.param({"maxConcurrentReconciles": "0"}, "'/maxConcurrentReconciles'", id="no-reconciles-at-all"),
        pytest.param({"replicaCount": "0"}, "'/replicaCount'", id="no-replicas"),
        pytest.param({"shards": "0"}, "'/shards'", id="no-shards"),
        pytest.param({"shardFallback": "namespaces"}, "'/shardFallback'", id="namespaces-fallback-is-releases"),
        pytest.param({"metrics.port": "70000"}, "'/metrics/port'", id="port-out-of-range"),
    ],
)
def test_values_schema_rejects_mistakes(values: dict[str, str], problem: str) -> None:
    result = helm("template", "ctl", str(CHART), *set_args(values), check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr, result.stderr
    assert problem in result.stderr, result.stderr


def test_default_render_is_a_hardened_cluster_wide_controller() -> None:
    objects = render(namespace="mlops-system")
    assert sorted({obj["kind"] for obj in objects}) == [
        "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Role", "RoleBinding", "Service",
        "ServiceAccount",
    ]  # fmt: skip
    deployment = only(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == only(objects, "ServiceAccount")["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [container] = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert "memory" in container["resources"]["limits"]
    assert container["args"] == [
        "run", "--metrics-port=8080", "--health-port=8081", "--log-format=json", "--max-concurrent-reconciles=20",
        "--leader-elect", f"--lease-name={deployment['metadata']['name']}",
    ]  # fmt: skip
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"metrics": 8080, "health": 8081}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
    # The only writable path is an emptyDir /tmp.
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"][0]["emptyDir"]["sizeLimit"]

    service = only(objects, "Service")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_chart_carries_the_argo_cd_health_checks() -> None:
    configmap = only(render(), "ConfigMap")
    shipped = yaml.safe_load((REPO / "argocd" / "argocd-cm-health.yaml").read_text())["data"]
    assert configmap["data"] == shipped
    assert not by_kind(render("--set", "argocdHealthChecks.enabled=false"), "ConfigMap")


def test_cluster_wide_rbac_is_least_privilege() -> None:
    objects = render(namespace="mlops-system")
    cluster_role = only(objects, "ClusterRole")
    expected = reconcile_grants() | {("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch"}}
    assert verbs_by_resource(cluster_role["rules"]) == expected
    binding = only(objects, "ClusterRoleBinding")
    assert binding["roleRef"]["name"] == cluster_role["metadata"]["name"]
    service_account = only(objects, "ServiceAccount")["metadata"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": service_account["name"], "namespace": service_account["namespace"]}
    ]
    lease_role = only(objects, "Role")
    assert lease_role["metadata"]["namespace"] == "mlops-system"
    assert verbs_by_resource(lease_role["rules"]) == {("coordination.k8s.io", "leases"): {"get", "create", "update"}}


def test_watch_namespaces_renders_a_role_per_namespace_and_nothing_cluster_wide() -> None:
    objects = render("--set", "watchNamespaces={team-a,team-b}", namespace="mlops-system")
    assert not by_kind(objects, "ClusterRole")
    assert not by_kind(objects, "ClusterRoleBinding")
    roles = {role["metadata"]["namespace"]: role for role in by_kind(objects, "Role")}
    assert set(roles) == {"team-a", "team-b", "mlops-system"}
    for namespace in ("team-a", "team-b"):
        assert verbs_by_resource(roles[namespace]["rules"]) == reconcile_grants()
    bindings = {binding["metadata"]["namespace"]: binding for binding in by_kind(objects, "RoleBinding")}
    assert set(bindings) == {"team-a", "team-b", "mlops-system"}
    assert {binding["subjects"][0]["namespace"] for binding in bindings.values()} == {"mlops-system"}
    args = only(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == [
        "run", "--metrics-port=8080", "--health-port=8081", "--namespace=team-a", "--namespace=team-b",
        "--log-format=json", "--max-concurrent-reconciles=20", "--leader-elect",
        "--lease-name=ctl-mlops-gitops-controller",
    ]  # fmt: skip


def test_shards_render_a_deployment_per_shard_each_with_its_replicas_and_shard_flags() -> None:
    objects = render("--set", "shards=3", "--set", "replicaCount=2", namespace="mlops-system")
    deployments = {obj["metadata"]["name"]: obj for obj in by_kind(objects, "Deployment")}
    assert sorted(deployments) == [f"ctl-mlops-gitops-controller-shard-{index}" for index in range(3)]
    for index in range(3):
        deployment = deployments[f"ctl-mlops-gitops-controller-shard-{index}"]
        assert deployment["spec"]["replicas"] == 2
        assert "strategy" not in deployment["spec"]  # rolling: the shard's standby keeps its namespaces served
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector["mlops.gitops.dev/shard"] == str(index)  # no Deployment adopts another shard's pods
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        # One --lease-name for all: the controller adds -shard-<index>-of-<count> to it.
        assert args[-4:] == [
            "--leader-elect", "--lease-name=ctl-mlops-gitops-controller", f"--shard-index={index}", "--shard-count=3",
        ]  # fmt: skip
    budgets = by_kind(objects, "PodDisruptionBudget")
    assert {
        pdb["metadata"]["name"]: pdb["spec"]["selector"]["matchLabels"]["mlops.gitops.dev/shard"] for pdb in budgets
    } == {f"ctl-mlops-gitops-controller-shard-{index}": str(index) for index in range(3)}
    # A shard asks the API server whether it filters by shard: a Lease list in its namespace.
    lease_role = only(objects, "Role")
    assert verbs_by_resource(lease_role["rules"]) == {
        ("coordination.k8s.io", "leases"): {"get", "create", "update", "list"}
    }
    service = only(objects, "Service")
    for deployment in deployments.values():  # metrics are scraped from every shard
        assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_the_label_fallback_passes_the_flag_and_needs_no_lease_list() -> None:
    objects = render("--set", "shards=2", "--set", "shardFallback=label")
    for deployment in by_kind(objects, "Deployment"):
        assert "--shard-fallback=label" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert verbs_by_resource(only(objects, "Role")["rules"]) == {
        ("coordination.k8s.io", "leases"): {"get", "create", "update"}
    }


def test_optional_objects() -> None:
    objects = render("--set", "replicaCount=2", "--set", "metrics.serviceMonitor.enabled=true")
    deployment = only(objects, "Deployment")
    assert "strategy" not in deployment["spec"]  # rolling updates once standbys exist
    budget = only(objects, "PodDisruptionBudget")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]
    monitor = only(objects, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= only(objects, "Service")["metadata"]["labels"].items()

    own_rbac = render("--set", "rbac.create=false", "--set", "serviceAccount.create=false",
                      "--set", "serviceAccount.name=existing")  # fmt: skip
    assert {obj["kind"] for obj in own_rbac} == {"ConfigMap", "Deployment", "Service"}
    assert only(own_rbac, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "existing"


def test_chart_ships_the_generated_crds() -> None:
    shipped = by_kind(render("--include-crds"), "CustomResourceDefinition")
    assert sorted(shipped, key=lambda crd: crd["metadata"]["name"]) == GENERATED_CRDS
    assert not by_kind(render(), "CustomResourceDefinition")  # only from crds/: Helm never deletes them


@pytest.fixture(scope="module")
def chart_cluster(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty API server, so the chart alone must bring the CRDs (the existing cluster when one is given)."""
    if os.environ.get(EXISTING_CLUSTER):
        yield request.getfixturevalue("kubeconfig")
        return
    with LocalCluster(work_dir=tmp_path_factory.mktemp("chart-cluster")) as cluster:
        yield cluster.kubeconfig_path


@pytest.mark.parametrize("namespaced", [False, True], ids=["cluster-wide", "namespaced"])
def test_install_into_the_api_server(chart_cluster: Path, namespaced: bool) -> None:
    suffix = uuid.uuid4().hex[:6]
    admin = Kubectl(chart_cluster)
    watched = [f"team-a-{suffix}", f"team-b-{suffix}"]
    values = {}
    if namespaced:
        for namespace in watched:
            admin("create", "namespace", namespace)
        values["watchNamespaces"] = "{" + ",".join(watched) + "}"
    # The release namespace enforces the `restricted` Pod Security Standard, as a hardened cluster would.
    admin("create", "namespace", f"mlops-{suffix}")
    admin("label", "namespace", f"mlops-{suffix}", "pod-security.kubernetes.io/enforce=restricted")
    release = Release.install(chart_cluster, f"ctl-{suffix}", f"mlops-{suffix}", values)
    try:
        status = helm("status", release.name, "--namespace", release.namespace, "-o", "json", kubeconfig=chart_cluster)
        assert json.loads(status.stdout)["info"]["status"] == "deployed"
        admin("wait", "--for=condition=Established", *(f"crd/{p}.{GROUP}" for p in PLURALS), "--timeout=60s")

        installed = release.manifest()
        for obj in installed:  # each object the release recorded is in the cluster, as rendered
            namespace = obj["metadata"].get("namespace")
            scope = ["--namespace", namespace] if namespace else []
            live = Kubectl(chart_cluster)("get", obj["kind"], obj["metadata"]["name"], *scope, "-o", "yaml").stdout
            assert yaml.safe_load(live)["metadata"]["labels"]["app.kubernetes.io/instance"] == release.name
        kinds = {obj["kind"] for obj in installed}
        if namespaced:
            assert "ClusterRole" not in kinds
            role_namespaces = {obj["metadata"]["namespace"] for obj in by_kind(installed, "Role")}
            assert role_namespaces == {*watched, release.namespace}
        else:
            assert {"ClusterRole", "ClusterRoleBinding"} <= kinds
        assert {"Deployment", "ServiceAccount", "Service", "Role", "RoleBinding"} <= kinds

        # No kubelet runs pods here, but admission does: a pod made from the Deployment's template is admitted.
        in_release = Kubectl(chart_cluster, release.namespace)
        template = in_release.get("deployment", release.fullname)["spec"]["template"]
        metadata = {**template["metadata"], "name": "controller-pod-check"}
        in_release.apply({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]})
    finally:
        release.uninstall()
        for namespace in watched if namespaced else []:
            admin("delete", "namespace", namespace, "--wait=false")
    # Uninstalling removes the cluster-wide objects too; the CRDs (and so the users' resources) stay.
    assert not admin("get", "clusterroles", "-l", f"app.kubernetes.io/instance={release.name}", "-o", "name").stdout
    assert admin("get", "crd", f"mlmodels.{GROUP}", "-o", "name").stdout.strip()
