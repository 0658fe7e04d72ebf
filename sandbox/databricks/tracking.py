"""The workspace's MLflow tracking subset: experiments (experiments.py), runs, and MLflow 3 logged models.

What training leaves behind for promotion gates to read: a run's metrics (`runs/get` answers the
latest value of each key), and a logged model's metrics (those logged with its `model_id`). Shapes
are the databricks-sdk's `ml` classes, in proto3 JSON (empty fields left out).
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from typing import Any

from sandbox.databricks.experiments import Experiments
from sandbox.databricks.state import (
    ApiError,
    Clock,
    Json,
    Request,
    Route,
    invalid,
    new_hex_id,
    not_found,
    require,
)

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
LOGGED_MODEL_STATUSES = ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED")


@dataclasses.dataclass
class TrackedRun:
    run_id: str
    experiment_id: str
    run_name: str
    user: str
    start_time: int
    tags: dict[str, str]
    status: str = "RUNNING"
    end_time: int | None = None
    metrics: list[Json] = dataclasses.field(default_factory=list)

    def info(self) -> Json:
        out: Json = {
            "run_id": self.run_id,
            "run_uuid": self.run_id,
            "experiment_id": self.experiment_id,
            "run_name": self.run_name,
            "user_id": self.user,
            "status": self.status,
            "start_time": self.start_time,
            "artifact_uri": f"dbfs:/databricks/mlflow-tracking/{self.experiment_id}/{self.run_id}/artifacts",
            "lifecycle_stage": "active",
        }
        if self.end_time is not None:
            out["end_time"] = self.end_time
        return out

    def as_json(self) -> Json:
        data: Json = {}
        latest = _latest(self.metrics)
        if latest:
            data["metrics"] = [{k: m[k] for k in ("key", "value", "timestamp", "step")} for m in latest]
        if self.tags:
            data["tags"] = [{"key": k, "value": v} for k, v in sorted(self.tags.items())]
        out: Json = {"info": self.info()}
        if data:
            out["data"] = data
        return out


@dataclasses.dataclass
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    creator_id: int
    created_at: int
    source_run_id: str | None
    model_type: str | None
    tags: dict[str, str]
    params: dict[str, str]
    status: str = "LOGGED_MODEL_PENDING"
    updated_at: int = 0
    metrics: list[Json] = dataclasses.field(default_factory=list)

    def as_json(self) -> Json:
        info: Json = {
            "model_id": self.model_id,
            "experiment_id": self.experiment_id,
            "name": self.name,
            "creator_id": self.creator_id,
            "creation_timestamp_ms": self.created_at,
            "last_updated_timestamp_ms": self.updated_at or self.created_at,
            "status": self.status,
            "artifact_uri": f"dbfs:/databricks/mlflow-tracking/{self.experiment_id}/logged_models/{self.model_id}",
        }
        if self.source_run_id:
            info["source_run_id"] = self.source_run_id
        if self.model_type:
            info["model_type"] = self.model_type
        if self.tags:
            info["tags"] = [{"key": k, "value": v} for k, v in sorted(self.tags.items())]
        data: Json = {}
        if self.metrics:
            data["metrics"] = [dict(m) for m in self.metrics]
        if self.params:
            data["params"] = [{"key": k, "value": v} for k, v in sorted(self.params.items())]
        return {"info": info, "data": data} if data else {"info": info}


class Tracking:
    """State and REST handlers of the tracking calls training makes and promotion gates read."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.experiments = Experiments(clock)
        self.runs: dict[str, TrackedRun] = {}
        self.models: dict[str, LoggedModel] = {}

    def create_run(self, req: Request) -> Json:
        experiment_id = self._experiment(require(req.body, "experiment_id"))
        run_id = new_hex_id()
        tags = _pairs(req.body.get("tags"), "tags")
        start = req.body.get("start_time")
        run = TrackedRun(
            run_id=run_id,
            experiment_id=experiment_id,
            run_name=str(req.body.get("run_name") or tags.get("mlflow.runName") or f"run-{run_id[:6]}"),
            user=req.principal,
            start_time=int(start) if isinstance(start, int) else self._clock.now_ms(),
            tags=tags,
        )
        self.runs[run_id] = run
        return {"run": run.as_json()}

    def get_run(self, req: Request) -> Json:
        return {"run": self._run(req.arg("run_id") or req.arg("run_uuid")).as_json()}

    def update_run(self, req: Request) -> Json:
        run = self._run(req.body.get("run_id") or req.body.get("run_uuid"))
        status = req.body.get("status")
        if status is not None:
            if status not in RUN_STATUSES:
                raise invalid(f"Invalid value '{status}' for parameter 'status'")
            run.status = status
            if status in ("FINISHED", "FAILED", "KILLED"):
                run.end_time = int(req.body.get("end_time") or self._clock.now_ms())
        return {"run_info": run.info()}

    def log_metric(self, req: Request) -> Json:
        run = self._run(req.body.get("run_id") or req.body.get("run_uuid"))
        key = require(req.body, "key")
        value = req.body.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise invalid("Missing value for required parameter 'value'." if value is None else "Invalid 'value'.")
        timestamp = require(req.body, "timestamp", int)
        step = req.body.get("step") or 0
        if not isinstance(step, int):
            raise invalid(f"Invalid value '{step}' for parameter 'step'")
        point: Json = {"key": key, "value": float(value), "timestamp": timestamp, "step": step, "run_id": run.run_id}
        for field in ("dataset_name", "dataset_digest"):
            if req.body.get(field):
                point[field] = str(req.body[field])
        model_id = req.body.get("model_id")
        if model_id:
            model = self._model(str(model_id))
            model.metrics.append({**point, "model_id": model.model_id})
            point["model_id"] = model.model_id
        run.metrics.append(point)
        return {}

    def create_logged_model(self, req: Request) -> Json:
        experiment_id = self._experiment(require(req.body, "experiment_id"))
        source_run_id = req.body.get("source_run_id")
        if source_run_id:
            self._run(str(source_run_id))
        model_id = f"m-{new_hex_id()}"
        now = self._clock.now_ms()
        model = LoggedModel(
            model_id=model_id,
            experiment_id=experiment_id,
            name=str(req.body.get("name") or f"model-{model_id[2:8]}"),
            creator_id=zlib.crc32(req.principal.encode()),
            created_at=now,
            source_run_id=str(source_run_id) if source_run_id else None,
            model_type=req.body.get("model_type") or None,
            tags=_pairs(req.body.get("tags"), "tags"),
            params=_pairs(req.body.get("params"), "params"),
        )
        self.models[model_id] = model
        return {"model": model.as_json()}

    def get_logged_model(self, req: Request) -> Json:
        return {"model": self._model(req.params["model_id"]).as_json()}

    def finalize_logged_model(self, req: Request) -> Json:
        model = self._model(req.params["model_id"])
        status = require(req.body, "status")
        if status not in LOGGED_MODEL_STATUSES[1:]:
            raise invalid(f"Invalid value '{status}' for parameter 'status'")
        model.status = status
        model.updated_at = self._clock.now_ms()
        return {"model": model.as_json()}

    def routes(self) -> list[Route]:
        ml = "/api/2.0/mlflow"
        return [
            *self.experiments.routes(),
            Route("POST", f"{ml}/runs/create", self.create_run),
            Route("GET", f"{ml}/runs/get", self.get_run),
            Route("POST", f"{ml}/runs/update", self.update_run),
            Route("POST", f"{ml}/runs/log-metric", self.log_metric),
            Route("POST", f"{ml}/logged-models", self.create_logged_model),
            Route("GET", f"{ml}/logged-models/{{model_id}}", self.get_logged_model),
            Route("PATCH", f"{ml}/logged-models/{{model_id}}", self.finalize_logged_model),
        ]

    def _experiment(self, experiment_id: Any) -> str:
        if not self.experiments.exists(experiment_id):
            raise not_found(f"No Experiment with id={experiment_id} exists")
        return str(experiment_id)

    def _run(self, run_id: Any) -> TrackedRun:
        if not run_id:
            raise invalid("Missing value for required parameter 'run_id'.")
        run = self.runs.get(str(run_id))
        if run is None:
            raise not_found(f"Run with id={run_id} not found")
        return run

    def _model(self, model_id: str) -> LoggedModel:
        model = self.models.get(model_id)
        if model is None:
            raise not_found(f"Logged model with ID '{model_id}' not found.")
        return model


def _latest(points: list[Json]) -> list[Json]:
    """Per key, the value with the latest timestamp (the highest among equal ones), as `runs/get` answers."""
    best: dict[str, Json] = {}
    for point in points:
        seen = best.get(point["key"])
        if seen is None or (point["timestamp"], point["value"]) > (seen["timestamp"], seen["value"]):
            best[point["key"]] = point
    return [best[key] for key in sorted(best)]


def _pairs(value: Any, field: str) -> dict[str, str]:
    """`[{key, value}]` as a dict; a malformed list is the 400 Databricks answers."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(p, dict) and p.get("key") for p in value):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid value for parameter '{field}'")
    return {str(p["key"]): str(p.get("value") or "") for p in value}
