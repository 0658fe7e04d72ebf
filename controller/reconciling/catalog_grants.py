"""Unity Catalog grants for spec.permissions: privileges per principal name, changed in one PATCH.

The decision is `permissions.decide`'s: a principal's privileges are compared as one value (sorted,
comma-separated), so a privilege added or removed by hand is a changed level. The write sends, per
principal, the privileges to add and to remove.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from controller.reconciling.permissions import Change, Levels, Wanted, apply, decide, read, status
from controller.reconciling.run import Run


@dataclass(frozen=True)
class GrantChange:
    """One principal's part of a Unity Catalog grants PATCH."""

    principal: str
    add: tuple[str, ...]
    remove: tuple[str, ...]


class CatalogGrants(Protocol):
    """What a kind's client offers for Unity Catalog grants on its securable (privileges per principal name)."""

    def get_grants(self, full_name: str) -> Levels | None: ...  # ("principal", name) → "EXECUTE,MANAGE"
    def update_grants(self, full_name: str, changes: Sequence[GrantChange]) -> None: ...


def sync_grants(run: Run, client: CatalogGrants, full_name: str, want: Wanted, *, what: str) -> dict[str, Any] | None:
    """As `sync`, for Unity Catalog grants: the change goes as one PATCH of privileges added and removed."""
    observed = read(run, lambda: client.get_grants(full_name), what=what)
    if observed is None:
        return None
    change = decide(want, observed)

    def held(level: str | None) -> set[str]:
        return set(level.split(",")) if level else set()

    def write(change: Change) -> None:
        changes = [
            GrantChange(
                p.name,
                tuple(sorted(held(lvl) - held(observed.get(p)))),
                tuple(sorted(held(observed.get(p)) - held(lvl))),
            )
            for p, lvl in sorted(change.grants.items())
        ]
        changes += [GrantChange(p.name, (), tuple(sorted(held(observed[p])))) for p in change.revokes]
        client.update_grants(full_name, changes)

    return status(want, change, applied=apply(run, change, what=what, write=write))
