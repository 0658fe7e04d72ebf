"""Unity Catalog grants on registered models: `GET`/`PATCH /api/2.1/unity-catalog/permissions/FUNCTION/{full_name}`.

Registered models are securable type FUNCTION (the SDK's word for them in grants). GET answers the direct
privilege assignments; PATCH applies `changes: [{principal, add, remove}]` in one call and answers the
result. A model's owner holds its rights by ownership, not by a grant, so it is not listed. Principals are
plain strings (user name, group name, service principal application id), checked against `Principals`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.databricks.permissions import PRINCIPAL_FIELDS, Principals
from sandbox.databricks.state import ApiError, Json, Request, Route, invalid, not_found

MODEL_PRIVILEGES = ("ALL_PRIVILEGES", "APPLY_TAG", "EXECUTE", "MANAGE")
SECURABLES = ("function", "model")  # the SDK documents FUNCTION; MODEL is in its SecurableType enum too


class Grants:
    """The privileges each principal holds on each registered model."""

    def __init__(self, principals: Principals, models: Mapping[str, object]) -> None:
        self._principals = principals
        self._models = models  # the registered models, by lower-cased full name
        self._grants: dict[str, dict[str, set[str]]] = {}

    def routes(self) -> list[Route]:
        path = "/api/2.1/unity-catalog/permissions/{securable_type}/{full_name}"
        return [Route("GET", path, self.get), Route("PATCH", path, self.update)]

    def get(self, req: Request) -> Json:
        return self._answer(self._securable(req))

    def update(self, req: Request) -> Json:
        key = self._securable(req)
        changes = req.body.get("changes")
        if not isinstance(changes, list):
            raise invalid("changes must be a list")
        grants = {p: set(privileges) for p, privileges in self._grants.get(key, {}).items()}
        for change in changes:
            principal = change.get("principal") if isinstance(change, dict) else None
            if not isinstance(principal, str) or not principal:
                raise invalid("Each change needs a principal.")
            if not any(self._principals.known((field, principal)) for field in PRINCIPAL_FIELDS):
                raise ApiError(404, "PRINCIPAL_DOES_NOT_EXIST", f"Could not find principal with name {principal}.")
            add, remove = change.get("add") or [], change.get("remove") or []
            for privilege in [*add, *remove]:
                if privilege not in MODEL_PRIVILEGES:
                    raise invalid(f"Privilege {privilege} is not applicable to this entity.")
            held = grants.setdefault(principal, set())
            held |= set(add)
            held -= set(remove)
        self._grants[key] = {p: held for p, held in grants.items() if held}
        return self._answer(key)

    def _securable(self, req: Request) -> str:
        securable, full_name = req.params["securable_type"].lower(), req.params["full_name"]
        if securable not in SECURABLES:
            raise invalid(f"The emulator keeps grants only on registered models, not on {securable}.")
        if full_name.lower() not in self._models:
            raise not_found(f"Routine or Model '{full_name}' does not exist.")
        return full_name.lower()

    def _answer(self, key: str) -> Json:
        assignments = [
            {"principal": principal, "privileges": sorted(held)}
            for principal, held in sorted(self._grants.get(key, {}).items())
        ]
        return {"privilege_assignments": assignments} if assignments else {}
