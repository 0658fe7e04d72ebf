"""The Emulator's Python API for what its workspace holds before a test acts: schemas, tables, model versions,
Git remotes, how serving and job runs behave, and who may call it.

A mixin of `Emulator`, which builds the parts named below (and rebuilds them on reset); every method takes
the emulator's lock, as a route handler would hold it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from sandbox.databricks.auth import Auth
from sandbox.databricks.catalog import Catalog
from sandbox.databricks.jobs import Jobs
from sandbox.databricks.permissions import Principals
from sandbox.databricks.repos import Repos
from sandbox.databricks.serving import Serving
from sandbox.databricks.serving_metrics import VersionBehaviour
from sandbox.databricks.state import Json

DEFAULT_TOKEN = "dapi-emulator-token"  # noqa: S105 - the sandbox's documented default credential
DEFAULT_USER = "emulator-user@example.com"
"""The default token's user; what a test seeds belongs to this user."""


class Seeding:
    """Seeds the workspace's objects and principals, and sets how its endpoints and jobs behave."""

    _lock: threading.RLock
    auth: Auth
    catalog: Catalog
    jobs: Jobs
    principals: Principals
    repos: Repos
    serving: Serving

    def seed_schema(self, full_name: str) -> str:
        """Create a Unity Catalog schema; returns its `schema_id`."""
        with self._lock:
            return self.catalog.seed_schema(full_name, DEFAULT_USER).schema_id

    def seed_git_remote(
        self,
        url: str,
        *,
        branches: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        private: bool = False,
    ) -> Json:
        """Create or replace the Git remote a Git folder clones from (see `sandbox.databricks.repos`)."""
        with self._lock:
            return self.repos.seed_remote(
                url, branches=dict(branches) if branches else None, tags=dict(tags) if tags else None, private=private
            )

    def push_git_branch(self, url: str, branch: str, commit: str | None = None) -> str:
        """Move a branch of a Git remote to a new head commit, as a push would; returns the commit."""
        with self._lock:
            return str(self.repos.push(url, branch, commit)["head_commit_id"])

    def seed_table(self, full_name: str, columns: Sequence[str | Json] | None = None) -> str:
        """Create a table (and its schema); returns its `table_id`."""
        with self._lock:
            return self.catalog.seed_table(full_name, DEFAULT_USER, None if columns is None else list(columns)).table_id

    def seed_model_version(
        self,
        full_name: str,
        *,
        source: str,
        run_id: str | None = None,
        status: str = "READY",
        comment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> int:
        """Register a model version as a training job would (model and schema created if missing)."""
        with self._lock:
            info = self.catalog.seed_model_version(
                full_name, DEFAULT_USER, source=source, run_id=run_id, status=status, comment=comment, tags=tags
            )
            return int(info["version"])

    def set_model_version_status(self, full_name: str, version: int, status: str) -> None:
        with self._lock:
            self.catalog.set_version_status(full_name, version, status)

    def set_version_behaviour(self, model: str, version: int, **behaviour: float) -> VersionBehaviour:
        """How the requests served by `model` version `version` go, as the serving metrics export shows them:
        `error_rate` and `client_error_rate` (fractions answered 5xx and 4xx), `latency_p50_ms`,
        `latency_p99_ms`, `cpu_usage_percent`, `memory_usage_percent`. Parts not named stay as they were."""
        with self._lock:
            return self.serving.health.set_version_behaviour(model, version, behaviour)

    def set_request_rate(self, endpoint: str, requests_per_second: float) -> None:
        """The requests per second `endpoint` gets (10 until set); its traffic split shares them out."""
        with self._lock:
            self.serving.health.set_request_rate(endpoint, requests_per_second)

    def set_run_result(self, result: str) -> None:
        """How later job runs end: SUCCESS (default), FAILED, TIMEDOUT or CANCELED."""
        with self._lock:
            self.jobs.set_run_result(result)

    def add_token(self, token: str, user_name: str = DEFAULT_USER) -> None:
        with self._lock:
            self.auth.tokens[token] = user_name

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self.auth.tokens.pop(token, None)

    def add_principal(self, kind: str, name: str) -> None:
        """Make a principal known to the workspace: `kind` is user_name, group_name or service_principal_name."""
        with self._lock:
            self.principals.add(kind, name)

    def add_oauth_client(self, client_id: str, client_secret: str) -> None:
        with self._lock:
            self.auth.clients[client_id] = client_secret
