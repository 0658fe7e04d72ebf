"""The MLModel's external client for Unity Catalog models, through the databricks-sdk.

Unity Catalog versions are made by training (MLflow's client uploads the artifacts
and registers them), so this registry finds declared versions instead of creating
them, except copies of another registry's versions, which it registers as MLflow's
client does (create, upload, finalize); aliases, tags, the comment and deletion are
managed here. Tags live on the
MLflow-on-Unity-Catalog endpoints, which the SDK has no typed call for; reading the
model there also returns its aliases and comment, so one read observes the model.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.ml import Metric

from controller.clients import errors, uc_versions
from controller.clients.databricks import translated_errors
from controller.clients.file_copy import copy_between
from controller.clients.model_files import VersionFiles
from controller.kinds.mlmodel import deployment_job
from controller.kinds.mlmodel.copying import PENDING, FilesCopySource
from controller.kinds.mlmodel.gates import Evidence, latest_values
from controller.kinds.mlmodel.observed import CopySource, ObservedModel, ObservedVersion, SourceRequest
from controller.reconciling.catalog_grants import GrantChange
from controller.reconciling.permissions import Levels

MODEL_SECURABLE = "FUNCTION"  # the grants API's securable type for registered models (the SDK says so)

_MLFLOW_UC = "/api/2.0/mlflow/unity-catalog"


class UnityCatalogRegistry:
    """Implements the reconcile's `Registry` protocol against Unity Catalog."""

    creates_versions = False
    deployment_jobs = True

    def __init__(self, client: WorkspaceClient) -> None:
        self._w = client

    def get_model(self, name: str) -> ObservedModel | None:
        try:
            with translated_errors():
                raw = self._w.api_client.do("GET", f"{_MLFLOW_UC}/registered-models/get", query={"name": name})
        except errors.NotFound:
            return None
        model: dict[str, Any] = raw["registered_model"] if isinstance(raw, dict) else {}
        return ObservedModel(
            name=str(model.get("name", name)),
            description=str(model.get("description") or ""),
            tags={t["key"]: t.get("value", "") for t in model.get("tags") or []},
            aliases={a["alias"]: int(a["version"]) for a in model.get("aliases") or []},
            deployment_job_id=model.get("deployment_job_id") or None,
        )

    def set_deployment_job(self, name: str, job_id: str) -> None:
        """MLflow's update of the registered model on Unity Catalog (the SDK's has no deployment job field)."""
        with translated_errors():
            self._w.api_client.do(
                "PATCH", f"{_MLFLOW_UC}/registered-models/update", body={"name": name, "deployment_job_id": job_id}
            )

    def list_models(self) -> list[ObservedModel]:
        """Every registered model the credentials can see, each read as `get_model` reads it (tags and aliases
        are not in Unity Catalog's list); one deleted between the list and its read is left out."""
        with translated_errors():
            names = sorted(m.full_name for m in self._w.registered_models.list() if m.full_name)
        return [model for model in map(self.get_model, names) if model is not None]

    def create_model(self, name: str, *, description: str | None, tags: dict[str, str]) -> None:
        catalog, schema, model = _parts(name)
        with translated_errors():
            self._w.registered_models.create(catalog_name=catalog, schema_name=schema, name=model, comment=description)
        for key, value in tags.items():
            self.set_tag(name, key, value)

    def set_description(self, name: str, description: str) -> None:
        with translated_errors():
            self._w.registered_models.update(name, comment=description)

    def set_tag(self, name: str, key: str, value: str) -> None:
        with translated_errors():
            self._w.api_client.do(
                "POST", f"{_MLFLOW_UC}/registered-models/set-tag", body={"name": name, "key": key, "value": value}
            )

    def delete_tag(self, name: str, key: str) -> None:
        try:
            with translated_errors():
                self._w.api_client.do(
                    "DELETE", f"{_MLFLOW_UC}/registered-models/delete-tag", body={"name": name, "key": key}
                )
        except errors.NotFound:
            return

    def list_versions(self, name: str) -> list[ObservedVersion]:
        """Every version, through MLflow-on-UC's search: unlike Unity Catalog's list, it reports each version's
        deployment job run, so one paged read observes them all."""
        found: list[ObservedVersion] = []
        token: str | None = None
        while True:
            query = {"filter": f"name = '{name}'", **({"page_token": token} if token else {})}
            with translated_errors():
                raw = self._w.api_client.do("GET", f"{_MLFLOW_UC}/model-versions/search", query=query)
            answer: dict[str, Any] = raw if isinstance(raw, dict) else {}
            found += [_observed(v) for v in answer.get("model_versions") or []]
            token = answer.get("next_page_token") or None
            if token is None:
                return sorted(found, key=lambda v: v.version)

    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion:
        """Only a copy: created PENDING_REGISTRATION with its tags, its files uploaded, finalized. A copy left
        pending (a crash, a failed upload) is found by its source and completed instead of made again."""
        copy = source.copy_of
        if copy is None:
            raise errors.Rejected(f"Unity Catalog model versions are registered by training, not here ({source.key})")
        uri = self.source_uri(source)
        with translated_errors():
            made = uc_versions.find_by_source(self._w, name, uri)
            if made is None:
                # The source's metrics on a run here first, so the gates judge the copy on them (a crash before
                # the create leaves that run unused, never a second version).
                run_id = uc_versions.record_metrics(self._w, copy.metrics, f"copy of {uri}") if copy.metrics else None
                made = uc_versions.create_pending(
                    self._w, name, source=uri, tags=tags, description=description, run_id=run_id
                )
            if made.get("status") == PENDING:
                number = int(made["version"])
                self._upload(copy, VersionFiles(self._w, name, number))
                made = uc_versions.finalize(self._w, name, number)
        return _observed(made)

    def _upload(self, copy: CopySource, target: VersionFiles) -> None:
        if isinstance(copy, FilesCopySource):
            copy_between(copy.files, target)
            return
        # A version of an MLflow registry: MLflow's client is loaded only for such a copy.
        from controller.clients import artifacts, mlflow

        with mlflow.translated_errors("download_artifacts"):
            copy_between(artifacts.ArtifactFiles(copy.artifact_uri, copy.location), target)

    def tag_version(self, name: str, version: int, key: str, value: str) -> None:
        with translated_errors():
            self._w.api_client.do(
                "POST",
                f"{_MLFLOW_UC}/model-versions/set-tag",
                body={"name": name, "version": str(version), "key": key, "value": value},
            )

    def set_alias(self, name: str, alias: str, version: int) -> None:
        with translated_errors():
            self._w.registered_models.set_alias(name, alias, version)

    def delete_alias(self, name: str, alias: str) -> None:
        try:
            with translated_errors():
                self._w.registered_models.delete_alias(name, alias)
        except errors.NotFound:
            return

    def delete_model(self, name: str) -> None:
        with translated_errors():
            self._w.registered_models.delete(name)

    @property
    def location(self) -> str:
        return str(self._w.config.host).rstrip("/")

    def get_version(self, name: str, version: int) -> ObservedVersion | None:
        try:
            with translated_errors():
                raw = self._w.api_client.do(
                    "GET", f"{_MLFLOW_UC}/model-versions/get", query={"name": name, "version": str(version)}
                )
        except errors.NotFound:
            return None
        found: dict[str, Any] = raw["model_version"] if isinstance(raw, dict) else {}
        return ObservedVersion(
            version=int(found.get("version") or version),
            status=str(found.get("status") or "UNKNOWN"),
            source=str(found.get("source") or ""),
            run_id=found.get("run_id") or None,
            tags={t["key"]: t.get("value", "") for t in found.get("tags") or []},
            model_id=found.get("model_id") or None,
        )

    def copy_source(self, name: str, version: ObservedVersion) -> CopySource:
        """The version's files, read through this workspace's Files API, and its metrics (as evidence reads them)."""
        evidence = self.evidence(name, version)
        return FilesCopySource(
            location=self.location,
            registered_name=name,
            version=version.version,
            artifact_uri=f"models:/{name}/{version.version}",
            metrics={**evidence.run_metrics, **evidence.model_metrics},
            files=VersionFiles(self._w, name, version.version),
        )

    def source_uri(self, source: SourceRequest) -> str:
        if source.copy_of:
            return source.copy_of.uri
        if source.model_id:
            return f"models:/{source.model_id}"
        return f"runs:/{source.run_id}/{source.artifact_path}"

    def evidence(self, name: str, version: ObservedVersion) -> Evidence:
        """The version's tags (MLflow-on-UC's read: Unity Catalog's own has none) and the metrics of its logged
        model and its run, from the workspace's MLflow tracking. What no longer exists has no metrics."""
        with translated_errors():
            raw = self._w.api_client.do(
                "GET", f"{_MLFLOW_UC}/model-versions/get", query={"name": name, "version": str(version.version)}
            )
        found: dict[str, Any] = raw["model_version"] if isinstance(raw, dict) else {}
        tags = {t["key"]: t.get("value", "") for t in found.get("tags") or []}
        model_id = found.get("model_id") or version.logged_model_id
        run_id = found.get("run_id") or version.run_id
        model_metrics: dict[str, float] = {}
        run_metrics: dict[str, float] = {}
        if model_id:
            try:
                with translated_errors():
                    logged = self._w.experiments.get_logged_model(model_id).model
                data = logged.data if logged else None
                model_metrics = _latest(data.metrics if data else None)
            except errors.NotFound:
                pass
        if run_id:
            try:
                with translated_errors():
                    run = self._w.experiments.get_run(run_id).run
                run_metrics = _latest(run.data.metrics if run and run.data else None)
            except errors.NotFound:
                pass
        deployment_run = deployment_job.parse(found.get("deployment_job_state"))
        return Evidence(version.version, tags, model_metrics, run_metrics, deployment_run)

    def get_grants(self, name: str) -> Levels | None:
        """Each principal's privileges on the model, comma-joined (registered models are securable FUNCTION)."""
        with translated_errors():
            found = self._w.grants.get(MODEL_SECURABLE, name)
        return {
            ("principal", a.principal): ",".join(sorted(p.value for p in a.privileges or []))
            for a in found.privilege_assignments or []
            if a.principal and a.privileges
        }

    def update_grants(self, name: str, changes: Sequence[GrantChange]) -> None:
        sent = [
            PermissionsChange(
                principal=c.principal,
                add=[Privilege(p) for p in c.add] or None,
                remove=[Privilege(p) for p in c.remove] or None,
            )
            for c in changes
        ]
        with translated_errors():
            self._w.grants.update(MODEL_SECURABLE, name, changes=sent)

    def model_url(self, name: str) -> str:
        path = "/".join(urllib.parse.quote(part, safe="") for part in name.split("."))
        return f"{self._w.config.host}/explore/data/models/{path}"


def _observed(found: dict[str, Any]) -> ObservedVersion:
    return ObservedVersion(
        version=int(found.get("version") or 0),
        status=str(found.get("status") or "UNKNOWN"),
        source=str(found.get("source") or ""),
        run_id=found.get("run_id") or None,
        tags={t["key"]: t.get("value", "") for t in found.get("tags") or []},  # when the answer has them
        model_id=found.get("model_id") or None,
        deployment_run=deployment_job.parse(found.get("deployment_job_state")),
    )


def _latest(metrics: list[Metric] | None) -> dict[str, float]:
    return latest_values((m.key, m.value, m.timestamp or 0) for m in metrics or [] if m.key and m.value is not None)


def _parts(name: str) -> tuple[str, str, str]:
    parts = name.split(".")
    if len(parts) != 3 or not all(parts):
        raise errors.Rejected(f"registeredName {name!r} must be catalog.schema.model on Unity Catalog")
    return parts[0], parts[1], parts[2]
