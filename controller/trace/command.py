"""`mlopsctl trace`: read, build, print; the exit code says whether everything in the tree is Ready."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from controller.trace import kinds, render
from controller.trace.cluster import Cluster
from controller.trace.graph import build
from controller.user_cluster import ClusterError
from controller.wiring.kind import Ref

ALL_READY, NOT_READY, ERROR = 0, 1, 2


def target(resource: str, name: str | None) -> Ref:
    """(plural, name) from `KIND/NAME` or `KIND NAME`; ValueError (with what is wrong) otherwise."""
    kind, slash, named = resource.partition("/")
    if slash and name:
        raise ValueError(f"give KIND/NAME or KIND NAME, not both ({resource} {name})")
    named = named if slash else (name or "")
    if not named:
        raise ValueError(f"name the resource: {resource}/NAME")
    return kinds.find(kind).definition.plural, named


def trace(ref: Ref, *, namespace: str | None, kubeconfig: Path | None, output: str, out: TextIO = sys.stdout) -> int:
    """Print the tree around one resource; ERROR (with the reason on stderr) when it cannot be read."""
    try:
        cluster = Cluster(kubeconfig)
        namespace = namespace or cluster.default_namespace()
        objects = cluster.namespace_objects(namespace)
    except ClusterError as exc:
        print(f"mlopsctl trace: {exc}", file=sys.stderr)
        return ERROR
    if ref not in objects:
        kind = kinds.by_plural(ref[0]).definition.kind
        print(f"mlopsctl trace: {kind} {ref[1]} not found in namespace {namespace}", file=sys.stderr)
        return ERROR
    root = build(ref, objects)
    if output == "json":
        out.write(render.to_json(root, namespace=namespace))
    else:
        out.write(render.tree(root, namespace=namespace, colour=_colour(out)))
    return ALL_READY if root.all_healthy() else NOT_READY


def _colour(out: TextIO) -> bool:
    return out.isatty() and not os.environ.get("NO_COLOR")
