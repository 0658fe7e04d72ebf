"""A server that refuses every request's credentials and quotes them back in its error body.

It stands in for an MLflow server with authentication turned on (the test environment has no MLflow
auth app) in its worst case: a service, or a proxy's error page, echoing the Authorization header.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class _Refuse(BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        body = f"credentials refused: Authorization: {self.headers.get('Authorization')}".encode()
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="mlflow"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._refuse()

    def do_POST(self) -> None:
        self._refuse()

    def log_message(self, *args: object) -> None:
        pass


class RefusingServer:
    """On loopback, in a background thread; a context manager."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuse)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
