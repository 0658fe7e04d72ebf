"""A serving endpoint config as Databricks accepts it: validation and the defaults the server fills in.

`build` turns the body of a create or `update_config` into the config the
endpoint stores: served entities with names, workloads and deployment states,
and a traffic config. The legacy `served_models` form is read into the same
served entities.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sandbox.databricks.catalog_objects import IDENT
from sandbox.databricks.state import Json, invalid

_ENTITY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
WORKLOAD_SIZES = ("Small", "Medium", "Large")
WORKLOAD_TYPES = (
    "CPU",
    "CPU_MEDIUM",
    "CPU_LARGE",
    "GPU_SMALL",
    "GPU_MEDIUM",
    "GPU_LARGE",
    "GPU_XLARGE",
    "GPU_XLARGE_8",
    "MULTIGPU_MEDIUM",
)
MAX_SERVED_ENTITIES = 10
STORED_ENTITY_FIELDS = (
    "entity_name",
    "entity_version",
    "external_model",
    "workload_size",
    "workload_type",
    "scale_to_zero_enabled",
    "environment_vars",
    "instance_profile_arn",
    "min_provisioned_concurrency",
    "max_provisioned_concurrency",
    "min_provisioned_throughput",
    "max_provisioned_throughput",
    "provisioned_model_units",
    "burst_scaling_enabled",
)
"""What a served entity keeps from the request; an entity whose fields all match the current one is unchanged."""


def deployment(state: str, message: str) -> Json:
    return {"deployment": state, "deployment_state_message": message}


def build(body: Json, version: int, previous: Json | None, principal: str, now_ms: int) -> Json:
    """The config to deploy from a request body, given the config served now (None before the first deploy)."""
    entities = _entities(body, previous, now_ms, principal)
    config: Json = {"config_version": version, "served_entities": entities, "traffic_config": _traffic(body, entities)}
    capture = _auto_capture(body, previous)
    if capture:
        config["auto_capture_config"] = capture
    return config


def _requested_entities(body: Json) -> Any:
    """The served entities of a request, reading the legacy `served_models` (model_name, model_version) as entities."""
    entities, models = body.get("served_entities"), body.get("served_models")
    if entities is not None and models is not None:
        raise invalid("Only one of served_entities and served_models can be specified.")
    if models is None:
        return entities
    if not isinstance(models, list):
        raise invalid("served_models must be a list.")
    renamed = {"model_name": "entity_name", "model_version": "entity_version"}
    return [{renamed.get(k, k): v for k, v in m.items()} if isinstance(m, dict) else m for m in models]


def _entities(body: Json, previous: Json | None, now_ms: int, principal: str) -> list[Json]:
    raw = _requested_entities(body)
    if not isinstance(raw, list) or not raw:
        raise invalid("The config must contain at least one served entity (served_entities).")
    if len(raw) > MAX_SERVED_ENTITIES:
        raise invalid(f"An endpoint can serve at most {MAX_SERVED_ENTITIES} entities.")
    before = {e["name"]: e for e in (previous or {}).get("served_entities", [])}
    out: list[Json] = []
    for item in raw:
        if not isinstance(item, dict):
            raise invalid("Each served entity must be an object.")
        entity = {k: copy.deepcopy(item[k]) for k in STORED_ENTITY_FIELDS if item.get(k) is not None}
        default_name = _check_entity(entity)
        name = item.get("name") or default_name
        if not _ENTITY_NAME.match(name):
            raise invalid(f"Invalid served entity name '{name}': use letters, digits, '-' and '_' (at most 63).")
        if any(e["name"] == name for e in out):
            raise invalid(f"Served entity names must be unique; '{name}' is used twice.")
        entity["name"] = name
        old = before.get(name)
        if old is not None and all(old.get(k) == entity.get(k) for k in STORED_ENTITY_FIELDS):
            entity.update(creator=old["creator"], creation_timestamp=old["creation_timestamp"])
            entity["state"] = copy.deepcopy(old["state"])
        else:
            entity.update(creator=principal, creation_timestamp=now_ms)
            entity["state"] = deployment("DEPLOYMENT_CREATING", "Creating the served entity.")
        out.append(entity)
    return out


def _check_entity(entity: Json) -> str:
    """Checks a served entity and fills in its workload defaults; returns its default name.

    That is `<model>-<version>`, or for an external model its name with '.' and ':' made '-'.
    """
    if "external_model" in entity:
        if "entity_name" in entity or "workload_size" in entity:
            raise invalid("external_model cannot be combined with entity_name or workload settings.")
        return re.sub(r"[.:]", "-", str(entity["external_model"].get("name", "")))
    if "entity_name" not in entity:
        raise invalid("Missing required field: served_entities.entity_name")
    _check_entity_name(str(entity["entity_name"]))
    if "entity_version" not in entity:
        raise invalid(f"Missing required field: entity_version for entity '{entity['entity_name']}'")
    entity["entity_version"] = str(entity["entity_version"])
    _workload(entity)
    return f"{str(entity['entity_name']).split('.')[-1]}-{entity['entity_version']}"


def _check_entity_name(name: str) -> None:
    """A name without dots is a workspace-registry model; a dotted one is Unity Catalog's and has three parts."""
    parts = name.split(".")
    if len(parts) == 1 or (len(parts) == 3 and all(IDENT.match(p) for p in parts)):
        return
    raise invalid(
        f"Invalid entity_name '{name}': a Unity Catalog model must be given by its full name "
        "catalog_name.schema_name.model_name."
    )


def _workload(entity: Json) -> None:
    size = entity.get("workload_size")
    concurrency = "min_provisioned_concurrency" in entity or "max_provisioned_concurrency" in entity
    if size is not None and concurrency:
        raise invalid("workload_size cannot be combined with min/max_provisioned_concurrency.")
    if size is not None and size not in WORKLOAD_SIZES:
        raise invalid(f"Invalid workload_size '{size}'. Valid sizes: {', '.join(WORKLOAD_SIZES)}.")
    if size is None and not concurrency:
        entity["workload_size"] = "Small"
    workload_type = entity.setdefault("workload_type", "CPU")
    if workload_type not in WORKLOAD_TYPES:
        raise invalid(f"Invalid workload_type '{workload_type}'.")
    entity.setdefault("scale_to_zero_enabled", False)


def _route(name: str, percentage: int) -> Json:
    # Routes answer with both names, whichever the request used.
    return {"served_entity_name": name, "served_model_name": name, "traffic_percentage": percentage}


def _traffic(body: Json, entities: list[Json]) -> Json:
    names = [e["name"] for e in entities]
    traffic = body.get("traffic_config")
    if traffic is None or not traffic.get("routes"):
        if len(entities) > 1:
            raise invalid("traffic_config is required when an endpoint serves more than one entity.")
        return {"routes": [_route(names[0], 100)]}
    routes: list[Json] = []
    for route in traffic["routes"]:
        target = route.get("served_entity_name") or route.get("served_model_name")
        if target not in names:
            raise invalid(f"Route names served entity '{target}', which is not in the config.")
        percentage = route.get("traffic_percentage")
        if not isinstance(percentage, int) or isinstance(percentage, bool) or not 0 <= percentage <= 100:
            raise invalid("traffic_percentage must be an integer between 0 and 100.")
        routes.append(_route(target, percentage))
    if sum(r["traffic_percentage"] for r in routes) != 100:
        raise invalid("The traffic percentages of all routes must add up to 100.")
    return {"routes": routes}


def _auto_capture(body: Json, previous: Json | None) -> Json | None:
    new = body.get("auto_capture_config")
    old = (previous or {}).get("auto_capture_config")
    if new is None:
        return copy.deepcopy(old)
    if old and old.get("enabled"):
        for key in ("catalog_name", "schema_name", "table_name_prefix"):
            if new.get(key) is not None and new.get(key) != old.get(key):
                raise invalid(f"Cannot change {key} of auto_capture_config while the inference table is enabled.")
    out = {k: new[k] for k in ("catalog_name", "schema_name", "table_name_prefix", "enabled") if k in new}
    if out.get("enabled"):
        for key in ("catalog_name", "schema_name"):
            if not out.get(key):
                raise invalid(f"Missing required field: auto_capture_config.{key}")
    return out
