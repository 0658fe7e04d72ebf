"""Tasks that run code from a GitFolder: `git_folder_ref` resolved to a workspace path before the job is sent.

A `notebook_task` or `spark_python_task` may name a GitFolder in this namespace instead of a path:
`{git_folder_ref: {name: code, path: notebooks/train}}` becomes `notebook_path` (or `python_file`)
`<the folder's path>/notebooks/train` with `source: WORKSPACE`. The folder's path is what it publishes
once Ready; until then the job waits, and the folder's change of readiness wakes it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from controller.clients import errors
from controller.kinds.gitfolder.published import FolderView
from controller.reconciling.run import Waiting
from controller.status import conditions as c

Json = dict[str, Any]

REF = "git_folder_ref"
TARGETS = {"notebook_task": "notebook_path", "spark_python_task": "python_file"}
"""The task types that can run from a folder, and the field the resolved path goes to."""


def referenced(settings: Json) -> list[str]:
    """The GitFolders the tasks name (for `follows`), sorted; a malformed reference names none."""
    names = {
        str(ref.get("name"))
        for task in settings.get("tasks") or []
        for kind in TARGETS
        if isinstance(ref := (task.get(kind) or {}).get(REF), dict) and ref.get("name")
    }
    return sorted(names)


def resolve(settings: Json, folders: Mapping[str, FolderView | None]) -> Json:
    """The settings with every reference replaced by the folder's path; Waiting while a folder is not Ready.

    Raises `errors.Rejected` naming the field when a reference lacks its name or path, or also sets the path.
    """
    if not _any_reference(settings):
        return settings
    resolved = copy.deepcopy(settings)
    waiting: list[str] = []
    for task in resolved.get("tasks") or []:
        for kind, target in TARGETS.items():
            body = task.get(kind)
            if not isinstance(body, dict) or REF not in body:
                continue
            field = f"settings.tasks[{task.get('task_key')}].{kind}.{REF}"
            ref = body.pop(REF)
            if not isinstance(ref, dict) or not ref.get("name") or not ref.get("path"):
                raise errors.Rejected(f"{field}: give the GitFolder's name and a path inside it")
            if target in body:
                raise errors.Rejected(f"{field}: set either {REF} or {target}, not both")
            folder = folders.get(str(ref["name"]))
            if folder is None or not folder.ready or not folder.path:
                why = "does not exist in this namespace" if folder is None else f"is not Ready ({folder.message})"
                waiting.append(f"GitFolder {ref['name']} {why}")
                continue
            body[target] = f"{folder.path.rstrip('/')}/{str(ref['path']).strip('/')}"
            body["source"] = "WORKSPACE"
    if waiting:
        raise Waiting(c.WAITING_FOR_DEPENDENCY, "; ".join(sorted(set(waiting))))
    return resolved


def _any_reference(settings: Json) -> bool:
    return any(
        isinstance(task.get(kind), dict) and REF in task[kind]
        for task in settings.get("tasks") or []
        for kind in TARGETS
    )
