"""The Emulator: its life cycle, its test controls, and how one call is answered.

Requests under `/_emulator/` are the admin API (no Databricks auth); everything
else is answered as a Databricks workspace would. One lock guards all state:
route handlers run under it on the server's event loop, and the Python API takes
it from the test's thread. Added latency and hangs wait outside it. What the
workspace holds is seeded through the methods of `seeding.Seeding`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from types import TracebackType

from sandbox.databricks.admin import ADMIN, admin_routes
from sandbox.databricks.auth import Auth
from sandbox.databricks.catalog import Catalog
from sandbox.databricks.control import DROP, HANG, Controls, Fault
from sandbox.databricks.deployment_jobs import DeploymentJobs
from sandbox.databricks.grants import Grants
from sandbox.databricks.jobs import Jobs
from sandbox.databricks.monitors import Monitors
from sandbox.databricks.permissions import Permissions, Principals, creators
from sandbox.databricks.repos import Repos
from sandbox.databricks.routing import Router, parse_body, split_target
from sandbox.databricks.seeding import DEFAULT_TOKEN, DEFAULT_USER, Seeding
from sandbox.databricks.serving import Serving
from sandbox.databricks.state import ApiError, Clock, Json, Request, Text, Timings
from sandbox.databricks.tracking import Tracking
from sandbox.databricks.web import Answer, Call, WebServer

__all__ = ["DEFAULT_TOKEN", "DEFAULT_USER", "Emulator", "Exchange"]


@dataclasses.dataclass(frozen=True)
class Exchange:
    """One answer the emulated workspace gave (see `Emulator.recording`)."""

    method: str
    template: str | None
    """The route's path template, None for a path no route serves."""
    status: int
    body: Json | Text


class Emulator(Seeding):
    """A Databricks workspace on loopback, for tests and local sandboxes.

    Use as a context manager (`with Emulator() as emu: emu.url`) or call
    `start()`/`stop()`. `tokens` maps PATs to user names; `oauth_clients` maps
    OAuth client ids to secrets. Every admin method here and in `Seeding` is also
    reachable over HTTP under `/_emulator/` (see the package README).
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
        self._recordings: list[list[Exchange]] = []
        self._build_state()
        self.admin = Router(admin_routes(self, DEFAULT_USER))
        self._web = WebServer(host, port, self._respond)
        self.url = f"http://{self._web.host}:{self._web.port}"
        self.auth.base_url = self.url
        self.jobs.base_url = self.url

    def _build_state(self) -> None:
        self.catalog = Catalog(self.clock)
        self.serving = Serving(self.clock, self.timings, self.catalog)
        self.jobs = Jobs(self.clock, self.timings)
        self.catalog.registry.deployment_jobs = DeploymentJobs(self.jobs)
        self.monitors = Monitors(self.clock, self.timings, self.catalog)
        self.tracking = Tracking(self.clock)
        self.repos = Repos()
        self.principals = Principals(self.auth.tokens.values, self.auth.clients.keys)
        self.permissions = Permissions(
            self.principals,
            creators(
                jobs=self.jobs, serving=self.serving, tracking=self.tracking, repos=self.repos, default=DEFAULT_USER
            ),
        )
        self.grants = Grants(self.principals, self.catalog.registry.models)
        self.router = Router(
            [
                *self.auth.routes(),
                *self.serving.routes(),
                *self.jobs.routes(),
                *self.catalog.routes(),
                *self.monitors.routes(),
                *self.tracking.routes(),
                *self.repos.routes(),
                *self.permissions.routes(),
                *self.grants.routes(),
            ]
        )

    # ---- life cycle ----

    def start(self) -> Emulator:
        self._web.start()
        return self

    def stop(self) -> None:
        self._web.stop()

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

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[Exchange]]:
        """Collects every answer the workspace gives while the block runs (not the admin API, not faults)."""
        exchanges: list[Exchange] = []
        with self._lock:
            self._recordings.append(exchanges)
        try:
            yield exchanges
        finally:
            with self._lock:
                self._recordings.remove(exchanges)

    # ---- answering one call (on the server's event loop) ----

    async def _respond(self, call: Call) -> Answer | None:
        """The answer to one call, or None to drop the connection."""
        path, query = split_target(call.target)
        if path.startswith(ADMIN + "/"):
            return self._answer(self.admin, call, path, query, principal="admin")
        with self._lock:
            found = self.router.match(call.method, path)
            self.controls.count(call.method, found[0].template if found else path)
            fault = self.controls.pick_fault(call.method, path)
            delay = self.controls.delay_for(path)
        if fault is not None and fault.status == HANG:
            delay += fault.seconds  # then carried out as usual, whether or not the client still waits
            fault = None
        if delay:
            await asyncio.sleep(delay)
        if fault is None:
            answer = self._answer(self.router, call, path, query)
            with self._lock:
                if self._recordings:  # a copy: a handler may answer with state that changes later
                    body = copy.deepcopy(answer.body)
                    exchange = Exchange(call.method, found[0].template if found else None, answer.status, body)
                    for exchanges in self._recordings:
                        exchanges.append(exchange)
            return answer
        if fault.status == DROP:
            return None
        error = fault.error()
        return Answer(error.status, error.body(), error.headers)

    def _answer(
        self, router: Router, call: Call, path: str, query: dict[str, list[str]], principal: str | None = None
    ) -> Answer:
        """Authenticate (unless the route is public), parse the body and run the handler, under the lock.

        The route is looked up again: a reset during an added delay replaces the router.
        """
        with self._lock:
            found = router.match(call.method, path)
            try:
                if principal is None:
                    public = found is not None and found[0].public
                    principal = "" if public else self.auth.principal(call.headers.get("Authorization"))
                if found is None:
                    raise ApiError(501, "NOT_IMPLEMENTED", f"The emulator does not implement {call.method} {path}.")
                route, params = found
                body = parse_body(route, call.method, call.body)
                request = Request(call.method, path, params, query, body, principal, call.headers)
                return Answer(200, route.handler(request))
            except ApiError as error:
                return Answer(error.status, error.body(), error.headers)
