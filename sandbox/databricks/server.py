"""The emulator's HTTP server: routing, authentication, faults, counters and admin API.

Requests under `/_emulator/` are the admin API (no Databricks auth); everything
else is answered as a Databricks workspace would. One lock guards all state, so
the threaded server is safe; added latency is slept outside the lock.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from sandbox.databricks.auth import Auth
from sandbox.databricks.catalog import Catalog
from sandbox.databricks.control import DROP, HANG, Controls, Fault
from sandbox.databricks.jobs import Jobs
from sandbox.databricks.monitors import Monitors
from sandbox.databricks.serving import Serving
from sandbox.databricks.state import (
    ApiError,
    Clock,
    Handler,
    Json,
    Request,
    Route,
    Timings,
    int_param,
    invalid,
    require,
)

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "dapi-emulator-token"  # noqa: S105 - the sandbox's documented default credential
DEFAULT_USER = "emulator-user@example.com"
ADMIN = "/_emulator"


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


class _Router:
    """Finds the route for a method and path; the template is the key the call counters use."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, _compile(route.template)) for route in routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self._routes:
            if route.method != method:
                continue
            found = pattern.match(path)
            if found:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        return None


class Emulator:
    """A Databricks workspace on loopback, for tests and local sandboxes.

    Use as a context manager (`with Emulator() as emu: emu.url`) or call
    `start()`/`stop()`. `tokens` maps PATs to user names; `oauth_clients` maps
    OAuth client ids to secrets. Every admin method here is also reachable over
    HTTP under `/_emulator/` (see the package README).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
        oauth_clients: Mapping[str, str] | None = None,
        workspace_id: str = "1234567890123456",
        timings: Timings | None = None,
        token_ttl_seconds: int = 3600,
    ) -> None:
        self.clock = Clock()
        self.timings = timings or Timings()
        self._lock = threading.RLock()
        self.auth = Auth(
            self.clock,
            dict(tokens if tokens is not None else {DEFAULT_TOKEN: DEFAULT_USER}),
            dict(oauth_clients or {}),
            token_ttl_seconds,
            workspace_id,
        )
        self.controls = Controls()
        self._build_state()
        self._server = ThreadingHTTPServer((host, port), _RequestHandler)
        self._server.daemon_threads = True
        self._server.emulator = self  # type: ignore[attr-defined]
        bound_host, bound_port = self._server.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}"
        self.auth.base_url = self.url
        self.jobs.base_url = self.url
        self._thread: threading.Thread | None = None

    def _build_state(self) -> None:
        self.catalog = Catalog(self.clock)
        self.serving = Serving(self.clock, self.timings, self.catalog)
        self.jobs = Jobs(self.clock, self.timings)
        self.monitors = Monitors(self.clock, self.timings, self.catalog)
        self.router = _Router(
            [
                *self.auth.routes(),
                *self.serving.routes(),
                *self.jobs.routes(),
                *self.catalog.routes(),
                *self.monitors.routes(),
            ]
        )
        self.admin = _Router(self._admin_routes())

    # ---- life cycle ----

    def start(self) -> Emulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="databricks-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # ---- admin: Python API ----

    def reset(self) -> None:
        """Forget every object, fault, latency and counter (credentials and timings stay)."""
        with self._lock:
            base_url = self.jobs.base_url
            self._build_state()
            self.jobs.base_url = base_url
            self.controls.reset()

    def set_timings(self, **seconds: float) -> Timings:
        """Change state-machine delays, e.g. `set_timings(endpoint_update=0.5)` (see `Timings`)."""
        with self._lock:
            self.timings.update(seconds)
            return self.timings

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward, finishing whatever would finish in that time."""
        with self._lock:
            self.clock.advance(seconds)

    def set_latency(self, seconds: float, path_prefix: str | None = None) -> None:
        """Delay every answer (or those under `path_prefix`) by `seconds`; 0 removes it."""
        with self._lock:
            self.controls.set_latency(seconds, path_prefix)

    def inject_fault(
        self,
        status: int | str = 503,
        *,
        count: int | None = None,
        probability: float | None = None,
        retry_after: int = 1,
        path_prefix: str | None = None,
        method: str | None = None,
        seconds: float = 0.0,
    ) -> Fault:
        """Answer matching calls with `status` (409/429/500/502/503/504), `"drop"` the connection,
        or `"hang"`: carry the call out `seconds` later, when its client may have given up."""
        with self._lock:
            return self.controls.add_fault(
                status,
                count=count,
                probability=probability,
                retry_after=retry_after,
                path_prefix=path_prefix,
                method=method,
                seconds=seconds,
            )

    def clear_faults(self) -> None:
        with self._lock:
            self.controls.faults.clear()

    def counters(self, prefix: str | None = None) -> Json:
        """`{"calls": {"GET /api/2.0/serving-endpoints/{name}": 3, ...}, "reads": n, "writes": n}`."""
        with self._lock:
            return self.controls.snapshot(prefix)

    def reset_counters(self) -> None:
        with self._lock:
            self.controls.calls.clear()

    def seed_schema(self, full_name: str) -> str:
        """Create a Unity Catalog schema; returns its `schema_id`."""
        with self._lock:
            return self.catalog.seed_schema(full_name, DEFAULT_USER).schema_id

    def seed_table(self, full_name: str, columns: list[str | Json] | None = None) -> str:
        """Create a table (and its schema); returns its `table_id`."""
        with self._lock:
            return self.catalog.seed_table(full_name, DEFAULT_USER, columns).table_id

    def seed_model_version(
        self,
        full_name: str,
        *,
        source: str,
        run_id: str | None = None,
        status: str = "READY",
        comment: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> int:
        """Register a model version as a training job would (model and schema created if missing)."""
        with self._lock:
            info = self.catalog.seed_model_version(
                full_name, DEFAULT_USER, source=source, run_id=run_id, status=status, comment=comment, tags=tags
            )
            return int(info["version"])

    def set_model_version_status(self, full_name: str, version: int, status: str) -> None:
        with self._lock:
            self.catalog.set_version_status(full_name, version, status)

    def set_run_result(self, result: str) -> None:
        """How later job runs end: SUCCESS (default), FAILED, TIMEDOUT or CANCELED."""
        with self._lock:
            self.jobs.set_run_result(result)

    def add_token(self, token: str, user_name: str = DEFAULT_USER) -> None:
        with self._lock:
            self.auth.tokens[token] = user_name

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self.auth.tokens.pop(token, None)

    def add_oauth_client(self, client_id: str, client_secret: str) -> None:
        with self._lock:
            self.auth.clients[client_id] = client_secret

    # ---- admin: HTTP API (thin wrappers over the Python API) ----

    def _admin_routes(self) -> list[Route]:
        def reset(req: Request) -> Json:
            self.reset()
            return {}

        def timings(req: Request) -> Json:
            if req.method == "PUT":
                self.timings.update(req.body)
            return self.timings.as_dict()

        def advance(req: Request) -> Json:
            seconds = req.body.get("seconds")
            if not isinstance(seconds, int | float):
                raise invalid("seconds must be a number")
            self.clock.advance(seconds)
            return {}

        def latency(req: Request) -> Json:
            seconds = req.body.get("seconds", 0)
            if not isinstance(seconds, int | float):
                raise invalid("seconds must be a number")
            self.controls.set_latency(seconds, req.body.get("path_prefix"))
            return {"latency": dict(self.controls.latency)}

        def add_fault(req: Request) -> Json:
            body = req.body
            return self.controls.add_fault(
                body.get("status", 503),
                count=body.get("count"),
                probability=body.get("probability"),
                retry_after=body.get("retry_after", 1),
                path_prefix=body.get("path_prefix"),
                method=body.get("method"),
                seconds=body.get("seconds", 0.0),
            ).as_dict()

        def list_faults(req: Request) -> Json:
            return {"faults": [f.as_dict() for f in self.controls.faults]}

        def clear_faults(req: Request) -> Json:
            self.controls.faults.clear()
            return {}

        def counters(req: Request) -> Json:
            return self.controls.snapshot(req.arg("prefix"))

        def reset_counters(req: Request) -> Json:
            self.controls.calls.clear()
            return {}

        def schema(req: Request) -> Json:
            return self.catalog.seed_schema(require(req.body, "full_name"), DEFAULT_USER).info()

        def table(req: Request) -> Json:
            return self.catalog.seed_table(require(req.body, "full_name"), DEFAULT_USER, req.body.get("columns")).info()

        def version(req: Request) -> Json:
            body = req.body
            return self.catalog.seed_model_version(
                require(body, "full_name"),
                DEFAULT_USER,
                source=require(body, "source"),
                run_id=body.get("run_id"),
                status=body.get("status", "READY"),
                comment=body.get("comment"),
                tags=body.get("tags"),
            )

        def version_status(req: Request) -> Json:
            body = req.body
            return self.catalog.set_version_status(
                require(body, "full_name"), int_param(body.get("version"), "version"), require(body, "status")
            )

        def run_result(req: Request) -> Json:
            self.jobs.set_run_result(require(req.body, "result"))
            return {}

        def add_token(req: Request) -> Json:
            self.auth.tokens[require(req.body, "token")] = req.body.get("user_name") or DEFAULT_USER
            return {}

        def revoke_token(req: Request) -> Json:
            self.auth.tokens.pop(req.params["token"], None)
            return {}

        def add_client(req: Request) -> Json:
            self.auth.clients[require(req.body, "client_id")] = require(req.body, "client_secret")
            return {}

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
            ("PUT", "/jobs/run-result", run_result),
            ("POST", "/tokens", add_token),
            ("DELETE", "/tokens/{token}", revoke_token),
            ("POST", "/oauth-clients", add_client),
        ]
        return [Route(method, ADMIN + path, handler) for method, path, handler in handlers]

    # ---- request dispatch (called from the server threads) ----

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, Json, dict[str, str]] | None:
        """Answer one request: `(status, json, headers)`, or None to drop the connection."""
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if path.startswith(ADMIN + "/"):
            return self._dispatch(self.admin, method, path, query, headers, body, principal="admin")
        found = self.router.match(method, path)
        template = found[0].template if found else path
        with self._lock:
            self.controls.count(method, template)
            fault = self.controls.pick_fault(method, path)
            delay = self.controls.delay_for(path)
        if fault is not None and fault.status == HANG:
            delay += fault.seconds  # then carried out as usual, whether or not the client still waits
            fault = None
        if delay:
            time.sleep(delay)
        if fault is not None:
            if fault.status == DROP:
                return None
            error = fault.error()
            return error.status, error.body(), error.headers
        try:
            if path == "/.well-known/databricks-config" and method == "GET":
                return 200, self.auth.host_metadata(), {}
            if path == "/oidc/.well-known/oauth-authorization-server" and method == "GET":
                return 200, self.auth.discovery(), {}
            if path == "/oidc/v1/token" and method == "POST":
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                status, answer = self.auth.issue(form, headers.get("Authorization"))
                return status, answer, {}
            with self._lock:
                principal = self.auth.principal(headers.get("Authorization"))
        except ApiError as error:
            return error.status, error.body(), error.headers
        return self._dispatch(self.router, method, path, query, headers, body, principal=principal)

    def _dispatch(
        self,
        router: _Router,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        *,
        principal: str,
    ) -> tuple[int, Json, dict[str, str]]:
        found = router.match(method, path)
        if found is None:
            error = ApiError(501, "NOT_IMPLEMENTED", f"The emulator does not implement {method} {path}.")
            return error.status, error.body(), {}
        route, params = found
        try:
            payload = _json_body(body)
            with self._lock:
                answer = route.handler(Request(method, path, params, query, payload, principal))
        except ApiError as error:
            return error.status, error.body(), error.headers
        return 200, answer, {}


def _json_body(body: bytes) -> Json:
    if not body.strip():
        return {}
    try:
        value: Any = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "MALFORMED_REQUEST", f"Invalid JSON given in the body of the request: {exc}") from exc
    if not isinstance(value, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
    return value


class _RequestHandler(BaseHTTPRequestHandler):
    """Reads a request, asks the Emulator for the answer, writes it (or drops the connection)."""

    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        emulator: Emulator = self.server.emulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            answer = emulator.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception:
            log.exception("emulator failed on %s %s", self.command, self.path)
            answer = 500, {"error_code": "INTERNAL_ERROR", "message": "The emulator failed; see its log."}, {}
        if answer is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload, headers = answer
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a hang outlived its timeout)
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)
