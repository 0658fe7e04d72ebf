"""The MLflow-on-Unity-Catalog endpoints the SDK has no call for (`/api/2.0/mlflow/unity-catalog`).

MLflow's client reads registered models and versions and sets their tags here,
answered in MLflow's JSON shapes over the same Unity Catalog state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.databricks.catalog_objects import Model, Version
from sandbox.databricks.deployment_jobs import DeploymentJobs
from sandbox.databricks.state import ApiError, Json, Request, Route, int_param, not_found, optional, page, require

_FILTER = re.compile(r"\s*name\s*=\s*['\"]([^'\"]+)['\"]\s*")
_MAX_RESULTS = 10000  # MLflow's client asks for 10000 by default

Register = Callable[[Model, str, str, str | None, str | None, dict[str, str]], Version]
"""Make a PENDING_REGISTRATION version: (model, principal, source, run_id, description, tags)."""


class MlflowUnityCatalog:
    """REST handlers of the MLflow-on-UC subset, given the catalog's model and version lookups."""

    def __init__(
        self,
        model: Callable[[str], Model],
        version: Callable[[str, Any], tuple[Model, Version]],
        deployment_jobs: Callable[[], DeploymentJobs | None] = lambda: None,
        register: Register | None = None,
        finalized: Callable[[Model, Version], None] = lambda model, version: None,
    ) -> None:
        self._model = model
        self._version = version
        self._deployment_jobs = deployment_jobs
        self._register = register
        self._finalized = finalized

    def get_model(self, req: Request) -> Json:
        model = self._model(_arg(req, "name"))
        out: Json = {
            "name": model.full_name,
            "creation_timestamp": model.created_at,
            "last_updated_timestamp": model.updated_at,
            "user_id": model.created_by,
        }
        _listed(out, "tags", [{"key": k, "value": v} for k, v in sorted(model.tags.items())])
        _listed(out, "aliases", [{"alias": a, "version": str(n)} for a, n in sorted(model.aliases.items())])
        if model.comment is not None:
            out["description"] = model.comment
        if model.deployment_job_id:
            out["deployment_job_id"] = model.deployment_job_id
        return {"registered_model": out}

    def update_model(self, req: Request) -> Json:
        """MLflow's update: the description and the deployment job ("" removes it); answers the updated model."""
        model = self._model(require(req.body, "name"))
        description = req.body.get("description")
        if description is not None:
            model.comment = str(description)
        job_id = req.body.get("deployment_job_id")
        if job_id is not None:
            jobs = self._deployment_jobs()
            if job_id != "" and jobs is not None:
                jobs.check(str(job_id))
            model.deployment_job_id = str(job_id) or None
        return self.get_model(req)

    def get_version(self, req: Request) -> Json:
        model, v = self._version(_arg(req, "name"), _arg(req, "version"))
        return {"model_version": self._version_view(model, v)}

    def create_version(self, req: Request) -> Json:
        """MLflow's first step of a registration: the version, PENDING_REGISTRATION until its files are
        uploaded (Files API) and it is finalized."""
        assert self._register is not None
        model = self._model(require(req.body, "name"))
        source = require(req.body, "source")
        tags: dict[str, str] = {}
        for tag in optional(req.body, "tags", list) or []:
            if not isinstance(tag, dict) or not isinstance(tag.get("key"), str) or not tag["key"]:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "Each tag must have a non-empty 'key'.")
            tags[tag["key"]] = str(tag.get("value") or "")
        run_id = optional(req.body, "run_id", str) or None
        made = self._register(model, req.principal, source, run_id, optional(req.body, "description", str), tags)
        return {"model_version": self._version_view(model, made)}

    def finalize_version(self, req: Request) -> Json:
        """The last step: PENDING_REGISTRATION → READY (the files are then frozen)."""
        model, v = self._version(require(req.body, "name"), require(req.body, "version", (str, int)))
        if v.status != "PENDING_REGISTRATION":
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"Model version {v.version} of '{model.full_name}' is {v.status}, not PENDING_REGISTRATION.",
            )
        self._finalized(model, v)
        return {"model_version": self._version_view(model, v)}

    def search_versions(self, req: Request) -> Json:
        """MLflow's search of one model's versions: the filter is `name = '<full name>'` (or `run_id = '...'`,
        which the emulator does not answer); newest first, paged."""
        found = _FILTER.fullmatch(req.arg("filter") or "")
        if found is None:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "Filter must be of the form name = '<model name>'.")
        model = self._model(found.group(1))
        size = int_param(req.arg("max_results") or str(_MAX_RESULTS), "max_results")
        if not 0 < size <= _MAX_RESULTS:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"max_results must be between 1 and {_MAX_RESULTS}.")
        views = [self._version_view(model, v) for v in sorted(model.versions.values(), key=lambda v: -v.version)]
        items, token = page(views, req.arg("page_token"), size)
        out: Json = {"model_versions": items} if items else {}
        if token:
            out["next_page_token"] = token
        return out

    def _version_view(self, model: Model, v: Version) -> Json:
        out: Json = {
            "name": model.full_name,
            "version": str(v.version),
            "creation_timestamp": v.created_at,
            "last_updated_timestamp": v.updated_at,
            "user_id": v.created_by,
            "source": v.source,
            "status": v.status,
            "storage_location": f"{model.storage_location}/versions/{v.id}",
        }
        _listed(out, "tags", [{"key": k, "value": val} for k, val in sorted(v.tags.items())])
        held = [{"alias": a, "version": str(n)} for a, n in sorted(model.aliases.items()) if n == v.version]
        _listed(out, "aliases", held)
        if v.run_id is not None:
            out["run_id"] = v.run_id
        if v.comment is not None:
            out["description"] = v.comment
        jobs = self._deployment_jobs()
        deployment = jobs.state(model, v) if jobs is not None else None
        if deployment is not None:
            out["deployment_job_state"] = deployment
        return out

    def set_model_tag(self, req: Request) -> Json:
        model = self._model(require(req.body, "name"))
        model.tags[require(req.body, "key")] = str(req.body.get("value") or "")
        return {}

    def delete_model_tag(self, req: Request) -> Json:
        model = self._model(_arg(req, "name"))
        key = _arg(req, "key")
        if key not in model.tags:
            raise not_found(f"Tag '{key}' does not exist on model '{model.full_name}'.")
        del model.tags[key]
        return {}

    def set_version_tag(self, req: Request) -> Json:
        _, v = self._version(require(req.body, "name"), require(req.body, "version", (str, int)))
        v.tags[require(req.body, "key")] = str(req.body.get("value") or "")
        return {}

    def delete_version_tag(self, req: Request) -> Json:
        model, v = self._version(_arg(req, "name"), _arg(req, "version"))
        key = _arg(req, "key")
        if key not in v.tags:
            raise not_found(f"Tag '{key}' does not exist on version {v.version} of '{model.full_name}'.")
        del v.tags[key]
        return {}

    def routes(self) -> list[Route]:
        ml = "/api/2.0/mlflow/unity-catalog"
        return [
            Route("GET", f"{ml}/registered-models/get", self.get_model),
            Route("GET", f"{ml}/model-versions/get", self.get_version),
            Route("GET", f"{ml}/model-versions/search", self.search_versions),
            Route("POST", f"{ml}/model-versions/create", self.create_version),
            Route("POST", f"{ml}/model-versions/finalize", self.finalize_version),
            Route("PATCH", f"{ml}/registered-models/update", self.update_model),
            Route("POST", f"{ml}/registered-models/set-tag", self.set_model_tag),
            Route("DELETE", f"{ml}/registered-models/delete-tag", self.delete_model_tag),
            Route("POST", f"{ml}/model-versions/set-tag", self.set_version_tag),
            Route("DELETE", f"{ml}/model-versions/delete-tag", self.delete_version_tag),
        ]


def _listed(out: Json, key: str, items: list[Json]) -> None:
    """proto3 JSON, as MLflow-on-UC answers, leaves an empty repeated field out."""
    if items:
        out[key] = items


def _arg(req: Request, name: str) -> str:
    """MLflow's DELETE/GET calls carry their fields in the query string or the body, depending on the client."""
    value = req.arg(name) or req.body.get(name)
    if value is None or value == "":
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{name}'.")
    return str(value)
