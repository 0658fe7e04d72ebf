"""Git folders and Git credentials through the real SDK: checkout, pull after a push, tags, sparse checkout,
private remotes, and the refusals with Databricks' codes."""

from __future__ import annotations

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied, ResourceAlreadyExists
from databricks.sdk.service.workspace import SparseCheckout, SparseCheckoutUpdate

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.databricks.repos import commit_of

pytestmark = pytest.mark.integration

URL = "https://github.com/acme/code.git"
MAIN, DEV, V1 = "a" * 40, "b" * 40, "c" * 40


@pytest.fixture
def w(emu: Emulator) -> WorkspaceClient:
    emu.seed_git_remote(URL, branches={"main": MAIN, "dev": DEV}, tags={"v1": V1})
    return WorkspaceClient(host=emu.url, token=DEFAULT_TOKEN)


def test_a_clone_is_at_the_default_branch_and_a_push_shows_only_after_a_pull(w: WorkspaceClient, emu: Emulator) -> None:
    created = w.repos.create(URL, "GITHUB", path="/Repos/team/code")
    assert (created.branch, created.head_commit_id, created.provider) == ("main", MAIN, "gitHub")
    assert created.id is not None
    pushed = emu.push_git_branch(URL, "main")
    assert w.repos.get(created.id).head_commit_id == MAIN  # the folder does not follow the remote by itself
    w.repos.update(created.id, branch="main")  # the same branch: a pull
    assert w.repos.get(created.id).head_commit_id == pushed
    assert emu.push_git_branch(URL, "main") not in (pushed, MAIN)


def test_a_tag_detaches_head_and_a_branch_switch_checks_it_out(w: WorkspaceClient) -> None:
    repo = w.repos.create(URL, "gitHub", path="/Workspace/Users/me@example.com/code")
    assert repo.id is not None
    w.repos.update(repo.id, tag="v1")
    at_tag = w.repos.get(repo.id)
    assert (at_tag.branch, at_tag.head_commit_id) == (None, V1)
    w.repos.update(repo.id, branch="dev")
    assert (w.repos.get(repo.id).branch, w.repos.get(repo.id).head_commit_id) == ("dev", DEV)
    with pytest.raises(InvalidParameterValue, match="Branch 'nope' does not exist"):
        w.repos.update(repo.id, branch="nope")
    with pytest.raises(InvalidParameterValue, match="Only one of branch and tag"):
        w.repos.update(repo.id, branch="dev", tag="v1")


def test_sparse_checkout_patterns_change_only_where_it_was_enabled(w: WorkspaceClient) -> None:
    sparse = w.repos.create(URL, "gitHub", path="/Repos/team/sparse", sparse_checkout=SparseCheckout(["nb"]))
    full = w.repos.create(URL, "gitHub", path="/Repos/team/full")
    assert sparse.id is not None
    assert full.id is not None
    w.repos.update(sparse.id, sparse_checkout=SparseCheckoutUpdate(["nb", "src"]))
    checkout = w.repos.get(sparse.id).sparse_checkout
    assert checkout is not None
    assert checkout.patterns == ["nb", "src"]
    with pytest.raises(InvalidParameterValue, match="Sparse checkout is not enabled"):
        w.repos.update(full.id, sparse_checkout=SparseCheckoutUpdate(["nb"]))
    assert w.repos.get(full.id).sparse_checkout is None


def test_list_by_path_prefix_and_delete(w: WorkspaceClient) -> None:
    one = w.repos.create(URL, "gitHub", path="/Repos/team/one")
    w.repos.create(URL, "gitHub", path="/Repos/other/two")
    assert [r.path for r in w.repos.list(path_prefix="/Repos/team")] == ["/Repos/team/one"]
    assert one.id is not None
    w.repos.delete(one.id)
    with pytest.raises(NotFound):
        w.repos.get(one.id)
    with pytest.raises(NotFound):
        w.repos.delete(one.id)


@pytest.mark.parametrize(
    ("url", "provider", "path", "error"),
    [
        (URL, "gitHub", "/Repos/too/deep/here", InvalidParameterValue),
        (URL, "gitHub", "/Repos/flat", InvalidParameterValue),
        (URL, "sourceForge", "/Repos/team/code", InvalidParameterValue),
        ("git@github.com:acme/code.git", "gitHub", "/Repos/team/code", InvalidParameterValue),
        ("https://github.com/", "gitHub", "/Repos/team/code", InvalidParameterValue),
    ],
)
def test_bad_creates_are_refused(w: WorkspaceClient, url: str, provider: str, path: str, error: type) -> None:
    with pytest.raises(error):
        w.repos.create(url, provider, path=path)


def test_a_taken_path_is_refused(w: WorkspaceClient) -> None:
    w.repos.create(URL, "gitHub", path="/Repos/team/code")
    with pytest.raises(ResourceAlreadyExists):
        w.repos.create("https://github.com/acme/other.git", "gitHub", path="/Repos/team/code")


def test_a_url_never_seeded_is_a_public_remote_with_main(w: WorkspaceClient) -> None:
    url = "https://gitlab.com/acme/elsewhere"
    repo = w.repos.create(url, "gitLab", path="/Repos/team/elsewhere")
    assert (repo.branch, repo.head_commit_id) == ("main", commit_of(url, "main"))


def test_a_private_remote_needs_the_users_credential_for_its_provider(w: WorkspaceClient, emu: Emulator) -> None:
    private = "https://github.com/acme/private.git"
    emu.seed_git_remote(private, private=True)
    with pytest.raises(PermissionDenied, match="Missing Git provider credentials"):
        w.repos.create(private, "gitHub", path="/Repos/team/private")
    other = w.git_credentials.create("gitLab", personal_access_token="glpat-x")
    with pytest.raises(PermissionDenied):
        w.repos.create(private, "gitHub", path="/Repos/team/private")
    mine = w.git_credentials.create("gitHub", git_username="ci", personal_access_token="ghp-secret")
    repo = w.repos.create(private, "gitHub", path="/Repos/team/private")
    assert repo.id is not None
    listed = {c.credential_id: c for c in w.git_credentials.list()}
    assert set(listed) == {other.credential_id, mine.credential_id}
    answers = requests.get(
        f"{emu.url}/api/2.0/git-credentials", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=10
    ).text
    assert "ghp-secret" not in answers
    with pytest.raises(ResourceAlreadyExists):
        w.git_credentials.create("GitHub", personal_access_token="ghp-again")
    w.git_credentials.delete(mine.credential_id)
    with pytest.raises(PermissionDenied):
        w.repos.update(repo.id, branch="main")  # a pull needs the credential too
