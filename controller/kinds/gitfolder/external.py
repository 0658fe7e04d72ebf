"""The GitFolder's external client: Git folders through the databricks-sdk's Repos API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.workspace import GetRepoResponse, RepoInfo, SparseCheckout, SparseCheckoutUpdate

from controller.clients import errors
from controller.clients.databricks import translated_errors
from controller.clients.object_permissions import ObjectPermissions
from controller.kinds.gitfolder.run import ObservedRepo
from controller.reconciling.permissions import Levels


@contextlib.contextmanager
def _git_access(url: str) -> Iterator[None]:
    """A clone or pull the workspace may not make (no Git credential for a private repository) refuses the spec.

    The Workspace's own credentials were accepted: only this folder's repository is out of reach, so it is
    reported as a refusal naming the repository, with the API's message, not as a failed connection.
    """
    try:
        with translated_errors():
            yield
    except errors.Unauthorized as exc:
        if exc.code != "PERMISSION_DENIED":
            raise
        raise errors.Rejected(f"the workspace cannot reach {url}: {exc}", code=exc.code) from exc


class DatabricksRepos:
    """Implements the reconcile's `Repos` protocol against one workspace."""

    def __init__(self, client: WorkspaceClient) -> None:
        self._w = client

    def get(self, repo_id: int) -> ObservedRepo | None:
        try:
            with translated_errors():
                return _repo(self._w.repos.get(repo_id))
        except errors.NotFound:
            return None

    def at_path(self, path: str) -> ObservedRepo | None:
        """The Git folder at exactly this path (the list is by prefix), whether or not it is answered with the
        `/Workspace` prefix that workspace paths may be written with."""
        with translated_errors():
            found = [r for r in self._w.repos.list(path_prefix=path) if _bare(r.path or "") == _bare(path)]
        return _repo(found[0]) if found else None

    def create(self, *, url: str, provider: str, path: str, patterns: list[str] | None) -> ObservedRepo:
        sparse = SparseCheckout(patterns=patterns) if patterns is not None else None
        with _git_access(url):
            created = self._w.repos.create(url, provider, path=path, sparse_checkout=sparse)
        if created.id is None:
            raise errors.Unavailable("Databricks answered the create without a Git folder id")
        return ObservedRepo(
            repo_id=created.id,
            path=created.path or path,
            url=created.url or url,
            branch=created.branch,
            head_commit=created.head_commit_id,
            patterns=tuple(created.sparse_checkout.patterns or ()) if created.sparse_checkout else None,
        )

    def checkout(self, repo_id: int, *, branch: str | None = None, tag: str | None = None) -> None:
        """Check a branch (pulling it) or a tag out."""
        with _git_access(f"Git folder {repo_id}'s repository"):
            self._w.repos.update(repo_id, branch=branch, tag=tag)

    def set_patterns(self, repo_id: int, patterns: list[str]) -> None:
        with translated_errors():
            self._w.repos.update(repo_id, sparse_checkout=SparseCheckoutUpdate(patterns=patterns))

    def delete(self, repo_id: int) -> None:
        with translated_errors():
            self._w.repos.delete(repo_id)

    def get_permissions(self, repo_id: str) -> Levels:
        return ObjectPermissions(self._w, "repos").direct(repo_id)

    def write_permissions(self, repo_id: str, levels: Levels, *, replace: bool) -> None:
        grants = ObjectPermissions(self._w, "repos")
        (grants.replace if replace else grants.grant)(repo_id, levels)

    def page_url(self, repo_id: int) -> str:
        return f"{(self._w.config.host or '').rstrip('/')}/browse/folders/{repo_id}"


def _bare(path: str) -> str:
    return path.removeprefix("/Workspace") if path.startswith("/Workspace/") else path


def _repo(repo: GetRepoResponse | RepoInfo) -> ObservedRepo:
    if repo.id is None:
        raise errors.Unavailable("Databricks returned a Git folder without an id")
    return ObservedRepo(
        repo_id=repo.id,
        path=repo.path or "",
        url=repo.url or "",
        branch=repo.branch,
        head_commit=repo.head_commit_id,
        patterns=tuple(repo.sparse_checkout.patterns or ()) if repo.sparse_checkout else None,
    )
