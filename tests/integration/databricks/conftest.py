"""Fixtures: one emulator per session, reset before each test, reached through the real SDK."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from sandbox.databricks import DEFAULT_TOKEN, Emulator

T = TypeVar("T")

FAST = {
    "endpoint_update": 0.3,
    "run_pending": 0.2,
    "run_running": 0.3,
    "monitor_pending": 0.3,
    "refresh_pending": 0.2,
    "refresh_running": 0.3,
}
CLIENT_ID = "3f1c1d6e-0000-4000-8000-000000000001"
CLIENT_SECRET = "emulator-client-secret"


@pytest.fixture(scope="session")
def server() -> Iterator[Emulator]:
    with Emulator(oauth_clients={CLIENT_ID: CLIENT_SECRET}) as emu:
        yield emu


@pytest.fixture
def emu(server: Emulator) -> Emulator:
    server.reset()
    server.set_timings(**FAST)
    return server


MakeClient = Callable[..., WorkspaceClient]


@pytest.fixture
def make_client(emu: Emulator) -> MakeClient:
    """Builds WorkspaceClients as the controller does: PAT, bounded retries."""

    def make(*, token: str = DEFAULT_TOKEN, retry_timeout: int = 10) -> WorkspaceClient:
        return WorkspaceClient(
            config=Config(host=emu.url, token=token, auth_type="pat", retry_timeout_seconds=retry_timeout)
        )

    return make


@pytest.fixture
def w(make_client: MakeClient) -> WorkspaceClient:
    return make_client()


def _wait_for(probe: Callable[[], T], done: Callable[[T], bool], timeout: float = 5.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached in {timeout}s; last value: {value!r}")
        time.sleep(0.05)


@pytest.fixture
def wait_for() -> Callable[..., object]:
    """Polls `probe()` until `done(value)` holds (the SDK's own waiters sleep whole seconds; tests need less)."""
    return _wait_for
