"""Data quality monitors, the current API (`/api/data-quality/v1`), and the legacy one beside it.

Both APIs serve the same monitors (`MonitorStore`): a monitor made through one is
read, updated, refreshed and deleted through the other. Updates here go by
`update_mask`; `assets_dir` and the output schema cannot change in place.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.databricks.catalog import Catalog
from sandbox.databricks.monitor_store import OUTPUT_ONLY, Monitor, MonitorStore
from sandbox.databricks.quality_monitors import QualityMonitors
from sandbox.databricks.state import (
    Clock,
    Json,
    Request,
    Route,
    Timings,
    int_param,
    invalid,
    not_found,
    page,
    require,
)


class Monitors:
    """REST handlers of the Data Quality API; `routes()` includes the legacy API's."""

    def __init__(self, clock: Clock, timings: Timings, catalog: Catalog) -> None:
        self._clock = clock
        self._catalog = catalog
        self.store = MonitorStore(clock, timings, catalog)
        self._legacy = QualityMonitors(self.store, catalog)

    def _view(self, mon: Monitor) -> Json:
        return {"object_type": mon.object_type, "object_id": mon.object_id, mon.kind: self.store.config_view(mon)}

    def _get(self, req: Request) -> Monitor:
        return self.store.get(req.params["object_type"], req.params["object_id"])

    def create_monitor(self, req: Request) -> Json:
        body = req.body
        object_type = require(body, "object_type")
        object_id = require(body, "object_id")
        if object_type not in ("table", "schema"):
            raise invalid(f"Invalid object_type '{object_type}': use 'table' or 'schema'.")
        self.store.ensure_absent(object_type, object_id)
        if object_type == "schema":
            if self._catalog.schema_by_id(object_id) is None:
                raise not_found(f"Schema with id {object_id} does not exist.", "SCHEMA_DOES_NOT_EXIST")
            config = copy.deepcopy(body.get("anomaly_detection_config") or {})
            mon = Monitor("schema", object_id, "anomaly_detection_config", config, self._clock.now(), req.principal)
            return self._view(self.store.add(mon))
        table = self._catalog.table_by_id(object_id)
        if table is None:
            raise not_found(f"Table with id {object_id} does not exist.", "TABLE_DOES_NOT_EXIST")
        config = body.get("data_profiling_config")
        if not isinstance(config, dict):
            raise invalid("Missing required field: data_profiling_config")
        return self._view(self.store.create_table_monitor(table, config, req.principal))

    def get_monitor(self, req: Request) -> Json:
        return self._view(self._get(req))

    def list_monitor(self, req: Request) -> Json:
        size = int_param(req.arg("page_size") or "100", "page_size") or 100
        views = [self._view(m) for m in self.store.monitors.values()]
        items, token = page(views, req.arg("page_token"), size)
        out: Json = {"monitors": items} if items else {}
        if token:
            out["next_page_token"] = token
        return out

    def update_monitor(self, req: Request) -> Json:
        mon = self._get(req)
        mask = req.arg("update_mask")
        if not mask:
            raise invalid("Missing required field: update_mask")
        updated = copy.deepcopy(mon.config)
        source = req.body.get(mon.kind) or {}
        for path in (p.strip() for p in mask.split(",")):
            if path == "*":
                kept = {k: updated[k] for k in OUTPUT_ONLY if k in updated}
                updated = {**copy.deepcopy(source), **kept}
                continue
            head, _, rest = path.partition(".")
            if head != mon.kind or not rest:
                raise invalid(f"Invalid update_mask path '{path}'.")
            _set_path(updated, rest.split("."), _get_path(source, rest.split(".")))
        self.store.update(mon, updated, req.principal)
        return self._view(mon)

    def delete_monitor(self, req: Request) -> Json:
        self.store.delete(self._get(req))
        return {}

    def create_refresh(self, req: Request) -> Json:
        mon = self._get(req)
        return self.store.refresh_view(mon, self.store.start_refresh(mon))

    def get_refresh(self, req: Request) -> Json:
        mon = self._get(req)
        ref = self.store.find_refresh(mon, int_param(req.params["refresh_id"], "refresh_id"))
        return self.store.refresh_view(mon, ref)

    def list_refresh(self, req: Request) -> Json:
        mon = self._get(req)
        size = int_param(req.arg("page_size") or "25", "page_size") or 25
        views = [self.store.refresh_view(mon, r) for r in reversed(mon.refreshes)]
        items, token = page(views, req.arg("page_token"), size)
        out: Json = {"refreshes": items} if items else {}
        if token:
            out["next_page_token"] = token
        return out

    def routes(self) -> list[Route]:
        base = "/api/data-quality/v1/monitors"
        one = f"{base}/{{object_type}}/{{object_id}}"
        return [
            Route("POST", base, self.create_monitor),
            Route("GET", base, self.list_monitor),
            Route("GET", one, self.get_monitor),
            Route("PATCH", one, self.update_monitor),
            Route("DELETE", one, self.delete_monitor),
            Route("POST", f"{one}/refreshes", self.create_refresh),
            Route("GET", f"{one}/refreshes", self.list_refresh),
            Route("GET", f"{one}/refreshes/{{refresh_id}}", self.get_refresh),
            *self._legacy.routes(),
        ]


def _get_path(source: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(source, dict):
            return None
        source = source.get(part)
    return copy.deepcopy(source)


def _set_path(target: Json, parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    if value is None:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = value
