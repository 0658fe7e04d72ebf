"""Model Serving endpoints: config updates as an asynchronous state machine.

A create or config update puts the new config in `pending_config` with
`state.config_update = IN_PROGRESS`; after `Timings.endpoint_update` seconds the
update completes (the config becomes current, NOT_UPDATING, READY) or fails
(UPDATE_FAILED) when a served entity names a Unity Catalog model version that
is missing or not READY. Writes while IN_PROGRESS are refused with 409.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

from sandbox.databricks.catalog import Catalog
from sandbox.databricks.state import (
    Clock,
    Json,
    Request,
    Route,
    Timings,
    already_exists,
    conflict,
    invalid,
    new_hex_id,
    not_found,
    optional,
    require,
)

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
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
_COPIED_ENTITY_FIELDS = (
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
_GATEWAY_KEYS = ("user", "endpoint", "user_group", "service_principal")
_PAYLOAD_COLUMNS = (
    "client_request_id",
    "databricks_request_id",
    "date",
    "timestamp_ms",
    "status_code",
    "execution_time_ms",
    "request",
    "response",
    "served_entity_id",
    "request_metadata",
)


@dataclasses.dataclass
class Pending:
    config: Json
    start_ms: int
    due: float


@dataclasses.dataclass
class Endpoint:
    name: str
    id: str
    creator: str
    created_ms: int
    updated_ms: int
    tags: dict[str, str | None]
    ai_gateway: Json | None = None
    route_optimized: bool | None = None
    description: str | None = None
    email_notifications: Json | None = None
    rate_limits: list[Json] = dataclasses.field(default_factory=list)
    config: Json | None = None
    pending: Pending | None = None
    config_update: str = "NOT_UPDATING"
    last_version: int = 0


def _state(deployment: str, message: str) -> Json:
    return {"deployment": deployment, "deployment_state_message": message}


class Serving:
    """State and REST handlers of `/api/2.0/serving-endpoints`."""

    def __init__(self, clock: Clock, timings: Timings, catalog: Catalog) -> None:
        self._clock = clock
        self._timings = timings
        self._catalog = catalog
        self.endpoints: dict[str, Endpoint] = {}

    # ---- state machine ----

    def _advance(self, ep: Endpoint) -> None:
        """Finish the pending update if its time has come."""
        if ep.pending is None or self._clock.now() < ep.pending.due:
            return
        config = ep.pending.config
        ep.pending = None
        ep.updated_ms = self._clock.now_ms()
        problems = {
            e["name"]: problem
            for e in config["served_entities"]
            if "entity_name" in e
            and (problem := self._catalog.version_problem(e["entity_name"], e.get("entity_version")))
        }
        if not problems:
            for entity in config["served_entities"]:
                entity["state"] = _state("DEPLOYMENT_READY", "Served entity is ready.")
            ep.config = config
            ep.config_update = "NOT_UPDATING"
            self._create_payload_table(ep)
            return
        ep.config_update = "UPDATE_FAILED"
        if ep.config is None:
            # A first deployment that fails still shows what was tried, with the reason per entity.
            for entity in config["served_entities"]:
                problem = problems.get(entity["name"])
                entity["state"] = (
                    _state("DEPLOYMENT_FAILED", problem)
                    if problem
                    else _state("DEPLOYMENT_ABORTED", "Deployment aborted: another served entity failed.")
                )
            ep.config = config

    def _create_payload_table(self, ep: Endpoint) -> None:
        """An enabled inference table appears in Unity Catalog once the endpoint is deployed."""
        if ep.config is None:
            return
        tables = [(ep.ai_gateway or {}).get("inference_table_config"), ep.config.get("auto_capture_config")]
        for table in tables:
            if table and table.get("enabled"):
                prefix = table.get("table_name_prefix") or ep.name
                full = f"{table['catalog_name']}.{table['schema_name']}.{prefix}_payload"
                self._catalog.seed_table(
                    full,
                    ep.creator,
                    list(_PAYLOAD_COLUMNS),
                )

    def _ready(self, ep: Endpoint) -> str:
        entities = (ep.config or {}).get("served_entities") or []
        ok = entities and all(e["state"]["deployment"] == "DEPLOYMENT_READY" for e in entities)
        return "READY" if ok else "NOT_READY"

    def _get(self, name: str) -> Endpoint:
        ep = self.endpoints.get(name)
        if ep is None:
            raise not_found(f"Endpoint with name '{name}' does not exist.")
        self._advance(ep)
        return ep

    def _writable(self, name: str) -> Endpoint:
        ep = self._get(name)
        if ep.config_update == "IN_PROGRESS":
            raise conflict(
                f"Endpoint '{name}' is currently being updated. "
                "Wait until the update completes before making another change."
            )
        return ep

    # ---- validation and server-side defaults ----

    def _entities(self, body: Json, previous: Json | None, now_ms: int, principal: str) -> list[Json]:
        raw = body.get("served_entities")
        if raw is None and body.get("served_models") is not None:
            raw = [
                {
                    **{k: v for k, v in m.items() if k not in ("model_name", "model_version")},
                    "entity_name": m.get("model_name"),
                    "entity_version": m.get("model_version"),
                }
                for m in body["served_models"]
                if isinstance(m, dict)
            ]
        if not isinstance(raw, list) or not raw:
            raise invalid("The config must contain at least one served entity (served_entities).")
        if len(raw) > MAX_SERVED_ENTITIES:
            raise invalid(f"An endpoint can serve at most {MAX_SERVED_ENTITIES} entities.")
        before = {e["name"]: e for e in (previous or {}).get("served_entities", [])}
        out: list[Json] = []
        for item in raw:
            if not isinstance(item, dict):
                raise invalid("Each served entity must be an object.")
            entity = {k: copy.deepcopy(item[k]) for k in _COPIED_ENTITY_FIELDS if item.get(k) is not None}
            if "external_model" in entity:
                if "entity_name" in entity or "workload_size" in entity:
                    raise invalid("external_model cannot be combined with entity_name or workload settings.")
                default_name = re.sub(r"[.:]", "-", str(entity["external_model"].get("name", "")))
            else:
                if "entity_name" not in entity:
                    raise invalid("Missing required field: served_entities.entity_name")
                if "entity_version" not in entity:
                    raise invalid(f"Missing required field: entity_version for entity '{entity['entity_name']}'")
                entity["entity_version"] = str(entity["entity_version"])
                default_name = f"{str(entity['entity_name']).split('.')[-1]}-{entity['entity_version']}"
                self._workload(entity)
            name = item.get("name") or default_name
            if not _ENTITY_NAME.match(name):
                raise invalid(f"Invalid served entity name '{name}': use letters, digits, '-' and '_' (at most 63).")
            if any(e["name"] == name for e in out):
                raise invalid(f"Served entity names must be unique; '{name}' is used twice.")
            entity["name"] = name
            old = before.get(name)
            unchanged = old is not None and all(old.get(k) == entity.get(k) for k in _COPIED_ENTITY_FIELDS)
            if old is not None and unchanged:
                entity.update(creator=old["creator"], creation_timestamp=old["creation_timestamp"])
                entity["state"] = copy.deepcopy(old["state"])
            else:
                entity.update(creator=principal, creation_timestamp=now_ms)
                entity["state"] = _state("DEPLOYMENT_CREATING", "Creating the served entity.")
            out.append(entity)
        return out

    @staticmethod
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

    @staticmethod
    def _traffic(body: Json, entities: list[Json]) -> Json:
        names = [e["name"] for e in entities]
        traffic = body.get("traffic_config")
        if traffic is None or not traffic.get("routes"):
            if len(entities) > 1:
                raise invalid("traffic_config is required when an endpoint serves more than one entity.")
            return {
                "routes": [{"served_entity_name": names[0], "served_model_name": names[0], "traffic_percentage": 100}]
            }
        routes: list[Json] = []
        for route in traffic["routes"]:
            target = route.get("served_entity_name") or route.get("served_model_name")
            if target not in names:
                raise invalid(f"Route names served entity '{target}', which is not in the config.")
            percentage = route.get("traffic_percentage")
            if not isinstance(percentage, int) or isinstance(percentage, bool) or not 0 <= percentage <= 100:
                raise invalid("traffic_percentage must be an integer between 0 and 100.")
            routes.append({"served_entity_name": target, "served_model_name": target, "traffic_percentage": percentage})
        if sum(r["traffic_percentage"] for r in routes) != 100:
            raise invalid("The traffic percentages of all routes must add up to 100.")
        return {"routes": routes}

    @staticmethod
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

    def _config(self, body: Json, version: int, previous: Json | None, principal: str) -> Json:
        now_ms = self._clock.now_ms()
        entities = self._entities(body, previous, now_ms, principal)
        config: Json = {
            "config_version": version,
            "served_entities": entities,
            "traffic_config": self._traffic(body, entities),
        }
        capture = self._auto_capture(body, previous)
        if capture:
            config["auto_capture_config"] = capture
        return config

    def _start_update(self, ep: Endpoint, body: Json, principal: str) -> None:
        ep.last_version += 1
        config = self._config(body, ep.last_version, ep.config, principal)
        now = self._clock.now()
        ep.pending = Pending(config, int(now * 1000), now + self._timings.endpoint_update)
        ep.config_update = "IN_PROGRESS"
        ep.updated_ms = int(now * 1000)

    @staticmethod
    def _tags(raw: Any) -> list[Json]:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(t, dict) and t.get("key") for t in raw):
            raise invalid("Each tag must be an object with a non-empty 'key'.")
        return raw

    def _gateway(self, body: Json, current: Json | None, endpoint: str) -> Json:
        out: Json = {}
        table = body.get("inference_table_config")
        if table is not None:
            table = {k: table[k] for k in ("catalog_name", "schema_name", "table_name_prefix", "enabled") if k in table}
            if table.get("enabled"):
                for key in ("catalog_name", "schema_name"):
                    if not table.get(key):
                        raise invalid(f"Missing required field: inference_table_config.{key}")
                table.setdefault("table_name_prefix", endpoint)
            old = (current or {}).get("inference_table_config") or {}
            if old.get("enabled") and table.get("enabled"):
                for key in ("catalog_name", "schema_name", "table_name_prefix"):
                    if table.get(key) != old.get(key):
                        raise invalid(
                            f"Cannot change {key} of the inference table while it is enabled; "
                            "disable the inference table first."
                        )
            out["inference_table_config"] = table
        limits = body.get("rate_limits")
        if limits is not None:
            for limit in limits:
                if limit.get("renewal_period") != "minute":
                    raise invalid("rate_limits.renewal_period must be 'minute'.")
                if limit.get("calls") is None and limit.get("tokens") is None:
                    raise invalid("A rate limit needs 'calls' or 'tokens'.")
                if limit.get("key") is not None and limit["key"] not in _GATEWAY_KEYS:
                    raise invalid(f"Invalid rate limit key '{limit['key']}'.")
            out["rate_limits"] = copy.deepcopy(limits)
        for key in ("usage_tracking_config", "guardrails", "fallback_config"):
            if body.get(key) is not None:
                out[key] = copy.deepcopy(body[key])
        return out

    # ---- rendering ----

    def _detailed(self, ep: Endpoint) -> Json:
        out: Json = {
            "name": ep.name,
            "id": ep.id,
            "creator": ep.creator,
            "creation_timestamp": ep.created_ms,
            "last_updated_timestamp": ep.updated_ms,
            "state": {"config_update": ep.config_update, "ready": self._ready(ep)},
            "permission_level": "CAN_MANAGE",
        }
        if ep.config is not None:
            out["config"] = copy.deepcopy(ep.config)
        if ep.pending is not None:
            out["pending_config"] = {**copy.deepcopy(ep.pending.config), "start_time": ep.pending.start_ms}
        self._common(ep, out)
        if ep.email_notifications is not None:
            out["email_notifications"] = copy.deepcopy(ep.email_notifications)
        return out

    def _summary(self, ep: Endpoint) -> Json:
        out: Json = {
            "name": ep.name,
            "id": ep.id,
            "creator": ep.creator,
            "creation_timestamp": ep.created_ms,
            "last_updated_timestamp": ep.updated_ms,
            "state": {"config_update": ep.config_update, "ready": self._ready(ep)},
        }
        if ep.config is not None:
            fields = ("name", "entity_name", "entity_version", "external_model")
            out["config"] = {
                "served_entities": [
                    {k: copy.deepcopy(e[k]) for k in fields if k in e} for e in ep.config["served_entities"]
                ]
            }
        self._common(ep, out)
        return out

    @staticmethod
    def _common(ep: Endpoint, out: Json) -> None:
        if ep.tags:
            out["tags"] = [{"key": k, **({"value": v} if v is not None else {})} for k, v in sorted(ep.tags.items())]
        if ep.ai_gateway:
            out["ai_gateway"] = copy.deepcopy(ep.ai_gateway)
        if ep.route_optimized is not None:
            out["route_optimized"] = ep.route_optimized
        if ep.description is not None:
            out["description"] = ep.description

    # ---- handlers ----

    def create(self, req: Request) -> Json:
        body = req.body
        name = require(body, "name")
        if not _NAME.match(name):
            raise invalid(
                f"Invalid endpoint name '{name}': use only letters, digits, '-' and '_' (at most 63 characters)."
            )
        if name in self.endpoints:
            raise already_exists(f"Endpoint with name '{name}' already exists.")
        now_ms = self._clock.now_ms()
        ep = Endpoint(
            name=name,
            id=new_hex_id(),
            creator=req.principal,
            created_ms=now_ms,
            updated_ms=now_ms,
            tags={t["key"]: t.get("value") for t in self._tags(body.get("tags"))},
            route_optimized=optional(body, "route_optimized", bool),
            description=optional(body, "description", str),
            email_notifications=optional(body, "email_notifications", dict),
            rate_limits=list(optional(body, "rate_limits", list) or []),
        )
        if body.get("ai_gateway") is not None:
            ep.ai_gateway = self._gateway(body["ai_gateway"], None, name)
        if body.get("config") is not None:
            self._start_update(ep, body["config"], req.principal)
        self.endpoints[name] = ep
        return self._detailed(ep)

    def get(self, req: Request) -> Json:
        return self._detailed(self._get(req.params["name"]))

    def list_endpoints(self, req: Request) -> Json:
        for ep in self.endpoints.values():
            self._advance(ep)
        return {"endpoints": [self._summary(ep) for ep in sorted(self.endpoints.values(), key=lambda e: e.name)]}

    def update_config(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        self._start_update(ep, req.body, req.principal)
        return self._detailed(ep)

    def delete(self, req: Request) -> Json:
        self._get(req.params["name"])
        del self.endpoints[req.params["name"]]
        return {}

    def patch_tags(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        add = self._tags(req.body.get("add_tags"))
        remove = optional(req.body, "delete_tags", list) or []
        for key in remove:
            ep.tags.pop(key, None)
        for tag in add:
            ep.tags[tag["key"]] = tag.get("value")
        ep.updated_ms = self._clock.now_ms()
        return {"tags": self._detailed(ep).get("tags", [])}

    def put_ai_gateway(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        ep.ai_gateway = self._gateway(req.body, ep.ai_gateway, ep.name)
        ep.updated_ms = self._clock.now_ms()
        self._create_payload_table(ep)
        return copy.deepcopy(ep.ai_gateway)

    def put_rate_limits(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        limits = optional(req.body, "rate_limits", list) or []
        for limit in limits:
            if limit.get("renewal_period") != "minute" or not isinstance(limit.get("calls"), int):
                raise invalid("Each rate limit needs integer 'calls' and renewal_period 'minute'.")
            if limit.get("key") is not None and limit["key"] not in ("user", "endpoint"):
                raise invalid(f"Invalid rate limit key '{limit['key']}'.")
        ep.rate_limits = copy.deepcopy(limits)
        return {"rate_limits": copy.deepcopy(limits)}

    def routes(self) -> list[Route]:
        base = "/api/2.0/serving-endpoints"
        return [
            Route("POST", base, self.create),
            Route("GET", base, self.list_endpoints),
            Route("GET", f"{base}/{{name}}", self.get),
            Route("DELETE", f"{base}/{{name}}", self.delete),
            Route("PUT", f"{base}/{{name}}/config", self.update_config),
            Route("PATCH", f"{base}/{{name}}/tags", self.patch_tags),
            Route("PUT", f"{base}/{{name}}/ai-gateway", self.put_ai_gateway),
            Route("PUT", f"{base}/{{name}}/rate-limits", self.put_rate_limits),
        ]
