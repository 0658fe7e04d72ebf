"""The kinds as `mlopsctl trace` knows them: their definitions and declared dependencies, found by any name."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from controller.api.crd import GROUP, KindDefinition
from controller.kinds.catalog import KINDS
from controller.wiring.kind import Kind, Ref


class UnknownKind(ValueError):
    """A name that is no kind of this controller."""


@dataclass(frozen=True)
class Declared:
    """One kind: how the API server names it and whom its resources follow."""

    kind: Kind[Any, Any, Any]

    @property
    def definition(self) -> KindDefinition:
        return self.kind.definition

    def follows(self, obj: Mapping[str, Any]) -> tuple[Ref, ...]:
        """What the resource depends on, as the kind declares it; nothing when its spec does not parse."""
        status = obj.get("status") or {}
        try:
            resource = self.kind.resource(obj["metadata"], obj.get("spec") or {}, status, indices={})
        except ValidationError:
            return ()
        return tuple(self.kind.follows(resource))


def _load() -> tuple[Declared, ...]:
    # The same declarations the operator wires (controller.operator), so trace and the controller agree.
    return tuple(
        Declared(importlib.import_module(f"controller.kinds.{definition.singular}.handlers").KIND)
        for definition in KINDS
    )


DECLARED = _load()


def by_plural(plural: str) -> Declared:
    return next(declared for declared in DECLARED if declared.definition.plural == plural)


def catalog_order(ref: Ref) -> tuple[int, str]:
    """Sorts references as the catalog lists kinds (dependencies first), then by name."""
    plurals = [declared.definition.plural for declared in DECLARED]
    return plurals.index(ref[0]), ref[1]


def find(name: str) -> Declared:
    """A kind by any name kubectl accepts for it: kind, singular, plural or short name, with or without the group."""
    wanted = name.lower().removesuffix(f".{GROUP}")
    for declared in DECLARED:
        definition = declared.definition
        if wanted in {definition.singular, definition.plural, *definition.short_names}:
            return declared
    known = ", ".join(declared.definition.kind for declared in DECLARED)
    raise UnknownKind(f"unknown kind {name!r}; one of {known}")
