"""Experiment as the other commands see it from the catalog: `mlopsctl validate` names the bad field, and
`mlopsctl trace` draws the edge to its Workspace from the kind's declaration."""

from __future__ import annotations

from typing import Any

import pytest

from controller.api.validation import validate_document
from controller.trace.kinds import by_plural


def _experiment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "Experiment",
        "metadata": {"name": "training", "namespace": "ml", "uid": "u1", "generation": 1},
        "spec": {"workspaceRef": {"name": "dbx"}, "name": "/Shared/fraud/training", **spec},
    }


def test_a_valid_experiment_has_no_problems() -> None:
    assert validate_document(_experiment(tags={"team": "risk"}, artifactLocation="s3://b/f")) == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"tags": {"mlops.gitops.dev/owner": "x"}}, "spec.tags"),
        ({"tags": {"team": "x" * 5001}}, "spec.tags"),
        ({"name": ""}, "spec.name"),
        ({"artifactLocation": ""}, "spec.artifactLocation"),
        ({"deletionPolicy": "Purge"}, "spec.deletionPolicy"),
    ],
)
def test_bad_input_names_the_field(spec: dict[str, Any], field: str) -> None:
    problems = validate_document(_experiment(**spec))
    assert problems
    assert any(field in problem for problem in problems), problems


def test_trace_follows_the_workspace() -> None:
    assert by_plural("experiments").follows(_experiment()) == (("workspaces", "dbx"),)
