"""HTTP/1.1 as clients other than the Python SDK speak it: chunked bodies, keep-alive, many connections."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

import pytest
import requests

from sandbox.databricks import DEFAULT_TOKEN, Emulator

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def connection(emu: Emulator) -> Iterator[http.client.HTTPConnection]:
    host, port = emu.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    yield conn
    conn.close()


def call(
    conn: http.client.HTTPConnection, method: str, path: str, body: bytes | Iterator[bytes] | None = None
) -> tuple[int, dict[str, Any]]:
    """One request on `conn`; an iterator body goes chunked (http.client sends no Content-Length for it)."""
    conn.request(method, path, body=body, headers=AUTH)
    answer = conn.getresponse()
    payload = answer.read()
    assert answer.getheader("Content-Type") == "application/json", payload
    return answer.status, json.loads(payload)


def chunks(*parts: bytes) -> Iterator[bytes]:
    yield from parts


def test_a_chunked_body_is_read_whole_and_the_connection_stays_usable(connection: http.client.HTTPConnection) -> None:
    """The old server read Content-Length bodies only: it saw no name, then answered the unread chunk as a request."""
    status, created = call(connection, "POST", "/api/2.2/jobs/create", chunks(b'{"name": ', b'"chunked"}'))
    assert status == 200, created
    status, job = call(connection, "GET", f"/api/2.2/jobs/get?job_id={created['job_id']}")
    assert (status, job["settings"]["name"]) == (200, "chunked")


def test_several_requests_on_one_connection(emu: Emulator, connection: http.client.HTTPConnection) -> None:
    for name in ("a", "b", "c"):
        assert call(connection, "POST", "/api/2.2/jobs/create", json.dumps({"name": name}).encode())[0] == 200
    _, listed = call(connection, "GET", "/api/2.2/jobs/list")
    assert [j["settings"]["name"] for j in listed["jobs"]] == ["a", "b", "c"]
    assert emu.counters()["calls"]["POST /api/2.2/jobs/create"] == 3


def read_answer(stream: BinaryIO) -> tuple[int, dict[str, Any]]:
    """One answer from a connection's byte stream (Content-Length bodies: all the emulator sends)."""
    status = int(stream.readline().split()[1])
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, json.loads(stream.read(int(headers["content-length"])))


def test_pipelined_requests_are_answered_in_order(emu: Emulator) -> None:
    """Requests sent back to back before any answer is read: each gets its own answer, in order, none stray."""
    head = f"Host: x\r\nAuthorization: Bearer {DEFAULT_TOKEN}\r\n"
    first = b'{"name": "first"}'
    chunked = f"POST /api/2.2/jobs/create HTTP/1.1\r\n{head}Transfer-Encoding: chunked\r\n\r\n".encode()
    chunked += f"{len(first):x}\r\n".encode() + first + b"\r\n0\r\n\r\n"
    listing = f"GET /api/2.2/jobs/list HTTP/1.1\r\n{head}\r\n".encode()
    host, port = emu.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock, sock.makefile("rb") as stream:
        sock.sendall(chunked + listing)
        created, listed = read_answer(stream), read_answer(stream)
    assert created[0] == 200, created
    assert listed[0] == 200, listed
    assert [j["settings"]["name"] for j in listed[1]["jobs"]] == ["first"]


def test_a_get_or_delete_with_a_null_or_empty_body_is_a_call_without_body(
    emu: Emulator, connection: http.client.HTTPConnection
) -> None:
    """A `null` body (seen from Databricks' Go SDK) means no request object; the old server refused it."""
    emu.seed_model_version("main.risk.m", source="models:/m-1")
    for body in (b"null", b"", b" null\n"):
        status, listed = call(connection, "GET", "/api/2.0/serving-endpoints", body)
        assert (status, listed.get("endpoints", [])) == (200, [])
    status, model = call(connection, "GET", "/api/2.1/unity-catalog/models/main.risk.m", b"null")
    assert (status, model["full_name"]) == (200, "main.risk.m")
    assert call(connection, "DELETE", "/api/2.1/unity-catalog/models/main.risk.m/versions/1", b"null")[0] == 200


def test_a_body_that_is_not_an_object_is_refused_in_databricks_shape(connection: http.client.HTTPConnection) -> None:
    for body in (b"null", b"[1]", b'{"name": '):
        status, error = call(connection, "POST", "/api/2.2/jobs/create", body)
        assert status == 400
        assert error["error_code"] == "MALFORMED_REQUEST"
        assert set(error) == {"error_code", "message"}


def test_concurrent_connections_are_served_at_once(emu: Emulator) -> None:
    """Twenty calls held one second each by added latency finish together, not one after another."""
    emu.set_latency(1.0, path_prefix="/api/2.0/serving-endpoints")
    codes: list[int] = []

    def one() -> None:
        answer = requests.get(f"{emu.url}/api/2.0/serving-endpoints", headers=AUTH, timeout=10)
        codes.append(answer.status_code)

    threads = [threading.Thread(target=one) for _ in range(20)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 20
    assert time.monotonic() - started < 5


def test_a_hung_call_holds_only_its_own_connection(emu: Emulator) -> None:
    emu.inject_fault("hang", seconds=3, count=1, path_prefix="/api/2.2/jobs/create")
    hung = threading.Thread(
        target=lambda: requests.post(f"{emu.url}/api/2.2/jobs/create", headers=AUTH, json={"name": "x"}, timeout=10)
    )
    hung.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert requests.get(f"{emu.url}/api/2.2/jobs/list", headers=AUTH, timeout=5).status_code == 200
    assert time.monotonic() - started < 1
    hung.join()


def test_an_unknown_path_answers_in_databricks_shape(connection: http.client.HTTPConnection) -> None:
    status, error = call(connection, "GET", "/api/2.0/not-a-thing")
    assert status == 501
    assert error["error_code"] == "NOT_IMPLEMENTED"
