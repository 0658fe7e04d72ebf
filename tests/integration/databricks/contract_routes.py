"""The contract of each route: the type the client that calls it parses the answer into (checks: contract.py)."""

from __future__ import annotations

import typing
from typing import Any

from databricks.sdk import oauth
from databricks.sdk.service import catalog, dataquality, files, iam, jobs, ml, serving, workspace
from mlflow.protos import databricks_uc_registry_messages_pb2 as uc

from tests.integration.databricks.contract import (
    EMPTY,
    OCTET_STREAM,
    PROMETHEUS_TEXT,
    Contract,
    Legacy,
    OAuthDocument,
    wire_keys,
)

# RFC 8414 section 2 (authorization server metadata) and RFC 6749 section 5.1 (the token answer).
_DISCOVERY_KEYS = frozenset(
    [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "registration_endpoint",
        "scopes_supported",
        "response_types_supported",
        "response_modes_supported",
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "service_documentation",
        "ui_locales_supported",
        "op_policy_uri",
        "op_tos_uri",
        "revocation_endpoint",
        "revocation_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint",
        "introspection_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
        "code_challenge_methods_supported",
    ]
)
_TOKEN_KEYS = frozenset({"access_token", "token_type", "expires_in", "refresh_token", "scope"})
_UC = "/api/2.1/unity-catalog"
_ML = "/api/2.0/mlflow/unity-catalog"
_EP = "/api/2.0/serving-endpoints"
_DQ = "/api/data-quality/v1/monitors"
_QM = "/api/2.1/unity-catalog/tables/{table_name}/monitor"


def _legacy_jobs(version: str) -> dict[type, dict[str, Any]]:
    """What Jobs 2.1 and 2.0 still show (their API reference): a run's `format`; in 2.0 a single-task job's task
    fields at the top of its settings, and its runs' `task`."""
    if version == "2.2":
        return {}
    runs: dict[str, Any] = {"format": jobs.Format}
    extra: dict[type, dict[str, Any]] = {jobs.Run: runs, jobs.BaseRun: runs}
    if version == "2.0":
        runs["task"] = jobs.Task
        task, settings = typing.get_type_hints(jobs.Task), wire_keys(jobs.JobSettings)
        extra[jobs.JobSettings] = {
            key: task[field] for key, field in wire_keys(jobs.Task).items() if key not in settings
        }
    return extra


def _jobs(version: str) -> dict[str, Contract]:
    """Every version answers in 2.2's shapes (2.2 pages long arrays), which the SDK's classes describe."""
    base, extra = f"/api/{version}/jobs", _legacy_jobs(version)

    def kind(cls: type) -> Contract:
        return Legacy(cls, extra) if extra else cls

    return {
        f"POST {base}/create": jobs.CreateResponse,
        f"GET {base}/get": kind(jobs.Job),
        f"GET {base}/list": kind(jobs.ListJobsResponse),
        f"POST {base}/reset": EMPTY,
        f"POST {base}/update": EMPTY,
        f"POST {base}/delete": EMPTY,
        f"POST {base}/run-now": jobs.RunNowResponse,
        f"GET {base}/runs/get": kind(jobs.Run),
        f"GET {base}/runs/list": kind(jobs.ListRunsResponse),
        f"POST {base}/runs/cancel": EMPTY,
    }


ROUTES: dict[str, Contract] = {
    "GET /.well-known/databricks-config": oauth.HostMetadata,
    "GET /oidc/.well-known/oauth-authorization-server": OAuthDocument(
        _DISCOVERY_KEYS, {"authorization_endpoint": str, "token_endpoint": str}
    ),
    "POST /oidc/v1/token": OAuthDocument(_TOKEN_KEYS, {"access_token": str, "token_type": str, "expires_in": int}),
    "GET /api/2.0/preview/scim/v2/Me": iam.User,
    f"POST {_EP}": serving.ServingEndpointDetailed,
    f"GET {_EP}": serving.ListEndpointsResponse,
    f"GET {_EP}/{{name}}": serving.ServingEndpointDetailed,
    f"DELETE {_EP}/{{name}}": EMPTY,
    f"PUT {_EP}/{{name}}/config": serving.ServingEndpointDetailed,
    f"PATCH {_EP}/{{name}}/tags": serving.EndpointTags,
    f"PUT {_EP}/{{name}}/ai-gateway": serving.PutAiGatewayResponse,
    f"PUT {_EP}/{{name}}/rate-limits": serving.PutResponse,
    f"GET {_EP}/{{name}}/metrics": PROMETHEUS_TEXT,
    **{key: kind for version in ("2.0", "2.1", "2.2") for key, kind in _jobs(version).items()},
    f"GET {_UC}/schemas/{{full_name}}": catalog.SchemaInfo,
    f"GET {_UC}/tables/{{full_name}}": catalog.TableInfo,
    f"GET {_UC}/tables/{{full_name}}/exists": catalog.TableExistsResponse,
    f"DELETE {_UC}/tables/{{full_name}}": EMPTY,
    f"POST {_UC}/models": catalog.RegisteredModelInfo,
    f"GET {_UC}/models": catalog.ListRegisteredModelsResponse,
    f"GET {_UC}/models/{{full_name}}": catalog.RegisteredModelInfo,
    f"PATCH {_UC}/models/{{full_name}}": catalog.RegisteredModelInfo,
    f"DELETE {_UC}/models/{{full_name}}": EMPTY,
    f"PUT {_UC}/models/{{full_name}}/aliases/{{alias}}": catalog.RegisteredModelAlias,
    f"DELETE {_UC}/models/{{full_name}}/aliases/{{alias}}": EMPTY,
    f"GET {_UC}/models/{{full_name}}/aliases/{{alias}}": catalog.ModelVersionInfo,
    f"GET {_UC}/models/{{full_name}}/versions": catalog.ListModelVersionsResponse,
    f"GET {_UC}/models/{{full_name}}/versions/{{version}}": catalog.ModelVersionInfo,
    f"PATCH {_UC}/models/{{full_name}}/versions/{{version}}": catalog.ModelVersionInfo,
    f"DELETE {_UC}/models/{{full_name}}/versions/{{version}}": EMPTY,
    # The SDK has no call here; MLflow's Unity Catalog registry client reads these with its protobuf messages.
    f"GET {_ML}/registered-models/get": uc.GetRegisteredModelResponse,
    f"GET {_ML}/model-versions/get": uc.GetModelVersionResponse,
    f"PATCH {_ML}/registered-models/update": uc.UpdateRegisteredModelResponse,
    f"GET {_ML}/model-versions/search": uc.SearchModelVersionsResponse,
    f"POST {_ML}/registered-models/set-tag": uc.SetRegisteredModelTagResponse,
    f"DELETE {_ML}/registered-models/delete-tag": uc.DeleteRegisteredModelTagResponse,
    f"POST {_ML}/model-versions/set-tag": uc.SetModelVersionTagResponse,
    f"DELETE {_ML}/model-versions/delete-tag": uc.DeleteModelVersionTagResponse,
    f"POST {_ML}/model-versions/create": uc.CreateModelVersionResponse,
    f"POST {_ML}/model-versions/finalize": uc.FinalizeModelVersionResponse,
    # A model version's files, as MLflow's SDK-based Unity Catalog artifact repository reads and writes them.
    "PUT /api/2.0/fs/files{path*}": EMPTY,
    "GET /api/2.0/fs/files{path*}": OCTET_STREAM,
    "GET /api/2.0/fs/directories{path*}": files.ListDirectoryResponse,
    "HEAD /api/2.0/fs/directories{path*}": EMPTY,
    "POST /api/2.0/mlflow/experiments/create": ml.CreateExperimentResponse,
    "GET /api/2.0/mlflow/experiments/get": ml.GetExperimentResponse,
    "GET /api/2.0/mlflow/experiments/get-by-name": ml.GetExperimentByNameResponse,
    "POST /api/2.0/mlflow/experiments/update": ml.UpdateExperimentResponse,
    "POST /api/2.0/mlflow/experiments/delete": ml.DeleteExperimentResponse,
    "POST /api/2.0/mlflow/experiments/restore": ml.RestoreExperimentResponse,
    "POST /api/2.0/mlflow/experiments/set-experiment-tag": ml.SetExperimentTagResponse,
    # The SDK has no call here; MLflow's client posts it and reads an empty answer.
    "POST /api/2.0/mlflow/experiments/delete-experiment-tag": EMPTY,
    "POST /api/2.0/mlflow/experiments/search": ml.SearchExperimentsResponse,
    "POST /api/2.0/mlflow/runs/create": ml.CreateRunResponse,
    "GET /api/2.0/mlflow/runs/get": ml.GetRunResponse,
    "POST /api/2.0/mlflow/runs/update": ml.UpdateRunResponse,
    "POST /api/2.0/mlflow/runs/log-metric": EMPTY,
    "POST /api/2.0/mlflow/logged-models": ml.CreateLoggedModelResponse,
    "GET /api/2.0/mlflow/logged-models/{model_id}": ml.GetLoggedModelResponse,
    "PATCH /api/2.0/mlflow/logged-models/{model_id}": ml.FinalizeLoggedModelResponse,
    f"POST {_DQ}": dataquality.Monitor,
    f"GET {_DQ}": dataquality.ListMonitorResponse,
    f"GET {_DQ}/{{object_type}}/{{object_id}}": dataquality.Monitor,
    f"PATCH {_DQ}/{{object_type}}/{{object_id}}": dataquality.Monitor,
    f"DELETE {_DQ}/{{object_type}}/{{object_id}}": EMPTY,
    f"POST {_DQ}/{{object_type}}/{{object_id}}/refreshes": dataquality.Refresh,
    f"GET {_DQ}/{{object_type}}/{{object_id}}/refreshes": dataquality.ListRefreshResponse,
    f"GET {_DQ}/{{object_type}}/{{object_id}}/refreshes/{{refresh_id}}": dataquality.Refresh,
    f"POST {_QM}": catalog.MonitorInfo,
    f"GET {_QM}": catalog.MonitorInfo,
    f"PUT {_QM}": catalog.MonitorInfo,
    f"DELETE {_QM}": catalog.DeleteMonitorResponse,
    f"POST {_QM}/refreshes": catalog.MonitorRefreshInfo,
    f"GET {_QM}/refreshes": catalog.MonitorRefreshListResponse,
    f"GET {_QM}/refreshes/{{refresh_id}}": catalog.MonitorRefreshInfo,
    "POST /api/2.0/repos": workspace.CreateRepoResponse,
    "GET /api/2.0/repos": workspace.ListReposResponse,
    "GET /api/2.0/repos/{repo_id}": workspace.GetRepoResponse,
    "PATCH /api/2.0/repos/{repo_id}": workspace.UpdateRepoResponse,
    "DELETE /api/2.0/repos/{repo_id}": EMPTY,
    "POST /api/2.0/git-credentials": workspace.CreateCredentialsResponse,
    "GET /api/2.0/git-credentials": workspace.ListCredentialsResponse,
    "DELETE /api/2.0/git-credentials/{credential_id}": EMPTY,
    "GET /api/2.0/permissions/{object_type}/{object_id}": iam.ObjectPermissions,
    "PUT /api/2.0/permissions/{object_type}/{object_id}": iam.ObjectPermissions,
    "PATCH /api/2.0/permissions/{object_type}/{object_id}": iam.ObjectPermissions,
    "GET /api/2.0/permissions/{object_type}/{object_id}/permissionLevels": iam.GetPermissionLevelsResponse,
    f"GET {_UC}/permissions/{{securable_type}}/{{full_name}}": catalog.GetPermissionsResponse,
    f"PATCH {_UC}/permissions/{{securable_type}}/{{full_name}}": catalog.UpdatePermissionsResponse,
}
