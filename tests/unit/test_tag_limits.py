"""Tags the external systems would refuse, or the controller would trip over, are refused at apply.

Checked through `validate_document`, which applies the CRDs' own CEL rules as the API server does.
"""

from __future__ import annotations

from typing import Any

import pytest

from controller.api.validation import validate_document

RESERVED = "mlops.gitops.dev/owner"


def _mlmodel(tags: dict[str, str]) -> dict[str, Any]:
    spec = {"workspaceRef": {"name": "w"}, "registeredName": "fraud", "tags": tags}
    return _document("MLModel", spec)


def _endpoint(tags: dict[str, str]) -> dict[str, Any]:
    entity = {"name": "main", "entityName": "main.risk.fraud", "entityVersion": 1}
    spec = {"workspaceRef": {"name": "w"}, "endpointName": "fraud", "servedEntities": [entity], "tags": tags}
    return _document("ServingEndpoint", spec)


def _mljob(tags: dict[str, str]) -> dict[str, Any]:
    settings = {"name": "retrain", "tasks": [{"task_key": "train"}], "tags": tags}
    return _document("MLJob", {"workspaceRef": {"name": "w"}, "settings": settings})


def _document(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": kind, "metadata": {"name": "x"}, "spec": spec}


# Each kind with tags: how to build it, where its tags are, and its key and value limits.
TAGGED = [
    pytest.param(_mlmodel, "spec.tags", 250, 1000, id="MLModel"),
    pytest.param(_endpoint, "spec.tags", 128, 256, id="ServingEndpoint"),
    pytest.param(_mljob, "spec.settings.tags", 128, 256, id="MLJob"),
]


@pytest.mark.parametrize(("build", "field", "key_limit", "value_limit"), TAGGED)
def test_tags_at_the_limits_are_accepted(build: Any, field: str, key_limit: int, value_limit: int) -> None:
    assert validate_document(build({"k" * key_limit: "v" * value_limit, "team": ""})) == []


@pytest.mark.parametrize(("build", "field", "key_limit", "value_limit"), TAGGED)
def test_an_empty_tag_key_is_refused(build: Any, field: str, key_limit: int, value_limit: int) -> None:
    assert validate_document(build({"": "risk"})) == [f"{field}: tag keys cannot be empty"]


@pytest.mark.parametrize(("build", "field", "key_limit", "value_limit"), TAGGED)
def test_a_tag_key_over_the_limit_is_refused(build: Any, field: str, key_limit: int, value_limit: int) -> None:
    assert validate_document(build({"k" * (key_limit + 1): "risk"})) == [
        f"{field}: tag keys are at most {key_limit} characters"
    ]


@pytest.mark.parametrize(("build", "field", "key_limit", "value_limit"), TAGGED)
def test_a_tag_value_over_the_limit_is_refused_naming_the_tag(
    build: Any, field: str, key_limit: int, value_limit: int
) -> None:
    assert validate_document(build({"team": "v" * (value_limit + 1)})) == [
        f"{field}.team: tag values are at most {value_limit} characters"
    ]


@pytest.mark.parametrize(("build", "field", "key_limit", "value_limit"), TAGGED)
def test_a_tag_under_the_controllers_prefix_is_refused(
    build: Any, field: str, key_limit: int, value_limit: int
) -> None:
    assert validate_document(build({RESERVED: "someone/else"})) == [
        f"{field}: tags starting with mlops.gitops.dev/ are set by the controller"
    ]


@pytest.mark.parametrize(("build", "field", "key_limit", "value_limit"), TAGGED)
def test_a_100_kib_tag_value_is_refused(build: Any, field: str, key_limit: int, value_limit: int) -> None:
    assert validate_document(build({"notes": "x" * 100 * 1024})) == [
        f"{field}.notes: tag values are at most {value_limit} characters"
    ]
