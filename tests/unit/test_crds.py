"""The CRDs are generated from the models, complete, and committed up to date."""

from __future__ import annotations

from typing import Any

import pytest

from controller.api.crd import custom_resource_definition, structural_schema
from controller.api.generate import stale_files
from controller.kinds.catalog import KINDS
from tests.support import REPO


def test_committed_crds_are_up_to_date() -> None:
    assert stale_files(REPO) == [], "run `mlopsctl generate` and commit the result"


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_every_spec_field_is_described(kind: Any) -> None:
    schema = custom_resource_definition(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    fields = [
        (path, node) for path, node in _walk(schema["properties"]["spec"], "spec") if not path.endswith(("[]", "}"))
    ]
    undocumented = [path for path, node in fields if not node.get("description")]
    assert undocumented == []


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
def test_schemas_are_structural(kind: Any) -> None:
    schema = custom_resource_definition(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema, ""):
        assert "$ref" not in node, path
        assert "anyOf" not in node, path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), f"{path} has no type"
        assert node.get("additionalProperties") is not False, path


def test_every_tags_map_refuses_empty_long_and_reserved_keys_and_long_values() -> None:
    """A kind added later with tags gets the same apply-time refusals (the ServingEndpoint once dropped
    reserved tags silently, the MLModel locked itself out with them)."""
    tag_maps = [
        (kind.kind, path, node)
        for kind in KINDS
        for path, node in _walk(structural_schema(kind.spec), "spec")
        if path.endswith(".tags")
    ]
    assert {kind for kind, _, _ in tag_maps} >= {"MLModel", "ServingEndpoint", "MLJob"}
    for kind, path, node in tag_maps:
        messages = " | ".join(rule["message"] for rule in node.get("x-kubernetes-validations", []))
        for expected in ("cannot be empty", "tag keys are at most", "mlops.gitops.dev/ are set by the controller"):
            assert expected in messages, f"{kind} {path}"
        value_rules = node["additionalProperties"].get("x-kubernetes-validations", [])
        assert any("tag values are at most" in rule["message"] for rule in value_rules), f"{kind} {path}"


def test_every_kind_is_in_the_mlops_category_with_status_and_ready_columns() -> None:
    for kind in KINDS:
        crd = custom_resource_definition(kind)
        version = crd["spec"]["versions"][0]
        assert crd["spec"]["names"]["categories"] == ["mlops"]
        assert version["subresources"] == {"status": {}}
        assert {"Ready", "Synced", "Age"} <= {c["name"] for c in version["additionalPrinterColumns"]}


def _walk(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(path, node)]
    for name, child in (node.get("properties") or {}).items():
        found += _walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        found += _walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        found += _walk(node["additionalProperties"], f"{path}{{}}")
    return found
