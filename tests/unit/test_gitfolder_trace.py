"""`mlopsctl trace` draws an MLJob's edge to the GitFolder its tasks run code from (from `Kind.follows`)."""

from __future__ import annotations

from typing import Any

from controller.trace.graph import Objects, build
from tests.unit.test_trace import names, resource, workspace


def folder(name: str = "code") -> dict[str, Any]:
    spec = {"workspaceRef": {"name": "dbx"}, "url": "https://github.com/acme/code", "path": "/Repos/ml/code"}
    return resource("GitFolder", name, {**spec, "branch": "main"}, path="/Repos/ml/code", branch="main")


def job_from(folder_name: str) -> dict[str, Any]:
    task = {"task_key": "t", "notebook_task": {"git_folder_ref": {"name": folder_name, "path": "nb"}}}
    spec = {"workspaceRef": {"name": "dbx"}, "settings": {"name": "train", "tasks": [task]}}
    return resource("MLJob", "train", spec)


def objects(*items: dict[str, Any]) -> Objects:
    plurals = {"Workspace": "workspaces", "GitFolder": "gitfolders", "MLJob": "mljobs"}
    return {(plurals[obj["kind"]], obj["metadata"]["name"]): obj for obj in items}


def test_a_job_depends_on_its_workspace_and_the_folder_and_the_folder_lists_the_job() -> None:
    everything = objects(workspace(), folder(), job_from("code"))
    job = build(("mljobs", "train"), everything)
    assert names(job.depends_on) == ["Workspace/dbx", "GitFolder/code"]
    code = build(("gitfolders", "code"), everything)
    assert names(code.depends_on) == ["Workspace/dbx"]
    assert names(code.dependents) == ["MLJob/train"]


def test_a_missing_folder_is_not_found_and_the_tree_is_not_ready() -> None:
    job = build(("mljobs", "train"), objects(workspace(), job_from("absent")))
    missing = job.depends_on[1]
    assert (missing.kind, missing.name, missing.found) == ("GitFolder", "absent", False)
    assert not job.all_healthy()
