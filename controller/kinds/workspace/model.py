"""Workspace: a connection to a Databricks workspace or an MLflow server."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import Field

from controller.api.common import K8S_NAME_PATTERN, CamelModel, ManagedStatus
from controller.api.crd import KindDefinition, PrinterColumn

DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
# 0s would mean a read per resource without pause, and more than a day is drift correction switched off
# without saying so. 1s is the floor so that sandboxes and tests can run fast.
MIN_DRIFT_INTERVAL = "1s"
MAX_DRIFT_INTERVAL = "24h"


class SecretRef(CamelModel):
    """A Secret in the same namespace as the Workspace."""

    name: str = Field(min_length=1, max_length=253, pattern=K8S_NAME_PATTERN)
    """Name of the Secret."""


class DatabricksConnection(CamelModel):
    """How to reach a Databricks workspace."""

    host: str = Field(min_length=1, max_length=512, pattern=r"^https?://[^\s/]+/?$")
    """The workspace URL, e.g. https://adb-1234.5.azuredatabricks.net."""

    credentials_secret_ref: SecretRef
    """A Secret with either `token` (a personal access token) or `client_id` and `client_secret`
    (OAuth machine-to-machine for a service principal)."""


class MlflowConnection(CamelModel):
    """How to reach an MLflow tracking server and its model registry."""

    tracking_uri: str = Field(min_length=1, max_length=512, pattern=r"^https?://\S+$")
    """The tracking server URL, e.g. http://mlflow.mlops.svc:5000."""

    registry_uri: str | None = Field(default=None, min_length=1, max_length=512, pattern=r"^https?://\S+$")
    """The model registry URL, when it is not the tracking server."""

    credentials_secret_ref: SecretRef | None = None
    """An optional Secret with `token` (bearer token) or `username` and `password` (basic auth)."""


class WorkspaceSpec(CamelModel):
    """The connection, and how often resources using it re-check for drift."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.databricks) != has(self.mlflow)",
                    "message": "set exactly one of databricks or mlflow",
                }
            ]
        }
    }

    databricks: DatabricksConnection | None = None
    """A Databricks workspace."""

    mlflow: MlflowConnection | None = None
    """An MLflow tracking server (open source or self-hosted)."""

    drift_interval: str = Field(
        default="5m",
        min_length=2,
        max_length=16,
        pattern=DURATION_PATTERN,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": f"duration(self) >= duration('{MIN_DRIFT_INTERVAL}')"
                    f" && duration(self) <= duration('{MAX_DRIFT_INTERVAL}')",
                    "message": f"driftInterval must be from {MIN_DRIFT_INTERVAL} to {MAX_DRIFT_INTERVAL}",
                }
            ]
        },
    )
    """How often each resource in this workspace re-reads its external object to find and correct drift,
    as a duration from 1s to 24h such as 30s, 5m or 1h."""

    @property
    def drift_seconds(self) -> float:
        """driftInterval in seconds; at least one, for a 0s stored before the API server refused it."""
        match = re.fullmatch(DURATION_PATTERN, self.drift_interval)
        assert match is not None  # the pattern is enforced on input
        hours, minutes, seconds = (int(part[:-1]) if part else 0 for part in match.groups())
        return float(max(1, hours * 3600 + minutes * 60 + seconds))


class WorkspaceStatus(ManagedStatus):
    """The result of the last connection check."""

    connected: bool = False
    """Whether the last connection check succeeded."""

    identity: str | None = None
    """Who the controller is in the workspace (user or service principal), where the service tells."""

    server_version: str | None = None
    """The server's version, where the service tells."""

    checked_at: datetime | None = None
    """When the connection was last checked."""

    last_connected_at: datetime | None = None
    """When a connection check last succeeded. Once a Workspace has connected, a failing check no longer
    holds back the resources in it: their own calls tell whether they can reach the service."""


DEFINITION = KindDefinition(
    kind="Workspace",
    plural="workspaces",
    short_names=("mlws",),
    description="A connection to a Databricks workspace or an MLflow server that other mlops resources use.",
    spec=WorkspaceSpec,
    status=WorkspaceStatus,
    printer_columns=(
        PrinterColumn("Connected", ".status.connected", type="boolean"),
        PrinterColumn("Identity", ".status.identity"),
    ),
)
