"""Object permissions (`/api/2.0/permissions/{object_type}/{object_id}`): jobs, serving endpoints, experiments, repos.

Each object has direct grants (one level per principal) and inherits the `admins` group's CAN_MANAGE from
its root (`/jobs/`, ...). An object's creator holds CAN_MANAGE (IS_OWNER for a job) until the list is
changed. GET answers both, `inherited` telling them apart; PUT replaces the direct grants, PATCH sets the
levels of the principals it names. A principal the workspace does not know is refused with the API's
message naming it. The principals come from `Principals` (the credentials' users and service principals,
the built-in groups, and whatever the admin API added).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from sandbox.databricks.state import Json, Request, Route, invalid, not_found

if TYPE_CHECKING:
    from sandbox.databricks.jobs import Jobs
    from sandbox.databricks.repos import Repos
    from sandbox.databricks.serving import Serving
    from sandbox.databricks.tracking import Tracking

ADMINS = "admins"
PRINCIPAL_FIELDS = {
    "user_name": "UserName",
    "group_name": "GroupName",
    "service_principal_name": "ServicePrincipalName",
}


@dataclasses.dataclass(frozen=True)
class ObjectKind:
    """What one `object_type` of the path is: its levels, the level its creator gets, its name in answers."""

    answer_type: str
    root: str
    levels: dict[str, str]  # level → description
    creator_level: str = "CAN_MANAGE"
    one_owner: bool = False


KINDS = {
    "jobs": ObjectKind(
        "job",
        "/jobs/",
        {
            "CAN_VIEW": "Can view the job",
            "CAN_MANAGE_RUN": "Can manage runs of the job",
            "IS_OWNER": "Is the owner of the job",
            "CAN_MANAGE": "Can manage the job",
        },
        creator_level="IS_OWNER",
        one_owner=True,
    ),
    "serving-endpoints": ObjectKind(
        "serving-endpoint",
        "/serving-endpoints/",
        {
            "CAN_VIEW": "Can view the serving endpoint",
            "CAN_QUERY": "Can query the serving endpoint",
            "CAN_MANAGE": "Can manage the serving endpoint",
        },
    ),
    "experiments": ObjectKind(
        "mlflowExperiment",
        "/experiments/",
        {"CAN_READ": "Can read", "CAN_EDIT": "Can edit", "CAN_MANAGE": "Can manage"},
    ),
    "repos": ObjectKind(
        "repo",
        "/repos/",
        {"CAN_READ": "Can read", "CAN_RUN": "Can run", "CAN_EDIT": "Can edit", "CAN_MANAGE": "Can manage"},
    ),
}

Principal = tuple[str, str]  # (field, name): ("group_name", "data-scientists")
Creator = Callable[[str, str], str]
"""(object_type, object_id) → the creator's user name; raises the API's not-found error for a missing object."""


class Principals:
    """The users, groups and service principals the workspace knows."""

    def __init__(self, users: Callable[[], Iterable[str]], service_principals: Callable[[], Iterable[str]]) -> None:
        self._users = users
        self._service_principals = service_principals
        self.added: dict[str, set[str]] = {field: set() for field in PRINCIPAL_FIELDS}
        self.added["group_name"] |= {ADMINS, "users"}

    def add(self, field: str, name: str) -> None:
        if field not in PRINCIPAL_FIELDS:
            raise invalid(f"kind must be one of {', '.join(PRINCIPAL_FIELDS)}")
        self.added[field].add(name)

    def known(self, principal: Principal) -> bool:
        field, name = principal
        builtin = {"user_name": self._users, "service_principal_name": self._service_principals}.get(field)
        return name in self.added[field] or (builtin is not None and name in set(builtin()))


class Permissions:
    """The direct grants of every object, created from its creator on first use."""

    def __init__(self, principals: Principals, creator: Creator) -> None:
        self.principals = principals
        self._creator = creator
        self._acls: dict[tuple[str, str], dict[Principal, str]] = {}

    def routes(self) -> list[Route]:
        base = "/api/2.0/permissions/{object_type}/{object_id}"
        return [
            Route("GET", base, self.get),
            Route("PUT", base, self.put),
            Route("PATCH", base, self.patch),
            Route("GET", base + "/permissionLevels", self.levels),
        ]

    # ---- handlers ----

    def get(self, req: Request) -> Json:
        kind, key = self._object(req)
        return self._answer(kind, key)

    def levels(self, req: Request) -> Json:
        kind, _ = self._object(req)
        return {"permission_levels": [{"permission_level": k, "description": v} for k, v in kind.levels.items()]}

    def put(self, req: Request) -> Json:
        kind, key = self._object(req)
        wanted = self._entries(kind, req.body)
        owner = {p: lvl for p, lvl in self._acls[key].items() if lvl == "IS_OWNER"}
        if kind.one_owner and "IS_OWNER" not in wanted.values():
            wanted = owner | wanted  # a job keeps its owner when the list names none
        self._check_owner(kind, wanted)
        self._acls[key] = wanted
        return self._answer(kind, key)

    def patch(self, req: Request) -> Json:
        kind, key = self._object(req)
        wanted = self._entries(kind, req.body)
        merged = self._acls[key] | wanted
        if kind.one_owner and "IS_OWNER" in wanted.values():  # a new owner replaces the old one
            merged = {p: lvl for p, lvl in merged.items() if lvl != "IS_OWNER" or p in wanted}
        self._check_owner(kind, merged)
        self._acls[key] = merged
        return self._answer(kind, key)

    # ---- helpers ----

    def _object(self, req: Request) -> tuple[ObjectKind, tuple[str, str]]:
        object_type, object_id = req.params["object_type"], req.params["object_id"]
        kind = KINDS.get(object_type)
        if kind is None:
            raise invalid(f"{object_type} is not a supported object type")
        creator = self._creator(object_type, object_id)
        key = (object_type, object_id)
        if key not in self._acls:
            self._acls[key] = {("user_name", creator): kind.creator_level}
        return kind, key

    def _entries(self, kind: ObjectKind, body: Json) -> dict[Principal, str]:
        entries = body.get("access_control_list")
        if not isinstance(entries, list):
            raise invalid("access_control_list must be a list")
        found: dict[Principal, str] = {}
        for entry in entries:
            named = [(f, entry[f]) for f in PRINCIPAL_FIELDS if isinstance(entry, dict) and entry.get(f)]
            if len(named) != 1:
                raise invalid("Exactly one of user_name, group_name or service_principal_name must be set")
            principal = named[0]
            level = entry.get("permission_level")
            if level not in kind.levels:
                raise invalid(f"Permission level {level} is not supported for {kind.answer_type}")
            if not self.principals.known(principal):
                raise invalid(f"Principal: {PRINCIPAL_FIELDS[principal[0]]}({principal[1]}) does not exist")
            found[principal] = str(level)
        return found

    @staticmethod
    def _check_owner(kind: ObjectKind, acl: dict[Principal, str]) -> None:
        owners = [p for p, lvl in acl.items() if lvl == "IS_OWNER"]
        if kind.one_owner and len(owners) != 1:
            raise invalid("The job must have exactly one owner.")
        if any(field == "group_name" for field, _ in owners):
            raise invalid("Groups cannot own a job.")

    def _answer(self, kind: ObjectKind, key: tuple[str, str]) -> Json:
        object_id = key[1]
        entries: list[Json] = [
            _entry(p, [{"permission_level": lvl, "inherited": False}]) for p, lvl in sorted(self._acls[key].items())
        ]
        inherited = {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": [kind.root]}
        admins = next((e for e in entries if e.get("group_name") == ADMINS), None)
        if admins is None:
            entries.append(_entry(("group_name", ADMINS), [inherited]))
        else:
            admins["all_permissions"].append(inherited)
        return {
            "object_id": f"{kind.root}{object_id}",
            "object_type": kind.answer_type,
            "access_control_list": entries,
        }


def _entry(principal: Principal, permissions: list[Json]) -> dict[str, Any]:
    field, name = principal
    entry: dict[str, Any] = {field: name, "all_permissions": permissions}
    if field != "service_principal_name":
        entry["display_name"] = name
    return entry


def creators(*, jobs: Jobs, serving: Serving, tracking: Tracking, repos: Repos, default: str) -> Creator:
    """The creator of each object the permissions API covers (`default` where the area keeps none)."""

    def creator(object_type: str, object_id: str) -> str:
        found: str | None = None
        if object_type == "jobs" and object_id.isdigit() and int(object_id) in jobs.jobs:
            found = jobs.jobs[int(object_id)].creator
        elif object_type == "serving-endpoints":
            found = next((e.creator for e in serving.endpoints.values() if e.id == object_id), None)
        elif (object_type == "experiments" and object_id in tracking.experiments) or (
            object_type == "repos" and object_id.isdigit() and int(object_id) in repos.repos
        ):
            found = default  # these areas keep no creator: the workspace's default user
        if found is None:
            raise not_found(f"{KINDS[object_type].answer_type} {object_id} does not exist.")
        return found

    return creator
