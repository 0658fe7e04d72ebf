"""`mlopsctl import` on the real API server: an estate seeded straight into the emulator (not through the
controller) is imported, validates, applies, and is adopted with no write besides the ownership tags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.dataquality import DataProfilingConfig, Monitor
from databricks.sdk.service.jobs import CronSchedule, NotebookTask, Task
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    EndpointCoreConfigInput,
    EndpointTag,
    ExternalModel,
    ServedEntityInput,
)

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

MLFLOW_UC = "/api/2.0/mlflow/unity-catalog"
OWNER_TAG = "mlops.gitops.dev/owner"
# What adopting makes the controller write, and nothing else (docs/import.md): per registered model the
# owner and managed-by tags and the record of the tags and aliases it now manages; per endpoint one tags
# patch with owner and managed-by, one with the record; per job one tags update (the settings match, so no
# reset). Monitors carry no tags.
MODEL_TAG_WRITE = f"POST {MLFLOW_UC}/registered-models/set-tag"
ENDPOINT_TAG_WRITE = "PATCH /api/2.0/serving-endpoints/{name}/tags"
JOB_TAG_WRITE = "POST /api/2.2/jobs/update"


def test_an_estate_imports_validates_and_is_adopted_with_only_ownership_tags_written(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, tmp_path: Path
) -> None:
    w = WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)
    token = kubectl.namespace.replace("-", "")  # the emulator is shared by the session: names of this test's own
    estate = _seed(w, emulator, token)
    out = tmp_path / "imported"

    emulator.reset_counters()
    imported = _mlopsctl(kubectl, "import", "--workspace", "dbx", "--filter", f"*{token}*", "-o", str(out))
    assert emulator.counters()["writes"] == 0, emulator.counters()  # reading only
    assert imported.returncode == 1, imported.stderr  # some assets could not be imported, and the report says why

    files = sorted(p.name for p in out.iterdir())
    manifests = {p.name: yaml.safe_load(p.read_text()) for p in out.glob("*.yaml") if p.name != "kustomization.yaml"}
    assert set(yaml.safe_load((out / "kustomization.yaml").read_text())["resources"]) == set(manifests)
    assert "IMPORT-REPORT.md" in files
    report = (out / "IMPORT-REPORT.md").read_text()
    assert report in imported.stdout

    fraud = manifests["mlmodel-fraud.yaml"]["spec"]
    assert fraud == {
        "workspaceRef": {"name": "dbx"},
        "registeredName": estate["fraud"],
        "description": "Card fraud",
        "tags": {"team": "risk"},
        "aliases": {"champion": 2, "challenger": 1},
        "adopt": True,
    }
    served = manifests[f"servingendpoint-{token}-fraud.yaml"]["spec"]
    assert served["servedEntities"] == [
        {"name": "main", "modelRef": {"name": "fraud", "alias": "champion"}, "scaleToZero": True}
    ]
    assert served["inferenceTable"] == {"catalog": "main", "schema": token, "tablePrefix": "fraud"}
    assert served["tags"] == {"cost-center": "42"}
    assert "traffic" not in served
    assert "deletionPolicy" not in served

    ambiguous = (out / f"servingendpoint-{token}-churn.yaml").read_text()
    churn = yaml.safe_load(ambiguous)["spec"]["servedEntities"][0]
    assert (churn["entityName"], churn["entityVersion"]) == (estate["churn"], 1)
    assert "# served entity main keeps version 1 explicit: aliases champion, prod of MLModel churn" in ambiguous

    monitor = manifests["modelmonitor-fraud-payload.yaml"]["spec"]
    assert monitor["endpointRef"] == {"name": f"{token}-fraud"}
    assert "tableName" not in monitor
    job = manifests[f"mljob-{token}-train.yaml"]["spec"]
    assert job["adopt"] is True
    assert "managementPolicy" not in job
    assert job["settings"] == {
        "name": f"{token}-train",
        "tasks": [
            {"task_key": "train", "notebook_task": {"notebook_path": "/Repos/risk/train", "source": "WORKSPACE"}}
        ],
        "schedule": {"quartz_cron_expression": "0 0 3 * * ?", "timezone_id": "UTC"},
    }

    assert f"| MLModel | registered model {estate['owned']} | it is managed by elsewhere/owner |" in report
    assert f"| ServingEndpoint | serving endpoint {token}-chat | served entity chat serves an external model" in report

    validated = _mlopsctl(kubectl, "validate", str(out))
    assert validated.returncode == 0, validated.stderr
    planned = _mlopsctl(kubectl, "plan", "-f", str(out), "-o", "json")
    assert planned.stdout, planned.stderr
    plan = json.loads(planned.stdout)
    assert planned.returncode == 2, planned.stderr  # adoptions are changes; no field would change
    assert {k: v for k, v in plan["summary"].items() if v} == {"adopt": 6, "writes": 11}
    assert all(r["changes"] == [] for r in plan["resources"]), plan["resources"]
    planned_writes = [w for r in plan["resources"] for w in r["writes"]]
    assert all(
        w.startswith(("set_tag(", "patch_tags(", "update_tags(")) and "mlops.gitops.dev/" in w for w in planned_writes
    )

    emulator.reset_counters()
    kubectl("apply", "-k", str(out))
    names = {(d["kind"].lower(), d["metadata"]["name"]) for d in manifests.values()}
    for kind, name in sorted(names):
        kubectl.wait_condition(kind, name, timeout=60)
    writes = {call: n for call, n in emulator.counters()["calls"].items() if not call.startswith("GET ")}
    assert writes == {MODEL_TAG_WRITE: 2 * 3, ENDPOINT_TAG_WRITE: 2 * 2, JOB_TAG_WRITE: 1}, writes

    for model in ("fraud", "churn"):
        tags = _model_tags(w, estate[model])
        assert tags[OWNER_TAG] == f"{kubectl.namespace}/{model}"
        assert tags["team" if model == "fraud" else "kind"]  # the model's own tags are still there
    for endpoint in ("fraud", "churn"):
        found = w.serving_endpoints.get(f"{token}-{endpoint}")
        assert {t.key: t.value for t in found.tags or []}[OWNER_TAG] == f"{kubectl.namespace}/{token}-{endpoint}"
    status = kubectl.get("servingendpoint", f"{token}-fraud")["status"]
    assert status["servedVersions"] == "main=2"

    # The job was taken over, not copied: still one job with its name, now carrying the resource's tags.
    assert [j.job_id for j in w.jobs.list(name=f"{token}-train")] == [estate["job"]]
    job_tags = w.jobs.get(estate["job"]).settings.tags or {}  # type: ignore[union-attr]
    assert job_tags[OWNER_TAG] == f"{kubectl.namespace}/{token}-train"
    assert kubectl.get("mljob", f"{token}-train")["status"]["jobId"] == estate["job"]


def _seed(w: WorkspaceClient, emulator: Emulator, token: str) -> dict[str, Any]:
    """Models with aliases, endpoints serving them, a job and a monitor, made as people and training jobs do."""
    fraud, churn, owned = (f"main.{token}.{name}" for name in ("fraud", "churn", "owned"))
    for version in (1, 2):
        emulator.seed_model_version(fraud, source=f"models:/m-fraud{version}")
    emulator.seed_model_version(churn, source="models:/m-churn1")
    emulator.seed_model_version(owned, source="models:/m-owned1")
    w.registered_models.update(fraud, comment="Card fraud")
    w.registered_models.set_alias(fraud, "champion", 2)
    w.registered_models.set_alias(fraud, "challenger", 1)
    w.registered_models.set_alias(churn, "champion", 1)
    w.registered_models.set_alias(churn, "prod", 1)
    _set_model_tag(w, fraud, "team", "risk")
    _set_model_tag(w, churn, "kind", "retention")
    _set_model_tag(w, owned, OWNER_TAG, "elsewhere/owner")

    table = AiGatewayInferenceTableConfig(
        catalog_name="main", schema_name=token, table_name_prefix="fraud", enabled=True
    )
    w.serving_endpoints.create(
        f"{token}-fraud",
        config=EndpointCoreConfigInput(
            name=f"{token}-fraud",
            served_entities=[
                ServedEntityInput(
                    name="main",
                    entity_name=fraud,
                    entity_version="2",
                    workload_size="Small",
                    scale_to_zero_enabled=True,
                )
            ],
        ),
        ai_gateway=AiGatewayConfig(inference_table_config=table),
        tags=[EndpointTag(key="cost-center", value="42")],
    )
    w.serving_endpoints.create(
        f"{token}-churn",
        config=EndpointCoreConfigInput(
            name=f"{token}-churn",
            served_entities=[
                ServedEntityInput(name="main", entity_name=churn, entity_version="1", workload_size="Small")
            ],
        ),
    )
    w.serving_endpoints.create(
        f"{token}-chat",
        config=EndpointCoreConfigInput(
            name=f"{token}-chat",
            served_entities=[
                ServedEntityInput(
                    name="chat",
                    external_model=ExternalModel.from_dict(
                        {
                            "name": "gpt-4o",
                            "provider": "openai",
                            "task": "llm/v1/chat",
                            "openai_config": {"openai_api_key": "{{secrets/s/k}}"},
                        }
                    ),
                )
            ],
        ),
    )
    for name in ("fraud", "churn", "chat"):
        wait_until(lambda name=name: _ready(w, f"{token}-{name}"), timeout=30, what=f"endpoint {token}-{name} ready")

    job = w.jobs.create(
        name=f"{token}-train",
        tasks=[Task(task_key="train", notebook_task=NotebookTask(notebook_path="/Repos/risk/train"))],
        schedule=CronSchedule(quartz_cron_expression="0 0 3 * * ?", timezone_id="UTC"),
    )

    payload = f"main.{token}.fraud_payload"
    w.data_quality.create_monitor(
        Monitor(
            object_type="table",
            object_id=w.tables.get(payload).table_id,
            data_profiling_config=DataProfilingConfig.from_dict(
                {
                    "output_schema_id": emulator.seed_schema(f"main.{token}_monitoring"),
                    "assets_dir": f"/Workspace/Shared/monitors/{token}",
                    "inference_log": {
                        "problem_type": "INFERENCE_PROBLEM_TYPE_CLASSIFICATION",
                        "prediction_column": "response",  # the payload table's own columns
                        "model_id_column": "served_entity_id",
                        "timestamp_column": "timestamp_ms",
                        "granularities": ["AGGREGATION_GRANULARITY_1_DAY"],
                    },
                }
            ),
        )
    )
    return {"fraud": fraud, "churn": churn, "owned": owned, "job": job.job_id}


def _set_model_tag(w: WorkspaceClient, name: str, key: str, value: str) -> None:
    w.api_client.do("POST", f"{MLFLOW_UC}/registered-models/set-tag", body={"name": name, "key": key, "value": value})


def _model_tags(w: WorkspaceClient, name: str) -> dict[str, str]:
    raw = w.api_client.do("GET", f"{MLFLOW_UC}/registered-models/get", query={"name": name})
    assert isinstance(raw, dict)
    return {t["key"]: t.get("value", "") for t in raw["registered_model"].get("tags") or []}


def _ready(w: WorkspaceClient, name: str) -> bool:
    state = w.serving_endpoints.get(name).state
    return bool(state and state.config_update and state.config_update.value == "NOT_UPDATING")


def _mlopsctl(kubectl: Kubectl, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["-n", kubectl.namespace, "--kubeconfig", str(kubectl.kubeconfig)] if args[0] in ("import", "plan") else []
    command = [sys.executable, "-m", "controller", *args, *where]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
