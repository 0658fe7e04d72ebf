"""What other kinds read of a GitFolder: its workspace path once it is Ready.

An MLJob task that refers to a GitFolder runs code from `<folder path>/<path>`; it follows the folder's
entry and waits until the folder is Ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.kinds.gitfolder.model import GitFolderStatus
from controller.status import conditions as c
from controller.wiring.kind import Published, read_status


@dataclass(frozen=True)
class FolderView:
    """A GitFolder as the tasks referring to it see it."""

    path: str | None  # the workspace path, None until the folder exists
    ready: bool
    message: str  # Ready's reason and message, to say why a job waits


def view(spec: Mapping[str, Any], status: Mapping[str, Any]) -> FolderView:
    """The GitFolder's published entry, from its typed status."""
    typed = read_status(GitFolderStatus, status)
    ready = next((cond for cond in typed.conditions if cond.type == c.READY), None)
    reason = ready.reason if ready else "not reconciled yet"
    return FolderView(
        path=typed.path,
        ready=ready is not None and ready.status == "True",
        message=f"{reason}: {ready.message}" if ready and ready.message else reason,
    )


GITFOLDER = Published("gitfolders", view)
