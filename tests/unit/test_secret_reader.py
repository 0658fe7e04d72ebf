"""Reading a Workspace's Secret: an API server that cannot answer now is a transient failure, retried."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client

from controller.clients import errors
from controller.kube import SecretReader


def _reader(url: str) -> SecretReader:
    settings = client.Configuration(host=url)
    settings.retries = 0
    return SecretReader(client.CoreV1Api(client.ApiClient(settings)))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def answering() -> Iterator[tuple[str, list[int]]]:
    """An API server that answers every request with the next status in the list."""
    statuses: list[int] = []

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses.pop(0))
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"kind": "Status", "message": "no"}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", statuses
    server.shutdown()
    server.server_close()


def test_an_unreachable_api_server_is_unavailable_not_an_escaped_error() -> None:
    with pytest.raises(errors.Unavailable, match="Secret team-a/dbx"):
        _reader(f"http://127.0.0.1:{_closed_port()}")("team-a", "dbx")


def test_an_overloaded_api_server_is_unavailable_and_a_refusal_is_misconfigured(
    answering: tuple[str, list[int]],
) -> None:
    url, statuses = answering
    statuses.extend([503, 429, 403])
    read = _reader(url)
    for expected in (errors.Unavailable, errors.Unavailable, errors.Misconfigured):
        with pytest.raises(expected, match="Secret team-a/dbx"):
            read("team-a", "dbx")
