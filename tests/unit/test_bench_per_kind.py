"""The benchmark's per-kind figures: the Workspace's own checks are taken off, reads and writes told apart."""

from __future__ import annotations

import pytest

from benchmarks.per_kind import per_resource, split


def test_workspace_checks_are_taken_off_and_the_rest_shared_out() -> None:
    counted = {"GET /api/2.0/preview/scim/v2/Me": 3, "GET /api/2.0/repos/{id}": 120, "PATCH /api/2.0/repos/{id}": 60}
    workspace = {"GET /api/2.0/preview/scim/v2/Me": 1.0}
    found = per_resource(counted, workspace, resources=20, intervals=3)
    assert found == {"GET /api/2.0/repos/{id}": 2.0, "PATCH /api/2.0/repos/{id}": 1.0}
    assert split(found) == (2.0, 1.0)


def test_head_is_a_read_and_post_a_write() -> None:
    assert split({"HEAD /api/2.0/fs/files/{path}": 0.5, "POST /api/2.2/jobs/run-now": 0.25}) == (0.5, 0.25)


def test_a_kind_with_more_calls_than_its_workspace_keeps_the_difference() -> None:
    found = per_resource(
        {"GET /api/2.0/preview/scim/v2/Me": 5}, {"GET /api/2.0/preview/scim/v2/Me": 1.0}, resources=2, intervals=2
    )
    assert found == pytest.approx({"GET /api/2.0/preview/scim/v2/Me": 0.75})
