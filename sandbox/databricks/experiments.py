"""The workspace's MLflow experiments: create, read (by id and by name), rename, delete, restore, tags, search.

Names are workspace paths, as on Databricks: a name that is not absolute is refused. Deleting an
experiment only moves it to the `deleted` lifecycle stage; it keeps its name (a create with that
name is refused) until it is restored. Shapes are the databricks-sdk's `ml.Experiment`, in proto3
JSON (empty fields left out).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from sandbox.databricks.state import (
    ApiError,
    Clock,
    Json,
    Request,
    Route,
    already_exists,
    invalid,
    not_found,
    optional,
    page,
    require,
)

ACTIVE = "active"
DELETED = "deleted"
TAG_KEY_BYTES = 250
TAG_VALUE_BYTES = 64 * 1024
VIEW_TYPES = {"ACTIVE_ONLY": (ACTIVE,), "DELETED_ONLY": (DELETED,), "ALL": (ACTIVE, DELETED)}
_NAME_FILTER = re.compile(r"^\s*name\s*=\s*'((?:[^'\\]|\\.)*)'\s*$")


@dataclasses.dataclass
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    created: int
    updated: int
    tags: dict[str, str]
    lifecycle_stage: str = ACTIVE

    def as_json(self) -> Json:
        out: Json = {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "artifact_location": self.artifact_location,
            "lifecycle_stage": self.lifecycle_stage,
            "creation_time": self.created,
            "last_update_time": self.updated,
        }
        if self.tags:
            out["tags"] = [{"key": k, "value": v} for k, v in sorted(self.tags.items())]
        return out


class Experiments:
    """State and REST handlers of the experiments API."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._by_id: dict[str, Experiment] = {}
        self._next_id = 1000

    def __contains__(self, experiment_id: object) -> bool:
        """Whether an experiment with this id exists, in either lifecycle stage."""
        return str(experiment_id) in self._by_id

    def exists(self, experiment_id: Any) -> bool:
        """Whether runs and logged models may be made in it (the tracking calls' check)."""
        found = self._by_id.get(str(experiment_id))
        return found is not None and found.lifecycle_stage == ACTIVE

    def create(self, req: Request) -> Json:
        name = _workspace_path(require(req.body, "name"))
        if self._named(name) is not None:
            raise already_exists(f"Node named '{name}' already exists")
        tags = _tags(req.body.get("tags"))
        tags.setdefault("mlflow.ownerEmail", req.principal)
        tags.setdefault("mlflow.experimentType", "MLFLOW_EXPERIMENT")
        experiment_id = str(self._next_id)
        self._next_id += 1
        location = optional(req.body, "artifact_location", str)
        now = self._clock.now_ms()
        self._by_id[experiment_id] = Experiment(
            experiment_id=experiment_id,
            name=name,
            artifact_location=location or f"dbfs:/databricks/mlflow-tracking/{experiment_id}",
            created=now,
            updated=now,
            tags=tags,
        )
        return {"experiment_id": experiment_id}

    def get(self, req: Request) -> Json:
        return {"experiment": self._get(req.arg("experiment_id")).as_json()}

    def get_by_name(self, req: Request) -> Json:
        name = req.arg("experiment_name")
        if not name:
            raise invalid("Missing required field: experiment_name")
        found = self._named(name)
        if found is None:
            raise not_found(f"Node named '{name}' does not exist.")
        return {"experiment": found.as_json()}

    def update(self, req: Request) -> Json:
        experiment = self._active(require(req.body, "experiment_id"), "rename")
        new_name = optional(req.body, "new_name", str)
        if new_name:
            new_name = _workspace_path(new_name)
            if new_name != experiment.name and self._named(new_name) is not None:
                raise already_exists(f"Node named '{new_name}' already exists")
            experiment.name = new_name
            experiment.updated = self._clock.now_ms()
        return {}

    def delete(self, req: Request) -> Json:
        experiment = self._get(require(req.body, "experiment_id"))
        if experiment.lifecycle_stage == DELETED:
            raise not_found(f"Node ID {experiment.experiment_id} does not exist.")
        experiment.lifecycle_stage = DELETED
        experiment.updated = self._clock.now_ms()
        return {}

    def restore(self, req: Request) -> Json:
        experiment = self._get(require(req.body, "experiment_id"))
        if experiment.lifecycle_stage == ACTIVE:
            raise invalid(f"Cannot restore experiment with ID {experiment.experiment_id}. It is already active.")
        experiment.lifecycle_stage = ACTIVE
        experiment.updated = self._clock.now_ms()
        return {}

    def set_tag(self, req: Request) -> Json:
        experiment = self._active(require(req.body, "experiment_id"), "set a tag on")
        key = _bounded(require(req.body, "key"), "key", TAG_KEY_BYTES)
        value = req.body.get("value")
        if not isinstance(value, str):
            raise invalid("Missing required field: value" if value is None else "Invalid value for field 'value'")
        experiment.tags[key] = _bounded(value, "value", TAG_VALUE_BYTES)
        experiment.updated = self._clock.now_ms()
        return {}

    def delete_tag(self, req: Request) -> Json:
        experiment = self._active(require(req.body, "experiment_id"), "delete a tag of")
        key = require(req.body, "key")
        if key not in experiment.tags:
            raise not_found(f"No tag with name: {key} in experiment with id {experiment.experiment_id}")
        del experiment.tags[key]
        experiment.updated = self._clock.now_ms()
        return {}

    def search(self, req: Request) -> Json:
        view = req.body.get("view_type") or "ACTIVE_ONLY"
        if view not in VIEW_TYPES:
            raise invalid(f"Invalid value '{view}' for parameter 'view_type'")
        size = req.body.get("max_results") or 1000
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 3000:
            raise invalid(f"Invalid value {size} for parameter 'max_results' supplied: must be between 1 and 3000")
        found = [e for e in self._by_id.values() if e.lifecycle_stage in VIEW_TYPES[view]]
        wanted = req.body.get("filter")
        if wanted:
            matched = _NAME_FILTER.match(str(wanted))
            if matched is None:  # the emulator knows only the filter by exact name
                raise invalid(f"Invalid filter '{wanted}': the emulator supports only name = '<name>'")
            name = matched.group(1).replace("\\'", "'")
            found = [e for e in found if e.name == name]
        items = [e.as_json() for e in sorted(found, key=lambda e: (-e.created, e.experiment_id))]
        shown, token = page(items, req.body.get("page_token"), size)
        out: Json = {"experiments": shown} if shown else {}
        if token:
            out["next_page_token"] = token
        return out

    def routes(self) -> list[Route]:
        base = "/api/2.0/mlflow/experiments"
        return [
            Route("POST", f"{base}/create", self.create),
            Route("GET", f"{base}/get", self.get),
            Route("GET", f"{base}/get-by-name", self.get_by_name),
            Route("POST", f"{base}/update", self.update),
            Route("POST", f"{base}/delete", self.delete),
            Route("POST", f"{base}/restore", self.restore),
            Route("POST", f"{base}/set-experiment-tag", self.set_tag),
            Route("POST", f"{base}/delete-experiment-tag", self.delete_tag),
            Route("POST", f"{base}/search", self.search),
        ]

    def _named(self, name: str) -> Experiment | None:
        return next((e for e in self._by_id.values() if e.name == name), None)

    def _get(self, experiment_id: Any) -> Experiment:
        if not experiment_id:
            raise invalid("Missing required field: experiment_id")
        found = self._by_id.get(str(experiment_id))
        if found is None:
            raise not_found(f"Node ID {experiment_id} does not exist.")
        return found

    def _active(self, experiment_id: Any, doing: str) -> Experiment:
        found = self._get(experiment_id)
        if found.lifecycle_stage != ACTIVE:
            raise invalid(
                f"Cannot {doing} experiment {found.experiment_id}: it must be in the 'active' state; "
                f"it is {found.lifecycle_stage}"
            )
        return found


def _workspace_path(name: str) -> str:
    if not name.startswith("/") or name.rstrip("/") == "" or "//" in name:
        raise invalid(
            f"Got an invalid experiment name '{name}'. An experiment name must be an absolute path within the "
            "Databricks workspace, e.g. '/Users/<some-username>/my-experiment'."
        )
    return name.rstrip("/")


def _bounded(value: str, field: str, limit: int) -> str:
    if len(value.encode()) > limit:
        raise invalid(f"Tag {field} of {len(value.encode())} bytes exceeds the limit of {limit} bytes")
    return value


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(t, dict) and t.get("key") for t in value):
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "Invalid value for parameter 'tags'")
    return {
        _bounded(str(t["key"]), "key", TAG_KEY_BYTES): _bounded(str(t.get("value") or ""), "value", TAG_VALUE_BYTES)
        for t in value
    }
