"""Reading a namespace's resources for a trace through the Kubernetes API, with the user's kubeconfig."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from controller.api.crd import GROUP, VERSION
from controller.trace import kinds
from controller.user_cluster import REQUEST_TIMEOUT_SECONDS, UserCluster, refusals
from controller.wiring.kind import Ref


class Cluster(UserCluster):
    """The custom objects of every kind, as the user's kubeconfig allows."""

    def namespace_objects(self, namespace: str) -> dict[Ref, Mapping[str, Any]]:
        """Every resource of every kind in the namespace; a kind whose CRD is not installed has none."""
        objects: dict[Ref, Mapping[str, Any]] = {}
        for declared in kinds.DECLARED:
            plural = declared.definition.plural
            for item in self._list(plural, namespace):
                objects[(plural, str(item["metadata"]["name"]))] = item
        return objects

    def _list(self, plural: str, namespace: str) -> list[Mapping[str, Any]]:
        with refusals(f"list {plural} in namespace {namespace}"):
            try:
                listed = self.objects.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, plural, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            except ApiException as exc:
                if exc.status == 404:  # the kind's CRD is not installed
                    return []
                raise
        return list(listed.get("items") or ())
