"""A trace as a tree for the terminal (colour only on a terminal) or as JSON for tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from controller.trace.node import Node

HEADER = ("NAME", "READY", "SYNCED", "REASON", "MESSAGE", "EXTERNAL")
MESSAGE_CHARS = 72
COLOURS = {"True": "\033[32m", "False": "\033[31m"}
OTHER_COLOUR = "\033[33m"
RESET = "\033[0m"


@dataclass(frozen=True)
class _Row:
    name: str
    cells: tuple[str, ...] = ()
    """READY, SYNCED, REASON, MESSAGE, EXTERNAL; empty for a line of text (`note`) under a resource."""
    note: str = ""


def tree(root: Node, *, namespace: str, colour: bool = False) -> str:
    """Columns aligned like `kubectl get`: the resource, then what it depends on and what depends on it."""
    rows = [_Row("NAME", HEADER[1:]), *_rows(root, namespace)]
    width = {i: max(len(row.cells[i]) for row in rows if row.cells) for i in range(len(HEADER) - 2)}  # all but the last
    name_width = max(len(row.name) for row in rows)
    lines = []
    for row in rows:
        if not row.cells:
            lines.append(f"{row.name.ljust(name_width)}  {row.note}".rstrip())
            continue
        fixed = [cell.ljust(width[i]) for i, cell in enumerate(row.cells[:-1])]
        if colour and row is not rows[0]:
            fixed[0] = _coloured(row.cells[0], fixed[0])
        lines.append("  ".join([row.name.ljust(name_width), *fixed, row.cells[-1]]).rstrip())
    return "\n".join(lines) + "\n"


def to_json(root: Node, *, namespace: str) -> str:
    return json.dumps({"namespace": namespace, "ready": root.all_healthy(), "resource": _json(root)}, indent=2) + "\n"


def _rows(root: Node, namespace: str) -> Iterator[_Row]:
    yield _resource_row(root, "", namespace)
    sections = [(label, nodes) for label, nodes in (("depends on", root.depends_on), ("used by", root.dependents))]
    sections = [(label, nodes) for label, nodes in sections if nodes]
    yield from _notes(root, "│ " if sections else "  ")
    for i, (label, nodes) in enumerate(sections):
        last = i == len(sections) - 1
        yield _Row(("└─ " if last else "├─ ") + label)
        yield from _children(nodes, "   " if last else "│  ", namespace)


def _children(nodes: tuple[Node, ...], lead: str, namespace: str) -> Iterator[_Row]:
    for i, node in enumerate(nodes):
        last = i == len(nodes) - 1
        yield _resource_row(node, lead + ("└─ " if last else "├─ "), namespace)
        below = (*node.depends_on, *node.dependents)
        inner = lead + ("   " if last else "│  ")
        yield from _notes(node, inner + ("│ " if below else "  "))
        yield from _children(below, inner, namespace)


def _notes(node: Node, lead: str) -> Iterator[_Row]:
    for label, text in node.details.notes:
        yield _Row(lead + label, note=text)


def _resource_row(node: Node, lead: str, namespace: str) -> _Row:
    name = f"{lead}{node.kind}/{node.name}"
    if not node.found:
        return _Row(name, ("Missing", "", "", f"not found in namespace {namespace}", ""))
    message = node.message if node.current else f"(for an older generation) {node.message}"
    external = " ".join([*(f"{key}={value}" for key, value in node.columns), *([node.url] if node.url else [])])
    return _Row(name, (node.ready or "-", node.synced or "-", node.reason or "-", _short(message), external))


def _short(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= MESSAGE_CHARS else line[: MESSAGE_CHARS - 1] + "…"


def _coloured(status: str, padded: str) -> str:
    return f"{COLOURS.get(status, OTHER_COLOUR)}{padded}{RESET}"


def _json(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": node.kind, "name": node.name, "found": node.found}
    if node.found:
        out |= {
            "ready": node.ready,
            "synced": node.synced,
            "reason": node.reason,
            "message": node.message,
            "current": node.current,
            "url": node.url,
            "columns": dict(node.columns),
            **node.details.data,
        }
    out["dependsOn"] = [_json(child) for child in node.depends_on]
    out["dependents"] = [_json(child) for child in node.dependents]
    return out
