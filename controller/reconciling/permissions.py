"""spec.permissions, decided once for every kind: who should hold which level on an external object.

The resource is authoritative for the principals its spec lists and for those it listed before (kept in
`status.permissions.managed`): one removed from the spec is revoked, and principals it never listed are left
alone, unless `permissionsMode: Authoritative` makes the spec the whole list of direct grants. Inherited
grants (workspace admins, a folder's) are never part of the list: the API cannot change them here.

The record lives in status rather than in the managed-record tag: it then costs no second write next to the
permissions write, it has no tag's 256-character limit, and Git folders have no tags at all.

The controller's own principal is never locked out: a spec that would lower or remove its direct CAN_MANAGE
(or a job's IS_OWNER) keeps it, and the run says so. No SDK and no kopf here; each kind's client reads and
writes the list in its API's words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from controller.reconciling.errors import REFUSALS
from controller.reconciling.run import Run
from controller.status import conditions as c
from controller.status.outcome import Outcome

PrincipalKind = Literal["user", "group", "servicePrincipal", "principal"]  # principal: a UC name of any kind
AUTHORITATIVE = "Authoritative"
CAN_MANAGE = "CAN_MANAGE"
IS_OWNER = "IS_OWNER"
PERMISSION_KEPT = "PermissionKept"  # an Event's reason: the controller kept its own managing grant


@dataclass(frozen=True, order=True)
class Principal:
    """A user (by user name), a group (by name) or a service principal (by application id)."""

    kind: PrincipalKind
    name: str

    def __str__(self) -> str:
        words = {"user": "user", "group": "group", "servicePrincipal": "service principal", "principal": "principal"}
        return f"{words[self.kind]} {self.name}"

    @property
    def key(self) -> str:
        """How status records it: `group:data-scientists`."""
        return f"{self.kind}:{self.name}"

    @staticmethod
    def parse(key: str) -> Principal | None:
        kind, _, name = key.partition(":")
        if kind in ("user", "group", "servicePrincipal", "principal") and name:
            return Principal(kind, name)  # type: ignore[arg-type]
        return None


class Grant(Protocol):
    """One entry of a kind's spec.permissions (see `controller.api.common.PermissionEntry`)."""

    @property
    def principal_ref(self) -> tuple[str, str]: ...
    @property
    def level(self) -> str: ...


Acl = Mapping[Principal, str]
"""Direct grants: each principal's level."""

Levels = Mapping[tuple[str, str], str]
"""Direct grants as a client reads and writes them: (`user` | `group` | `servicePrincipal`, name) → level."""


class ObjectGrants(Protocol):
    """What a kind's client offers for the permissions of its object (the Permissions API, by object id)."""

    def get_permissions(self, object_id: str) -> Levels | None: ...  # None: the server has no permissions API
    def write_permissions(self, object_id: str, levels: Levels, *, replace: bool) -> None: ...


@dataclass(frozen=True)
class Wanted:
    """What the spec asks for, and what the controller knows besides."""

    levels: Acl
    authoritative: bool = False
    managed_before: frozenset[Principal] = frozenset()  # listed by an earlier spec (status)
    controller: Principal | None = None  # who the Workspace connects as
    owner_level: str | None = None  # a level exactly one principal holds (a job's IS_OWNER)


def wanted(
    entries: Sequence[Grant] | None,
    *,
    mode: str,
    recorded: Iterable[str],
    controller: str | None,
    owner_level: str | None = None,
    by_name: bool = False,
) -> Wanted:
    """The Wanted of a spec: its entries, its mode, the principals status recorded and the controller's user name.

    `by_name`: the API names a principal by one string of any kind (Unity Catalog), so entries are kept by name.
    """
    managed = frozenset(p for p in (Principal.parse(k) for k in recorded) if p is not None)
    return Wanted(
        levels={_principal(*e.principal_ref, by_name=by_name): e.level for e in entries or ()},
        authoritative=mode == AUTHORITATIVE,
        managed_before=managed,
        controller=controller_principal(controller),
        owner_level=owner_level,
    )


def _principal(kind: str, name: str, *, by_name: bool = False) -> Principal:
    found = Principal.parse(f"{'principal' if by_name else kind}:{name}")
    if found is None:
        raise ValueError(f"not a principal: {kind} {name!r}")
    return found


def controller_principal(identity: str | None) -> Principal | None:
    """The Workspace's identity as a principal: a user name with an @, else a service principal's application id."""
    if not identity:
        return None
    return Principal("user", identity) if "@" in identity else Principal("servicePrincipal", identity)


@dataclass(frozen=True)
class Change:
    """How the direct grants go from what they are to what they should be."""

    acl: dict[Principal, str]  # the whole direct list afterwards (what a replace sends)
    grants: dict[Principal, str]  # principals gaining a grant or changing level
    revokes: tuple[Principal, ...]
    replaces: bool  # a revocation or a changed level needs the whole list (PUT); new grants alone are added
    managed: frozenset[Principal]  # to record once written
    observed: Acl  # the direct grants before
    kept_for_controller: str | None = None  # why the controller's own grant stays, when it does

    @property
    def empty(self) -> bool:
        return not self.grants and not self.revokes

    def describe(self) -> list[str]:
        said = [f"granted {level} to {p}" for p, level in sorted(self.grants.items())]
        return said + [f"revoked the grant of {p}" for p in self.revokes]

    def differences(self) -> list[str]:
        """How the grants differ, in ObserveOnly's words (nothing was written)."""
        said = [
            f"{p} has {self.observed.get(p) or 'no grant'}, spec says {lvl}" for p, lvl in sorted(self.grants.items())
        ]
        return said + [f"{p} has {self.observed[p]}, spec says none" for p in self.revokes]


def decide(want: Wanted, observed: Acl) -> Change:
    """The change from the `observed` direct grants to what `want` asks for."""
    acl = dict(want.levels)
    if not want.authoritative:
        acl = {p: lvl for p, lvl in observed.items() if p not in want.managed_before} | acl
    acl = _one_owner(want, observed, acl)
    acl, kept = _keep_controller(want, observed, acl)
    grants = {p: lvl for p, lvl in acl.items() if observed.get(p) != lvl}
    revokes = tuple(sorted(p for p in observed if p not in acl))
    return Change(
        acl=acl,
        grants=grants,
        revokes=revokes,
        replaces=bool(revokes) or any(p in observed for p in grants),
        managed=frozenset(want.levels),
        observed=observed,
        kept_for_controller=kept,
    )


def _one_owner(want: Wanted, observed: Acl, acl: dict[Principal, str]) -> dict[Principal, str]:
    """A job has exactly one owner: the one the spec names, else the one it has now."""
    if want.owner_level is None:
        return acl
    named = {p for p, lvl in want.levels.items() if lvl == want.owner_level}
    if named:
        return {p: lvl for p, lvl in acl.items() if lvl != want.owner_level or p in named}
    return acl | {p: lvl for p, lvl in observed.items() if lvl == want.owner_level}


def _keep_controller(want: Wanted, observed: Acl, acl: dict[Principal, str]) -> tuple[dict[Principal, str], str | None]:
    """The controller keeps a managing grant it has or the spec lists it with; lowering or removing it is refused."""
    me = want.controller
    strong = {CAN_MANAGE} | ({want.owner_level} if want.owner_level else set())
    if me is None:
        return acl, None
    now, after = observed.get(me), acl.get(me)
    if after in strong or (now not in strong and me not in want.levels):
        return acl, None
    handed_over = now == want.owner_level and after is None  # the spec names another owner: CAN_MANAGE stays
    kept = now if now in strong and not handed_over else CAN_MANAGE
    lowered = f"lower it to {after}" if after else "remove it"
    message = f"kept {kept} for the controller's own {me}: spec.permissions would {lowered}"
    return acl | {me: str(kept)}, message


def apply(run: Run, change: Change, *, what: str, write: Callable[[Change], None]) -> bool:
    """Write `change` in one call or, under ObserveOnly, report it; whether the grants now match the spec.

    A refusal (an unknown principal, say) is recorded in the run with the API's message, which names the principal.
    """
    if change.empty:
        return True
    described = "; ".join(change.describe())
    if change.kept_for_controller:
        run.note(PERMISSION_KEPT, f"{what}: {change.kept_for_controller}", warning=True)
    if not run.may_write("permissions: " + "; ".join(change.differences())):
        return False

    def written() -> bool:
        write(change)
        return True

    if run.attempt(written, context=f"{what} permissions") is None:
        return False
    run.changed(f"{what} permissions: {described}")
    return True


def status(want: Wanted, change: Change, *, applied: bool) -> dict[str, Any]:
    """status.permissions: the principals this resource manages, and whether the controller's grant was kept.

    Until a change is written, the principals listed before stay recorded with the new ones, so a
    principal dropped from the spec is still revoked on a later try.
    """
    managed = change.managed if applied else change.managed | want.managed_before
    return {"managed": sorted(p.key for p in managed), "keptForController": change.kept_for_controller}


def wanted_at_all(entries: Sequence[Grant] | None, recorded: Iterable[str]) -> bool:
    """Whether this resource has grants to look after: none listed now or before costs no read."""
    return entries is not None or any(True for _ in recorded)


def sync(run: Run, client: ObjectGrants, object_id: str, want: Wanted, *, what: str) -> dict[str, Any] | None:
    """Read the object's grants once, write the change in one call; status.permissions, or None when unread."""
    observed = read(run, lambda: client.get_permissions(object_id), what=what)
    if observed is None:
        return None
    change = decide(want, observed)

    def write(change: Change) -> None:
        levels = change.acl if change.replaces else change.grants
        client.write_permissions(
            object_id, {(p.kind, p.name): lvl for p, lvl in levels.items()}, replace=change.replaces
        )

    return status(want, change, applied=apply(run, change, what=what, write=write))


def read(run: Run, read: Callable[[], Levels | None], *, what: str) -> Acl | None:
    """The grants as the client reads them; None (the run says why) when refused or when there is no such API."""
    try:
        found = read()
    except REFUSALS as exc:
        run.refused(exc, context=f"{what} permissions")
        return None
    if found is None:
        message = f"{what}: spec.permissions needs a Databricks Workspace (an MLflow server has no permissions API)"
        run.problems.append(c.Verdict(False, c.UNSUPPORTED, message))
        run.note(c.UNSUPPORTED, message, warning=True)
        return None
    return {p: level for (kind, name), level in found.items() if (p := Principal.parse(f"{kind}:{name}"))}


def reported(outcome: Outcome, permissions: dict[str, Any] | None) -> Outcome:
    """The Outcome with status.permissions added, when this reconcile looked at them."""
    if permissions is None:
        return outcome
    return dataclasses.replace(outcome, observed={**outcome.observed, "permissions": permissions})
