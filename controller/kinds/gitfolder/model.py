"""GitFolder: a Databricks Git folder (Repos API) kept at a declared branch or tag of a Git repository."""

from __future__ import annotations

import re
import urllib.parse
from typing import Literal

from pydantic import Field

from controller.api.common import (
    MAX_PERMISSIONS,
    PERMISSIONS_LIST_RULES,
    CamelModel,
    ManagedSpec,
    ManagedStatus,
    PermissionEntry,
    PermissionsMode,
    PermissionsStatus,
)
from controller.api.crd import KindDefinition, PrinterColumn

GitProvider = Literal[
    "gitHub",
    "gitHubEnterprise",
    "gitLab",
    "gitLabEnterpriseEdition",
    "bitbucketCloud",
    "bitbucketServer",
    "azureDevOpsServices",
    "awsCodeCommit",
]

# Hosts whose provider is known from the URL alone (as Databricks' Terraform provider infers it); any other
# host (GitHub Enterprise, GitLab self-managed, Bitbucket Data Center) needs spec.provider.
_HOSTS: tuple[tuple[str, GitProvider], ...] = (
    (r"github\.com", "gitHub"),
    (r"gitlab\.com", "gitLab"),
    (r"bitbucket\.org", "bitbucketCloud"),
    (r"dev\.azure\.com", "azureDevOpsServices"),
    (r"[^/@]+\.visualstudio\.com", "azureDevOpsServices"),
    (r"git-codecommit\.[^/@]+\.amazonaws\.com", "awsCodeCommit"),
)
_KNOWN_HOST = "^https://([^/@]+@)?(" + "|".join(pattern for pattern, _ in _HOSTS) + ")/"

PATH_PATTERN = r"^(/Repos/[^/]+/[^/]+|/Workspace/(Users|Shared)(/[^/]+)+)$"
"""In /Repos a Git folder is exactly /Repos/{folder}/{name}; elsewhere under a user's or the shared folder."""


def inferred_provider(url: str) -> GitProvider | None:
    """The provider a URL's host implies, or None for a host that could be any provider's server."""
    host = urllib.parse.urlsplit(url).hostname or ""
    return next((provider for pattern, provider in _HOSTS if re.fullmatch(pattern, host)), None)


class SparseCheckout(CamelModel):
    """Check out only some directories (cone patterns); fixed when the Git folder is made."""

    patterns: list[str] = Field(min_length=1, max_length=100)
    """Directories to check out, e.g. `notebooks/train`. The patterns can change; sparse checkout itself cannot be
    turned on or off once the folder exists."""


class FolderPermission(PermissionEntry):
    """Who may read, run, edit or manage the Git folder."""

    level: Literal["CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE"]
    """CAN_READ (see its files), CAN_RUN (also run its notebooks), CAN_EDIT (also change them) or CAN_MANAGE
    (also its permissions)."""


class GitFolderSpec(ManagedSpec):
    """The desired Git folder."""

    model_config = ManagedSpec.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.branch) != has(self.tag)",
                    "message": "set exactly one of branch and tag",
                },
                {
                    # A CEL string literal: each backslash of the regular expression is escaped.
                    "rule": "has(self.provider) || self.url.matches('" + _KNOWN_HOST.replace("\\", "\\\\") + "')",
                    "message": "provider is required: it cannot be inferred from the URL's host",
                    "fieldPath": ".provider",
                },
                {
                    "rule": "self.url == oldSelf.url",
                    "message": "url cannot change; create a new resource instead",
                    "fieldPath": ".url",
                },
                {
                    "rule": "self.path == oldSelf.path",
                    "message": "path cannot change; create a new resource instead",
                    "fieldPath": ".path",
                },
                {
                    "rule": "has(self.sparseCheckout) == has(oldSelf.sparseCheckout)",
                    "message": "sparse checkout cannot be turned on or off on an existing Git folder",
                    "fieldPath": ".sparseCheckout",
                },
            ]
        }
    }

    url: str = Field(min_length=1, max_length=2048, pattern=r"^https://[^/\s]+/\S+$")
    """The Git repository's HTTPS URL. Cannot change."""

    provider: GitProvider | None = None
    """The Git provider. Inferred from the URL for github.com, gitlab.com, bitbucket.org, Azure DevOps and AWS
    CodeCommit; required for any other host."""

    path: str = Field(min_length=1, max_length=4096, pattern=PATH_PATTERN)
    """Where the folder is in the workspace: /Repos/{folder}/{name}, or under /Workspace/Users/... or
    /Workspace/Shared/.... Cannot change."""

    branch: str | None = Field(default=None, min_length=1, max_length=255)
    """The branch to keep checked out and pulled (each drift check pulls it)."""

    tag: str | None = Field(default=None, min_length=1, max_length=255)
    """The tag to keep checked out (a tag never moves, so it is never pulled)."""

    sparse_checkout: SparseCheckout | None = None
    """Check out only these directories. Can be set only when the folder is made."""

    adopt: bool = False
    """Take over a Git folder that already exists at the path and no resource manages."""

    permissions: list[FolderPermission] | None = Field(
        default=None, max_length=MAX_PERMISSIONS, json_schema_extra=PERMISSIONS_LIST_RULES
    )
    """Who may read, run, edit or manage the Git folder. The principals listed get exactly these levels; one
    removed from the list loses its grant; principals never listed are left alone (see permissionsMode)."""

    permissions_mode: PermissionsMode = "Listed"
    """Listed: manage the grants of the principals permissions lists (and listed before). Authoritative: the
    list is the folder's whole set of direct grants; any other is revoked (the controller keeps its own)."""

    @property
    def git_provider(self) -> str:
        """The provider to send: the declared one, else the one the URL implies (the schema makes sure of one)."""
        return self.provider or inferred_provider(self.url) or ""


class GitFolderStatus(ManagedStatus):
    """The Git folder as last observed."""

    repo_id: int | None = None
    """The Git folder's id in the workspace."""

    path: str | None = None
    """Its workspace path."""

    branch: str | None = None
    """The branch checked out (none after a tag was checked out)."""

    tag: str | None = None
    """The tag checked out, when the spec declares one."""

    head_commit: str | None = None
    """The commit checked out."""

    git_url: str | None = None
    """The Git repository it was cloned from."""

    permissions: PermissionsStatus | None = None
    """The principals whose grants spec.permissions manages."""


DEFINITION = KindDefinition(
    kind="GitFolder",
    plural="gitfolders",
    short_names=("gf",),
    description="A Databricks Git folder kept at a declared branch or tag of a Git repository.",
    spec=GitFolderSpec,
    status=GitFolderStatus,
    printer_columns=(
        PrinterColumn("Path", ".status.path"),
        PrinterColumn("Branch", ".status.branch"),
        PrinterColumn("Tag", ".status.tag"),
        PrinterColumn("Head", ".status.headCommit"),
        PrinterColumn("URL", ".status.url", priority=1),
    ),
)
