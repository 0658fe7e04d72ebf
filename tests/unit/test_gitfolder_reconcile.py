"""The GitFolder's decisions over a fake Repos API: create, adopt, switch, pull, drift, ObserveOnly, delete."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.gitfolder import reconcile as gitfolder
from controller.kinds.gitfolder.model import GitFolderSpec, inferred_provider
from controller.kinds.gitfolder.run import ObservedRepo
from controller.status import conditions as c

URL = "https://github.com/acme/code.git"
PATH = "/Repos/team/code"
HEADS = {"main": "a" * 40, "dev": "b" * 40}
TAGS = {"v1": "c" * 40}


@dataclass
class FakeRepos:
    """A workspace holding Git folders of one remote; records every call."""

    repos: dict[int, ObservedRepo] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def get(self, repo_id: int) -> ObservedRepo | None:
        self.calls.append("get")
        return self.repos.get(repo_id)

    def at_path(self, path: str) -> ObservedRepo | None:
        self.calls.append("at_path")
        return next((r for r in self.repos.values() if r.path == path), None)

    def create(self, *, url: str, provider: str, path: str, patterns: list[str] | None) -> ObservedRepo:
        self.calls.append(f"create {provider}")
        repo = ObservedRepo(7, path, url, "main", HEADS["main"], tuple(patterns) if patterns else None)
        self.repos[7] = repo
        return repo

    def checkout(self, repo_id: int, *, branch: str | None = None, tag: str | None = None) -> None:
        self.calls.append(f"checkout {branch or tag}")
        head = HEADS[branch] if branch else TAGS[tag or ""]
        self.repos[repo_id] = replace(self.repos[repo_id], branch=branch, head_commit=head)

    def set_patterns(self, repo_id: int, patterns: list[str]) -> None:
        self.calls.append("set_patterns")
        self.repos[repo_id] = replace(self.repos[repo_id], patterns=tuple(patterns))

    def delete(self, repo_id: int) -> None:
        self.calls.append("delete")
        if self.repos.pop(repo_id, None) is None:
            raise errors.NotFound(f"Repo {repo_id} does not exist.")

    def page_url(self, repo_id: int) -> str:
        return f"https://ws/browse/folders/{repo_id}"


def _spec(**fields: Any) -> GitFolderSpec:
    raw = {"workspaceRef": {"name": "ws"}, "url": URL, "path": PATH, "branch": "main", **fields}
    return GitFolderSpec.model_validate({k: v for k, v in raw.items() if v is not None})


def _at(branch: str | None, head: str, patterns: tuple[str, ...] | None = None) -> FakeRepos:
    return FakeRepos({7: ObservedRepo(7, PATH, URL, branch, head, patterns)})


def _request(*, changed: bool = False, repo_id: int | None = 7, tag: str | None = None, head: str | None = None):
    recorded = gitfolder.Recorded(repo_id=repo_id, tag=tag, head_commit=head)
    return gitfolder.Request(owner="ns/code", spec_changed=changed, recorded=recorded)


def test_create_sends_the_inferred_provider_and_checks_the_branch_out() -> None:
    repos = FakeRepos()
    outcome = gitfolder.reconcile(_spec(branch="dev"), repos=repos, request=_request(changed=True, repo_id=None))
    assert repos.calls == ["at_path", "create gitHub", "checkout dev", "get"]
    assert outcome.ready.ok
    assert outcome.observed["branch"] == "dev"
    assert outcome.observed["headCommit"] == HEADS["dev"]
    assert [n.reason for n in outcome.notes] == ["Created", "Updated"]


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://github.com/a/b", "gitHub"),
        ("https://gitlab.com/a/b.git", "gitLab"),
        ("https://bitbucket.org/a/b", "bitbucketCloud"),
        ("https://dev.azure.com/org/p/_git/r", "azureDevOpsServices"),
        ("https://org.visualstudio.com/p/_git/r", "azureDevOpsServices"),
        ("https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/r", "awsCodeCommit"),
        ("https://git.acme.internal/a/b", None),
    ],
)
def test_provider_is_inferred_only_from_known_hosts(url: str, provider: str | None) -> None:
    assert inferred_provider(url) == provider


def test_branch_steady_state_pulls_and_reads_once_more() -> None:
    repos = _at("main", HEADS["main"])
    outcome = gitfolder.reconcile(_spec(), repos=repos, request=_request(head=HEADS["main"]))
    assert repos.calls == ["get", "checkout main", "get"]
    assert outcome.ready.reason == c.RECONCILED
    assert outcome.notes == ()


def test_a_pull_that_brings_commits_posts_an_event() -> None:
    repos = _at("main", "0" * 40)
    outcome = gitfolder.reconcile(_spec(), repos=repos, request=_request(head="0" * 40))
    assert outcome.observed["headCommit"] == HEADS["main"]
    assert [(n.reason, n.message) for n in outcome.notes] == [
        ("Pulled", "pulled branch main: 000000000000 -> aaaaaaaaaaaa")
    ]
    assert outcome.drift_corrections == 0


def test_tag_steady_state_only_reads() -> None:
    repos = _at(None, TAGS["v1"])
    outcome = gitfolder.reconcile(
        _spec(branch=None, tag="v1"), repos=repos, request=_request(tag="v1", head=TAGS["v1"])
    )
    assert repos.calls == ["get"]
    assert outcome.observed["tag"] == "v1"
    assert outcome.observed["branch"] is None


def test_switching_to_a_tag_is_the_users_change() -> None:
    repos = _at("main", HEADS["main"])
    outcome = gitfolder.reconcile(_spec(branch=None, tag="v1"), repos=repos, request=_request(changed=True))
    assert "checkout v1" in repos.calls
    assert outcome.observed["headCommit"] == TAGS["v1"]
    assert [n.reason for n in outcome.notes] == ["Updated"]


def test_a_branch_switched_outside_is_put_back_as_drift() -> None:
    repos = _at("dev", HEADS["dev"])
    outcome = gitfolder.reconcile(_spec(), repos=repos, request=_request(head=HEADS["main"]))
    assert repos.calls == ["get", "checkout main", "get"]
    assert [n.reason for n in outcome.notes] == ["DriftCorrected"]
    assert outcome.drift_corrections == 1
    assert outcome.observed["branch"] == "main"


def test_a_branch_checked_out_over_a_tag_is_put_back() -> None:
    repos = _at("main", HEADS["main"])
    spec = _spec(branch=None, tag="v1")
    outcome = gitfolder.reconcile(spec, repos=repos, request=_request(tag="v1", head=TAGS["v1"]))
    assert "checkout v1" in repos.calls
    assert outcome.drift_corrections == 1


def test_sparse_patterns_changed_outside_are_put_back() -> None:
    repos = _at("main", HEADS["main"], ("other",))
    spec = _spec(sparseCheckout={"patterns": ["notebooks"]})
    outcome = gitfolder.reconcile(spec, repos=repos, request=_request(head=HEADS["main"]))
    assert repos.repos[7].patterns == ("notebooks",)
    assert outcome.drift_corrections == 1


def test_a_folder_at_the_path_is_adopted_only_when_asked() -> None:
    repos = FakeRepos({3: ObservedRepo(3, PATH, URL, "main", HEADS["main"], None)})
    refused = gitfolder.reconcile(_spec(), repos=repos, request=_request(changed=True, repo_id=None))
    assert refused.ready.reason == c.ADOPTION_REQUIRED
    assert "adopt" in refused.ready.message
    assert not any(call.startswith(("create", "checkout")) for call in repos.calls)
    adopted = gitfolder.reconcile(_spec(adopt=True), repos=repos, request=_request(changed=True, repo_id=None))
    assert adopted.ready.ok
    assert adopted.observed["repoId"] == 3
    assert [n.reason for n in adopted.notes] == ["Adopted"]


def test_a_folder_linked_to_another_url_is_refused_naming_both() -> None:
    repos = FakeRepos({3: ObservedRepo(3, PATH, "https://github.com/acme/other", "main", HEADS["main"], None)})
    outcome = gitfolder.reconcile(_spec(adopt=True), repos=repos, request=_request(changed=True, repo_id=None))
    assert outcome.ready.reason == c.EXTERNAL_REJECTED
    assert "acme/other" in outcome.ready.message
    assert not any(call.startswith("checkout") for call in repos.calls)


def test_a_folder_deleted_outside_is_made_again() -> None:
    repos = FakeRepos()
    outcome = gitfolder.reconcile(_spec(), repos=repos, request=_request(repo_id=5, head=HEADS["main"]))
    assert "create gitHub" in repos.calls
    assert outcome.drift_corrections == 1


def test_a_refused_create_is_reported_with_the_apis_message() -> None:
    class Private(FakeRepos):
        def create(self, *, url: str, provider: str, path: str, patterns: list[str] | None) -> ObservedRepo:
            raise errors.Rejected("the workspace cannot reach it: Missing Git provider credentials.")

    outcome = gitfolder.reconcile(_spec(), repos=Private(), request=_request(changed=True, repo_id=None))
    assert outcome.ready.reason == c.EXTERNAL_REJECTED
    assert "Missing Git provider credentials" in outcome.ready.message


def test_observe_only_reports_and_never_writes_or_pulls() -> None:
    repos = _at("dev", HEADS["dev"])
    outcome = gitfolder.reconcile(_spec(managementPolicy="ObserveOnly"), repos=repos, request=_request(repo_id=None))
    assert repos.calls == ["at_path"]
    assert outcome.ready.reason == c.DRIFT_DETECTED
    assert "branch dev is checked out" in outcome.ready.message


def test_observe_only_without_a_folder_says_so() -> None:
    outcome = gitfolder.reconcile(
        _spec(managementPolicy="ObserveOnly"), repos=FakeRepos(), request=_request(repo_id=None)
    )
    assert outcome.ready.reason == c.EXTERNAL_OBJECT_MISSING


def test_delete_policies() -> None:
    repos = _at("main", HEADS["main"])
    assert "kept" in gitfolder.delete(_spec(), connect=lambda: repos, repo_id=7)
    assert gitfolder.delete(_spec(deletionPolicy="Delete"), connect=lambda: repos, repo_id=7).startswith("deleted")
    assert "already gone" in gitfolder.delete(_spec(deletionPolicy="Delete"), connect=lambda: repos, repo_id=7)
    assert "no Git folder" in gitfolder.delete(_spec(deletionPolicy="Delete"), connect=lambda: repos, repo_id=None)
