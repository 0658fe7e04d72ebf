"""One drive over every route the emulator serves, succeeding and failing, for the response contract test.

Calls go through the SDK where it has a call, and as raw HTTP where it has not (MLflow's
Unity Catalog endpoints, Jobs 2.0 and 2.1, malformed requests).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.service import catalog, dataquality, jobs, ml, serving, workspace
from databricks.sdk.service.files import FilesAPI

from sandbox.databricks import DEFAULT_TOKEN, Emulator

MODEL = "main.risk.fraud"
TABLE = "main.risk.features"
COLUMNS = ["prediction", "label", "model_id", "timestamp"]
CLIENT, SECRET = "contract-client", "contract-secret"
LATER = 60.0
"""Seconds of emulator clock that finish every state machine (updates, runs, monitors, refreshes)."""


class Raw:
    """Plain HTTP as a client without an SDK call sends it; answers are recorded by the emulator, not read here."""

    def __init__(self, url: str, token: str | None = DEFAULT_TOKEN) -> None:
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __call__(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        answer = self.session.request(method, self.url + path, json=body, params=query or None, timeout=10)
        return answer.json()


def refused(call: Callable[[], object]) -> None:
    with pytest.raises(DatabricksError):
        call()


def drive_auth(emu: Emulator) -> None:
    emu.add_oauth_client(CLIENT, SECRET)
    sp = WorkspaceClient(config=Config(host=emu.url, client_id=CLIENT, client_secret=SECRET, retry_timeout_seconds=10))
    sp.current_user.me()
    anonymous = Raw(emu.url, token=None)
    anonymous("GET", "/api/2.0/preview/scim/v2/Me")
    Raw(emu.url, token="dapi-wrong")("GET", "/api/2.0/preview/scim/v2/Me")
    for form in ({"grant_type": "client_credentials"}, {"grant_type": "password"}):
        requests.post(f"{emu.url}/oidc/v1/token", data=form, auth=(CLIENT, "wrong"), timeout=10)


def drive_catalog(emu: Emulator, w: WorkspaceClient, raw: Raw) -> None:
    w.schemas.get("main.risk")
    w.tables.get(TABLE)
    w.tables.exists(TABLE)
    list(w.registered_models.list(catalog_name="main", schema_name="risk"))  # none yet
    w.registered_models.create(catalog_name="main", schema_name="risk", name="fraud", comment="scores payments")
    list(w.model_versions.list(MODEL))  # none yet
    emu.seed_model_version(MODEL, source="models:/m-1", run_id="r1", tags={"team": "risk"}, comment="first")
    emu.seed_model_version(MODEL, source="models:/m-2")
    list(w.registered_models.list(catalog_name="main", schema_name="risk"))
    w.registered_models.update(MODEL, comment="scores card payments")
    w.registered_models.set_alias(MODEL, "champion", 1)
    w.registered_models.get(MODEL, include_aliases=True)
    w.model_versions.get_by_alias(MODEL, "champion")
    list(w.model_versions.list(MODEL))
    w.model_versions.update(MODEL, 2, comment="second")
    w.model_versions.get(MODEL, 1)
    ml = "/api/2.0/mlflow/unity-catalog"
    raw("POST", f"{ml}/registered-models/set-tag", {"name": MODEL, "key": "k", "value": "v"})
    raw("GET", f"{ml}/registered-models/get", name=MODEL)
    raw("DELETE", f"{ml}/registered-models/delete-tag", {"name": MODEL, "key": "k"})
    raw("POST", f"{ml}/model-versions/set-tag", {"name": MODEL, "version": "1", "key": "k", "value": "v"})
    raw("GET", f"{ml}/model-versions/get", name=MODEL, version="1")
    raw("DELETE", f"{ml}/model-versions/delete-tag", {"name": MODEL, "version": "1", "key": "k"})
    raw("GET", f"{ml}/registered-models/get", name="main.risk.missing")
    refused(lambda: w.registered_models.create(catalog_name="main", schema_name="risk", name="fraud"))
    refused(lambda: w.registered_models.get("main.risk.missing"))
    refused(lambda: w.registered_models.set_alias(MODEL, "latest", 1))
    refused(lambda: w.schemas.get("main.missing"))
    refused(lambda: w.tables.get("main.risk.missing"))


def drive_serving(emu: Emulator, w: WorkspaceClient) -> None:
    entity = serving.ServedEntityInput(entity_name=MODEL, entity_version="1", workload_size="Small")
    config = serving.EndpointCoreConfigInput(name="fraud", served_entities=[entity])
    list(w.serving_endpoints.list())  # none yet
    w.serving_endpoints.create("bare")  # no config, no tags
    w.serving_endpoints.get("bare")
    w.serving_endpoints.delete("bare")
    w.serving_endpoints.create("fraud", config=config, tags=[serving.EndpointTag(key="team", value="risk")])
    w.serving_endpoints.get("fraud")  # updating: pending_config is shown
    refused(lambda: w.serving_endpoints.patch("fraud", add_tags=[serving.EndpointTag(key="a", value="b")]))
    emu.advance_clock(LATER)
    w.serving_endpoints.update_config("fraud", served_entities=[entity])
    emu.advance_clock(LATER)
    w.serving_endpoints.patch("fraud", add_tags=[serving.EndpointTag(key="env", value="prod")], delete_tags=["team"])
    w.serving_endpoints.put_ai_gateway(
        "fraud",
        inference_table_config=serving.AiGatewayInferenceTableConfig(
            catalog_name="main", schema_name="risk", enabled=True
        ),
        rate_limits=[
            serving.AiGatewayRateLimit(
                calls=100,
                renewal_period=serving.AiGatewayRateLimitRenewalPeriod.MINUTE,
                key=serving.AiGatewayRateLimitKey.USER,
            )
        ],
        usage_tracking_config=serving.AiGatewayUsageTrackingConfig(enabled=True),
    )
    w.serving_endpoints.put(
        "fraud", rate_limits=[serving.RateLimit(calls=5, renewal_period=serving.RateLimitRenewalPeriod.MINUTE)]
    )
    w.serving_endpoints.get("fraud")
    list(w.serving_endpoints.list())
    w.serving_endpoints.export_metrics("fraud")
    refused(lambda: w.serving_endpoints.create("fraud", config=config))
    refused(lambda: w.serving_endpoints.get("missing"))
    refused(lambda: w.serving_endpoints.export_metrics("missing"))
    w.serving_endpoints.delete("fraud")


def job_settings(name: str) -> dict[str, Any]:
    notebook = {"notebook_path": "/Repos/risk/train", "base_parameters": {"day": "1"}}
    return {
        "name": name,
        "tasks": [
            {"task_key": "train", "notebook_task": notebook, "existing_cluster_id": "0101-abc"},
            {"task_key": "score", "depends_on": [{"task_key": "train"}], "notebook_task": notebook},
        ],
        "schedule": {"quartz_cron_expression": "0 0 3 * * ?", "timezone_id": "UTC"},
        "parameters": [{"name": "day", "default": "1"}],
        "email_notifications": {"on_failure": ["risk@example.com"]},
        "tags": {"team": "risk"},
    }


def drive_jobs(emu: Emulator, w: WorkspaceClient) -> None:
    list(w.jobs.list())  # none yet
    bare = w.jobs.create(name="bare").job_id or 0  # no tasks, no tags, no parameters
    w.jobs.get(bare)
    list(w.jobs.list_runs(job_id=bare))  # none yet
    w.jobs.delete(bare)
    settings = jobs.JobSettings.from_dict(job_settings("retrain"))
    job_id = w.jobs.create(
        name=settings.name,
        tasks=settings.tasks,
        schedule=settings.schedule,
        parameters=settings.parameters,
        email_notifications=settings.email_notifications,
        tags=settings.tags,
    ).job_id
    assert job_id is not None
    w.jobs.get(job_id)
    list(w.jobs.list(expand_tasks=True))
    w.jobs.reset(job_id, settings)
    w.jobs.update(job_id, new_settings=jobs.JobSettings(description="nightly"), fields_to_remove=["tags"])
    run_id = w.jobs.run_now(job_id, job_parameters={"day": "2"}).run_id or 0
    w.jobs.get_run(run_id)
    emu.advance_clock(LATER)
    w.jobs.get_run(run_id)
    cancelled = w.jobs.run_now(job_id).run_id or 0
    w.jobs.cancel_run(cancelled)
    list(w.jobs.list_runs(job_id=job_id))
    refused(lambda: w.jobs.get(999_999))
    refused(lambda: w.jobs.get_run(999_999))
    w.jobs.delete(job_id)


def drive_deployment_jobs(emu: Emulator, w: WorkspaceClient, raw: Raw) -> None:
    """MLflow 3's deployment job on MODEL: set (and refused for a missing job), a run for a new version, cleared."""
    update, version = (
        "/api/2.0/mlflow/unity-catalog/registered-models/update",
        "/api/2.0/mlflow/unity-catalog/model-versions/get",
    )
    parameters = [
        jobs.JobParameterDefinition(name="model_name", default=""),
        jobs.JobParameterDefinition(name="model_version", default=""),
    ]
    job_id = w.jobs.create(name="deploy", parameters=parameters).job_id
    # Tagged: the emulator's registered-model read still sends an empty tags array (tests rely on it).
    raw("POST", "/api/2.0/mlflow/unity-catalog/registered-models/set-tag", {"name": MODEL, "key": "k", "value": "v"})
    raw("PATCH", update, {"name": MODEL, "deployment_job_id": "999999"})
    raw("PATCH", update, {"name": MODEL, "deployment_job_id": str(job_id)})
    raw("GET", "/api/2.0/mlflow/unity-catalog/registered-models/get", name=MODEL)
    number = emu.seed_model_version(MODEL, source="models:/m-3", tags={"team": "risk"})
    w.registered_models.set_alias(MODEL, "deployed", number)
    raw("GET", version, name=MODEL, version=str(number))
    search = "/api/2.0/mlflow/unity-catalog/model-versions/search"
    raw("GET", search, filter=f"name = '{MODEL}'", max_results=2)
    raw("GET", search, filter="run_id = 'r1'")
    emu.advance_clock(LATER)
    raw("GET", version, name=MODEL, version=str(number))
    raw("PATCH", update, {"name": MODEL, "deployment_job_id": ""})
    w.registered_models.delete_alias(MODEL, "deployed")


def drive_model_files(w: WorkspaceClient, raw: Raw) -> None:
    """A version made as MLflow makes one: created PENDING_REGISTRATION, its files uploaded, listed, read, finalized."""
    ml = "/api/2.0/mlflow/unity-catalog/model-versions"
    made = raw("POST", f"{ml}/create", {"name": MODEL, "source": "models:/m-9", "tags": [{"key": "k", "value": "v"}]})
    version = made["model_version"]["version"]
    root = f"/Models/{MODEL.replace('.', '/')}/{version}"
    files = FilesAPI(w.api_client)
    files.upload(f"{root}/MLmodel", io.BytesIO(b"flavors: {}\n"), overwrite=True)
    files.upload(f"{root}/data/model.bin", io.BytesIO(bytes(range(256))))
    refused(lambda: files.upload(f"{root}/MLmodel", io.BytesIO(b"again"), overwrite=False))
    list(files.list_directory_contents(root))
    list(files.list_directory_contents(f"{root}/data"))
    files.get_directory_metadata(f"{root}/data")
    files.download(f"{root}/data/model.bin")
    refused(lambda: files.download(f"{root}/missing"))
    refused(lambda: list(files.list_directory_contents(f"{root}/missing")))
    raw("POST", f"{ml}/finalize", {"name": MODEL, "version": version})
    raw("POST", f"{ml}/finalize", {"name": MODEL, "version": version})  # not pending any more
    refused(lambda: files.upload(f"{root}/late", io.BytesIO(b"late")))
    raw("POST", f"{ml}/create", {"name": "main.risk.missing", "source": "models:/m-9"})


def drive_legacy_jobs(emu: Emulator, raw: Raw) -> None:
    """Jobs 2.0 and 2.1, which the SDK no longer calls, with the same settings, and a 2.0 single-task job."""
    single = {"name": "single", "notebook_task": {"notebook_path": "/Repos/risk/train"}, "existing_cluster_id": "c"}
    for version, settings in (("2.1", job_settings("legacy")), ("2.0", job_settings("legacy")), ("2.0", single)):
        base = f"/api/{version}/jobs"
        job_id = raw("POST", f"{base}/create", settings)["job_id"]
        raw("GET", f"{base}/get", job_id=job_id)
        raw("GET", f"{base}/list", expand_tasks="true")
        raw("POST", f"{base}/reset", {"job_id": job_id, "new_settings": settings})
        raw("POST", f"{base}/update", {"job_id": job_id, "new_settings": {"description": "nightly"}})
        run_id = raw("POST", f"{base}/run-now", {"job_id": job_id})["run_id"]
        emu.advance_clock(LATER)
        raw("GET", f"{base}/runs/get", run_id=run_id)
        cancelled = raw("POST", f"{base}/run-now", {"job_id": job_id})["run_id"]
        raw("POST", f"{base}/runs/cancel", {"run_id": cancelled})
        raw("GET", f"{base}/runs/list", job_id=job_id)
        raw("GET", f"{base}/get", job_id=999_999)
        raw("POST", f"{base}/delete", {"job_id": job_id})


def drive_monitors(emu: Emulator, w: WorkspaceClient) -> None:
    table_id = w.tables.get(TABLE).table_id or ""
    schema_id = w.schemas.get("main.risk_monitoring").schema_id or ""
    config = dataquality.DataProfilingConfig(
        output_schema_id=schema_id,
        inference_log=dataquality.InferenceLogConfig(
            problem_type=dataquality.InferenceProblemType.INFERENCE_PROBLEM_TYPE_CLASSIFICATION,
            prediction_column="prediction",
            label_column="label",
            model_id_column="model_id",
            timestamp_column="timestamp",
            granularities=[dataquality.AggregationGranularity.AGGREGATION_GRANULARITY_1_DAY],
        ),
        schedule=dataquality.CronSchedule(quartz_cron_expression="0 0 * * * ?", timezone_id="UTC"),
        slicing_exprs=["model_id"],
    )
    monitor = dataquality.Monitor(object_type="table", object_id=table_id, data_profiling_config=config)
    list(w.data_quality.list_monitor())  # none yet
    w.data_quality.create_monitor(monitor)
    w.data_quality.get_monitor("table", table_id)
    refused(lambda: w.data_quality.create_refresh("table", table_id, dataquality.Refresh("table", table_id)))
    emu.advance_clock(LATER)
    list(w.data_quality.list_monitor())
    w.data_quality.update_monitor("table", table_id, monitor, "data_profiling_config.schedule")
    list(w.data_quality.list_refresh("table", table_id))  # none yet
    refresh = w.data_quality.create_refresh("table", table_id, dataquality.Refresh("table", table_id))
    emu.advance_clock(LATER)
    w.data_quality.get_refresh("table", table_id, refresh.refresh_id or 0)
    list(w.data_quality.list_refresh("table", table_id))
    refused(lambda: w.data_quality.get_monitor("table", "00000000-0000-0000-0000-000000000000"))
    w.data_quality.delete_monitor("table", table_id)


def drive_legacy_monitors(emu: Emulator, w: WorkspaceClient) -> None:
    """`w.quality_monitors`, the API the data-quality one replaces."""
    emu.seed_table("main.risk.legacy", columns=COLUMNS)
    log = catalog.MonitorInferenceLog(
        problem_type=catalog.MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION,
        prediction_col="prediction",
        label_col="label",
        model_id_col="model_id",
        timestamp_col="timestamp",
        granularities=["1 day"],
    )
    monitors = w.quality_monitors
    monitors.create(
        "main.risk.legacy",
        output_schema_name="main.risk_monitoring",
        assets_dir="/Workspace/Users/me/legacy",
        inference_log=log,
    )
    monitors.get("main.risk.legacy")
    emu.advance_clock(LATER)
    monitors.update(
        "main.risk.legacy", output_schema_name="main.risk_monitoring", inference_log=log, slicing_exprs=["model_id"]
    )
    monitors.list_refreshes("main.risk.legacy")  # none yet
    refresh = monitors.run_refresh("main.risk.legacy")
    emu.advance_clock(LATER)
    monitors.get_refresh("main.risk.legacy", refresh.refresh_id or 0)
    monitors.list_refreshes("main.risk.legacy")
    refused(lambda: monitors.get("main.risk.missing"))
    monitors.delete("main.risk.legacy")


def drive_catalog_deletes(w: WorkspaceClient) -> None:
    w.registered_models.delete_alias(MODEL, "champion")
    refused(lambda: w.registered_models.delete_alias(MODEL, "champion"))
    w.model_versions.delete(MODEL, 2)
    w.registered_models.delete(MODEL)
    w.tables.delete(TABLE)


def drive_experiments(w: WorkspaceClient, raw: Raw) -> None:
    """What the Experiment kind calls, and the calls a person makes in the UI (rename, search)."""
    created = w.experiments.create_experiment(
        "/Shared/exp", artifact_location="s3://b/exp", tags=[ml.ExperimentTag("a", "1")]
    )
    experiment = str(created.experiment_id)
    refused(lambda: w.experiments.create_experiment("exp"))  # not a workspace path
    w.experiments.get_experiment(experiment)
    w.experiments.get_by_name("/Shared/exp")
    refused(lambda: w.experiments.get_by_name("/Shared/missing"))
    refused(lambda: w.experiments.get_experiment("424242"))
    w.experiments.set_experiment_tag(experiment, "b", "2")
    refused(lambda: w.experiments.set_experiment_tag(experiment, "k" * 251, "x"))
    raw("POST", "/api/2.0/mlflow/experiments/delete-experiment-tag", {"experiment_id": experiment, "key": "b"})
    raw("POST", "/api/2.0/mlflow/experiments/delete-experiment-tag", {"experiment_id": experiment, "key": "b"})
    w.experiments.update_experiment(experiment, new_name="/Shared/exp-renamed")
    refused(lambda: w.experiments.update_experiment(experiment, new_name="renamed"))
    list(w.experiments.search_experiments(filter="name = '/Shared/exp-renamed'"))
    list(w.experiments.search_experiments(view_type=ml.ViewType.ALL))
    raw("POST", "/api/2.0/mlflow/experiments/search", {"view_type": "NEITHER"})
    refused(lambda: w.experiments.restore_experiment(experiment))  # still active
    w.experiments.delete_experiment(experiment)
    refused(lambda: w.experiments.delete_experiment(experiment))
    refused(lambda: w.experiments.set_experiment_tag(experiment, "b", "2"))  # deleted
    w.experiments.restore_experiment(experiment)


def drive_http_errors(raw: Raw) -> None:
    raw("GET", "/api/2.0/not-a-thing")
    raw.session.post(f"{raw.url}/api/2.2/jobs/create", data=b'{"name": ', timeout=10)
    raw.session.post(f"{raw.url}/api/2.2/jobs/create", data=b"[]", timeout=10)


def drive_tracking(w: WorkspaceClient) -> None:
    """Training's calls, then the reads promotion gates make."""
    experiment = w.experiments.create_experiment("/Shared/contract").experiment_id
    assert experiment is not None
    refused(lambda: w.experiments.create_experiment("/Shared/contract"))
    run = w.experiments.create_run(experiment_id=experiment).run
    assert run is not None
    assert run.info is not None
    assert run.info.run_id is not None
    w.experiments.get_run(run.info.run_id)  # no metrics yet
    model = w.experiments.create_logged_model(experiment, source_run_id=run.info.run_id).model
    assert model is not None
    assert model.info is not None
    assert model.info.model_id is not None
    w.experiments.get_logged_model(model.info.model_id)  # no metrics yet
    w.experiments.log_metric("val_auc", 0.93, 1, run_id=run.info.run_id, model_id=model.info.model_id, step=1)
    w.experiments.finalize_logged_model(model.info.model_id, ml.LoggedModelStatus.LOGGED_MODEL_READY)
    w.experiments.update_run(run_id=run.info.run_id, status=ml.UpdateRunStatus.FINISHED)
    w.experiments.get_run(run.info.run_id)
    w.experiments.get_logged_model(model.info.model_id)
    refused(lambda: w.experiments.get_run("0" * 32))
    refused(lambda: w.experiments.get_logged_model("m-missing"))
    refused(lambda: w.experiments.create_run(experiment_id="424242"))
    refused(lambda: w.experiments.log_metric("val_auc", 0.9, 1, run_id="0" * 32))


def drive_repos(emu: Emulator, w: WorkspaceClient) -> None:
    private = "https://github.com/acme/private-code.git"
    emu.seed_git_remote(private, branches={"main": "a" * 40, "dev": "b" * 40}, tags={"v1": "c" * 40}, private=True)
    refused(lambda: w.repos.create(private, "gitHub", path="/Repos/team/private-code"))  # no credential yet
    credential = w.git_credentials.create("gitHub", git_username="me", personal_access_token="ghp-contract")
    refused(lambda: w.git_credentials.create("GitHub", personal_access_token="ghp-again"))
    list(w.git_credentials.list())
    sparse = workspace.SparseCheckout(patterns=["notebooks"])
    repo = w.repos.create(private, "gitHub", path="/Repos/team/private-code", sparse_checkout=sparse)
    assert repo.id is not None
    refused(lambda: w.repos.create(private, "gitHub", path="/Repos/team/private-code"))  # the path is taken
    refused(lambda: w.repos.create("not a url", "gitHub", path="/Repos/team/other"))
    refused(lambda: w.repos.create(private, "sourceForge", path="/Repos/team/other"))
    refused(lambda: w.repos.create(private, "gitHub", path="/Repos/too/deep/here"))
    w.repos.update(repo.id, branch="dev")
    w.repos.update(repo.id, tag="v1")
    refused(lambda: w.repos.update(repo.id, branch="missing"))
    w.repos.get(repo.id)
    list(w.repos.list(path_prefix="/Repos/team"))
    w.repos.delete(repo.id)
    refused(lambda: w.repos.get(repo.id))
    w.git_credentials.delete(credential.credential_id)


def drive_permissions(emu: Emulator, w: WorkspaceClient) -> None:
    """Object permissions of a job, an endpoint, an experiment and a Git folder; an unknown principal refused."""
    emu.add_principal("group_name", "data-scientists")
    emu.add_principal("service_principal_name", "6f1c-app-id")
    job = str(w.jobs.create(name="permissions").job_id)
    w.jobs.get_permissions(job)
    w.jobs.get_permission_levels(job)
    viewers = [
        jobs.JobAccessControlRequest(group_name="data-scientists", permission_level=jobs.JobPermissionLevel.CAN_VIEW)
    ]
    w.jobs.update_permissions(job, access_control_list=viewers)
    w.jobs.set_permissions(job, access_control_list=viewers)
    unknown = [jobs.JobAccessControlRequest(group_name="nobody", permission_level=jobs.JobPermissionLevel.CAN_VIEW)]
    refused(lambda: w.jobs.update_permissions(job, access_control_list=unknown))
    refused(lambda: w.jobs.get_permissions("999999"))
    endpoint = w.serving_endpoints.create("permissions").response
    assert endpoint is not None
    assert endpoint.id is not None
    query = serving.ServingEndpointPermissionLevel.CAN_QUERY
    acl = [serving.ServingEndpointAccessControlRequest(service_principal_name="6f1c-app-id", permission_level=query)]
    w.serving_endpoints.update_permissions(endpoint.id, access_control_list=acl)
    w.serving_endpoints.get_permissions(endpoint.id)
    w.serving_endpoints.get_permission_levels(endpoint.id)
    experiment = w.experiments.create_experiment("/Shared/permissions").experiment_id or ""
    edit = ml.ExperimentPermissionLevel.CAN_EDIT
    w.experiments.set_permissions(
        experiment, access_control_list=[ml.ExperimentAccessControlRequest(group_name="users", permission_level=edit)]
    )
    w.experiments.get_permissions(experiment)
    model = "main.risk.granted"
    emu.seed_model_version(model, source="models:/m-granted")
    w.grants.get("FUNCTION", model)  # no grants yet
    execute = [catalog.PermissionsChange(principal="data-scientists", add=[catalog.Privilege.EXECUTE])]
    w.grants.update("FUNCTION", model, changes=execute)
    w.grants.get("FUNCTION", model)
    unknown = [catalog.PermissionsChange(principal="nobody", add=[catalog.Privilege.EXECUTE])]
    refused(lambda: w.grants.update("FUNCTION", model, changes=unknown))
    refused(lambda: w.grants.get("FUNCTION", "main.risk.missing"))


def drive_all(emu: Emulator) -> None:
    """Seeds what the calls need, then calls every route; `emu` is freshly reset."""
    emu.set_timings(endpoint_update=1, run_pending=1, run_running=1, monitor_pending=1)
    emu.seed_schema("main.risk")
    emu.seed_schema("main.risk_monitoring")
    emu.seed_table(TABLE, columns=COLUMNS)
    w = WorkspaceClient(config=Config(host=emu.url, token=DEFAULT_TOKEN, auth_type="pat", retry_timeout_seconds=10))
    raw = Raw(emu.url)
    drive_auth(emu)
    drive_catalog(emu, w, raw)
    drive_serving(emu, w)
    drive_jobs(emu, w)
    drive_deployment_jobs(emu, w, raw)
    drive_model_files(w, raw)
    drive_legacy_jobs(emu, raw)
    drive_monitors(emu, w)
    drive_tracking(w)
    drive_experiments(w, raw)
    drive_legacy_monitors(emu, w)
    drive_catalog_deletes(w)
    drive_http_errors(raw)
    drive_repos(emu, w)
    drive_permissions(emu, w)
