"""Registering a Unity Catalog model version the way MLflow's client does, in its three steps.

Create (the version is PENDING_REGISTRATION and carries its tags from the start), upload its files
(model_files.VersionFiles), finalize (READY). Databricks has no server-side copy of a version: MLflow's
own `copy_model_version` downloads the source and registers it again, and so does the controller.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk import WorkspaceClient

_VERSIONS = "/api/2.0/mlflow/unity-catalog/model-versions"


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
    client: WorkspaceClient, name: str, *, source: str, tags: dict[str, str], description: str | None
) -> dict[str, Any]:
    """A new version, PENDING_REGISTRATION until finalized."""
    body: dict[str, Any] = {"name": name, "source": source, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
    if description:
        body["description"] = description
    raw = client.api_client.do("POST", f"{_VERSIONS}/create", body=body)
    return dict(raw["model_version"]) if isinstance(raw, dict) else {}


def finalize(client: WorkspaceClient, name: str, version: int) -> dict[str, Any]:
    """PENDING_REGISTRATION → READY, once every file is uploaded."""
    raw = client.api_client.do("POST", f"{_VERSIONS}/finalize", body={"name": name, "version": str(version)})
    return dict(raw["model_version"]) if isinstance(raw, dict) else {}
