"""Turn a kind's pydantic models into a CustomResourceDefinition.

pydantic emits JSON Schema; Kubernetes wants a *structural* OpenAPI v3 schema: no
$ref, no nullable unions, no `additionalProperties: false`, int-or-string marked
with its own extension, and CEL rules under `x-kubernetes-validations`. The
conversion lives here so that the models stay the single source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

GROUP = "mlops.gitops.dev"
VERSION = "v1alpha1"
CATEGORY = "mlops"

JsonSchema = dict[str, Any]

_DROPPED_KEYS = {"title", "examples", "$defs"}


@dataclass(frozen=True)
class PrinterColumn:
    """One column of `kubectl get`."""

    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0


@dataclass(frozen=True)
class KindDefinition:
    """Everything needed to describe one kind to the API server."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    description: str
    spec: type[BaseModel]
    status: type[BaseModel]
    printer_columns: tuple[PrinterColumn, ...] = field(default=())

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


def ready_columns() -> tuple[PrinterColumn, ...]:
    """READY, SYNCED, REASON and AGE: the columns every kind ends with."""
    return (
        PrinterColumn("Ready", '.status.conditions[?(@.type=="Ready")].status'),
        PrinterColumn("Synced", '.status.conditions[?(@.type=="Synced")].status'),
        PrinterColumn("Reason", '.status.conditions[?(@.type=="Ready")].reason', priority=1),
        PrinterColumn("Message", '.status.conditions[?(@.type=="Ready")].message', priority=1),
        PrinterColumn("Age", ".metadata.creationTimestamp", type="date"),
    )


def structural_schema(model: type[BaseModel]) -> JsonSchema:
    """The model's JSON Schema, rewritten into a Kubernetes structural schema."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _convert(raw, raw.get("$defs", {}))


def _convert(node: JsonSchema, defs: dict[str, JsonSchema]) -> JsonSchema:
    node = _resolve(node, defs)
    out: JsonSchema = {}
    if "anyOf" in node:
        out.update(_collapse_union(node["anyOf"], defs))
    for key, value in node.items():
        if key in _DROPPED_KEYS or key in ("anyOf", "$ref"):
            continue
        if key == "properties":
            out["properties"] = {name: _convert(sub, defs) for name, sub in value.items()}
        elif key == "items":
            out["items"] = _convert(value, defs)
        elif key == "additionalProperties":
            if value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif isinstance(value, dict):
                out["additionalProperties"] = _convert(value, defs)
        elif key == "default":
            if value is not None and not isinstance(value, (dict, list)):
                out["default"] = value
        elif key == "const":
            out["enum"] = [value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        elif key == "description":
            out[key] = " ".join(value.split())
        elif key == "x-kubernetes-validations":
            out[key] = [dict(sorted(rule.items())) for rule in value]
        else:
            out[key] = value
    return _say_int_or_string(out)


def _say_int_or_string(out: JsonSchema) -> JsonSchema:
    """Name int-or-string in the description: `kubectl explain` prints only a node's `type` (or "Object"),
    and an int-or-string node may have no type."""
    if out.get("x-kubernetes-int-or-string") and out.get("description"):
        note = "An int-or-string: an integer or a string."
    elif (out.get("additionalProperties") or {}).get("x-kubernetes-int-or-string"):
        note = "Each value is an int-or-string: an integer or a string."
    elif (out.get("items") or {}).get("x-kubernetes-int-or-string"):
        note = "Each item is an int-or-string: an integer or a string."
    else:
        return out
    return {**out, "description": f"{out.get('description', '')} {note}".strip()}


def _resolve(node: JsonSchema, defs: dict[str, JsonSchema]) -> JsonSchema:
    """Inline a $ref, keeping the referring node's own keys (description, rules)."""
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[-1]]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    rules = target.get("x-kubernetes-validations", []) + node.get("x-kubernetes-validations", [])
    if rules:
        merged["x-kubernetes-validations"] = rules
    return merged


def _collapse_union(options: list[JsonSchema], defs: dict[str, JsonSchema]) -> JsonSchema:
    """Optional[X] becomes X; int | str becomes int-or-string."""
    concrete = [_resolve(o, defs) for o in options if o.get("type") != "null"]
    types = {o.get("type") for o in concrete}
    if types == {"integer", "string"}:
        return {"x-kubernetes-int-or-string": True}
    if len(concrete) != 1:
        raise ValueError(f"unions other than Optional[X] and int | str are not structural: {options}")
    return _convert(concrete[0], defs)


def custom_resource_definition(kind: KindDefinition) -> JsonSchema:
    """The apiextensions.k8s.io/v1 CustomResourceDefinition for one kind."""
    schema: JsonSchema = {
        "type": "object",
        "description": kind.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": structural_schema(kind.spec),
            "status": structural_schema(kind.status),
        },
    }
    columns = kind.printer_columns + ready_columns()
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.crd_name},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": [CATEGORY],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [_column(c) for c in columns],
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


def _column(column: PrinterColumn) -> JsonSchema:
    out: JsonSchema = {"name": column.name, "type": column.type, "jsonPath": column.json_path}
    if column.description:
        out["description"] = column.description
    if column.priority:
        out["priority"] = column.priority
    return out
