"""Check manifests offline against the same models the CRDs are generated from.

Prints problems as `file:document: field: problem`, the form editors and CI logs
link to. Documents of other API groups are skipped: a folder of mixed manifests
validates as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from controller.api import cel_rules
from controller.api.crd import GROUP, VERSION, KindDefinition, structural_schema
from controller.kinds.catalog import KINDS

_BY_KIND = {kind.kind: kind for kind in KINDS}


def validate_paths(paths: list[Path]) -> list[str]:
    """Every problem in every YAML file under the given files and folders."""
    problems: list[str] = []
    for file in _yaml_files(paths):
        try:
            documents = list(yaml.safe_load_all(file.read_text()))
        except yaml.YAMLError as exc:
            problems.append(f"{file}:1: not valid YAML: {exc}")
            continue
        for number, document in enumerate(documents, start=1):
            problems.extend(f"{file}:{number}: {problem}" for problem in validate_document(document))
    return problems


def validate_document(document: Any) -> list[str]:
    """Problems with one manifest, as `field: problem`; empty when valid or not ours."""
    if not isinstance(document, dict):
        return []
    api_version = str(document.get("apiVersion", ""))
    if not api_version.startswith(f"{GROUP}/"):
        return []
    if api_version != f"{GROUP}/{VERSION}":
        return [f"apiVersion: {api_version} is not served; use {GROUP}/{VERSION}"]
    kind = _BY_KIND.get(str(document.get("kind")))
    if kind is None:
        return [f"kind: unknown kind {document.get('kind')!r}; expected one of {', '.join(sorted(_BY_KIND))}"]
    if not (document.get("metadata") or {}).get("name"):
        return ["metadata.name: required"]
    return _spec_problems(kind, document.get("spec"))


def _spec_problems(kind: KindDefinition, spec: Any) -> list[str]:
    """Schema problems first (types, required, patterns, unknown fields); then the CEL rules."""
    if spec is None:
        return ["spec: required"]
    try:
        kind.spec.model_validate(spec)
    except ValidationError as exc:
        return [f"spec.{_location(error['loc'])}: {error['msg']}" for error in exc.errors()]
    return cel_rules.violations(structural_schema(kind.spec), spec, "spec")


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _yaml_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml"))
        else:
            yield path
