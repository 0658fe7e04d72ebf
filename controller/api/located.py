"""Where a problem is: the field's path in the manifest, and the line and column it was written at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

Path = tuple[str | int, ...]
"""Keys and list indexes from the document's root, e.g. ("spec", "servedEntities", 1, "name")."""

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, order=True)
class Position:
    """1-based, as editors and CI annotations count."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """Something the API server (or kubectl on the way to it) would refuse or silently change."""

    path: Path
    """The field; () when the problem is with the YAML text or the document as a whole."""

    message: str

    at_key: bool = False
    """Point at the field's key rather than its value: an unknown or duplicate field is the key's fault."""

    position: Position | None = None
    """Where it is, when the reader knows it exactly; otherwise found from the path."""


@dataclass
class Marks:
    """Where each value of one document starts: a tree shaped like the document.

    An alias shares the subtree of its anchor, so a problem in an aliased value points at the text that
    defines it.
    """

    at: Position
    collection: bool = False
    children: dict[str | int, Marks] = field(default_factory=dict)
    keys: dict[str, Position] = field(default_factory=dict)
    """Where each key of a mapping is; kept here, not in the children, since an aliased value has its own."""

    def find(self, path: Path, *, key: bool = False) -> Position:
        """Where the problem at `path` is shown: a scalar where its value is written, a mapping or list at its
        key (its value starts on the next line, at its first entry), and a path that is not in the text (a
        missing required field, a default) at the nearest value that is."""
        node, parent, last = self, None, None
        for part in path:
            child = node.children.get(part)
            if child is None:
                break
            node, parent, last = child, node, part
        if (key or node.collection) and parent is not None and isinstance(last, str) and last in parent.keys:
            return parent.keys[last]
        return node.at


def printable(text: str) -> str:
    """Control characters and line separators escaped: one problem stays one line."""
    return _UNPRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def field_path(path: Path) -> str:
    """The path as Kubernetes prints it: `spec.servedEntities[1].name`, `metadata.labels[app.kubernetes.io/x]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part}]"
    return text


def shown(value: object, limit: int = 60) -> str:
    """A value as a problem message quotes it: JSON-like, and short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        text = value if len(value) <= limit else value[:limit] + "..."
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int) and value.bit_length() > 128:
        return f"a {value.bit_length()}-bit integer"  # too long to print (Python refuses beyond 4300 digits)
    return repr(value)
