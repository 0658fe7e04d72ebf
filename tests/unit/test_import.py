"""`mlopsctl import`'s mapping from what the APIs return to specs, as tables: defaults left out, references
resolved, an ambiguous alias kept explicit and said, what a kind cannot express reported with why."""

from __future__ import annotations

from typing import Any

import pytest

from controller.importing import naming, references
from controller.importing.manifests import document, refused
from controller.importing.mapping import Filter, map_estate
from controller.importing.reading import Estate, Monitor
from controller.kinds.mljob.observed import ObservedJob
from controller.kinds.mlmodel.observed import ObservedModel

Json = dict[str, Any]
OWNER = "mlops.gitops.dev/owner"


def _endpoint(*entities: Json, routes: dict[str, int] | None = None, **fields: Any) -> Json:
    config: Json = {"served_entities": list(entities)}
    if routes:
        config["traffic_config"] = {
            "routes": [{"served_entity_name": k, "traffic_percentage": v} for k, v in routes.items()]
        }
    return {"name": "fraud", "config": config, "state": {"ready": "READY"}, **fields}


def _entity(name: str = "main", model: str = "main.risk.fraud", version: str = "2", **fields: Any) -> Json:
    return {"name": name, "entity_name": model, "entity_version": version, "workload_size": "Small", **fields}


def _monitor_config(**fields: Any) -> Json:
    return {
        "object_id": "t-1",
        "output_schema_id": "s-1",
        "assets_dir": "/Workspace/Shared/monitors/fraud",
        "inference_log": {
            "problem_type": "INFERENCE_PROBLEM_TYPE_REGRESSION",
            "prediction_column": "prediction",
            "model_id_column": "model_id",
            "timestamp_column": "ts",
            "granularities": ["AGGREGATION_GRANULARITY_1_DAY", "AGGREGATION_GRANULARITY_30_MINUTES"],
        },
        "profile_metrics_table_name": "main.mon.fraud_payload_profile_metrics",
        "monitored_table_name": "main.risk.fraud_payload",
        **fields,
    }


def _imported(estate: Estate, *patterns: str, owners: dict[str, str] | None = None) -> tuple[dict[str, Json], Any]:
    """The manifests' specs by kind/name, and what was mapped (as the command runs it)."""
    mapped = map_estate(estate, workspace="dbx", wanted=Filter(patterns), monitor_owners=owners or {})
    naming.assign(mapped.assets)
    references.resolve(mapped.assets)
    valid, invalid = refused(mapped.assets, "risk")
    assert invalid == []
    specs = {f"{a.kind.kind}/{a.name}": document(a, "risk")["spec"] for a in valid}
    return specs, mapped


MODEL = ObservedModel(
    name="main.risk.fraud",
    description="Card fraud",
    tags={"team": "risk", "mlops.gitops.dev/managed-by": "someone"},
    aliases={"champion": 2, "challenger": 1},
)


def test_a_model_keeps_description_tags_and_aliases_and_adopts_with_nothing_else() -> None:
    specs, _ = _imported(Estate(models=[MODEL]))
    assert specs == {
        "MLModel/fraud": {
            "workspaceRef": {"name": "dbx"},
            "registeredName": "main.risk.fraud",
            "description": "Card fraud",
            "tags": {"team": "risk"},
            "aliases": {"champion": 2, "challenger": 1},
            "adopt": True,
        }
    }


ENDPOINT_CASES = [
    pytest.param(
        _endpoint(_entity()),
        {"servedEntities": [{"name": "main", "entityName": "main.risk.fraud", "entityVersion": 2}]},
        id="defaults left out",
    ),
    pytest.param(
        _endpoint(_entity(), routes={"main": 100}),
        {"servedEntities": [{"name": "main", "entityName": "main.risk.fraud", "entityVersion": 2}]},
        id="the only entity's 100% route left out",
    ),
    pytest.param(
        _endpoint(
            _entity("a", workload_size="Large", workload_type="GPU_SMALL", scale_to_zero_enabled=True),
            _entity("b", version="1", environment_vars={"MODE": "x"}),
            routes={"a": 90, "b": 10},
        ),
        {
            "servedEntities": [
                {
                    "name": "a",
                    "entityName": "main.risk.fraud",
                    "entityVersion": 2,
                    "workloadSize": "Large",
                    "workloadType": "GPU_SMALL",
                    "scaleToZero": True,
                },
                {"name": "b", "entityName": "main.risk.fraud", "entityVersion": 1, "environmentVars": {"MODE": "x"}},
            ],
            "traffic": {"a": 90, "b": 10},
        },
        id="workloads and a traffic split",
    ),
    pytest.param(
        _endpoint(
            _entity(),
            tags=[{"key": "cost", "value": "42"}, {"key": OWNER + "x", "value": "no"}],
            ai_gateway={
                "inference_table_config": {"catalog_name": "main", "schema_name": "risk", "table_name_prefix": "fraud"},
                "rate_limits": [{"calls": 100, "key": "user", "renewal_period": "minute"}],
                "usage_tracking_config": {"enabled": True},
            },
        ),
        {
            "servedEntities": [{"name": "main", "entityName": "main.risk.fraud", "entityVersion": 2}],
            "inferenceTable": {"catalog": "main", "schema": "risk", "tablePrefix": "fraud", "enabled": False},
            "rateLimits": [{"calls": 100, "key": "user"}],
            "usageTracking": True,
            "tags": {"cost": "42"},
        },
        id="AI gateway and tags, the controller's own tags left out",
    ),
]


@pytest.mark.parametrize(("endpoint", "spec"), ENDPOINT_CASES)
def test_an_endpoint_becomes_the_spec_that_sets_what_it_has(endpoint: Json, spec: Json) -> None:
    specs, _ = _imported(Estate(endpoints=[endpoint]))
    assert specs == {
        "ServingEndpoint/fraud": {"workspaceRef": {"name": "dbx"}, "endpointName": "fraud", **spec, "adopt": True}
    }


NOT_EXPRESSIBLE = [
    pytest.param(
        _endpoint({"name": "chat", "external_model": {"name": "gpt-4o", "provider": "openai"}}),
        "served entity chat serves an external model, which ServingEndpoint cannot express",
        id="external model",
    ),
    pytest.param(
        _endpoint({"name": "llm", "foundation_model": {"name": "llama"}}),
        "served entity llm serves a foundation model, which ServingEndpoint cannot express",
        id="foundation model",
    ),
    pytest.param(
        _endpoint(_entity(min_provisioned_throughput=100, max_provisioned_throughput=200)),
        "served entity main sets max_provisioned_throughput, min_provisioned_throughput, which ServingEndpoint "
        "has no field for",
        id="provisioned throughput",
    ),
    pytest.param(
        _endpoint(_entity(), pending_config={"served_entities": [_entity(version="3")]}),
        "a config update is in progress; import it again once it has finished",
        id="update in progress",
    ),
    pytest.param(
        _endpoint(_entity(), ai_gateway={"rate_limits": [{"tokens": 1000, "key": "endpoint"}]}),
        "an AI gateway rate limit counts tokens, which ServingEndpoint cannot express",
        id="token rate limit",
    ),
]


@pytest.mark.parametrize(("endpoint", "why"), NOT_EXPRESSIBLE)
def test_an_endpoint_the_kind_cannot_express_is_reported_with_why(endpoint: Json, why: str) -> None:
    specs, mapped = _imported(Estate(endpoints=[endpoint]))
    assert specs == {}
    (skipped,) = mapped.skipped
    assert (skipped.kind.kind, skipped.external, skipped.reasons) == (
        "ServingEndpoint",
        "serving endpoint fraud",
        (why,),
    )


def test_settings_the_kind_leaves_alone_are_imported_and_said() -> None:
    endpoint = _endpoint(_entity(), route_optimized=True, ai_gateway={"guardrails": {"input": {"pii": {}}}})
    _, mapped = _imported(Estate(endpoints=[endpoint]))
    (asset,) = mapped.assets
    assert asset.comments == [
        "left as it is, outside Git: route optimization",
        "left as it is, outside Git: AI gateway guardrails",
    ]


REFERENCES = [
    pytest.param(
        {"champion": 2, "challenger": 1},
        {"name": "main", "modelRef": {"name": "fraud", "alias": "champion"}},
        [],
        id="one alias",
    ),
    pytest.param(
        {"champion": 2, "prod": 2},
        {"name": "main", "entityName": "main.risk.fraud", "entityVersion": 2},
        [
            "served entity main keeps version 2 explicit: aliases champion, prod of MLModel fraud all point at it; to "
            "follow one, replace entityName and entityVersion with modelRef: {name: fraud, alias: <one of them>}"
        ],
        id="ambiguous alias",
    ),
    pytest.param(
        {"challenger": 1}, {"name": "main", "entityName": "main.risk.fraud", "entityVersion": 2}, [], id="no alias"
    ),
]


@pytest.mark.parametrize(("aliases", "entity", "comments"), REFERENCES)
def test_an_endpoint_follows_the_only_alias_at_its_version(
    aliases: dict[str, int], entity: Json, comments: list[str]
) -> None:
    model = ObservedModel(name="MAIN.risk.fraud", description="", tags={}, aliases=aliases)
    specs, mapped = _imported(Estate(models=[model], endpoints=[_endpoint(_entity())]))
    assert specs["ServingEndpoint/fraud"]["servedEntities"] == [entity]
    endpoint = next(a for a in mapped.assets if a.kind.kind == "ServingEndpoint")
    assert endpoint.comments == comments


def test_a_monitor_on_an_imported_endpoints_inference_table_refers_to_the_endpoint() -> None:
    table = {"catalog_name": "main", "schema_name": "risk", "table_name_prefix": "fraud", "enabled": True}
    endpoint = _endpoint(_entity(), ai_gateway={"inference_table_config": table})
    monitor = Monitor(
        _monitor_config(schedule={"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC"}),
        "main.risk.fraud_payload",
        "main.mon",
    )
    specs, _ = _imported(Estate(endpoints=[endpoint], monitors=[monitor]))
    assert specs["ModelMonitor/fraud-payload"] == {
        "workspaceRef": {"name": "dbx"},
        "endpointRef": {"name": "fraud"},
        "outputSchema": "main.mon",
        "assetsDir": "/Workspace/Shared/monitors/fraud",
        "inferenceLog": {
            "problemType": "regression",
            "predictionColumn": "prediction",
            "modelIdColumn": "model_id",
            "timestampColumn": "ts",
            "granularities": ["1 day", "30 minutes"],
        },
        "schedule": {"cron": "0 0 * * * ?"},
    }
    alone, _ = _imported(Estate(monitors=[monitor]))
    assert alone["ModelMonitor/fraud-payload"]["tableName"] == "main.risk.fraud_payload"


@pytest.mark.parametrize(
    ("config", "why"),
    [
        (_monitor_config(snapshot={}, inference_log=None), "it has no inference-log profile"),
        (_monitor_config(custom_metrics=[{"name": "m"}]), "it uses custom metrics, which ModelMonitor cannot express"),
        (
            _monitor_config(schedule={"quartz_cron_expression": "0 0 * * * ?", "pause_status": "PAUSED"}),
            "its schedule is paused, which ModelMonitor cannot express",
        ),
    ],
)
def test_a_monitor_the_kind_cannot_express_is_reported(config: Json, why: str) -> None:
    _, mapped = _imported(Estate(monitors=[Monitor(config, "main.risk.fraud_payload", "main.mon")]))
    assert [s.reasons for s in mapped.skipped] == [(why,)]


def _job(job_id: int, name: str, **settings: Any) -> ObservedJob:
    stored = {
        "name": name,
        "format": "MULTI_TASK",
        "max_concurrent_runs": 1,
        "timeout_seconds": 0,
        "queue": {"enabled": True},
        "email_notifications": {},
        "tasks": [
            {"task_key": "t", "run_if": "ALL_SUCCESS", "timeout_seconds": 0, "notebook_task": {"notebook_path": "/x"}}
        ],
        **settings,
    }
    return ObservedJob(job_id=job_id, settings=stored)


def test_a_job_is_adopted_with_its_settings_less_the_servers_defaults_and_the_controllers_tags() -> None:
    job = _job(
        7,
        "Retrain",
        tags={"team": "risk", "mlops.gitops.dev/managed-by": "x"},
        max_concurrent_runs=2,
        schedule={"quartz_cron_expression": "0 0 3 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
    )
    specs, _ = _imported(Estate(jobs=[(job, [])]))
    assert specs == {
        "MLJob/retrain": {
            "workspaceRef": {"name": "dbx"},
            "adopt": True,
            "settings": {
                "name": "Retrain",
                "max_concurrent_runs": 2,
                "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}}],
                "schedule": {"quartz_cron_expression": "0 0 3 * * ?", "timezone_id": "UTC"},
                "tags": {"team": "risk"},
            },
        }
    }


def test_jobs_the_kind_cannot_take_over_are_reported() -> None:
    estate = Estate(jobs=[(_job(1, "a"), []), (_job(2, "a"), []), (_job(3, "b"), ["tasks[0].new_task"])])
    _, mapped = _imported(estate)
    assert mapped.assets == []
    assert {s.external: s.reasons for s in mapped.skipped} == {
        "job 1 (a)": ("2 jobs are named 'a'; an MLJob adopts a job by its name",),
        "job 2 (a)": ("2 jobs are named 'a'; an MLJob adopts a job by its name",),
        "job 3 (b)": ("its settings hold fields the Jobs API client does not know: tasks[0].new_task",),
    }


def test_assets_another_resource_owns_are_reported_not_imported() -> None:
    owned = ObservedModel(name="main.risk.x", description="", tags={OWNER: "ops/x"}, aliases={})
    endpoint = _endpoint(_entity(), tags=[{"key": OWNER, "value": "ops/fraud"}])
    monitor = Monitor(_monitor_config(), "main.risk.fraud_payload", "main.mon")
    _, mapped = _imported(Estate(models=[owned], endpoints=[endpoint], monitors=[monitor]), owners={"t-1": "ops/mon"})
    assert mapped.assets == []
    assert {s.external: s.reasons for s in mapped.skipped} == {
        "registered model main.risk.x": ("it is managed by ops/x",),
        "serving endpoint fraud": ("it is managed by ops/fraud",),
        "monitor on main.risk.fraud_payload": ("it is managed by ops/mon",),
    }


def test_names_are_dns_labels_and_shared_ones_get_a_stable_suffix() -> None:
    models = [
        ObservedModel(name=n, description="", tags={}, aliases={})
        for n in ("main.a.Fraud_Model", "main.b.fraud_model", "x.y.churn")
    ]
    first, mapped = _imported(Estate(models=models))
    again, _ = _imported(Estate(models=list(reversed(models))))
    assert first == again
    assert sorted(a.name for a in mapped.assets) == sorted(
        [
            "churn",
            f"fraud-model-{naming.short_hash('main.a.Fraud_Model')}",
            f"fraud-model-{naming.short_hash('main.b.fraud_model')}",
        ]
    )
    assert naming.derived("..Über__Model--v2..") == "ber-model-v2"
    assert len(naming.derived("m" * 300)) == naming.MAX_LENGTH


@pytest.mark.parametrize(
    ("patterns", "kept"),
    [((), 3), (("main.risk.*",), 2), (("/.*fraud$/",), 1), (("x", "*churn"), 1)],
)
def test_filter_takes_globs_and_slashed_regular_expressions(patterns: tuple[str, ...], kept: int) -> None:
    models = [
        ObservedModel(name=n, description="", tags={}, aliases={})
        for n in ("main.risk.fraud", "main.risk.churn", "dev.x.y")
    ]
    _, mapped = _imported(Estate(models=models), *patterns)
    assert (len(mapped.assets), mapped.filtered_out) == (kept, 3 - kept)


def test_a_bad_regular_expression_is_a_usage_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"--filter /\(/: not a regular expression"):
        Filter(["/(/"])


def test_a_manifest_the_api_server_would_refuse_is_reported_not_written() -> None:
    model = ObservedModel(name="main.risk.fraud", description="", tags={}, aliases={"latest": 1})
    mapped = map_estate(Estate(models=[model]), workspace="dbx", wanted=Filter([]), monitor_owners={})
    naming.assign(mapped.assets)
    valid, invalid = refused(mapped.assets, "risk")
    assert valid == []
    assert [s.reasons for s in invalid] == [
        ("spec.aliases: alias names 'latest' and 'v<number>' are reserved by MLflow",)
    ]
