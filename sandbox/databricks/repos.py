"""Git folders (the Repos API) and the Git credentials they clone with, over emulated Git remotes.

A remote is what the workspace would clone: its branches and tags, each at a commit. Remotes are
seeded through the admin API (a "push" moves a branch's head); a URL never seeded is a public remote
with one branch, `main`, so examples need no seeding. A remote seeded `private` is cloned only by a
user holding a Git credential for its provider, as Databricks refuses a private repository otherwise.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import urllib.parse

from sandbox.databricks.state import (
    ApiError,
    Json,
    Request,
    Route,
    already_exists,
    int_param,
    invalid,
    not_found,
    optional,
    page,
    require,
)

PROVIDERS = {
    p.lower(): p
    for p in (
        "gitHub",
        "bitbucketCloud",
        "gitLab",
        "azureDevOpsServices",
        "gitHubEnterprise",
        "bitbucketServer",
        "gitLabEnterpriseEdition",
        "awsCodeCommit",
    )
}
"""The providers the Repos API accepts (case-insensitive), in the spelling it answers with."""

_PATH = re.compile(r"^/Repos/[^/]+/[^/]+$|^(/Workspace)?/(Users|Shared)(/[^/]+)+$")
_MISSING_CREDENTIAL = (
    "Missing Git provider credentials. Go to User Settings > Git Integration to add your personal access token."
)
_PAGE_SIZE = 100


def commit_of(*parts: str) -> str:
    """A 40-hex commit id, stable for the same parts (so a remote never seeded always has the same head)."""
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


@dataclasses.dataclass
class Remote:
    """A Git repository as the workspace would see it when cloning or pulling."""

    url: str
    branches: dict[str, str]
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    private: bool = False


@dataclasses.dataclass
class Repo:
    """A Git folder: where it is, what it was cloned from, what is checked out."""

    id: int
    path: str
    url: str
    provider: str
    head_commit_id: str
    branch: str | None  # None after a tag was checked out (detached HEAD)
    patterns: list[str] | None  # sparse checkout, when enabled at create

    def info(self) -> Json:
        found: Json = {
            "id": self.id,
            "path": self.path,
            "url": self.url,
            "provider": self.provider,
            "head_commit_id": self.head_commit_id,
        }
        if self.branch is not None:
            found["branch"] = self.branch
        if self.patterns is not None:
            found["sparse_checkout"] = {"patterns": list(self.patterns)}
        return found


class Repos:
    """State and REST handlers of `/api/2.0/repos` and `/api/2.0/git-credentials`."""

    def __init__(self) -> None:
        self.remotes: dict[str, Remote] = {}
        self.repos: dict[int, Repo] = {}
        self.credentials: dict[int, Json] = {}  # with the owner's user name under "principal"
        self._next_id = 1_000_000_000_000_001

    # ---- admin: the remotes, as a Git host would hold them ----

    def seed_remote(
        self, url: str, *, branches: dict[str, str] | None, tags: dict[str, str] | None, private: bool
    ) -> Json:
        """Create or replace a remote (no branches: one, `main`, at a stable commit)."""
        remote = Remote(url, dict(branches or {"main": commit_of(url, "main")}), dict(tags or {}), private)
        self.remotes[_key(url)] = remote
        return dataclasses.asdict(remote)

    def push(self, url: str, branch: str, commit: str | None = None) -> Json:
        """Move (or create) a branch's head on the remote, as a push would; returns the new head."""
        remote = self._remote(url)
        head = commit or commit_of(url, branch, remote.branches.get(branch, ""))
        remote.branches[branch] = head
        return {"branch": branch, "head_commit_id": head}

    # ---- the REST API ----

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/api/2.0/repos", self._create),
            Route("GET", "/api/2.0/repos", self._list),
            Route("GET", "/api/2.0/repos/{repo_id}", self._get),
            Route("PATCH", "/api/2.0/repos/{repo_id}", self._update),
            Route("DELETE", "/api/2.0/repos/{repo_id}", self._delete),
            Route("POST", "/api/2.0/git-credentials", self._create_credential),
            Route("GET", "/api/2.0/git-credentials", self._list_credentials),
            Route("DELETE", "/api/2.0/git-credentials/{credential_id}", self._delete_credential),
        ]

    def _create(self, req: Request) -> Json:
        body = req.body
        url = require(body, "url")
        name = _repo_name(url)
        provider = _provider(require(body, "provider"))
        path = optional(body, "path", str) or f"/Repos/{req.principal}/{name}"
        if not _PATH.match(path):
            raise invalid(
                f"Invalid path: {path}. A Git folder in /Repos must be at /Repos/{{folder}}/{{repo-name}}; "
                "elsewhere it must be under /Workspace/Users or /Workspace/Shared."
            )
        sparse = optional(body, "sparse_checkout", dict)
        patterns = _patterns(sparse) if sparse is not None else None
        if any(r.path == path for r in self.repos.values()):
            raise already_exists(f"{path} already exists")
        remote = self._clone(url, provider, req.principal)
        branch = next(iter(remote.branches))  # the remote's default branch
        repo = Repo(self._new_id(), path, url, provider, remote.branches[branch], branch, patterns)
        self.repos[repo.id] = repo
        return repo.info()

    def _list(self, req: Request) -> Json:
        prefix = req.arg("path_prefix") or ""
        found = [r.info() for r in sorted(self.repos.values(), key=lambda r: r.path) if r.path.startswith(prefix)]
        items, token = page(found, req.arg("next_page_token"), _PAGE_SIZE)
        answer: Json = {"repos": items}
        if token:
            answer["next_page_token"] = token
        return answer

    def _get(self, req: Request) -> Json:
        return self._repo(req).info()

    def _update(self, req: Request) -> Json:
        repo = self._repo(req)
        body = req.body
        branch, tag = optional(body, "branch", str), optional(body, "tag", str)
        sparse = optional(body, "sparse_checkout", dict)
        if branch and tag:
            raise invalid("Only one of branch and tag can be specified.")
        if sparse is not None:
            if repo.patterns is None:
                raise invalid("Sparse checkout is not enabled for this repo.")
            repo.patterns = _patterns(sparse)
        if branch or tag:
            remote = self._clone(repo.url, repo.provider, req.principal)
            if branch:
                if branch not in remote.branches:
                    raise invalid(f"Branch '{branch}' does not exist in the remote repository.")
                repo.branch, repo.head_commit_id = branch, remote.branches[branch]  # checks out and pulls
            elif tag:
                if tag not in remote.tags:
                    raise invalid(f"Tag '{tag}' does not exist in the remote repository.")
                repo.branch, repo.head_commit_id = None, remote.tags[tag]
        return {}

    def _delete(self, req: Request) -> Json:
        repo = self._repo(req)
        del self.repos[repo.id]
        return {}

    def _create_credential(self, req: Request) -> Json:
        provider = _provider(require(req.body, "git_provider"))
        if any(c["principal"] == req.principal and c["git_provider"] == provider for c in self.credentials.values()):
            raise already_exists(f"A Git credential for {provider} already exists for this user.")
        credential: Json = {"credential_id": self._new_id(), "git_provider": provider}
        for key in ("git_username", "git_email", "name"):
            value = optional(req.body, key, str)
            if value is not None:
                credential[key] = value
        self.credentials[credential["credential_id"]] = {**credential, "principal": req.principal}
        return credential  # the token is never answered back

    def _list_credentials(self, req: Request) -> Json:
        mine = [c for c in self.credentials.values() if c["principal"] == req.principal]
        return {"credentials": [{k: v for k, v in c.items() if k != "principal"} for c in mine]}

    def _delete_credential(self, req: Request) -> Json:
        credential_id = int_param(req.params["credential_id"], "credential_id")
        credential = self.credentials.get(credential_id)
        if credential is None or credential["principal"] != req.principal:
            raise not_found(f"Credential with id {credential_id} does not exist.")
        del self.credentials[credential_id]
        return {}

    # ---- helpers ----

    def _clone(self, url: str, provider: str, principal: str) -> Remote:
        """The remote the workspace reaches; a private one needs the user's credential for the provider."""
        remote = self.remotes.get(_key(url)) or Remote(url, {"main": commit_of(url, "main")})
        if remote.private and not any(
            c["principal"] == principal and c["git_provider"] == provider for c in self.credentials.values()
        ):
            raise ApiError(403, "PERMISSION_DENIED", _MISSING_CREDENTIAL)
        return remote

    def _remote(self, url: str) -> Remote:
        key = _key(url)
        if key not in self.remotes:
            self.seed_remote(url, branches=None, tags=None, private=False)
        return self.remotes[key]

    def _repo(self, req: Request) -> Repo:
        repo_id = int_param(req.params["repo_id"], "repo_id")
        repo = self.repos.get(repo_id)
        if repo is None:
            raise not_found(f"Repo {repo_id} does not exist.")
        return repo

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id


def _provider(value: str) -> str:
    provider = PROVIDERS.get(value.lower())
    if provider is None:
        raise invalid(f"Invalid Git provider: {value}. Valid providers: {', '.join(PROVIDERS.values())}.")
    return provider


def _key(url: str) -> str:
    """Remotes are the same whatever the case of the host or a trailing `.git`."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.removesuffix('/').removesuffix('.git')}"


def _repo_name(url: str) -> str:
    """The repository's name from its URL; a URL Git could not clone over HTTPS is refused."""
    parts = urllib.parse.urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    if parts.scheme not in ("https", "http") or not parts.netloc or not name:
        raise invalid(f"Invalid Git URL: {url}")
    return name


def _patterns(sparse: Json) -> list[str]:
    patterns = sparse.get("patterns")
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise invalid("Invalid value for field 'sparse_checkout.patterns'")
    return list(patterns)
