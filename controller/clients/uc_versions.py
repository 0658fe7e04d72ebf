"""Registering a Unity Catalog model version the way MLflow's client does, in its three steps.

Create (the version is PENDING_REGISTRATION and carries its tags from the start), upload its files
(model_files.VersionFiles), finalize (READY). Databricks has no server-side copy of a version: MLflow's
own `copy_model_version` downloads the source and registers it again, and so does the controller.
"""

from __future__ import annotations

import time
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.ml import UpdateRunStatus

_VERSIONS = "/api/2.0/mlflow/unity-catalog/model-versions"
COPY_EXPERIMENT = "/Shared/mlops-gitops-controller-copies"
"""The workspace experiment holding the runs that carry copied versions' metrics."""


def find_by_source(client: WorkspaceClient, name: str, source: str) -> dict[str, Any] | None:
    """The version of `name` registered from `source` (in any state), through MLflow-on-UC's paged search."""
    token: str | None = None
    while True:
        query = {"filter": f"name = '{name}'", **({"page_token": token} if token else {})}
        raw = client.api_client.do("GET", f"{_VERSIONS}/search", query=query)
        answer: dict[str, Any] = raw if isinstance(raw, dict) else {}
        for version in answer.get("model_versions") or []:
            if version.get("source") == source:
                return dict(version)
        token = answer.get("next_page_token") or None
        if token is None:
            return None


def create_pending(
    client: WorkspaceClient,
    name: str,
    *,
    source: str,
    tags: dict[str, str],
    description: str | None,
    run_id: str | None = None,
) -> dict[str, Any]:
    """A new version, PENDING_REGISTRATION until finalized."""
    body: dict[str, Any] = {"name": name, "source": source, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
    if description:
        body["description"] = description
    if run_id:
        body["run_id"] = run_id
    raw = client.api_client.do("POST", f"{_VERSIONS}/create", body=body)
    return dict(raw["model_version"]) if isinstance(raw, dict) else {}


def finalize(client: WorkspaceClient, name: str, version: int) -> dict[str, Any]:
    """PENDING_REGISTRATION → READY, once every file is uploaded."""
    raw = client.api_client.do("POST", f"{_VERSIONS}/finalize", body={"name": name, "version": str(version)})
    return dict(raw["model_version"]) if isinstance(raw, dict) else {}


def record_metrics(client: WorkspaceClient, metrics: dict[str, float], run_name: str) -> str:
    """A finished run in this workspace holding `metrics` (measured in the source): the copy's run, so the
    gates judge it on them. Returns its id."""
    now = int(time.time() * 1000)
    created = client.experiments.create_run(experiment_id=_copy_experiment(client), run_name=run_name, start_time=now)
    run_id = created.run.info.run_id if created.run and created.run.info else None
    assert run_id, "runs/create answered no run id"
    for key, value in sorted(metrics.items()):
        client.experiments.log_metric(key, value, now, run_id=run_id)
    client.experiments.update_run(run_id=run_id, status=UpdateRunStatus.FINISHED, end_time=now)
    return run_id


def _copy_experiment(client: WorkspaceClient) -> str:
    for _ in range(2):  # found, made, or made by another replica meanwhile and found the second time
        try:
            found = client.experiments.get_by_name(COPY_EXPERIMENT).experiment
            if found is not None and found.experiment_id:
                return found.experiment_id
        except NotFound:
            pass
        try:
            made = client.experiments.create_experiment(COPY_EXPERIMENT).experiment_id
            if made:
                return made
        except ResourceAlreadyExists:
            continue
    raise NotFound(f"experiment {COPY_EXPERIMENT} could neither be found nor created")
