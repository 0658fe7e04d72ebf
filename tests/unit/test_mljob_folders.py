"""MLJob tasks that name a GitFolder: the path they get, the wait, the refusals naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.gitfolder.published import FolderView
from controller.kinds.mljob import folders
from controller.reconciling.run import Waiting
from controller.status import conditions as c

READY = FolderView(path="/Repos/ml/fraud", ready=True, message="Reconciled")


def _settings(**task: Any) -> dict[str, Any]:
    return {
        "name": "j",
        "tasks": [{"task_key": "train", **task}, {"task_key": "other", "notebook_task": {"notebook_path": "/x"}}],
    }


def test_a_notebook_task_gets_the_folders_path() -> None:
    settings = _settings(notebook_task={"git_folder_ref": {"name": "code", "path": "/notebooks/train"}})
    resolved = folders.resolve(settings, {"code": READY})
    assert resolved["tasks"][0]["notebook_task"] == {
        "notebook_path": "/Repos/ml/fraud/notebooks/train",
        "source": "WORKSPACE",
    }
    assert resolved["tasks"][1] == settings["tasks"][1]
    assert "git_folder_ref" in settings["tasks"][0]["notebook_task"]  # the spec itself is left as written


def test_a_python_task_gets_its_file() -> None:
    settings = _settings(spark_python_task={"git_folder_ref": {"name": "code", "path": "src/train.py"}})
    resolved = folders.resolve(settings, {"code": READY})
    assert resolved["tasks"][0]["spark_python_task"]["python_file"] == "/Repos/ml/fraud/src/train.py"
    assert folders.referenced(settings) == ["code"]


def test_settings_without_references_are_unchanged() -> None:
    settings = _settings(notebook_task={"notebook_path": "/Repos/a/b"})
    assert folders.resolve(settings, {}) is settings
    assert folders.referenced(settings) == []


@pytest.mark.parametrize(
    ("found", "words"),
    [
        ({}, "GitFolder code does not exist in this namespace"),
        ({"code": FolderView(path=None, ready=False, message="not reconciled yet")}, "GitFolder code is not Ready"),
    ],
)
def test_a_folder_not_ready_makes_the_job_wait(found: dict[str, FolderView], words: str) -> None:
    settings = _settings(notebook_task={"git_folder_ref": {"name": "code", "path": "nb"}})
    with pytest.raises(Waiting) as waiting:
        folders.resolve(settings, found)
    assert waiting.value.verdict.reason == c.WAITING_FOR_DEPENDENCY
    assert words in waiting.value.verdict.message


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"git_folder_ref": {"name": "code"}}, "give the GitFolder's name and a path inside it"),
        ({"git_folder_ref": "code"}, "give the GitFolder's name and a path inside it"),
        ({"git_folder_ref": {"name": "code", "path": "nb"}, "notebook_path": "/x"}, "not both"),
    ],
)
def test_a_malformed_reference_is_refused_naming_the_field(body: dict[str, Any], words: str) -> None:
    with pytest.raises(errors.Rejected) as refused:
        folders.resolve(_settings(notebook_task=body), {"code": READY})
    assert "settings.tasks[train].notebook_task.git_folder_ref" in str(refused.value)
    assert words in str(refused.value)
