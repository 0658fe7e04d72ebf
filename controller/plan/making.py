"""The plan as a function: read the manifests and the cluster, connect, plan every resource."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any

from controller.plan.credentials import Credentials, FromCluster, FromEnvironment
from controller.plan.manifests import ManifestError, read
from controller.plan.planning import Key, Planner
from controller.plan.result import Plan
from controller.trace.cluster import Cluster
from controller.user_cluster import DEFAULT_NAMESPACE, ClusterError


def plan(
    paths: list[pathlib.Path],
    *,
    kubeconfig: pathlib.Path | None = None,
    namespace: str | None = None,
    cluster: bool = True,
    prune: bool = False,
    profile: str | None = None,
) -> Plan:
    """What applying the manifests under `paths` would make the controller do; nothing is written anywhere.

    With `cluster` (the default) live resources, their status and the Workspaces' Secrets come from the
    API server the kubeconfig names; without it every Workspace must be in the manifests and credentials come
    from the environment (`profile`: a ~/.databrickscfg profile). `prune` plans the deletion of resources in
    the cluster that the manifests leave out, in every namespace the manifests declare resources in.
    `namespace` is where manifests without one go (default: the kubeconfig context's, else "default").
    """
    try:
        live_cluster = Cluster(kubeconfig) if cluster else None
        default = namespace or (live_cluster.default_namespace() if live_cluster else DEFAULT_NAMESPACE)
        declared = read(paths, namespace=default)
        live: dict[Key, Mapping[str, Any]] = {}
        if live_cluster is not None:
            for each in sorted({d.namespace for d in declared}):
                live |= {
                    (plural, each, name): obj for (plural, name), obj in live_cluster.namespace_objects(each).items()
                }
    except ManifestError as exc:
        return Plan((), tuple(exc.problems))
    except ClusterError as exc:
        return Plan((), (str(exc),))
    if prune and live_cluster is None:
        return Plan((), ("pruning compares with the cluster: --prune cannot be used with --no-cluster",))
    credentials: Credentials = FromCluster(live_cluster) if live_cluster else FromEnvironment(profile)
    planner = Planner(declared, live, credentials)
    resources = planner.declared()
    if prune:
        resources += planner.pruned()
    return Plan(tuple(resources))
