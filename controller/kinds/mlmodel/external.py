"""The MLModel's external client: registered models, versions, tags and aliases in an MLflow registry."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Sequence

from mlflow.entities import LoggedModelStatus, Metric, RunStatus
from mlflow.entities.model_registry import ModelVersion, ModelVersionTag, RegisteredModelTag
from mlflow.exceptions import MlflowException

from controller.clients import errors
from controller.clients.artifacts import copy_files
from controller.clients.mlflow import MlflowConnection, translated_errors
from controller.kinds.mlmodel.gates import Evidence, latest_values
from controller.kinds.mlmodel.observed import CopySource, ObservedModel, ObservedVersion, SourceRequest
from controller.kinds.mlmodel.version_tags import FINGERPRINT_TAG
from controller.reconciling.catalog_grants import GrantChange
from controller.reconciling.permissions import Levels

_PAGE = 200
COPY_EXPERIMENT = "mlops-gitops-controller-copies"
"""The experiment that holds the logged models (and their runs) made for versions copied from other registries."""


class MlflowRegistry:
    """Implements the reconcile's `Registry` protocol against an MLflow server."""

    creates_versions = True
    deployment_jobs = False

    def __init__(self, connection: MlflowConnection) -> None:
        self._conn = connection

    def get_model(self, name: str) -> ObservedModel | None:
        try:
            with translated_errors("get_model"):
                model = self._conn.registry.get_registered_model(name)
        except errors.NotFound:
            return None
        return ObservedModel(
            name=model.name,
            description=model.description or "",
            tags=dict(model.tags),
            aliases={alias: int(version) for alias, version in model.aliases.items()},
            # The newest version of each stage: their highest is the model's, with no read of the versions.
            latest_version=max((int(v.version) for v in model.latest_versions or []), default=None),
        )

    def list_models(self) -> list[ObservedModel]:
        """Every registered model, with its description, tags and aliases (for `mlopsctl import`)."""
        found: list[ObservedModel] = []
        token: str | None = None
        with translated_errors("list_models"):
            while True:
                page = self._conn.registry.search_registered_models(max_results=_PAGE, page_token=token)
                found.extend(
                    ObservedModel(
                        name=m.name,
                        description=m.description or "",
                        tags=dict(m.tags),
                        aliases={alias: int(version) for alias, version in m.aliases.items()},
                    )
                    for m in page
                )
                token = page.token
                if not token:
                    return sorted(found, key=lambda m: m.name)

    def create_model(self, name: str, *, description: str | None, tags: dict[str, str]) -> None:
        with translated_errors("create_model"):
            self._conn.registry.create_registered_model(
                name, tags=[RegisteredModelTag(k, v) for k, v in tags.items()], description=description
            )

    def set_description(self, name: str, description: str) -> None:
        with translated_errors("set_description"):
            self._conn.registry.update_registered_model(name, description)

    def set_tag(self, name: str, key: str, value: str) -> None:
        with translated_errors("set_tag"):
            self._conn.registry.set_registered_model_tag(name, RegisteredModelTag(key, value))

    def delete_tag(self, name: str, key: str) -> None:
        with translated_errors("delete_tag"):
            self._conn.registry.delete_registered_model_tag(name, key)

    def list_versions(self, name: str) -> list[ObservedVersion]:
        found: list[ObservedVersion] = []
        token: str | None = None
        escaped = name.replace("'", "\\'")
        with translated_errors("list_versions"):
            while True:
                page = self._conn.registry.search_model_versions(
                    filter_string=f"name='{escaped}'", max_results=_PAGE, page_token=token
                )
                found.extend(_version(v) for v in page)
                token = page.token
                if not token:
                    return sorted(found, key=lambda v: v.version)

    def create_version(
        self, name: str, source: SourceRequest, *, tags: dict[str, str], description: str | None
    ) -> ObservedVersion:
        model_id: str | None
        run_id: str | None
        with translated_errors("create_version"):
            if source.copy_of is not None:
                uri, model_id, run_id = self._copy_in(source.copy_of, tags[FINGERPRINT_TAG])
            else:
                uri, model_id, run_id = self._resolve(source)
            created = self._conn.registry.create_model_version(
                name,
                uri,
                run_id=run_id,
                tags=[ModelVersionTag(k, v) for k, v in tags.items()],
                description=description,
                model_id=model_id,
            )
        return _version(created)

    def tag_version(self, name: str, version: int, key: str, value: str) -> None:
        with translated_errors("tag_version"):
            self._conn.registry.set_model_version_tag(name, str(version), ModelVersionTag(key, value))

    def set_alias(self, name: str, alias: str, version: int) -> None:
        with translated_errors("set_alias"):
            self._conn.registry.set_registered_model_alias(name, alias, str(version))

    def delete_alias(self, name: str, alias: str) -> None:
        with translated_errors("delete_alias"):
            self._conn.registry.delete_registered_model_alias(name, alias)

    def delete_model(self, name: str) -> None:
        with translated_errors("delete_model"):
            self._conn.registry.delete_registered_model(name)

    @property
    def location(self) -> str:
        return self._conn.tracking_uri

    def get_version(self, name: str, version: int) -> ObservedVersion | None:
        try:
            with translated_errors("get_model_version"):
                return _version(self._conn.registry.get_model_version(name, str(version)))
        except errors.NotFound:
            return None

    def copy_source(self, name: str, version: ObservedVersion) -> CopySource:
        """Where the version's files are, and its metrics (its logged model's, else its run's) to record with a copy."""
        with translated_errors("get_model_version_download_uri"):
            artifact_uri = self._conn.registry.get_model_version_download_uri(name, str(version.version))
        evidence = self.evidence(name, version)
        return CopySource(
            location=self.location,
            registered_name=name,
            version=version.version,
            artifact_uri=artifact_uri,
            metrics={**evidence.run_metrics, **evidence.model_metrics},
        )

    def source_uri(self, source: SourceRequest) -> str:
        """The source URI a version made from `source` carries (for adopting versions made by training)."""
        if source.copy_of:
            return source.copy_of.uri
        if source.model_id:
            return f"models:/{source.model_id}"
        return f"runs:/{source.run_id}/{source.artifact_path}"

    def model_url(self, name: str) -> str:
        return f"{self._conn.tracking_uri}/#/models/{urllib.parse.quote(name, safe='')}"

    def get_grants(self, name: str) -> Levels | None:
        return None  # an MLflow registry has no grants (its auth app's permissions are not read; see the docs)

    def update_grants(self, name: str, changes: Sequence[GrantChange]) -> None:
        raise errors.Rejected("an MLflow registry has no grants")

    def set_deployment_job(self, name: str, job_id: str) -> None:
        raise errors.Rejected("an MLflow registry has no deployment jobs")

    def evidence(self, name: str, version: ObservedVersion) -> Evidence:
        """The version's tags (as listed) and the metrics of its logged model and of its run.

        A logged model or run that no longer exists has no metrics: a gate on them then fails as missing.
        """
        model_metrics: dict[str, float] = {}
        run_metrics: dict[str, float] = {}
        if version.logged_model_id:
            try:
                with translated_errors("get_logged_model"):
                    logged = self._conn.tracking.get_logged_model(version.logged_model_id)
                model_metrics = latest_values((m.key, m.value, m.timestamp) for m in logged.metrics or [])
            except errors.NotFound:
                pass
        if version.run_id:
            try:
                with translated_errors("get_run"):
                    run_metrics = dict(self._conn.tracking.get_run(version.run_id).data.metrics)
            except errors.NotFound:
                pass
        return Evidence(version.version, dict(version.tags), model_metrics, run_metrics)

    def _copy_in(self, copy: CopySource, fingerprint: str) -> tuple[str, str, str]:
        """A logged model here holding the source version's files and metrics: (its URI, its id, its run id).

        Named by the fingerprint, so a copy a crash interrupted is found and completed, never made twice.
        """
        tracking = self._conn.tracking
        experiment_id = self._copy_experiment()
        staged = tracking.search_logged_models(
            experiment_ids=[experiment_id], filter_string=f"name = 'copy-{fingerprint}'", max_results=1
        )
        if staged:
            logged = staged[0]
        else:
            started = int(time.time() * 1000)
            run = tracking.create_run(experiment_id, None, started, [], f"copy of {copy.uri}")
            logged = tracking.create_logged_model(experiment_id, f"copy-{fingerprint}", run.info.run_id)
        run_id = str(logged.source_run_id)
        copy_files(copy.artifact_uri, copy.location, logged.artifact_location, self._conn.tracking_uri)
        now = int(time.time() * 1000)
        metrics = [Metric(k, v, now, 0, model_id=logged.model_id) for k, v in sorted(copy.metrics.items())]
        if metrics:
            tracking.log_batch(run_id, metrics, [], [])
        tracking.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
        tracking.update_run_info(run_id, RunStatus.FINISHED, now, None)
        return f"models:/{logged.model_id}", logged.model_id, run_id

    def _copy_experiment(self) -> str:
        found = self._conn.tracking.get_experiment_by_name(COPY_EXPERIMENT)
        if found is not None:
            return str(found.experiment_id)
        try:
            return str(self._conn.tracking.create_experiment(COPY_EXPERIMENT))
        except MlflowException:  # another replica made it first
            found = self._conn.tracking.get_experiment_by_name(COPY_EXPERIMENT)
            if found is None:
                raise
            return str(found.experiment_id)

    def _resolve(self, source: SourceRequest) -> tuple[str, str | None, str | None]:
        """(source URI, model_id, run_id) to register from.

        MLflow 3 versions must point at the logged model (`models:/<id>` with model_id);
        a `runs:/` path registers a version that cannot be loaded. A run's model is
        therefore looked up as a logged model first, and `runs:/` is used only for
        models logged the MLflow 2 way.
        """
        if source.model_id:
            logged = self._conn.tracking.get_logged_model(source.model_id)
            return f"models:/{source.model_id}", source.model_id, logged.source_run_id
        assert source.run_id is not None
        assert source.artifact_path is not None
        run = self._conn.tracking.get_run(source.run_id)
        logged_models = self._conn.tracking.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"source_run_id = '{source.run_id}' AND name = '{source.artifact_path}'",
            max_results=1,
        )
        if logged_models:
            model_id = logged_models[0].model_id
            return f"models:/{model_id}", model_id, source.run_id
        return f"runs:/{source.run_id}/{source.artifact_path}", None, source.run_id


def _version(version: ModelVersion) -> ObservedVersion:
    return ObservedVersion(
        version=int(version.version),
        status=str(version.status),
        source=version.source or "",
        run_id=version.run_id or None,
        tags=dict(version.tags),
        model_id=version.model_id or None,
    )
