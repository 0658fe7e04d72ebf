"""The HTTP server: aiohttp's, on its own event loop in a background thread.

aiohttp speaks all of HTTP/1.1 (chunked bodies, keep-alive, pipelining, many
connections at once), which clients other than the Python SDK rely on. The
emulator sees each request as a `Call` and gives back an `Answer`, or None to
drop the connection unanswered.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from sandbox.databricks.state import Json, Text

log = logging.getLogger(__name__)

# How long stopping waits for calls still being answered (a hang can outlast any sensible wait).
_STOP_GRACE_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Call:
    method: str
    target: str
    """Path and query string as sent (still percent-encoded)."""
    headers: Mapping[str, str]
    """Case-insensitive, as HTTP header names are."""
    body: bytes


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: Json | Text
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


Respond = Callable[[Call], Awaitable[Answer | None]]

_FAILED = Answer(500, {"error_code": "INTERNAL_ERROR", "message": "The emulator failed; see its log."})


class WebServer:
    """Serves `respond` on a socket bound at once, so the address is known before `start()`."""

    def __init__(self, host: str, port: int, respond: Respond) -> None:
        self._socket = socket.create_server((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        self._respond = respond
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="databricks-emulator", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result()

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            self._socket.close()
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = self._thread = self._runner = None

    async def _open(self) -> None:
        # handler_cancellation=False: a call whose client hung up is still carried out, as a hang fault promises.
        server = web.Server(self._serve, handler_cancellation=False, access_log=None)
        self._runner = web.ServerRunner(server, shutdown_timeout=_STOP_GRACE_SECONDS)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def _serve(self, request: web.BaseRequest) -> web.StreamResponse:
        # Read from the stream: BaseRequest.read() would refuse bodies over 1 MiB, and no size limit is modelled.
        body = await request.content.read()
        call = Call(request.method, request.raw_path, request.headers, body)
        try:
            answer = await self._respond(call)
        except Exception:
            log.exception("emulator failed on %s %s", call.method, call.target)
            answer = _FAILED
        if answer is None:
            request.protocol.force_close()  # the response below then finds no transport and is not sent
            return web.Response()
        log.debug("%s %s -> %d", call.method, call.target, answer.status)
        if isinstance(answer.body, Text):
            headers = {**answer.headers, "Content-Type": answer.body.content_type}
            raw = answer.body.body
            return web.Response(
                status=answer.status, body=raw if isinstance(raw, bytes) else raw.encode(), headers=headers
            )
        return web.Response(
            status=answer.status,
            body=json.dumps(answer.body).encode(),
            headers=dict(answer.headers),
            content_type="application/json",
        )
