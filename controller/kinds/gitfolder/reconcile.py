"""Reconcile a GitFolder: find its Git folder, make it, keep the declared branch or tag checked out, pull.

A Git folder carries no tags, so it is this resource's by the id recorded in status; one found at the
path without that record is someone else's until the spec says `adopt: true`.

The Repos API has no call that reads the remote's head, and the controller does not talk to Git: a
branch is pulled by checking it out again (`PATCH` with the same branch), once per drift check, and
read back to learn the new head. A tag never moves, so a folder at a tag is only read. Steady state:
a tag costs one read per drift interval; a branch one read, one pull and one read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from controller.clients import errors
from controller.kinds.gitfolder.model import GitFolderSpec
from controller.kinds.gitfolder.run import FolderRun, ObservedRepo, Recorded, Repos, Request
from controller.reconciling import permissions, policy
from controller.reconciling.run import guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome

__all__ = ["Recorded", "Repos", "Request", "delete", "reconcile"]


def reconcile(spec: GitFolderSpec, *, repos: Repos, request: Request) -> Outcome:
    """Make the Git folder match the spec (or, under ObserveOnly, report how it differs)."""
    run = FolderRun(
        spec=spec,
        request=request,
        repos=repos,
        spec_changed=request.spec_changed,
        observe_only=policy.observe_only(spec),
    )
    outcome = guarded(run, lambda: _observe(run) if run.observe_only else _manage(run))
    return permissions.reported(outcome, run.permissions)


def delete(spec: GitFolderSpec, *, connect: Callable[[], Repos], repo_id: int | None) -> str:
    """Carry out deletionPolicy; only the folder recorded in status is ever deleted (a folder has no owner tag)."""
    kept = policy.kept_on_delete(spec, f"Git folder {spec.path}")
    if kept is not None:
        return kept
    if repo_id is None:
        return f"no Git folder was made for {spec.path}"
    repos = connect()
    with contextlib.suppress(errors.NotFound):  # gone already: that is what was wanted
        repos.delete(repo_id)
        return f"deleted Git folder {spec.path} ({repo_id})"
    return f"Git folder {spec.path} ({repo_id}) was already gone"


def _manage(run: FolderRun) -> Outcome:
    spec, recorded = run.spec, run.request.recorded
    repo = run.repos.get(recorded.repo_id) if recorded.repo_id is not None else None
    if repo is None:
        found = run.repos.at_path(spec.path)
        if found is not None and not spec.adopt:
            message = (
                f"a Git folder already exists at {spec.path} and is not managed; set spec.adopt: true to take it over"
            )
            return run.not_ours(c.ADOPTION_REQUIRED, message)
        if found is not None:
            run.note("Adopted", f"took over Git folder {spec.path} ({found.repo_id})")
        elif recorded.repo_id is not None:
            run.changed(f"Git folder {recorded.repo_id} was deleted outside this resource; making it again")
        repo = found or _create(run)
    if _same_remote(repo.url) != _same_remote(spec.url):
        message = (
            f"the Git folder at {repo.path} is linked to {repo.url}, not {spec.url}; the URL of a folder cannot change"
        )
        return run.failed(c.EXTERNAL_REJECTED, message, retry=None)
    wrote = _patterns(run, repo)
    wrote = (_switch_tag(run, repo) if spec.tag else _switch_or_pull_branch(run, repo)) or wrote
    if wrote:
        repo = run.repos.get(repo.repo_id) or repo
        _note_pull(run, repo)
    _sync_permissions(run, repo.repo_id)
    return _outcome(run, repo)


def _create(run: FolderRun) -> ObservedRepo:
    spec = run.spec
    patterns = list(spec.sparse_checkout.patterns) if spec.sparse_checkout else None
    repo = run.repos.create(url=spec.url, provider=spec.git_provider, path=spec.path, patterns=patterns)
    run.note("Created", f"created Git folder {spec.path} ({repo.repo_id}) from {spec.url}")
    return repo


def _patterns(run: FolderRun, repo: ObservedRepo) -> bool:
    wanted = run.spec.sparse_checkout.patterns if run.spec.sparse_checkout else None
    if wanted is None or repo.patterns is None or list(repo.patterns) == wanted:
        return False  # sparse checkout cannot be turned on or off; the schema keeps it as made
    if not run.may_write(f"sparse checkout patterns are {', '.join(repo.patterns)}"):
        return False
    run.repos.set_patterns(repo.repo_id, wanted)
    run.changed(f"set the sparse checkout patterns to {', '.join(wanted)}")
    return True


def _switch_tag(run: FolderRun, repo: ObservedRepo) -> bool:
    """Check the tag out when a branch is out, another commit is, or the spec names a new tag."""
    recorded, tag = run.request.recorded, run.spec.tag
    if repo.branch is not None:
        now = f"branch {repo.branch} is checked out"
    elif recorded.tag != tag or recorded.head_commit is None:
        now = f"tag {recorded.tag} is checked out" if recorded.tag else "the checked-out commit is not known to be it"
    elif repo.head_commit != recorded.head_commit:
        now = f"commit {repo.head_commit} is checked out"
    else:
        return False
    if not run.may_write(f"{now}, not tag {tag}"):
        return False
    run.repos.checkout(repo.repo_id, tag=tag)
    run.changed(f"checked out tag {tag} ({now})")
    return True


def _switch_or_pull_branch(run: FolderRun, repo: ObservedRepo) -> bool:
    """Check the declared branch out: a switch when another is out, else a pull."""
    branch = run.spec.branch
    if repo.branch != branch:
        now = f"branch {repo.branch} is checked out" if repo.branch else "a tag is checked out"
        if not run.may_write(f"{now}, not branch {branch}"):
            return False
        run.repos.checkout(repo.repo_id, branch=branch)
        run.changed(f"checked out branch {branch} ({now})")
        return True
    if run.observe_only:
        return False
    run.repos.checkout(repo.repo_id, branch=branch)  # the same branch: pulls
    return True


def _note_pull(run: FolderRun, repo: ObservedRepo) -> None:
    """An Event when a pull of the same branch brought new commits."""
    before = run.request.recorded.head_commit
    if run.spec.branch and before and repo.head_commit != before and not run.notes:
        run.note("Pulled", f"pulled branch {run.spec.branch}: {before[:12]} -> {(repo.head_commit or '')[:12]}")


def _sync_permissions(run: FolderRun, repo_id: int) -> None:
    """spec.permissions on the folder: one read, and one write when they differ."""
    recorded = run.request.managed_permissions
    if not permissions.wanted_at_all(run.spec.permissions, recorded):
        return
    mode, identity = run.spec.permissions_mode, run.request.identity
    want = permissions.wanted(run.spec.permissions, mode=mode, recorded=recorded, controller=identity)
    what = f"Git folder {run.spec.path}"
    run.permissions = permissions.sync(run, run.repos, str(repo_id), want, what=what)


def _observe(run: FolderRun) -> Outcome:
    """ObserveOnly: the folder by recorded id, else at the path; report differences, never write (never pull)."""
    recorded = run.request.recorded
    repo = run.repos.get(recorded.repo_id) if recorded.repo_id is not None else None
    repo = repo or run.repos.at_path(run.spec.path)
    if repo is None:
        return run.failed(c.EXTERNAL_OBJECT_MISSING, f"there is no Git folder at {run.spec.path}", retry=None)
    if _same_remote(repo.url) != _same_remote(run.spec.url):
        run.may_write(f"it is linked to {repo.url}")
    _patterns(run, repo)
    if run.spec.tag:
        if repo.branch is not None:
            run.may_write(f"branch {repo.branch} is checked out, not tag {run.spec.tag}")
    else:
        _switch_or_pull_branch(run, repo)
    _sync_permissions(run, repo.repo_id)
    return _outcome(run, repo)


def _outcome(run: FolderRun, repo: ObservedRepo) -> Outcome:
    tag = run.spec.tag if run.spec.tag and repo.branch is None else None
    observed: dict[str, Any] = {
        "repoId": repo.repo_id,
        "path": repo.path,
        "branch": repo.branch,
        "tag": tag,
        "headCommit": repo.head_commit,
        "gitUrl": repo.url,
        "url": run.repos.page_url(repo.repo_id),
    }
    at = f"{run.wanted} at {(repo.head_commit or 'an unknown commit')[:12]}"
    return run.outcome(observed, matches=f"Git folder {repo.path} has {at} checked out")


def _same_remote(url: str) -> str:
    """URLs naming the same repository compare equal (case of the host, a trailing `.git` or `/`)."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://{host.lower()}/{path.rstrip('/').removesuffix('.git')}"
