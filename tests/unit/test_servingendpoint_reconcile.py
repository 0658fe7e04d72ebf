"""The ServingEndpoint reconcile over an in-memory Model Serving: each case names the behaviour it pins down."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from controller.clients import errors
from controller.kinds.mlmodel.published import ModelView
from controller.kinds.servingendpoint import reconcile as r
from controller.kinds.servingendpoint.model import ServingEndpointSpec
from controller.kinds.servingendpoint.observed import Json, ObservedConfig, ObservedEndpoint, ObservedEntity
from controller.reconciling import ownership as own
from controller.status.outcome import Outcome

OWNER = "risk/fraud"
OURS = {own.OWNER_TAG: OWNER, own.MANAGED_BY_TAG: own.CONTROLLER_NAME}
MODEL = "main.risk.fraud"
NOW = 1_000_000.0


@dataclass
class _Endpoint:
    config: ObservedConfig | None = None
    pending: ObservedConfig | None = None
    update: str = "NOT_UPDATING"
    tags: dict[str, str] = field(default_factory=dict)
    gateway: Json = field(default_factory=dict)
    last_version: int = 0


class FakeServing:
    """Model Serving as Databricks behaves for these calls: async updates, server defaults, 409 while updating."""

    def __init__(self) -> None:
        self.endpoints: dict[str, _Endpoint] = {}
        self.versions: dict[tuple[str, int], str] = {(MODEL, n): "READY" for n in (1, 2, 3)}
        self.writes: list[str] = []
        self.reads = 0
        self.refuse: dict[str, errors.ExternalError] = {}  # call name → error it raises
        self.status: dict[str, Any] = {}  # the resource's status, as reconciles left it

    # --- the protocol ---

    def get_endpoint(self, name: str) -> ObservedEndpoint | None:
        self.reads += 1
        self._maybe_fail("get_endpoint")
        ep = self.endpoints.get(name)
        if ep is None:
            return None
        entities = (ep.config.entities if ep.config else ()) if ep.update != "UPDATE_FAILED" else ()
        ready = "READY" if entities and all(e.deployment == "DEPLOYMENT_READY" for e in entities) else "NOT_READY"
        return ObservedEndpoint(
            name=name,
            id="ep-1",
            ready=ready,
            config_update=ep.update,
            config=ep.config,
            pending=ep.pending,
            pending_since_ms=int((NOW - 8) * 1000) if ep.pending else None,
            tags=dict(ep.tags),
            gateway=json.loads(json.dumps(ep.gateway)),
        )

    def create_endpoint(
        self, name: str, *, config: Json, tags: dict[str, str], gateway: Json | None
    ) -> ObservedEndpoint:
        self._write("create_endpoint")
        ep = self.endpoints[name] = _Endpoint(tags=dict(tags), gateway=dict(gateway or {}))
        self._start(ep, config)
        return self._peek(name)

    def update_config(self, name: str, config: Json) -> ObservedEndpoint:
        self._write("update_config")
        ep = self._writable(name)
        self._start(ep, config)
        return self._peek(name)

    def patch_tags(self, name: str, *, add: dict[str, str], remove: list[str]) -> dict[str, str]:
        self._write("patch_tags")
        ep = self._writable(name)
        ep.tags = {k: v for k, v in ep.tags.items() if k not in remove} | add
        return dict(ep.tags)

    def put_ai_gateway(self, name: str, gateway: Json) -> Json:
        self._write("put_ai_gateway")
        ep = self._writable(name)
        table = (ep.gateway.get("inference_table_config") or {}, gateway.get("inference_table_config") or {})
        if table[0].get("enabled") and table[1].get("enabled") and table[0] != table[1]:
            raise errors.Rejected("disable the inference table first")
        ep.gateway = json.loads(json.dumps(gateway))
        return dict(ep.gateway)

    def delete_endpoint(self, name: str) -> None:
        self._write("delete_endpoint")
        if self.endpoints.pop(name, None) is None:
            raise errors.NotFound(f"Endpoint with name '{name}' does not exist.")

    def version_status(self, model: str, version: int) -> str | None:
        self.reads += 1
        return self.versions.get((model, version))

    def endpoint_url(self, name: str) -> str:
        return f"https://dbc.example/ml/endpoints/{name}"

    # --- test controls ---

    def finish(self, name: str, *, fail: str | None = None) -> None:
        """Complete the update in progress (or fail it with that message)."""
        ep = self.endpoints[name]
        assert ep.pending is not None
        if fail is None:
            ready = tuple(
                _with(e, deployment="DEPLOYMENT_READY", message="Served entity is ready.") for e in ep.pending.entities
            )
            ep.config, ep.update = ObservedConfig(ep.pending.version, ready, ep.pending.traffic), "NOT_UPDATING"
        else:
            failed = tuple(_with(e, deployment="DEPLOYMENT_FAILED", message=fail) for e in ep.pending.entities)
            ep.config = ep.config or ObservedConfig(ep.pending.version, failed, ep.pending.traffic)
            ep.update = "UPDATE_FAILED"
        ep.pending = None

    def seed(self, name: str, *, version: int = 1, tags: dict[str, str] | None = None, **entity: Any) -> None:
        """A deployed endpoint serving MODEL at that version, as Databricks shows it."""
        served = ObservedEntity(
            name="main",
            entity_name=MODEL,
            entity_version=str(version),
            workload_size="Small",
            workload_type="CPU",
            scale_to_zero=False,
            deployment="DEPLOYMENT_READY",
            message="Served entity is ready.",
        )
        self.endpoints[name] = _Endpoint(
            config=ObservedConfig(1, (_with(served, **entity),), {"main": 100}), tags=dict(tags or {}), last_version=1
        )

    def _start(self, ep: _Endpoint, config: Json) -> None:
        ep.last_version += 1
        entities = []
        for raw in config["served_entities"]:
            entities.append(
                ObservedEntity(
                    name=raw.get("name") or f"{raw['entity_name'].split('.')[-1]}-{raw['entity_version']}",
                    entity_name=raw["entity_name"],
                    entity_version=raw["entity_version"],
                    workload_size=raw.get("workload_size", "Small"),
                    workload_type=raw.get("workload_type", "CPU"),
                    scale_to_zero=raw.get("scale_to_zero_enabled", False),
                    environment_vars=dict(raw.get("environment_vars") or {}),
                    deployment="DEPLOYMENT_CREATING",
                    message="Creating the served entity.",
                )
            )
        routes = (config.get("traffic_config") or {}).get("routes")
        traffic = (
            {x["served_entity_name"]: x["traffic_percentage"] for x in routes} if routes else {entities[0].name: 100}
        )
        ep.pending, ep.update = ObservedConfig(ep.last_version, tuple(entities), traffic), "IN_PROGRESS"

    def _writable(self, name: str) -> _Endpoint:
        ep = self.endpoints.get(name)
        if ep is None:
            raise errors.NotFound(f"Endpoint with name '{name}' does not exist.")
        if ep.update == "IN_PROGRESS":
            raise errors.Unavailable(f"Endpoint '{name}' is currently being updated.", code="RESOURCE_CONFLICT")
        return ep

    def _write(self, call: str) -> None:
        self.writes.append(call)
        self._maybe_fail(call)

    def _maybe_fail(self, call: str) -> None:
        if call in self.refuse:
            raise self.refuse[call]

    def _peek(self, name: str) -> ObservedEndpoint:
        reads = self.reads
        found = self.get_endpoint(name)
        self.reads = reads
        assert found is not None
        return found


def _with(entity: ObservedEntity, **changes: Any) -> ObservedEntity:
    return ObservedEntity(**{**entity.__dict__, **changes})


def spec(**fields: Any) -> ServingEndpointSpec:
    base: dict[str, Any] = {
        "workspaceRef": {"name": "w"},
        "endpointName": "fraud",
        "servedEntities": [{"name": "main", "entityName": MODEL, "entityVersion": 1}],
        "deletionPolicy": "Delete",
    }
    return ServingEndpointSpec.model_validate({**base, **fields})


def following(alias: str = "champion", **fields: Any) -> ServingEndpointSpec:
    return spec(servedEntities=[{"name": "main", "modelRef": {"name": "fraud-model", "alias": alias}}], **fields)


def model(**aliases: int) -> dict[str, ModelView]:
    return {"fraud-model": ModelView(registered_name=MODEL, aliases=dict(aliases), ready=True, message="Reconciled")}


def run(
    serving: FakeServing,
    endpoint: ServingEndpointSpec,
    *,
    generation: int = 1,
    applied: int | None = None,
    models: dict[str, ModelView] | None = None,
) -> Outcome:
    """One reconcile, reading back the status earlier ones wrote (as the handler does)."""
    status = serving.status
    request = r.Request(
        owner=OWNER,
        generation=generation,
        now=NOW,
        models=models or {},
        applied_generation=status.get("appliedGeneration", applied),
        desired_versions={e["name"]: e["desiredVersion"] for e in status.get("servedEntities", [])},
        config_attempt=status.get("configAttempt"),
    )
    outcome = r.reconcile(endpoint, serving=serving, request=request)
    status.update(outcome.observed)
    if outcome.applied:
        status["appliedGeneration"] = generation
    return outcome


def converge(serving: FakeServing, endpoint: ServingEndpointSpec, **kwargs: Any) -> Outcome:
    """Create (or update) and let Databricks finish, until Ready."""
    outcome = run(serving, endpoint, **kwargs)
    for _ in range(3):
        if serving.endpoints[endpoint.endpoint_name].pending is not None:
            serving.finish(endpoint.endpoint_name)
        outcome = run(serving, endpoint, **kwargs)
        if outcome.ready.ok:
            return outcome
    raise AssertionError(f"did not converge: {outcome.ready}")


def reasons(outcome: Outcome) -> list[str]:
    return [n.reason for n in outcome.notes]


# --- create and steady state ---


def test_creates_the_endpoint_with_config_tags_and_gateway_in_one_call() -> None:
    serving = FakeServing()
    outcome = run(
        serving,
        spec(tags={"team": "risk"}, inferenceTable={"catalog": "main", "schema": "risk", "tablePrefix": "fraud"}),
    )
    assert serving.writes == ["create_endpoint"]
    ep = serving.endpoints["fraud"]
    assert ep.pending is not None
    assert [(e.name, e.entity_name, e.entity_version) for e in ep.pending.entities] == [("main", MODEL, "1")]
    assert ep.tags == {"team": "risk", **OURS, own.MANAGED_TAG: '{"tags":["team"]}'}
    assert ep.gateway["inference_table_config"]["table_name_prefix"] == "fraud"
    assert (outcome.ready.ok, outcome.ready.reason, outcome.synced.ok) == (False, "UpdateInProgress", True)
    assert outcome.retry_after is not None
    assert outcome.retry_after <= 5
    assert reasons(outcome) == ["Created"]
    assert outcome.observed["servedEntities"][0]["pendingVersion"] == 1
    assert outcome.observed["configAttempt"].startswith("g1-")


def test_ready_once_databricks_finishes_and_then_nothing_is_written() -> None:
    serving = FakeServing()
    endpoint = spec(inferenceTable={"catalog": "main", "schema": "risk", "tablePrefix": "fraud"})
    outcome = converge(serving, endpoint)
    assert (outcome.ready.reason, outcome.observed["servedVersions"]) == ("Reconciled", "main=1")
    assert outcome.observed["inferenceTableName"] == "main.risk.fraud_payload"
    assert outcome.observed["url"] == "https://dbc.example/ml/endpoints/fraud"
    assert (outcome.applied, serving.status["appliedGeneration"]) == (True, 1)
    serving.writes.clear()
    serving.reads = 0
    again = run(serving, endpoint)
    assert (serving.writes, serving.reads) == ([], 1)  # one read per drift check, no write
    assert again.ready.ok
    assert again.notes == ()


def test_no_write_when_equal_despite_server_defaults_and_others_settings() -> None:
    serving = FakeServing()
    serving.seed("fraud", tags={**OURS, "cost-center": "42", own.MANAGED_TAG: '{"tags":[]}'})
    serving.endpoints["fraud"].gateway = {"guardrails": {"input": {"safety": True}}, "rate_limits": [{"calls": 5}]}
    # The spec leaves traffic, workload settings and every AI gateway part to their defaults.
    outcome = run(serving, spec(), applied=1)
    assert serving.writes == []
    assert outcome.ready.ok


# --- updates ---


def test_a_new_version_in_the_spec_sends_only_the_config() -> None:
    serving = FakeServing()
    outcome = converge(serving, spec(tags={"team": "risk"}))
    serving.writes.clear()
    changed = spec(servedEntities=[{"name": "main", "entityName": MODEL, "entityVersion": 2}], tags={"team": "ml"})
    outcome = run(serving, changed, generation=2)
    assert serving.writes == ["update_config"]  # tags wait until the update is done
    assert (outcome.ready.reason, reasons(outcome)) == ("UpdateInProgress", ["Updated"])
    entity = outcome.observed["servedEntities"][0]
    assert (entity["entityVersion"], entity["pendingVersion"], entity["desiredVersion"]) == (1, 2, 2)
    assert not outcome.applied


def test_nothing_is_written_while_an_update_is_in_progress() -> None:
    serving = FakeServing()
    outcome = run(serving, spec(tags={"team": "risk"}))
    serving.writes.clear()
    del serving.endpoints["fraud"].tags["team"]  # tags and config both differ meanwhile
    outcome = run(serving, spec(servedEntities=[{"name": "main", "entityName": MODEL, "entityVersion": 2}]))
    assert serving.writes == []
    assert (outcome.ready.ok, outcome.ready.reason, outcome.synced.ok) == (False, "UpdateInProgress", True)
    assert "config version 1 is rolling out: main -> version 1" in outcome.ready.message
    assert outcome.retry_after == 2.0  # 8 s into the update: look again soon


def test_config_then_tags_then_gateway_one_after_another() -> None:
    serving = FakeServing()
    outcome = converge(serving, spec())
    serving.writes.clear()
    changed = spec(
        servedEntities=[{"name": "main", "entityName": MODEL, "entityVersion": 2}],
        tags={"team": "risk"},
        usageTracking=True,
    )
    outcome = run(serving, changed, generation=2)
    serving.finish("fraud")
    outcome = run(serving, changed, generation=2)
    assert serving.writes == ["update_config", "patch_tags", "put_ai_gateway"]
    assert outcome.ready.ok
    assert reasons(outcome) == ["Updated", "Updated"]  # still the user's change, not drift
    assert serving.endpoints["fraud"].gateway == {"usage_tracking_config": {"enabled": True}}


def test_tags_removed_only_when_this_resource_set_them() -> None:
    serving = FakeServing()
    outcome = converge(serving, spec(tags={"team": "risk", "tier": "1"}))
    serving.endpoints["fraud"].tags["owner-team"] = "platform"  # someone else's tag
    outcome = run(serving, spec(tags={"team": "risk"}), generation=2)
    tags = serving.endpoints["fraud"].tags
    assert "tier" not in tags
    assert tags["owner-team"] == "platform"
    assert "removed tag tier" in outcome.notes[0].message


def test_gateway_parts_the_spec_leaves_unset_are_kept() -> None:
    serving = FakeServing()
    serving.seed("fraud", tags=OURS)
    serving.endpoints["fraud"].gateway = {"rate_limits": [{"calls": 5, "renewal_period": "minute"}]}
    run(serving, spec(usageTracking=True))
    assert serving.endpoints["fraud"].gateway == {
        "rate_limits": [{"calls": 5, "renewal_period": "minute"}],
        "usage_tracking_config": {"enabled": True},
    }


def test_an_enabled_inference_table_is_moved_by_turning_capture_off_first() -> None:
    serving = FakeServing()
    table = {"catalog": "main", "schema": "risk", "tablePrefix": "fraud"}
    outcome = converge(serving, spec(inferenceTable=table))
    serving.writes.clear()
    outcome = run(serving, spec(inferenceTable={**table, "tablePrefix": "fraud_v2"}), generation=2)
    assert serving.writes == ["put_ai_gateway", "put_ai_gateway"]
    assert outcome.ready.ok
    assert outcome.observed["inferenceTableName"] == "main.risk.fraud_v2_payload"


def test_out_of_band_config_change_is_put_back_as_drift() -> None:
    serving = FakeServing()
    outcome = converge(serving, spec())
    ep = serving.endpoints["fraud"]
    assert ep.config is not None
    ep.config = ObservedConfig(9, (_with(ep.config.entities[0], workload_size="Large"),), {"main": 100})
    outcome = run(serving, spec())
    assert serving.writes[-1] == "update_config"
    assert reasons(outcome) == ["DriftCorrected"]
    assert outcome.drift_corrections == 1
    assert "workload size is Large, spec says Small" in outcome.notes[0].message


# --- following an MLModel alias ---


@pytest.mark.parametrize(
    ("models", "reason", "words"),
    [
        ({}, "WaitingForDependency", "MLModel fraud-model does not exist"),
        (
            {"fraud-model": ModelView(MODEL, {"champion": 1}, ready=False, message="ExternalUnavailable: down")},
            "WaitingForDependency",
            "is not Ready (ExternalUnavailable: down)",
        ),
        (model(challenger=1), "WaitingForModelVersion", "alias champion of MLModel fraud-model"),
    ],
    ids=["model-missing", "model-not-ready", "alias-not-set"],
)
def test_an_unresolvable_model_ref_waits_without_writing(models: dict[str, ModelView], reason: str, words: str) -> None:
    serving = FakeServing()
    outcome = run(serving, following(), models=models)
    assert serving.writes == []
    assert (outcome.ready.ok, outcome.ready.reason, outcome.synced.ok) == (False, reason, True)
    assert words in outcome.ready.message
    assert outcome.retry_after == r.WAIT_RETRY_SECONDS
    assert outcome.observed["servedEntities"] == [
        {
            "name": "main",
            "entityName": None,
            "entityVersion": None,
            "pendingVersion": None,
            "desiredVersion": None,
            "deployment": None,
            "message": "",
        }
    ]


def test_follows_the_alias_and_rolls_when_it_moves() -> None:
    serving = FakeServing()
    outcome = converge(serving, following(), models=model(champion=1))
    assert outcome.observed["servedEntities"][0]["desiredVersion"] == 1
    serving.writes.clear()
    outcome = run(serving, following(), models=model(champion=2))
    assert serving.writes == ["update_config"]
    assert reasons(outcome) == ["AliasMoved"]
    assert outcome.drift_corrections == 0
    assert "main to version 2 (alias champion of MLModel fraud-model)" in outcome.notes[0].message
    serving.finish("fraud")
    outcome = run(serving, following(), models=model(champion=2))
    assert (outcome.ready.ok, outcome.observed["servedVersions"]) == (True, "main=2")


@pytest.mark.parametrize(
    ("status", "words"), [(None, "does not exist"), ("PENDING_REGISTRATION", "is PENDING_REGISTRATION")]
)
def test_a_version_not_ready_in_unity_catalog_is_waited_for(status: str | None, words: str) -> None:
    serving = FakeServing()
    if status is None:
        del serving.versions[(MODEL, 3)]
    else:
        serving.versions[(MODEL, 3)] = status
    endpoint = spec(servedEntities=[{"name": "main", "entityName": MODEL, "entityVersion": 3}])
    outcome = run(serving, endpoint)
    assert serving.writes == []
    assert (outcome.ready.reason, outcome.retry_after) == ("WaitingForModelVersion", r.WAIT_RETRY_SECONDS)
    assert f"version 3 of {MODEL} {words}" in outcome.ready.message
    serving.versions[(MODEL, 3)] = "READY"
    outcome = run(serving, endpoint)
    assert serving.writes == ["create_endpoint"]


# --- failures ---


def test_a_failed_update_is_reported_with_databricks_messages_and_not_resent() -> None:
    serving = FakeServing()
    outcome = run(serving, spec())
    serving.finish("fraud", fail="Model version 1 could not be built.")
    serving.writes.clear()
    outcome = run(serving, spec())
    assert serving.writes == []
    assert (outcome.ready.ok, outcome.synced.ok, outcome.ready.reason) == (False, False, "UpdateFailed")
    assert "main: Model version 1 could not be built." in outcome.ready.message
    assert outcome.observed["servedEntities"][0]["message"] == "Model version 1 could not be built."
    outcome = run(serving, spec())
    assert "update_config" not in serving.writes  # the same config for the same generation: not again
    run(serving, spec(), generation=2)
    assert serving.writes[-1] == "update_config"  # a new generation tries again


@pytest.mark.parametrize(
    ("call", "error", "reason", "retry"),
    [
        (
            "update_config",
            errors.Unavailable("Endpoint is currently being updated", retry_after=3.0),
            "ExternalUnavailable",
            3.0,
        ),
        ("update_config", errors.Unavailable("Endpoint is currently being updated"), "ExternalUnavailable", 10.0),
        ("update_config", errors.Rejected("Invalid workload_size 'Huge'."), "ExternalRejected", None),
        ("update_config", errors.NotFound("Endpoint with name 'fraud' does not exist."), "ExternalRejected", 30.0),
    ],
    ids=["conflict-with-retry-after", "conflict", "refused", "deleted-meanwhile"],
)
def test_write_errors_by_class(call: str, error: errors.ExternalError, reason: str, retry: float | None) -> None:
    serving = FakeServing()
    serving.seed("fraud", tags=OURS)
    serving.refuse[call] = error
    outcome = run(serving, spec(servedEntities=[{"name": "main", "entityName": MODEL, "entityVersion": 2}]))
    assert (outcome.ready.ok, outcome.synced.ok, outcome.ready.reason) == (False, False, reason)
    assert outcome.retry_after == retry
    assert str(error) in outcome.synced.message


def test_a_refused_create_is_reported_with_the_message() -> None:
    serving = FakeServing()
    serving.refuse["create_endpoint"] = errors.Rejected("Invalid workload_size 'Huge'. Valid sizes: Small.")
    outcome = run(serving, spec())
    assert (outcome.ready.reason, outcome.synced.ok, outcome.retry_after) == ("ExternalRejected", False, None)
    assert "Invalid workload_size 'Huge'" in outcome.ready.message


# --- ownership and ObserveOnly ---


@pytest.mark.parametrize(
    ("tags", "adopt", "reason"),
    [({own.OWNER_TAG: "other/ep"}, True, "OwnedByAnother"), ({}, False, "AdoptionRequired")],
    ids=["owned-by-another-cr", "unowned-without-adopt"],
)
def test_refuses_endpoints_it_may_not_take(tags: dict[str, str], adopt: bool, reason: str) -> None:
    serving = FakeServing()
    serving.seed("fraud", version=2, tags=tags)
    outcome = run(serving, spec(adopt=adopt))
    assert serving.writes == []
    assert (outcome.ready.ok, outcome.ready.reason, outcome.synced.ok) == (False, reason, True)
    assert outcome.observed["servedVersions"] == "main=2"


def test_adopts_an_unowned_endpoint_when_asked() -> None:
    serving = FakeServing()
    serving.seed("fraud", version=1, tags={"team": "risk"})
    outcome = run(serving, spec(adopt=True, tags={"team": "risk"}))
    assert serving.endpoints["fraud"].tags[own.OWNER_TAG] == OWNER
    assert "Adopted" in reasons(outcome)
    assert outcome.ready.ok


def test_observe_only_reports_differences_and_writes_nothing() -> None:
    serving = FakeServing()
    serving.seed("fraud", version=1)
    outcome = run(
        serving,
        spec(
            managementPolicy="ObserveOnly",
            servedEntities=[{"name": "main", "entityName": MODEL, "entityVersion": 2}],
            tags={"team": "risk"},
        ),
    )
    assert serving.writes == []
    assert (outcome.ready.ok, outcome.ready.reason) == (True, "DriftDetected")
    assert outcome.observed["drift"] == [
        "served entity main serves version 1, spec says 2",
        "tag team is None, spec says 'risk'",
    ]


def test_observe_only_of_a_missing_endpoint() -> None:
    serving = FakeServing()
    outcome = run(serving, spec(managementPolicy="ObserveOnly"))
    assert (outcome.ready.reason, serving.writes) == ("ExternalObjectMissing", [])


# --- deletion ---


@pytest.mark.parametrize(
    ("policy", "tags", "writes", "words"),
    [
        ("Delete", OURS, ["delete_endpoint"], "deleted serving endpoint fraud"),
        ("Retain", OURS, [], "kept serving endpoint fraud (deletionPolicy Retain)"),
        ("Delete", {own.OWNER_TAG: "other/ep"}, [], "not owned by risk/fraud"),
        ("Delete", None, [], "already gone"),
    ],
    ids=["delete", "retain", "owned-by-another", "already-gone"],
)
def test_deletion_policy(policy: str, tags: dict[str, str] | None, writes: list[str], words: str) -> None:
    serving = FakeServing()
    if tags is not None:
        serving.seed("fraud", tags=tags)
    connected: list[bool] = []

    def connect() -> FakeServing:
        connected.append(True)
        return serving

    done = r.delete(spec(deletionPolicy=policy), connect=connect, owner=OWNER)
    assert words in done
    assert serving.writes == writes
    assert connected == ([] if policy == "Retain" else [True])


def test_a_failing_delete_raises_so_the_finalizer_stays() -> None:
    serving = FakeServing()
    serving.seed("fraud", tags=OURS)
    serving.refuse["delete_endpoint"] = errors.Unavailable("503 Service Unavailable")
    with pytest.raises(errors.Unavailable):
        r.delete(spec(), connect=lambda: serving, owner=OWNER)
