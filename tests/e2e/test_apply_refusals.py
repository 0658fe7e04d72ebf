"""The API server refuses tags and drift intervals that would fail or go silent later, naming the field.

MLModel's cases are in test_mlmodel_errors.py; these need no Workspace, only the CRDs.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Kubectl

pytestmark = pytest.mark.e2e

TAG_CASES = [
    pytest.param({"": "risk"}, "", "tag keys cannot be empty", id="empty-key"),
    pytest.param({"k" * 129: "risk"}, "", "tag keys are at most 128 characters", id="long-key"),
    pytest.param({"notes": "x" * 100 * 1024}, "[notes]", "tag values are at most 256 characters", id="100KiB-value"),
    pytest.param({"mlops.gitops.dev/owner": "other/x"}, "", "set by the controller", id="reserved"),
]


@pytest.mark.parametrize(("tags", "suffix", "problem"), TAG_CASES)
def test_serving_endpoint_tags_are_refused_with_the_field_named(
    kubectl: Kubectl, tags: dict[str, str], suffix: str, problem: str
) -> None:
    entity = {"name": "main", "entityName": "main.risk.fraud", "entityVersion": 1}
    spec = {"workspaceRef": {"name": "dbx"}, "endpointName": "fraud", "servedEntities": [entity], "tags": tags}
    _assert_refused(kubectl, _manifest("ServingEndpoint", spec), f"spec.tags{suffix}", problem)


@pytest.mark.parametrize(("tags", "suffix", "problem"), TAG_CASES)
def test_mljob_tags_are_refused_with_the_field_named(
    kubectl: Kubectl, tags: dict[str, str], suffix: str, problem: str
) -> None:
    settings = {"name": "retrain", "tasks": [{"task_key": "train"}], "tags": tags}
    _assert_refused(
        kubectl,
        _manifest("MLJob", {"workspaceRef": {"name": "dbx"}, "settings": settings}),
        f"spec.settings.tags{suffix}",
        problem,
    )


@pytest.mark.parametrize("interval", ["0s", "25h", "86401s"])
def test_drift_interval_outside_1s_to_24h_is_refused(kubectl: Kubectl, interval: str) -> None:
    spec = {"mlflow": {"trackingUri": "http://mlflow:5000"}, "driftInterval": interval}
    _assert_refused(kubectl, _manifest("Workspace", spec), "spec.driftInterval", "must be from 1s to 24h")


def test_drift_interval_at_the_bounds_is_accepted(kubectl: Kubectl) -> None:
    for name, interval in (("fastest", "1s"), ("slowest", "24h")):
        spec = {"mlflow": {"trackingUri": "http://127.0.0.1:1"}, "driftInterval": interval}
        kubectl.apply({**_manifest("Workspace", spec), "metadata": {"name": name}})
        assert kubectl.exists("workspace", name)


def _assert_refused(kubectl: Kubectl, manifest: dict[str, Any], field: str, problem: str) -> None:
    result = kubectl.apply(manifest, check=False)
    assert result.returncode != 0
    assert field in result.stderr, result.stderr
    assert problem in result.stderr, result.stderr
    assert not kubectl.exists(manifest["kind"].lower(), "bad")


def _manifest(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": kind, "metadata": {"name": "bad"}, "spec": spec}
