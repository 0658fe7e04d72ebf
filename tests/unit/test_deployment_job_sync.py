"""spec.deploymentJobRef in the MLModel reconcile (a fake Unity Catalog registry): set once the MLJob has a job,
waiting before, corrected, cleared only when this resource set it, Unsupported on MLflow; status.deploymentRuns."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from controller.clients import errors
from controller.kinds.mlmodel import reconcile as r
from controller.kinds.mlmodel.deployment_job import DeploymentRun
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.observed import ObservedVersion
from controller.reconciling import ownership as own
from tests.unit.fake_registry import FakeRegistry

OWNER = "risk/fraud"
OURS = {own.OWNER_TAG: OWNER, own.MANAGED_BY_TAG: own.CONTROLLER_NAME}
NAME = "main.risk.fraud"


@dataclass
class UnityCatalog(FakeRegistry):
    """The fake with Unity Catalog's deployment jobs: the job id kept on the model, jobs that must exist."""

    deployment_jobs: bool = True
    existing_jobs: frozenset[str] = frozenset({"41", "42"})

    def set_deployment_job(self, name: str, job_id: str) -> None:
        self._check("set_deployment_job")
        if job_id and job_id not in self.existing_jobs:
            raise errors.Rejected(f"Job {job_id} does not exist.")
        self.models[name] = replace(self.models[name], deployment_job_id=job_id or None)
        self.writes.append(f"set_deployment_job {name} {job_id!r}")


def spec(**fields: Any) -> MLModelSpec:
    return MLModelSpec.model_validate({"workspaceRef": {"name": "w"}, "registeredName": NAME, **fields})


REF = spec(deploymentJobRef={"name": "fraud-deploy"})


def reconcile(
    registry: FakeRegistry, model: MLModelSpec, *, job: int | None = 42, earlier: str | None = None
) -> r.Outcome:
    request = r.Request(owner=OWNER, spec_changed=True, deployment_job_id=job, deployment_job_set=earlier)
    return r.reconcile(model, registry=registry, request=request)


def job_writes(registry: FakeRegistry) -> list[str]:
    return [w for w in registry.writes if w.startswith("set_deployment_job")]


def seeded(job: str | None = None) -> UnityCatalog:
    registry = UnityCatalog()
    registry.seed(NAME, versions=2, tags=OURS)
    registry.models[NAME] = replace(registry.models[NAME], deployment_job_id=job)
    return registry


def test_the_mljobs_job_is_set_on_the_model_and_recorded() -> None:
    registry = seeded()
    outcome = reconcile(registry, REF)
    assert registry.models[NAME].deployment_job_id == "42"
    assert outcome.observed["deploymentJobId"] == "42"
    assert outcome.ready.ok
    assert reconcile(registry, REF, earlier="42").ready.ok
    assert job_writes(registry) == [f"set_deployment_job {NAME} '42'"]


def test_waits_for_the_mljob_to_have_a_job() -> None:
    registry = seeded()
    outcome = reconcile(registry, REF, job=None)
    assert (outcome.ready.ok, outcome.ready.reason) == (False, "WaitingForDependency")
    assert "MLJob fraud-deploy" in outcome.ready.message
    assert job_writes(registry) == []


def test_a_job_changed_outside_is_put_back_and_a_refusal_is_reported() -> None:
    registry = seeded(job="41")
    reconcile(registry, REF, earlier="42")
    assert registry.models[NAME].deployment_job_id == "42"
    registry.existing_jobs = frozenset()
    registry.models[NAME] = replace(registry.models[NAME], deployment_job_id="41")
    outcome = reconcile(registry, REF, earlier="42")
    assert not outcome.ready.ok
    assert "Job 42 does not exist" in outcome.ready.message + outcome.synced.message


def test_removing_the_ref_clears_only_the_job_this_resource_set() -> None:
    registry = seeded(job="42")
    outcome = reconcile(registry, spec(), earlier="42")
    assert registry.models[NAME].deployment_job_id is None
    assert outcome.observed["deploymentJobId"] is None
    other = seeded(job="41")  # set by someone else since: left alone
    reconcile(other, spec(), earlier="42")
    assert other.models[NAME].deployment_job_id == "41"
    never = seeded(job="41")  # never set by this resource
    reconcile(never, spec())
    assert job_writes(never) == []


def test_observe_only_reports_a_different_job_as_drift() -> None:
    registry = seeded(job="41")
    outcome = reconcile(registry, spec(deploymentJobRef={"name": "fraud-deploy"}, managementPolicy="ObserveOnly"))
    assert registry.writes == []
    assert any("deployment job is 41, spec says 42" in d for d in outcome.observed["drift"])


def test_an_mlflow_registry_reports_the_ref_unsupported_and_applies_the_rest() -> None:
    registry = UnityCatalog(deployment_jobs=False)  # as MLflow's registry answers
    registry.seed(NAME, versions=1, tags=OURS)
    outcome = reconcile(registry, spec(deploymentJobRef={"name": "fraud-deploy"}, aliases={"champion": 1}))
    assert (outcome.ready.reason, outcome.ready.ok) == ("Unsupported", False)
    assert "deploymentJobRef" in outcome.ready.message
    assert registry.models[NAME].aliases == {"champion": 1}


def test_status_lists_each_versions_run_newest_first() -> None:
    registry = seeded(job="42")
    running = DeploymentRun("42", "901", "RUNNING", "evaluation")
    done = DeploymentRun("42", "900", "SUCCEEDED")
    registry.versions[NAME] = [
        ObservedVersion(1, "READY", "models:/m-1", None, deployment_run=done),
        ObservedVersion(2, "READY", "models:/m-2", None, deployment_run=running),
        ObservedVersion(3, "READY", "models:/m-3", None),
    ]
    outcome = reconcile(registry, REF, earlier="42")
    assert outcome.observed["deploymentRuns"] == [
        {"version": 2, "jobId": "42", "runId": "901", "runState": "RUNNING", "currentTask": "evaluation"},
        {"version": 1, "jobId": "42", "runId": "900", "runState": "SUCCEEDED"},
    ]
