"""The files an import writes: one manifest per asset, a kustomization.yaml listing them, the report.

A spec is written with only what differs from the kind's defaults, so the manifest reads as a person
would write it. Each manifest is checked as `mlopsctl validate` checks it before it is written; one that
the API server or the controller would refuse is reported instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from controller.api.crd import GROUP, VERSION
from controller.api.validation import validate_document
from controller.importing.assets import Asset, Skipped

KUSTOMIZATION = "kustomization.yaml"
REPORT = "IMPORT-REPORT.md"


def document(asset: Asset, namespace: str) -> dict[str, Any]:
    """The resource as `kubectl apply` takes it."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": asset.kind.kind,
        "metadata": {"name": asset.name, "namespace": namespace},
        "spec": asset.spec.model_dump(mode="json", by_alias=True, exclude_defaults=True),
    }


def refused(assets: list[Asset], namespace: str) -> tuple[list[Asset], list[Skipped]]:
    """The assets whose manifests validate, and the others with the problems found."""
    valid: list[Asset] = []
    skipped: list[Skipped] = []
    for asset in assets:
        problems = validate_document(document(asset, namespace))
        if problems:
            skipped.append(Skipped(asset.kind, asset.external, tuple(problems)))
        else:
            valid.append(asset)
    return valid, skipped


def text(asset: Asset, namespace: str) -> str:
    """The manifest's YAML, with what it was imported from and any comments above it."""
    header = [f"Imported by mlopsctl import from {asset.external}.", *asset.comments]
    comments = "".join(f"# {line}\n" for line in header)
    return comments + yaml.safe_dump(document(asset, namespace), sort_keys=False, allow_unicode=True, width=120)


def kustomization(assets: list[Asset]) -> str:
    body = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(a.file_name for a in assets),
    }
    return yaml.safe_dump(body, sort_keys=False)


def write(folder: Path, assets: list[Asset], namespace: str, report: str) -> None:
    """Write every file; the folder must be new or empty (so no earlier file is mistaken for this import's)."""
    for asset in assets:
        (folder / asset.file_name).write_text(text(asset, namespace))
    (folder / KUSTOMIZATION).write_text(kustomization(assets))
    (folder / REPORT).write_text(report)
