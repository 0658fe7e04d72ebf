"""The dependency tree around one resource, from the resources of its namespace and the kinds' declarations.

Edges are what each kind declares it follows (`Kind.follows`, the same declaration the controller uses to
wake followers), so a new kind's dependencies show up here without a second list of who follows whom.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from controller.trace import kinds
from controller.trace.node import Node, missing, observed
from controller.wiring.kind import Ref

Objects = Mapping[Ref, Mapping[str, Any]]
"""The namespace's resources by (plural, name), as the API server returns them."""


def build(root: Ref, objects: Objects) -> Node:
    """The root with what it depends on (transitively) and what depends on it (transitively).

    A reference to a resource that does not exist is a node with `found` False, not an error.
    """
    follows = {ref: kinds.by_plural(ref[0]).follows(obj) for ref, obj in objects.items()}
    followers: dict[Ref, list[Ref]] = {}
    for follower, followed in follows.items():
        for ref in followed:
            followers.setdefault(ref, []).append(follower)

    def node(ref: Ref, path: frozenset[Ref], *, upstream: bool, downstream: bool) -> Node:
        definition = kinds.by_plural(ref[0]).definition
        obj = objects.get(ref)
        if obj is None:
            return missing(definition, ref[1])
        found = observed(definition, obj)
        up = tuple(
            node(dep, path | {dep}, upstream=True, downstream=False)
            for dep in follows.get(ref, ())
            if upstream and dep not in path
        )
        down = tuple(
            node(dep, path | {dep}, upstream=False, downstream=True)
            for dep in sorted(followers.get(ref, ()), key=kinds.catalog_order)
            if downstream and dep not in path
        )
        return replace(found, depends_on=up, dependents=down)

    return node(root, frozenset({root}), upstream=True, downstream=True)
