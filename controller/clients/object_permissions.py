"""Object permissions (jobs, serving endpoints, experiments, Git folders) through the SDK's Permissions API.

One client for every object type: the path is `/api/2.0/permissions/{object_type}/{object_id}` and the
shapes are the same. Principals are `(kind, name)` with kind `user`, `group` or `servicePrincipal`.
"""

from __future__ import annotations

from collections.abc import Mapping

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.iam import AccessControlRequest, AccessControlResponse, PermissionLevel

from controller.clients.databricks import translated_errors

PrincipalRef = tuple[str, str]
Levels = dict[PrincipalRef, str]


class ObjectPermissions:
    """Reads and writes the direct grants of one object type (`jobs`, `serving-endpoints`, ...)."""

    def __init__(self, client: WorkspaceClient, object_type: str) -> None:
        self._w = client
        self._type = object_type

    def direct(self, object_id: str) -> Levels:
        """Each principal's direct level; inherited grants (admins, a parent folder's) are left out."""
        with translated_errors():
            found = self._w.permissions.get(self._type, object_id)
        levels: Levels = {}
        for entry in found.access_control_list or []:
            principal = _principal(entry)
            direct = [
                p.permission_level.value for p in entry.all_permissions or [] if p.permission_level and not p.inherited
            ]
            if principal is not None and direct:
                levels[principal] = direct[0]
        return levels

    def replace(self, object_id: str, levels: Mapping[PrincipalRef, str]) -> None:
        """PUT: `levels` become the object's whole list of direct grants."""
        with translated_errors():
            self._w.permissions.set(self._type, object_id, access_control_list=_requests(levels))

    def grant(self, object_id: str, levels: Mapping[PrincipalRef, str]) -> None:
        """PATCH: the principals named get these levels; others keep theirs."""
        with translated_errors():
            self._w.permissions.update(self._type, object_id, access_control_list=_requests(levels))


def _principal(entry: AccessControlResponse) -> PrincipalRef | None:
    if entry.user_name:
        return "user", entry.user_name
    if entry.group_name:
        return "group", entry.group_name
    if entry.service_principal_name:
        return "servicePrincipal", entry.service_principal_name
    return None


def _requests(levels: Mapping[PrincipalRef, str]) -> list[AccessControlRequest]:
    fields = {"user": "user_name", "group": "group_name", "servicePrincipal": "service_principal_name"}
    return [
        AccessControlRequest(permission_level=PermissionLevel(level), **{fields[kind]: name})
        for (kind, name), level in sorted(levels.items())
    ]
