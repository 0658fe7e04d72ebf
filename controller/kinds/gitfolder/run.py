"""What one GitFolder reconcile works with: the Repos API, its input, what status recorded, its state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from controller.kinds.gitfolder.model import GitFolderSpec
from controller.reconciling.permissions import Levels
from controller.reconciling.run import Run


@dataclass(frozen=True)
class ObservedRepo:
    """A Git folder as the Repos API returns it."""

    repo_id: int
    path: str
    url: str
    branch: str | None  # None while a tag (a detached HEAD) is checked out
    head_commit: str | None
    patterns: tuple[str, ...] | None  # None: no sparse checkout


class Repos(Protocol):
    """What the reconcile needs from the Databricks Repos API."""

    def get(self, repo_id: int) -> ObservedRepo | None: ...
    def at_path(self, path: str) -> ObservedRepo | None: ...
    def create(self, *, url: str, provider: str, path: str, patterns: list[str] | None) -> ObservedRepo: ...
    def checkout(self, repo_id: int, *, branch: str | None = None, tag: str | None = None) -> None: ...
    def set_patterns(self, repo_id: int, patterns: list[str]) -> None: ...
    def delete(self, repo_id: int) -> None: ...
    def page_url(self, repo_id: int) -> str: ...
    def get_permissions(self, repo_id: str) -> Levels: ...
    def write_permissions(self, repo_id: str, levels: Levels, *, replace: bool) -> None: ...


# Which methods only read and which write (the same split every kind declares next to its Protocol).
REPOS_READS = frozenset({"get", "at_path", "page_url", "get_permissions"})
REPOS_WRITES = frozenset({"create", "checkout", "set_patterns", "delete", "write_permissions"})


@dataclass(frozen=True)
class Recorded:
    """What status remembers from earlier reconciles."""

    repo_id: int | None = None
    tag: str | None = None  # the tag last checked out
    head_commit: str | None = None


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec."""

    owner: str  # "namespace/name" of the resource
    spec_changed: bool
    recorded: Recorded = Recorded()
    identity: str | None = None  # who the Workspace connects as (kept from being locked out)
    managed_permissions: tuple[str, ...] = ()  # status.permissions.managed


@dataclass(kw_only=True)
class FolderRun(Run):
    """What one reconcile has done and found so far."""

    spec: GitFolderSpec
    request: Request
    repos: Repos
    permissions: dict[str, Any] | None = None  # status.permissions to write; None: not looked at

    @property
    def wanted(self) -> str:
        """What the spec keeps checked out, in words."""
        return f"branch {self.spec.branch}" if self.spec.branch else f"tag {self.spec.tag}"
