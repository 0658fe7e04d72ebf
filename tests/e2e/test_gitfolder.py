"""GitFolders on the real API server against the emulator's Repos API, through the real databricks-sdk."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.conftest import DRIFT_INTERVAL
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

DRIFT_SECONDS = float(DRIFT_INTERVAL.removesuffix("s"))
API_VERSION = "mlops.gitops.dev/v1alpha1"
MAIN, DEV, V1 = "1" * 40, "2" * 40, "3" * 40


def _remote(emulator: Emulator, *, private: bool = False) -> str:
    url = f"https://github.com/acme/code-{uuid.uuid4().hex[:8]}.git"
    emulator.seed_git_remote(url, branches={"main": MAIN, "dev": DEV}, tags={"v1": V1}, private=private)
    return url


def _folder(name: str, url: str, path: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "GitFolder",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "dbx"}, "url": url, "path": path, **spec},
    }


def _status(kubectl: Kubectl, name: str) -> dict[str, Any]:
    return dict(kubectl.get("gitfolder", name).get("status") or {})


def _event(kubectl: Kubectl, name: str, reason: str) -> dict[str, Any]:
    found = wait_until(
        lambda: [e for e in kubectl.events(name) if e["reason"] == reason], timeout=10, what=f"a {reason} event"
    )
    return dict(found[-1])


def test_branch_tag_pull_drift_and_delete(kubectl: Kubectl, databricks_workspace: str, emulator: Emulator) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    url, path = _remote(emulator), f"/Repos/team/code-{kubectl.namespace}"
    manifest = _folder("code", url, path, branch="dev", deletionPolicy="Delete", sparseCheckout={"patterns": ["nb"]})
    kubectl.apply(manifest)
    status = kubectl.wait_condition("gitfolder", "code")["status"]
    repo = w.repos.get(status["repoId"])
    assert (repo.path, repo.branch, repo.head_commit_id, repo.provider) == (path, "dev", DEV, "gitHub")
    assert repo.sparse_checkout is not None
    assert repo.sparse_checkout.patterns == ["nb"]
    assert (status["path"], status["branch"], status["headCommit"], status["gitUrl"]) == (path, "dev", DEV, url)
    row = kubectl("get", "gitfolders", "code", "--no-headers").stdout.split()
    assert row[:4] == ["code", path, "dev", DEV], row

    # A tag in Git: checked out at once.
    kubectl.apply(_folder("code", url, path, tag="v1", deletionPolicy="Delete", sparseCheckout={"patterns": ["nb"]}))
    status = kubectl.wait_condition("gitfolder", "code")["status"]
    assert (status.get("branch"), status["tag"], status["headCommit"]) == (None, "v1", V1)
    assert w.repos.get(status["repoId"]).head_commit_id == V1

    # Back to a branch, then someone pushes to it: pulled within a drift interval, with an Event.
    kubectl.apply(manifest)
    kubectl.wait_condition("gitfolder", "code")
    wait_until(lambda: _status(kubectl, "code").get("headCommit") == DEV, timeout=10, what="dev checked out")
    pushed = emulator.push_git_branch(url, "dev")
    wait_until(lambda: _status(kubectl, "code").get("headCommit") == pushed, timeout=2 * DRIFT_SECONDS, what="the pull")
    assert w.repos.get(status["repoId"]).head_commit_id == pushed
    assert pushed[:12] in _event(kubectl, "code", "Pulled")["message"]

    # Someone switches the branch in the UI: put back at the next drift check.
    w.repos.update(status["repoId"], branch="main")
    wait_until(lambda: w.repos.get(status["repoId"]).branch == "dev", timeout=2 * DRIFT_SECONDS, what="dev put back")
    assert "branch main is checked out" in _event(kubectl, "code", "DriftCorrected")["message"]

    kubectl("delete", "gitfolder", "code", "--timeout=30s")
    with pytest.raises(NotFound):
        w.repos.get(status["repoId"])


def test_adopt_observe_only_and_retain(kubectl: Kubectl, databricks_workspace: str, emulator: Emulator) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    url, path = _remote(emulator), f"/Workspace/Shared/code-{kubectl.namespace}"
    existing = w.repos.create(url, "gitHub", path=path)
    assert existing.id is not None

    # ObserveOnly: reports the branch that differs, writes nothing (and never pulls).
    kubectl.apply(_folder("watch", url, path, branch="dev", managementPolicy="ObserveOnly"))
    drift = kubectl.wait_condition("gitfolder", "watch", reason="DriftDetected")
    assert "branch main is checked out, not branch dev" in drift["status"]["conditions"][0]["message"]
    assert w.repos.get(existing.id).branch == "main"

    # Manage without adopt: left alone; with adopt: taken over and put at the declared branch.
    kubectl.apply(_folder("take", url, path, branch="dev"))
    refused = kubectl.wait_condition("gitfolder", "take", status="False", reason="AdoptionRequired")
    assert "adopt" in next(c for c in refused["status"]["conditions"] if c["type"] == "Ready")["message"]
    assert w.repos.get(existing.id).branch == "main"
    kubectl.apply(_folder("take", url, path, branch="dev", adopt=True))
    adopted = kubectl.wait_condition("gitfolder", "take")
    assert adopted["status"]["repoId"] == existing.id
    assert w.repos.get(existing.id).branch == "dev"

    # Retain (the default): deleting the resources leaves the folder.
    kubectl("delete", "gitfolder", "take", "watch", "--timeout=30s")
    assert w.repos.get(existing.id).branch == "dev"
    w.repos.delete(existing.id)


def test_a_private_repository_needs_the_workspaces_git_credential(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    url, path = _remote(emulator, private=True), f"/Repos/team/private-{kubectl.namespace}"
    kubectl.apply(_folder("private", url, path, branch="main", deletionPolicy="Delete"))
    refused = kubectl.wait_condition("gitfolder", "private", status="False", reason="ExternalRejected")
    message = next(c for c in refused["status"]["conditions"] if c["type"] == "Ready")["message"]
    assert "Missing Git provider credentials" in message
    assert url in message

    credential = w.git_credentials.create("gitHub", git_username="ci", personal_access_token="ghp-e2e-secret")
    try:
        status = kubectl.wait_condition("gitfolder", "private", timeout=3 * DRIFT_SECONDS + 15)["status"]
        assert status["headCommit"] == MAIN
        described = kubectl("get", "gitfolder", "private", "-o", "yaml").stdout
        events = str(kubectl.events("private"))
        assert "ghp-e2e-secret" not in described + events
        kubectl("delete", "gitfolder", "private", "--timeout=30s")
    finally:
        w.git_credentials.delete(credential.credential_id)


@pytest.mark.parametrize(
    ("spec", "field", "problem"),
    [
        ({"branch": "main", "tag": "v1"}, "spec", "set exactly one of branch and tag"),
        ({}, "spec", "set exactly one of branch and tag"),
        ({"branch": "main", "url": "https://git.acme.internal/a/b"}, "spec.provider", "provider is required"),
        ({"branch": "main", "path": "/Repos/too/deep/here"}, "spec.path", "should match"),
        ({"branch": "main", "url": "git@github.com:acme/code.git"}, "spec.url", "should match"),
    ],
)
def test_bad_input_is_refused_at_apply_naming_the_field(
    kubectl: Kubectl, spec: dict[str, Any], field: str, problem: str
) -> None:
    manifest = _folder("bad", "https://github.com/acme/code.git", "/Repos/team/code")
    manifest["spec"].update(spec)
    result = kubectl.apply(manifest, check=False)
    assert result.returncode != 0
    assert field in result.stderr, result.stderr
    assert problem in result.stderr, result.stderr
    assert not kubectl.exists("gitfolder", "bad")


def test_url_and_path_cannot_change(kubectl: Kubectl) -> None:
    # No Workspace: the resource only waits, which is all the API server's check needs.
    kubectl.apply(_folder("fixed", "https://github.com/acme/code.git", "/Repos/team/code", branch="main"))
    for change, field in (
        ({"url": "https://github.com/acme/other.git"}, "spec.url"),
        ({"path": "/Repos/team/other"}, "spec.path"),
    ):
        manifest = _folder("fixed", "https://github.com/acme/code.git", "/Repos/team/code", branch="main")
        manifest["spec"].update(change)
        result = kubectl.apply(manifest, check=False)
        assert result.returncode != 0
        assert field in result.stderr, result.stderr
        assert "cannot change" in result.stderr, result.stderr
    kubectl("delete", "gitfolder", "fixed", "--timeout=30s")


def test_an_mljob_task_runs_from_the_folder_once_it_is_ready(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    url, path = _remote(emulator), f"/Repos/team/jobs-{kubectl.namespace}"
    job = {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLJob",
        "metadata": {"name": "train"},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "deletionPolicy": "Delete",
            "settings": {
                "name": f"train-{kubectl.namespace}",
                "tasks": [
                    {"task_key": "train", "notebook_task": {"git_folder_ref": {"name": "code", "path": "nb/train"}}}
                ],
            },
        },
    }
    kubectl.apply(job)
    waiting = kubectl.wait_condition("mljob", "train", status="False", reason="WaitingForDependency")
    message = next(c for c in waiting["status"]["conditions"] if c["type"] == "Ready")["message"]
    assert "GitFolder code does not exist in this namespace" in message

    kubectl.apply(_folder("code", url, path, branch="main", deletionPolicy="Delete"))
    ready = kubectl.wait_condition("mljob", "train", timeout=30)
    settings = w.jobs.get(ready["status"]["jobId"]).settings
    assert settings is not None
    assert settings.tasks is not None
    task = settings.tasks[0].notebook_task
    assert task is not None
    assert task.notebook_path == f"{path}/nb/train"
    assert task.source is not None
    assert task.source.value == "WORKSPACE"
    kubectl("delete", "mljob", "train", "--timeout=30s")
    kubectl("delete", "gitfolder", "code", "--timeout=30s")


def test_steady_state_cost_per_drift_interval(kubectl: Kubectl) -> None:
    """Counted on a workspace of its own: the shared emulator holds other tests' folders (Retain keeps them)."""
    with Emulator() as own:
        kubectl("create", "secret", "generic", "dbx-credentials", f"--from-literal=token={DEFAULT_TOKEN}")
        databricks = {"host": own.url, "credentialsSecretRef": {"name": "dbx-credentials"}}
        workspace = {"databricks": databricks, "driftInterval": DRIFT_INTERVAL}
        kubectl.apply({"apiVersion": API_VERSION, "kind": "Workspace", "metadata": {"name": "dbx"}, "spec": workspace})
        kubectl.wait_condition("workspace", "dbx")
        url = _remote(own)
        kubectl.apply(_folder("at-branch", url, "/Repos/cost/branch", branch="main"))
        kubectl.apply(_folder("at-tag", url, "/Repos/cost/tag", tag="v1"))
        for name in ("at-branch", "at-tag"):
            kubectl.wait_condition("gitfolder", name)
        wait_until(lambda: _status(kubectl, "at-tag").get("headCommit") == V1, timeout=10, what="v1 checked out")

        # A window just under N intervals holds at most N drift checks of each resource.
        intervals = 3
        own.reset_counters()
        time.sleep(intervals * DRIFT_SECONDS - 0.5)
        calls = own.counters(prefix="/api/2.0/repos")["calls"]
        print(f"steady state over {intervals} drift intervals, one folder at a branch and one at a tag: {calls}")
        pulls = calls.get("PATCH /api/2.0/repos/{repo_id}", 0)
        assert 1 <= pulls <= intervals, calls  # only the branch is pulled, once per check
        assert calls.get("GET /api/2.0/repos/{repo_id}", 0) <= 2 * pulls + intervals, calls  # tag: 1 read; branch: 2
        assert set(calls) <= {"PATCH /api/2.0/repos/{repo_id}", "GET /api/2.0/repos/{repo_id}"}, calls
        kubectl("delete", "gitfolder", "at-branch", "at-tag", "--timeout=30s")
