"""`mlopsctl import`: read a Workspace's assets, write manifests that adopt them, report what was left out.

Exit code: 0 when every asset found was imported, 1 when some were not (the report says why),
2 on a usage error, or when the cluster or the Workspace could not be reached.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from controller.api.crd import GROUP, VERSION
from controller.clients import errors
from controller.importing import manifests, naming, references, report
from controller.importing.mapping import Filter, map_estate
from controller.importing.reading import DATABRICKS_ONLY, MLMODELS, MODELMONITORS, read
from controller.kinds.catalog import KINDS
from controller.kinds.workspace.connections import Connection, Connections
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kube import SecretReader
from controller.user_cluster import REQUEST_TIMEOUT_SECONDS, ClusterError, UserCluster, refusals

ALL_IMPORTED, SOME_LEFT_OUT, ERROR = 0, 1, 2
IMPORTABLE = (MLMODELS, *DATABRICKS_ONLY)


class CannotImport(Exception):
    """The import cannot go ahead; the message says why."""


def kind_plural(name: str) -> str:
    """`ServingEndpoint`, `servingendpoints`, `mlse` → `servingendpoints`; ValueError for another."""
    lowered = name.lower()
    for kind in KINDS:
        if kind.plural in IMPORTABLE and lowered in (kind.kind.lower(), kind.plural, *kind.short_names):
            return kind.plural
    names = ", ".join(k.kind for k in KINDS if k.plural in IMPORTABLE)
    raise ValueError(f"--kind {name}: not an importable kind (one of {names})")


def run_import(
    *,
    workspace: str,
    namespace: str | None,
    kinds: Sequence[str],
    patterns: Sequence[str],
    output: Path,
    kubeconfig: Path | None,
    out: TextIO = sys.stdout,
) -> int:
    """Import, write the folder, print the report; ERROR (reason on stderr) when it cannot be done."""
    try:
        wanted = Filter(patterns)
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            raise CannotImport(f"{output} is not an empty folder; choose a new or empty one")
        cluster = UserCluster(kubeconfig)
        namespace = namespace or cluster.default_namespace()
        spec = _workspace(cluster, namespace, workspace)
        plurals = set(kinds) or set(IMPORTABLE if spec.databricks else (MLMODELS,))
        if spec.mlflow is not None and plurals & set(DATABRICKS_ONLY):
            asked = ", ".join(sorted(plurals & set(DATABRICKS_ONLY)))
            raise CannotImport(f"Workspace {workspace} is an MLflow one: {asked} need a Databricks Workspace")
        owners = _monitor_owners(cluster, namespace) if MODELMONITORS in plurals else {}
        estate = read(_connect(cluster, namespace, workspace, spec), plurals)
    except (ClusterError, CannotImport, ValueError) as exc:
        print(f"mlopsctl import: {exc}", file=sys.stderr)
        return ERROR
    except errors.ExternalError as exc:
        print(f"mlopsctl import: reading Workspace {workspace}: {exc}", file=sys.stderr)
        return ERROR
    mapped = map_estate(estate, workspace=workspace, wanted=wanted, monitor_owners=owners)
    renamed = naming.assign(mapped.assets)
    references.resolve(mapped.assets)
    assets, refused = manifests.refused(mapped.assets, namespace)
    skipped = mapped.skipped + refused
    text = report.render(
        workspace=workspace,
        namespace=namespace,
        assets=assets,
        skipped=skipped,
        renamed=renamed,
        filtered=mapped.filtered_out,
    )
    output.mkdir(parents=True, exist_ok=True)
    manifests.write(output, assets, namespace, text)
    out.write(text)
    out.write(f"\nWrote {len(assets)} manifests, {manifests.KUSTOMIZATION} and {manifests.REPORT} to {output}\n")
    return SOME_LEFT_OUT if skipped else ALL_IMPORTED


def _workspace(cluster: UserCluster, namespace: str, name: str) -> WorkspaceSpec:
    with refusals(f"read Workspace {name} in namespace {namespace}"):
        try:
            found: Mapping[str, Any] = cluster.objects.get_namespaced_custom_object(
                GROUP, VERSION, namespace, "workspaces", name, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as exc:
            if exc.status == 404:
                raise CannotImport(f"Workspace {name} not found in namespace {namespace}") from exc
            raise
    try:
        return WorkspaceSpec.model_validate(found.get("spec") or {})
    except ValidationError as exc:
        raise CannotImport(f"Workspace {name} has an invalid spec: {exc}") from exc


def _connect(cluster: UserCluster, namespace: str, name: str, spec: WorkspaceSpec) -> Connection:
    """The connection the controller would make: same Secret, same client settings, same redaction."""
    return Connections(SecretReader(cluster.core)).get(namespace, name, spec)


def _monitor_owners(cluster: UserCluster, namespace: str) -> dict[str, str]:
    """Table id → the ModelMonitor (namespace/name) whose status records that table's monitor as its own.

    Every namespace where the kubeconfig may list them, else the import's namespace.
    """
    with refusals(f"list modelmonitors in namespace {namespace}"):
        try:
            listed = cluster.objects.list_cluster_custom_object(
                GROUP, VERSION, "modelmonitors", _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except ApiException as exc:
            if exc.status == 404:  # the CRD is not installed: no ModelMonitor manages anything
                return {}
            if exc.status != 403:
                raise
            listed = cluster.objects.list_namespaced_custom_object(
                GROUP, VERSION, namespace, "modelmonitors", _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
    owners: dict[str, str] = {}
    for item in listed.get("items") or []:
        table_id = (item.get("status") or {}).get("tableId")
        if table_id:
            owners[str(table_id)] = f"{item['metadata']['namespace']}/{item['metadata']['name']}"
    return owners
