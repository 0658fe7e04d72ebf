"""Read a YAML file's documents as kubectl would, remembering where every value was written.

Built from PyYAML's events rather than its composer: the composer recurses once per level of nesting
(a few hundred levels crash it) and would expand aliases without limit. Here nesting and expanded size
are bounded, and whatever kubectl would refuse or silently change on the way to the API server (a duplicate
key, a key that is not a string, a value JSON cannot carry) is a Problem at its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)

from controller.api import yaml_scalars
from controller.api.located import Marks, Path, Position, Problem
from controller.api.yaml_scalars import Unsendable

MAX_DEPTH = 100
"""Far deeper than any manifest nests. PyYAML's scanner spends time in proportion to the depth on every
token (5,000 levels take many seconds), so reading stops there: the rest of the file is reported, not
checked."""

MAX_VALUES = 200_000
"""Values in one document once aliases are expanded: a few aliases can otherwise stand for billions."""


@dataclass
class Document:
    """One YAML document as the API server would receive it."""

    value: Any
    marks: Marks
    problems: list[Problem]
    unusable: list[Path]
    """Where the document holds an Unsendable value: nothing at or above it is checked further."""


@dataclass
class Stream:
    """A file's documents, and what stopped it being read to the end."""

    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read(text: str) -> Stream:
    """Every document of `text` up to the first YAML syntax error, which is the stream's problem."""
    stream = Stream()
    builder: _Builder | None = None
    try:
        events = _Events(text)
        while events.check_event():
            event: Event = events.get_event()  # type: ignore[no-untyped-call]
            if isinstance(event, DocumentStartEvent):
                builder = _Builder(_position(event.start_mark))
            elif isinstance(event, DocumentEndEvent) and builder is not None:
                stream.documents.append(builder.document())
            elif builder is not None:
                builder.take(event)
    except _TooDeep as error:
        message = f"nested more than {MAX_DEPTH} levels deep; the rest of the file is not checked"
        stream.problems.append(Problem((), message, position=error.position))
    except yaml.MarkedYAMLError as error:
        where = _position(error.problem_mark or error.context_mark)
        context = f" ({error.context})" if error.context else ""
        stream.problems.append(Problem((), f"not valid YAML: {error.problem}{context}", position=where))
    except yaml.reader.ReaderError as error:
        offset = error.position
        where = Position(text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset))
        character = error.character if isinstance(error.character, str) else chr(error.character)
        message = f"not valid YAML: character #x{ord(character):04x} is not allowed ({error.reason})"
        stream.problems.append(Problem((), message, position=where))
    return stream


class _TooDeep(Exception):
    def __init__(self, position: Position) -> None:
        self.position = position


class _Events(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    """PyYAML's reader, scanner and parser: events, without composing or constructing anything."""

    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


_FIRST = Position(1, 1)


@dataclass
class _Anchored:
    value: Any
    marks: Marks
    size: int


@dataclass
class _Open:
    """A mapping or sequence being read."""

    value: dict[str, Any] | list[Any]
    marks: Marks
    path: Path | None
    """None inside a mapping key: keys are no field."""
    anchor: str | None
    counted_before: int
    key: str | None = None
    key_at: Position = _FIRST
    has_key: bool = False
    merge: bool = False
    first_written: dict[str, Position] = field(default_factory=dict)


class _Builder:
    """Builds one document from its events, without recursion."""

    def __init__(self, start: Position) -> None:
        self.start = start
        self.open: list[_Open] = []
        self.anchors: dict[str, _Anchored] = {}
        self.problems: list[Problem] = []
        self.root: tuple[Any, Marks] = (None, Marks(start))
        self.counted = 0

    def document(self) -> Document:
        value, marks = self.root
        if self.counted > MAX_VALUES:
            message = f"more than {MAX_VALUES} values (aliases expanded); not checked further"
            self.problems.append(Problem((), message, position=self.start))
            return Document(None, marks, self.problems, [])
        return Document(value, marks, self.problems, _unsendable(value))

    def take(self, event: Event) -> None:
        if isinstance(event, ScalarEvent):
            self._scalar(event)
        elif isinstance(event, AliasEvent):
            self._alias(event)
        elif isinstance(event, CollectionStartEvent):
            self._start(event)
        elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
            self._end()

    def _scalar(self, event: ScalarEvent) -> None:
        at = _position(event.start_mark)
        scalar = yaml_scalars.resolve(event.value, event.tag, plain=event.style is None)
        path = self._next_path()
        if path is not None and scalar.problem:
            self.problems.append(Problem(path, scalar.problem, position=at))
        self.counted += 1
        self._remember(event.anchor, scalar.value, Marks(at), self.counted - 1)
        self._place(scalar.value, Marks(at), merge=scalar.merge)

    def _alias(self, event: AliasEvent) -> None:
        at = _position(event.start_mark)
        path = self._next_path()
        anchored = self.anchors.get(event.anchor or "")
        if anchored is None:
            opened = any(item.anchor == event.anchor for item in self.open)
            why = "is inside the value it names" if opened else "has no anchor above it in this document"
            self.problems.append(Problem(path or (), f"alias *{event.anchor} {why}; kubectl refuses it", position=at))
            self._place(Unsendable(f"*{event.anchor}"), Marks(at))
            return
        self.counted += anchored.size
        self._place(anchored.value, anchored.marks)

    def _start(self, event: CollectionStartEvent) -> None:
        at = _position(event.start_mark)
        path = self._next_path()
        if len(self.open) >= MAX_DEPTH:
            raise _TooDeep(at)
        tag = event.tag
        if tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            message = f"YAML tag {tag} means nothing to kubectl, which reads a plain collection"
            self.problems.append(Problem(path or (), message, position=at))
        value: dict[str, Any] | list[Any] = {} if isinstance(event, MappingStartEvent) else []
        self.counted += 1
        self.open.append(_Open(value, Marks(at, collection=True), path, event.anchor, self.counted - 1))

    def _end(self) -> None:
        done = self.open.pop()
        self._remember(done.anchor, done.value, done.marks, done.counted_before)
        self._place(done.value, done.marks)

    def _remember(self, anchor: str | None, value: Any, marks: Marks, counted_before: int) -> None:
        if anchor is not None:
            self.anchors[anchor] = _Anchored(value, marks, self.counted - counted_before)

    def _next_path(self) -> Path | None:
        """The path of the value that comes next; None inside a mapping key (keys are no field)."""
        if not self.open:
            return ()
        top = self.open[-1]
        if top.path is None:
            return None
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        if not top.has_key or top.key is None or top.merge:
            return None
        return (*top.path, top.key)

    def _place(self, value: Any, marks: Marks, *, merge: bool = False) -> None:
        if not self.open:
            self.root = (value, marks)
            return
        top = self.open[-1]
        if isinstance(top.value, list):
            top.marks.children[len(top.value)] = marks
            top.value.append(value)
        elif not top.has_key:
            self._key(top, value, marks.at, merge)
        else:
            top.has_key = False
            if top.merge:
                self._merge(top, value, marks)
            elif top.key is not None:
                self._entry(top, top.key, value, marks)

    def _key(self, top: _Open, key: Any, at: Position, merge: bool) -> None:
        top.has_key, top.key_at, top.merge = True, at, merge
        top.key = None if merge else _key_text(key)
        if not merge and top.key is None:
            what = {type(None): "null", dict: "a mapping", list: "a list"}.get(type(key), repr(key))
            message = f"kubectl refuses this key ({what}): keys are strings, numbers or booleans"
            self.problems.append(Problem(top.path or (), message, position=at))

    def _entry(self, top: _Open, key: str, value: Any, marks: Marks) -> None:
        assert isinstance(top.value, dict)
        first = top.first_written.setdefault(key, top.key_at)
        if first != top.key_at:
            message = f"duplicate key: kubectl keeps only this last one (the first is at line {first.line})"
            self.problems.append(Problem((top.path or ()) + (key,), message, at_key=True, position=top.key_at))
        top.value[key] = value
        top.marks.children[key] = marks
        top.marks.keys[key] = top.key_at

    def _merge(self, top: _Open, value: Any, marks: Marks) -> None:
        """`<<: *defaults`: go-yaml copies the named mapping's entries in, the first of a list winning."""
        assert isinstance(top.value, dict)
        if self.counted > MAX_VALUES:
            return  # the document is not checked: spare the copying
        sources = [(value, marks)] if isinstance(value, dict) else []
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            sources = [(item, marks.children.get(index, marks)) for index, item in enumerate(value)]
        if not sources:
            message = "<< merges a mapping or a list of mappings; kubectl refuses anything else"
            self.problems.append(Problem(top.path or (), message, position=top.key_at))
        for source, source_marks in reversed(sources):
            for key, item in source.items():
                top.value[key] = item
                top.marks.children[key] = source_marks.children.get(key, source_marks)
                top.marks.keys[key] = source_marks.keys.get(key, source_marks.at)


def _unsendable(value: Any) -> list[Path]:
    """The paths of the Unsendable values in a document (walked with aliases expanded: at most MAX_VALUES)."""
    found: list[Path] = []
    pending: list[tuple[Path, Any]] = [((), value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, Unsendable):
            found.append(path)
        elif isinstance(item, dict):
            pending += [((*path, key), child) for key, child in item.items()]
        elif isinstance(item, list):
            pending += [((*path, index), child) for index, child in enumerate(item)]
    return found


def _key_text(key: Any) -> str | None:
    """The JSON key kubectl makes of a YAML key: numbers and booleans become strings, others are refused."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return repr(key)  # finite: infinity and NaN are Unsendable
    return None


def _position(mark: Any) -> Position:
    """PyYAML's marks count from 0; editors from 1."""
    return Position(mark.line + 1, mark.column + 1) if mark is not None else _FIRST
