"""Per kind, what a write would answer and how later reads see what the plan made up.

Each answer is the smallest faithful stand-in for the real call's result: a created object carries what
was sent and the state Databricks or MLflow gives a new object (an endpoint updating, a monitor pending,
a run pending). Numbers the service would choose (a job id, a run id) are NEW_ID, which no real object has.
Reads of objects the plan did not touch go to the real client (PASS).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from controller.kinds.experiment.run import ACTIVE, ObservedExperiment
from controller.kinds.gitfolder.run import ObservedRepo
from controller.kinds.mljob.observed import ObservedJob, ObservedRun
from controller.kinds.mlmodel.gates import Evidence
from controller.kinds.mlmodel.observed import CopySource, ObservedModel, ObservedVersion, SourceRequest
from controller.kinds.modelmonitor.observed import ObservedMonitor, ObservedRefresh
from controller.kinds.servingendpoint.observed import IN_PROGRESS, ObservedConfig, ObservedEndpoint, ObservedEntity
from controller.plan.recording import PASS, Simulated

Json = dict[str, Any]

NEW_ID = 0
"""The id of a job or run the plan would create: Databricks numbers them from 1."""
PENDING_REGISTRATION = "PENDING_REGISTRATION"


class SimulatedRegistry(Simulated):
    """MLflow or Unity Catalog registry answers (MLModel)."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.models: dict[str, ObservedModel] = {}
        self.versions: dict[str, list[ObservedVersion]] = {}
        self.copies: dict[tuple[str, int], CopySource] = {}

    def create_model(self, name: str, *, description: str | None, tags: dict[str, str]) -> None:
        self.models[name] = ObservedModel(name=name, description=description or "", tags=dict(tags), aliases={})
        self.versions[name] = []

    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion:
        known = self.versions[name] if name in self.models else self.real.list_versions(name)
        added = self.versions.setdefault(name, [])
        number = max((v.version for v in (*known, *added)), default=0) + 1
        created = ObservedVersion(
            version=number,
            # A copy is complete when its create returns (files sent, finalized); a registration may still run.
            status="READY" if source.copy_of else PENDING_REGISTRATION,
            source=self.real.source_uri(source),
            run_id=source.run_id,
            tags=dict(tags),
            model_id=source.model_id,
        )
        added.append(created)
        if source.copy_of:
            self.copies[(name, number)] = source.copy_of
        return created

    def evidence(self, name: str, version: ObservedVersion) -> Evidence:
        """A copy the plan made up carries its tags and the metrics measured in the source, as the real one will."""
        copy = self.copies.get((name, version.version))
        if copy is None:
            return PASS  # type: ignore[no-any-return]
        return Evidence(version.version, dict(version.tags), dict(copy.metrics), {})

    def get_model(self, name: str) -> ObservedModel | None:
        return self.models.get(name, PASS)  # type: ignore[no-any-return]

    def list_versions(self, name: str) -> list[ObservedVersion]:
        if name in self.models:
            return list(self.versions[name])
        return PASS  # type: ignore[no-any-return]


class SimulatedServing(Simulated):
    """Model Serving answers (ServingEndpoint)."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.endpoints: dict[str, ObservedEndpoint] = {}

    def create_endpoint(
        self, name: str, *, config: Json, tags: dict[str, str], gateway: Json | None
    ) -> ObservedEndpoint:
        created = ObservedEndpoint(
            name=name,
            id=None,
            ready="NOT_READY",
            config_update=IN_PROGRESS,
            config=None,
            pending=_config(config),
            tags=dict(tags),
            gateway=dict(gateway or {}),
        )
        self.endpoints[name] = created
        return created

    def update_config(self, name: str, config: Json) -> ObservedEndpoint:
        updating = dataclasses.replace(self._current(name), config_update=IN_PROGRESS, pending=_config(config))
        self.endpoints[name] = updating
        return updating

    def patch_tags(self, name: str, *, add: dict[str, str], remove: list[str]) -> dict[str, str]:
        tags = {k: v for k, v in {**self._current(name).tags, **add}.items() if k not in remove}
        self.endpoints[name] = dataclasses.replace(self._current(name), tags=tags)
        return tags

    def put_ai_gateway(self, name: str, gateway: Json) -> Json:
        self.endpoints[name] = dataclasses.replace(self._current(name), gateway=dict(gateway))
        return dict(gateway)

    def run_job(self, job_id: int, *, params: dict[str, str], idempotency_token: str) -> int:
        return NEW_ID

    def get_endpoint(self, name: str) -> ObservedEndpoint | None:
        return self.endpoints.get(name, PASS)  # type: ignore[no-any-return]

    def job_run_result(self, run_id: int) -> str | None:
        return None if run_id == NEW_ID else PASS  # a run the plan starts has not ended

    def _current(self, name: str) -> ObservedEndpoint:
        found = self.endpoints.get(name) or self.real.get_endpoint(name)
        assert found is not None, f"a write to serving endpoint {name}, which was not read first"
        return found


class SimulatedJobs(Simulated):
    """Jobs API answers (MLJob)."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.jobs: dict[int, ObservedJob] = {}

    def create_job(self, settings: Json) -> int:
        self.jobs[NEW_ID] = ObservedJob(job_id=NEW_ID, settings=dict(settings))
        return NEW_ID

    def reset_job(self, job_id: int, settings: Json) -> None:
        self.jobs[job_id] = ObservedJob(job_id=job_id, settings=dict(settings))

    def update_tags(self, job_id: int, tags: Mapping[str, str]) -> None:
        job = self.jobs.get(job_id) or self.real.get_job(job_id)
        assert job is not None, f"a tag update of job {job_id}, which does not exist"
        self.jobs[job_id] = dataclasses.replace(job, settings={**job.settings, "tags": dict(tags)})

    def run_now(self, job_id: int, *, idempotency_token: str) -> int:
        return NEW_ID

    def get_job(self, job_id: int) -> ObservedJob | None:
        return self.jobs.get(job_id, PASS)  # type: ignore[no-any-return]

    def get_run(self, run_id: int) -> ObservedRun | None:
        return ObservedRun(run_id=NEW_ID, state="PENDING") if run_id == NEW_ID else PASS


class SimulatedMonitors(Simulated):
    """Data Quality API answers (ModelMonitor)."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.monitors: dict[str, ObservedMonitor | None] = {}

    def create_monitor(self, table_id: str, config: Json) -> ObservedMonitor:
        created = ObservedMonitor(table_id=table_id, status="PENDING", config=dict(config))
        self.monitors[table_id] = created
        return created

    def update_monitor(self, table_id: str, config: Json, mask: list[str]) -> ObservedMonitor:
        current = self.monitors.get(table_id) or self.real.get_monitor(table_id)
        assert current is not None, f"an update of the monitor on table {table_id}, which was not read first"
        updated = dataclasses.replace(current, config={**current.config, **config})  # fields cleared stay: status only
        self.monitors[table_id] = updated
        return updated

    def delete_monitor(self, table_id: str) -> None:
        self.monitors[table_id] = None

    def get_monitor(self, table_id: str) -> ObservedMonitor | None:
        return self.monitors.get(table_id, PASS)

    def latest_refresh(self, table_id: str) -> ObservedRefresh | None:
        return None if table_id in self.monitors else PASS  # a monitor made (again) by the plan has no refresh


class SimulatedExperiments(Simulated):
    """MLflow tracking answers (Experiment): a created experiment reads back with what was sent."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.created: dict[str, ObservedExperiment] = {}

    def create(self, name: str, *, artifact_location: str | None, tags: dict[str, str]) -> str:
        self.created[name] = ObservedExperiment(str(NEW_ID), name, ACTIVE, artifact_location or "", dict(tags))
        return str(NEW_ID)

    def get_by_name(self, name: str) -> ObservedExperiment | None:
        return self.created.get(name, PASS)  # type: ignore[no-any-return]


class SimulatedRepos(Simulated):
    """Repos API answers (GitFolder): a created folder reads back at what was checked out last."""

    def __init__(self, real: Any) -> None:
        super().__init__(real)
        self.made: dict[int, ObservedRepo] = {}

    def create(self, *, url: str, provider: str, path: str, patterns: list[str] | None) -> ObservedRepo:
        self.made[NEW_ID] = ObservedRepo(NEW_ID, path, url, None, None, tuple(patterns) if patterns else None)
        return self.made[NEW_ID]

    def checkout(self, repo_id: int, *, branch: str | None = None, tag: str | None = None) -> None:
        current = self.made.get(repo_id) or self.real.get(repo_id)
        if current is not None:  # the commit a checkout brings is Git's to say: unknown to the plan
            self.made[repo_id] = dataclasses.replace(current, branch=branch, head_commit=None)

    def get(self, repo_id: int) -> ObservedRepo | None:
        return self.made.get(repo_id, PASS)  # type: ignore[no-any-return]


def _config(payload: Json) -> ObservedConfig:
    """An endpoint config as Databricks would report it back, from the payload sent."""
    entities = tuple(
        ObservedEntity(
            name=str(entity.get("name")),
            entity_name=entity.get("entity_name"),
            entity_version=entity.get("entity_version"),
            workload_size=entity.get("workload_size"),
            workload_type=entity.get("workload_type"),
            scale_to_zero=entity.get("scale_to_zero_enabled"),
            environment_vars=dict(entity.get("environment_vars") or {}),
        )
        for entity in payload.get("served_entities") or []
    )
    routes = (payload.get("traffic_config") or {}).get("routes") or []
    traffic = {str(r["served_entity_name"]): int(r["traffic_percentage"]) for r in routes}
    if not routes and len(entities) == 1:
        traffic = {entities[0].name: 100}
    return ObservedConfig(version=None, entities=entities, traffic=traffic)
