"""`mlopsctl validate`: check manifests offline for what `kubectl apply` and the API server would refuse.

Each problem is one line, `file:line:column: field: problem`, the form editors and CI annotations link to.
The checks come in the order the API server applies them, each from the same source the cluster uses:

1. the YAML as kubectl reads it (`kubectl_yaml`): syntax, duplicate keys, values JSON cannot carry;
2. apiVersion and kind, and `metadata` as for every object (`object_meta`);
3. the kind's generated CRD schema (`openapi`): types, required fields, enums, patterns, lengths,
   list-map keys, unknown fields; then its CEL rules (`rules`);
4. the kind's pydantic model, for anything the controller refuses that the CRD does not say.

Documents of other API groups (or none: a CI workflow in the same folder) get the YAML checks only, so
a folder of mixed manifests validates as it is. Empty documents are skipped, as kubectl skips them.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import replace
from functools import cache
from typing import Any

from pydantic import ValidationError

from controller.api import kubectl_yaml, object_meta, openapi, rules
from controller.api.crd import GROUP, VERSION, JsonSchema, KindDefinition, custom_resource_definition
from controller.api.located import Marks, Path, Position, Problem, field_path, printable, shown
from controller.kinds.catalog import KINDS

_BY_KIND = {kind.kind: kind for kind in KINDS}
MAX_OBJECT_BYTES = 1_572_864
"""etcd's default request limit (1.5 MiB): the API server cannot store a larger object."""
_CHECKED_ELSEWHERE: JsonSchema = {"x-kubernetes-preserve-unknown-fields": True}


def validate_paths(paths: list[pathlib.Path]) -> list[str]:
    """Every problem in every YAML file under the given files and folders, one line each."""
    lines: list[str] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.exists():
            files = [path]
        else:
            lines.append(f"{path}: no such file or directory")
            continue
        for file in files:
            lines += _file_lines(file)
    return lines


def validate_text(text: str) -> list[str]:
    """The problems of one file's text, as `line:column: field: problem`, in the order they appear."""
    try:
        stream = kubectl_yaml.read(text)
    except Exception as error:  # a bug in reading one file must not stop the others being checked
        return [f"1:1: {_failed(error)}"]
    located: list[tuple[Position, str]] = [(p.position or Position(1, 1), _line(p)) for p in stream.problems]
    for document in stream.documents:
        located += _document_lines(document)
    return [f"{at.line}:{at.column}: {line}" for at, line in sorted(set(located))]


def validate_document(document: Any) -> list[str]:
    """Problems with one manifest already read into Python values, as `field: problem`; empty when valid."""
    return [_line(problem) for problem in _object_problems(document, [])]


def _file_lines(file: pathlib.Path) -> list[str]:
    try:
        data = file.read_bytes()
    except OSError as error:
        return [f"{file}: cannot read: {error.strerror}"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        return [f"{file}:{line}:{column}: not UTF-8 text (byte 0x{data[error.start]:02x}); kubectl reads UTF-8"]
    return [f"{file}:{line}" for line in validate_text(text)]


def _document_lines(document: kubectl_yaml.Document) -> list[tuple[Position, str]]:
    try:
        found = _object_problems(document.value, document.unusable)
    except Exception as error:  # as above: report it at the document, check the rest
        found = [Problem((), _failed(error))]
    found = document.problems + [p for p in found if not _under(p.path, document.unusable)]
    return [(_position(problem, document.marks), _line(problem)) for problem in found]


def _object_problems(document: Any, unusable: list[Path]) -> list[Problem]:
    if document is None:
        return []
    if not isinstance(document, dict):
        what = "a list" if isinstance(document, list) else f"the scalar {shown(document)}"
        return [Problem((), f"a Kubernetes object is a mapping (apiVersion, kind, metadata, spec), not {what}")]
    api_version, kind_name = document.get("apiVersion"), document.get("kind")
    if api_version == "v1" and kind_name == "List" and isinstance(document.get("items"), list):
        return _list_problems(document["items"], unusable)
    kind = _BY_KIND.get(kind_name) if isinstance(kind_name, str) else None
    group = api_version.partition("/")[0] if isinstance(api_version, str) and "/" in api_version else None
    if group != GROUP and (kind is None or group is not None):
        return []  # another API group's object, or no Kubernetes object at all: only its YAML is checked
    found: list[Problem] = []
    if api_version != f"{GROUP}/{VERSION}":
        served = f'Unsupported value: {shown(api_version)}: supported values: "{GROUP}/{VERSION}"'
        found.append(Problem(("apiVersion",), "Required value" if not api_version else served))
    if kind is None:
        supported = ", ".join(f'"{name}"' for name in sorted(_BY_KIND))
        unknown = f"Unsupported value: {shown(kind_name)}: supported values: {supported}"
        return [*found, Problem(("kind",), "Required value" if kind_name is None else unknown)]
    return found + _kind_problems(kind, document, unusable)


def _list_problems(items: list[Any], unusable: list[Path]) -> list[Problem]:
    """A `kind: List` (what `kubectl get -o yaml` writes): kubectl applies each item as its own object."""
    found: list[Problem] = []
    for index, item in enumerate(items):
        inside = [path[2:] for path in unusable if path[:2] == ("items", index)]
        found += [replace(p, path=("items", index, *p.path)) for p in _object_problems(item, inside)]
    return found


def _kind_problems(kind: KindDefinition, document: dict[str, Any], unusable: list[Path]) -> list[Problem]:
    schema = _schema(kind.kind)
    checked = openapi.check(schema, document, ())
    refused = [p.path for p in checked.problems if not p.at_key] + unusable
    broken = rules.problems(schema, checked.value, (), refused)
    found = object_meta.problems(document.get("metadata")) + checked.problems + broken
    size = len(json.dumps(checked.value, separators=(",", ":"), default=repr).encode())
    if size > MAX_OBJECT_BYTES:
        found.append(Problem((), f"Too long: {size} bytes as JSON; etcd stores at most {MAX_OBJECT_BYTES} per object"))
    if not any(_under(path, [("spec",)]) or path == () for path in refused + [p.path for p in broken]):
        found += _model_problems(kind, checked.value.get("spec"))
    return found


def _model_problems(kind: KindDefinition, spec: Any) -> list[Problem]:
    """What the controller's model refuses although the CRD allows it: the resource would never reconcile."""
    try:
        kind.spec.model_validate(spec)
    except ValidationError as error:
        why = " (the API server accepts this, but the controller refuses it)"
        return [Problem(("spec", *_existing(spec, e["loc"])), e["msg"] + why) for e in error.errors()]
    return []


@cache
def _schema(kind: str) -> JsonSchema:
    """The kind's CRD schema, the one the API server gets; metadata and status are not the schema's to check
    (ObjectMeta rules, and a status the API server drops on apply)."""
    crd = custom_resource_definition(_BY_KIND[kind])
    schema: JsonSchema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"] |= {"metadata": _CHECKED_ELSEWHERE, "status": _CHECKED_ELSEWHERE}
    return schema


def _existing(value: Any, loc: tuple[int | str, ...]) -> Path:
    """The part of a pydantic error location that names fields of `value` (not union members or validators)."""
    path: list[str | int] = []
    for part in loc:
        if (isinstance(value, dict) and part in value) or (isinstance(value, list) and part in range(len(value))):
            path.append(part)
            value = value[part]  # type: ignore[index]
    return tuple(path)


def _under(path: Path, tops: list[Path]) -> bool:
    return any(path[: len(top)] == top for top in tops)


def _position(problem: Problem, marks: Marks) -> Position:
    return problem.position or marks.find(problem.path, key=problem.at_key)


def _line(problem: Problem) -> str:
    return printable(f"{field_path(problem.path)}: {problem.message}" if problem.path else problem.message)


def _failed(error: Exception) -> str:
    return f"mlopsctl validate failed here ({type(error).__name__}: {error}); please report it"
