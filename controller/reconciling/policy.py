"""The gates every kind applies before it touches an external object."""

from __future__ import annotations

from typing import Protocol


class Policies(Protocol):
    """The two policy fields every managed spec has."""

    @property
    def deletion_policy(self) -> str: ...
    @property
    def management_policy(self) -> str: ...


def observe_only(spec: Policies) -> bool:
    """ObserveOnly: read and report, never write."""
    return spec.management_policy == "ObserveOnly"


def kept_on_delete(spec: Policies, what: str) -> str | None:
    """What deleting the resource keeps, or None when the external object is to be deleted.

    Retain and ObserveOnly never touch the external object: the delete does not even connect.
    """
    if spec.deletion_policy == "Retain" or observe_only(spec):
        return f"kept {what} (deletionPolicy {spec.deletion_policy})"
    return None
