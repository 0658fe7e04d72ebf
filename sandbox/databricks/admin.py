"""The admin HTTP API under `/_emulator/`: thin wrappers over the Emulator's Python API (no Databricks auth)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sandbox.databricks.state import Handler, Json, Request, Route, int_param, invalid, require

if TYPE_CHECKING:
    from sandbox.databricks.server import Emulator

ADMIN = "/_emulator"


def admin_routes(emu: Emulator, user: str) -> list[Route]:
    """The admin routes; objects they seed belong to `user`. Handlers run under the emulator's lock."""

    def reset(req: Request) -> Json:
        emu.reset()
        return {}

    def timings(req: Request) -> Json:
        if req.method == "PUT":
            emu.timings.update(req.body)
        return emu.timings.as_dict()

    def advance(req: Request) -> Json:
        seconds = req.body.get("seconds")
        if not isinstance(seconds, int | float):
            raise invalid("seconds must be a number")
        emu.advance_clock(seconds)
        return {}

    def latency(req: Request) -> Json:
        seconds = req.body.get("seconds", 0)
        if not isinstance(seconds, int | float):
            raise invalid("seconds must be a number")
        emu.set_latency(seconds, req.body.get("path_prefix"))
        return {"latency": dict(emu.controls.latency)}

    def add_fault(req: Request) -> Json:
        body = req.body
        return emu.inject_fault(
            body.get("status", 503),
            count=body.get("count"),
            probability=body.get("probability"),
            retry_after=body.get("retry_after", 1),
            path_prefix=body.get("path_prefix"),
            method=body.get("method"),
            seconds=body.get("seconds", 0.0),
        ).as_dict()

    def list_faults(req: Request) -> Json:
        return {"faults": [f.as_dict() for f in emu.controls.faults]}

    def clear_faults(req: Request) -> Json:
        emu.clear_faults()
        return {}

    def counters(req: Request) -> Json:
        return emu.counters(req.arg("prefix"))

    def reset_counters(req: Request) -> Json:
        emu.reset_counters()
        return {}

    def schema(req: Request) -> Json:
        return emu.catalog.seed_schema(require(req.body, "full_name"), user).info()

    def table(req: Request) -> Json:
        return emu.catalog.seed_table(require(req.body, "full_name"), user, req.body.get("columns")).info()

    def version(req: Request) -> Json:
        body = req.body
        return emu.catalog.seed_model_version(
            require(body, "full_name"),
            user,
            source=require(body, "source"),
            run_id=body.get("run_id"),
            status=body.get("status", "READY"),
            comment=body.get("comment"),
            tags=body.get("tags"),
        )

    def version_status(req: Request) -> Json:
        body = req.body
        return emu.catalog.set_version_status(
            require(body, "full_name"), int_param(body.get("version"), "version"), require(body, "status")
        )

    def version_behaviour(req: Request) -> Json:
        body = dict(req.body)
        model, version = require(body, "model"), int_param(body.pop("version", None), "version")
        del body["model"]
        return dataclasses.asdict(emu.set_version_behaviour(model, version, **body))

    def request_rate(req: Request) -> Json:
        emu.set_request_rate(req.params["name"], require(req.body, "requests_per_second", (int, float)))
        return {}

    def run_result(req: Request) -> Json:
        emu.set_run_result(require(req.body, "result"))
        return {}

    def add_token(req: Request) -> Json:
        emu.add_token(require(req.body, "token"), req.body.get("user_name") or user)
        return {}

    def revoke_token(req: Request) -> Json:
        emu.revoke_token(req.params["token"])
        return {}

    def add_client(req: Request) -> Json:
        emu.add_oauth_client(require(req.body, "client_id"), require(req.body, "client_secret"))
        return {}

    def add_principal(req: Request) -> Json:
        emu.add_principal(require(req.body, "kind"), require(req.body, "name"))
        return {}

    def git_remote(req: Request) -> Json:
        body = req.body
        return emu.seed_git_remote(
            require(body, "url"),
            branches=body.get("branches"),
            tags=body.get("tags"),
            private=bool(body.get("private", False)),
        )

    def git_push(req: Request) -> Json:
        body = req.body
        head = emu.push_git_branch(require(body, "url"), require(body, "branch"), body.get("commit"))
        return {"head_commit_id": head}

    handlers: list[tuple[str, str, Handler]] = [
        ("POST", "/reset", reset),
        ("GET", "/timings", timings),
        ("PUT", "/timings", timings),
        ("POST", "/clock/advance", advance),
        ("PUT", "/latency", latency),
        ("GET", "/faults", list_faults),
        ("POST", "/faults", add_fault),
        ("DELETE", "/faults", clear_faults),
        ("GET", "/counters", counters),
        ("DELETE", "/counters", reset_counters),
        ("POST", "/unity-catalog/schemas", schema),
        ("POST", "/unity-catalog/tables", table),
        ("POST", "/unity-catalog/model-versions", version),
        ("PUT", "/unity-catalog/model-versions/status", version_status),
        ("PUT", "/serving/model-versions/behaviour", version_behaviour),
        ("PUT", "/serving-endpoints/{name}/request-rate", request_rate),
        ("PUT", "/jobs/run-result", run_result),
        ("POST", "/tokens", add_token),
        ("DELETE", "/tokens/{token}", revoke_token),
        ("POST", "/oauth-clients", add_client),
        ("POST", "/principals", add_principal),
        ("POST", "/git/remotes", git_remote),
        ("POST", "/git/push", git_push),
    ]
    return [Route(method, ADMIN + path, handler, public=True) for method, path, handler in handlers]
