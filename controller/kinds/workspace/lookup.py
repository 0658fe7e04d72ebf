"""Find the Workspace a resource refers to, and say why a resource must wait for it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from controller.kinds.workspace.model import WorkspaceSpec
from controller.status import conditions as c
from controller.status.outcome import Outcome

RETRY_SECONDS = 10.0
DEFAULT_DRIFT_SECONDS = 300.0


@dataclass(frozen=True)
class WorkspaceView:
    """What other kinds need to know of a Workspace: its spec and whether it is connected."""

    spec: WorkspaceSpec | None
    connected: bool
    message: str

    @property
    def drift_seconds(self) -> float:
        return self.spec.drift_seconds if self.spec else DEFAULT_DRIFT_SECONDS


def index_entry(spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
    """The value kept in the in-memory Workspace index (what `find` reads back)."""
    ready = c.find(list(status.get("conditions") or []), c.READY) or {}
    return {"spec": dict(spec), "connected": bool(status.get("connected")), "message": ready.get("message", "")}


def find(entries: Iterable[Mapping[str, Any]] | None) -> WorkspaceView | None:
    """The Workspace from its index entries, or None when it does not exist."""
    for entry in entries or ():
        try:
            spec: WorkspaceSpec | None = WorkspaceSpec.model_validate(entry["spec"])
        except ValidationError:
            spec = None
        return WorkspaceView(spec=spec, connected=bool(entry["connected"]), message=str(entry["message"]))
    return None


def waiting(name: str, view: WorkspaceView | None) -> Outcome | None:
    """An Outcome saying why the resource waits for its Workspace, or None when it is usable."""
    if view is None:
        message = f"Workspace {name} does not exist"
    elif view.spec is None:
        message = f"Workspace {name} has an invalid spec"
    elif not view.connected:
        message = f"Workspace {name} is not connected: {view.message or 'not checked yet'}"
    else:
        return None
    verdict = c.Verdict(False, c.WAITING_FOR_WORKSPACE, message)
    return Outcome(ready=verdict, synced=verdict, retry_after=RETRY_SECONDS)
