"""The resources the manifests declare, read as `mlopsctl validate` reads them (and only once they validate)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from controller.api import kubectl_yaml, validation
from controller.api.crd import GROUP
from controller.kinds.catalog import KINDS

_PLURALS = {kind.kind: kind.plural for kind in KINDS}


class ManifestError(Exception):
    """The manifests cannot be planned; `problems` are `mlopsctl validate`'s lines (or a duplicate)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Declared:
    """One resource of this controller's kinds, as a manifest declares it."""

    plural: str
    namespace: str
    name: str
    body: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return self.plural, self.namespace, self.name

    @property
    def spec(self) -> dict[str, Any]:
        return dict(self.body.get("spec") or {})


def read(paths: list[pathlib.Path], *, namespace: str) -> list[Declared]:
    """Every resource of this controller's kinds in the files and folders; `namespace` where a manifest names none.

    Objects of other API groups (a Secret, a Deployment) are skipped. ManifestError when validation fails.
    """
    problems = validation.validate_paths(paths)
    if problems:
        raise ManifestError(problems)
    found: dict[tuple[str, str, str], Declared] = {}
    for file in _files(paths):
        for value in _objects(kubectl_yaml.read(file.read_text(encoding="utf-8"))):
            declared = _declared(value, namespace)
            if declared is None:
                continue
            if declared.key in found:
                kind = value["kind"]
                raise ManifestError([f"{file}: {kind} {declared.namespace}/{declared.name} is declared twice"])
            found[declared.key] = declared
    return list(found.values())


def _files(paths: list[pathlib.Path]) -> Iterator[pathlib.Path]:
    for path in paths:  # as `mlopsctl validate` walks them
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            yield path


def _objects(stream: kubectl_yaml.Stream) -> Iterator[Any]:
    for document in stream.documents:
        value = document.value
        if isinstance(value, dict) and value.get("apiVersion") == "v1" and value.get("kind") == "List":
            yield from value.get("items") or []  # kubectl applies a List's items one by one
        elif value is not None:
            yield value


def _declared(value: Any, namespace: str) -> Declared | None:
    if not isinstance(value, dict) or str(value.get("apiVersion", "")).partition("/")[0] != GROUP:
        return None
    meta = value.get("metadata") or {}
    return Declared(
        plural=_PLURALS[str(value["kind"])],
        namespace=str(meta.get("namespace") or namespace),
        name=str(meta["name"]),
        body=value,
    )
