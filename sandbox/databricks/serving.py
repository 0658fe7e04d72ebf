"""Model Serving endpoints: config updates as an asynchronous state machine.

A create or config update puts the new config in `pending_config` with
`state.config_update = IN_PROGRESS`; after `Timings.endpoint_update` seconds the
update completes (the config becomes current, NOT_UPDATING, READY) or fails
(UPDATE_FAILED) when a served entity names a model version that is missing or
not READY. Writes while IN_PROGRESS are refused with 409.
"""

from __future__ import annotations

import copy
import re

from sandbox.databricks import serving_config, serving_gateway
from sandbox.databricks.catalog import Catalog
from sandbox.databricks.serving_endpoint import Endpoint, Pending
from sandbox.databricks.serving_metrics import ServingHealth
from sandbox.databricks.state import (
    Clock,
    Json,
    Request,
    Route,
    Text,
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


class Serving:
    """State and REST handlers of `/api/2.0/serving-endpoints`."""

    def __init__(self, clock: Clock, timings: Timings, catalog: Catalog) -> None:
        self._clock = clock
        self._timings = timings
        self._catalog = catalog
        self.endpoints: dict[str, Endpoint] = {}
        self.health = ServingHealth()

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
                entity["state"] = serving_config.deployment("DEPLOYMENT_READY", "Served entity is ready.")
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
                    serving_config.deployment("DEPLOYMENT_FAILED", problem)
                    if problem
                    else serving_config.deployment(
                        "DEPLOYMENT_ABORTED", "Deployment aborted: another served entity failed."
                    )
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
                self._catalog.seed_table(full, ep.creator, list(_PAYLOAD_COLUMNS))

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

    def _start_update(self, ep: Endpoint, body: Json, principal: str) -> None:
        now = self._clock.now()
        config = serving_config.build(body, ep.last_version + 1, ep.config, principal, int(now * 1000))
        ep.last_version += 1
        ep.pending = Pending(config, int(now * 1000), now + self._timings.endpoint_update)
        ep.config_update = "IN_PROGRESS"
        ep.updated_ms = int(now * 1000)

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
            tags={t["key"]: t.get("value") for t in serving_gateway.tags(body.get("tags"))},
            route_optimized=optional(body, "route_optimized", bool),
            description=optional(body, "description", str),
            email_notifications=optional(body, "email_notifications", dict),
            rate_limits=list(optional(body, "rate_limits", list) or []),
        )
        if body.get("ai_gateway") is not None:
            ep.ai_gateway = serving_gateway.gateway(body["ai_gateway"], None, name)
        if body.get("config") is not None:
            self._start_update(ep, body["config"], req.principal)
        self.endpoints[name] = ep
        return ep.detailed()

    def get(self, req: Request) -> Json:
        return self._get(req.params["name"]).detailed()

    def list_endpoints(self, req: Request) -> Json:
        for ep in self.endpoints.values():
            self._advance(ep)
        listed = [ep.summary() for ep in sorted(self.endpoints.values(), key=lambda e: e.name)]
        return {"endpoints": listed} if listed else {}

    def update_config(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        self._start_update(ep, req.body, req.principal)
        return ep.detailed()

    def delete(self, req: Request) -> Json:
        self._get(req.params["name"])
        del self.endpoints[req.params["name"]]
        return {}

    def patch_tags(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        add = serving_gateway.tags(req.body.get("add_tags"))
        remove = optional(req.body, "delete_tags", list) or []
        for key in remove:
            ep.tags.pop(key, None)
        for tag in add:
            ep.tags[tag["key"]] = tag.get("value")
        ep.updated_ms = self._clock.now_ms()
        return {"tags": ep.tag_list()} if ep.tags else {}

    def put_ai_gateway(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        ep.ai_gateway = serving_gateway.gateway(req.body, ep.ai_gateway, ep.name)
        ep.updated_ms = self._clock.now_ms()
        self._create_payload_table(ep)
        return copy.deepcopy(ep.ai_gateway)

    def put_rate_limits(self, req: Request) -> Json:
        ep = self._writable(req.params["name"])
        ep.rate_limits = serving_gateway.legacy_rate_limits(optional(req.body, "rate_limits", list) or [])
        return {"rate_limits": copy.deepcopy(ep.rate_limits)} if ep.rate_limits else {}

    def export_metrics(self, req: Request) -> Text:
        return self.health.export(self._get(req.params["name"]), self._clock.now())

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
            Route("GET", f"{base}/{{name}}/metrics", self.export_metrics),
        ]
