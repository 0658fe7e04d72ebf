"""Test controls: faults the SDK's own retry must absorb, latency, call counters, admin HTTP API, process mode."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import InternalError, ResourceConflict, TooManyRequests
from databricks.sdk.service.serving import EndpointStateConfigUpdate, ServedEntityInput

from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.databricks.state import ApiError

pytestmark = pytest.mark.integration


def test_429_retry_after_is_honoured_by_the_sdk(emu: Emulator, w: WorkspaceClient) -> None:
    emu.inject_fault(429, count=1, retry_after=2, path_prefix="/api/2.0/serving-endpoints")
    started = time.monotonic()
    assert list(w.serving_endpoints.list()) == []
    assert time.monotonic() - started >= 2
    assert emu.counters()["calls"]["GET /api/2.0/serving-endpoints"] == 2


def test_503_and_dropped_connections_are_retried(emu: Emulator, w: WorkspaceClient) -> None:
    emu.inject_fault(503, count=1, retry_after=0, method="POST")
    emu.inject_fault("drop", count=1, method="POST")
    job_id = w.jobs.create(name="j").job_id
    assert emu.counters()["calls"]["POST /api/2.2/jobs/create"] == 3
    assert [j.job_id for j in w.jobs.list()] == [job_id]


def test_persistent_throttling_ends_in_timeout(emu: Emulator, make_client: Any) -> None:
    emu.inject_fault(429, probability=1.0, retry_after=0)
    with pytest.raises(TimeoutError) as caught:
        make_client(retry_timeout=1).serving_endpoints.list()
    assert isinstance(caught.value.__cause__, TooManyRequests)
    emu.clear_faults()


def test_a_hung_create_is_carried_out_after_the_client_gave_up(emu: Emulator, wait_for: Any) -> None:
    """The SDK re-sends a create that timed out; the first one still lands later: two jobs for one call."""
    emu.inject_fault("hang", seconds=3, count=1, path_prefix="/api/2.2/jobs/create")
    impatient = WorkspaceClient(
        config=Config(host=emu.url, token=DEFAULT_TOKEN, auth_type="pat", http_timeout_seconds=0.5)
    )
    answered = impatient.jobs.create(name="late").job_id
    assert emu.counters()["calls"]["POST /api/2.2/jobs/create"] == 2
    landed = wait_for(lambda: [j.job_id for j in impatient.jobs.list(name="late")], lambda ids: len(ids) == 2)
    assert answered in landed


def test_a_hang_needs_seconds(emu: Emulator) -> None:
    with pytest.raises(ApiError, match="seconds"):
        emu.inject_fault("hang", count=1)
    with pytest.raises(ApiError, match="seconds"):
        emu.inject_fault(503, seconds=2)
    hang = requests.post(f"{emu.url}/_emulator/faults", json={"status": "hang", "seconds": 1.5}, timeout=5).json()
    assert (hang["status"], hang["seconds"]) == ("hang", 1.5)


def test_500_and_409_are_not_retried(emu: Emulator, w: WorkspaceClient) -> None:
    emu.inject_fault(500, count=1)
    with pytest.raises(InternalError):
        w.serving_endpoints.list()
    emu.inject_fault(409, count=1, path_prefix="/api/2.0/serving-endpoints/")
    with pytest.raises(ResourceConflict):
        w.serving_endpoints.get("any")
    assert emu.counters()["reads"] == 2


def test_probabilistic_faults_hit_some_calls(emu: Emulator) -> None:
    emu.inject_fault(503, probability=0.5)
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    codes = [
        requests.get(f"{emu.url}/api/2.0/serving-endpoints", headers=headers, timeout=5).status_code for _ in range(60)
    ]
    assert 0 < codes.count(503) < 60
    assert set(codes) == {200, 503}


def test_latency(emu: Emulator, w: WorkspaceClient) -> None:
    emu.set_latency(0.3, path_prefix="/api/2.2/jobs")
    started = time.monotonic()
    w.jobs.create(name="slow")
    assert time.monotonic() - started >= 0.3
    emu.set_latency(0, path_prefix="/api/2.2/jobs")
    started = time.monotonic()
    w.jobs.create(name="fast")
    assert time.monotonic() - started < 0.3


def test_counters_split_reads_and_writes(emu: Emulator, w: WorkspaceClient) -> None:
    emu.reset_counters()
    w.serving_endpoints.create("e1")
    w.serving_endpoints.get("e1")
    w.serving_endpoints.get("e1")
    w.jobs.create(name="j")
    counts = emu.counters()
    assert counts["calls"] == {
        "GET /api/2.0/serving-endpoints/{name}": 2,
        "POST /api/2.0/serving-endpoints": 1,
        "POST /api/2.2/jobs/create": 1,
    }
    assert (counts["reads"], counts["writes"]) == (2, 2)
    assert emu.counters(prefix="/api/2.2/")["writes"] == 1
    emu.reset_counters()
    assert emu.counters()["calls"] == {}


def test_admin_http_api(emu: Emulator, w: WorkspaceClient) -> None:
    admin = f"{emu.url}/_emulator"
    version = requests.post(
        f"{admin}/unity-catalog/model-versions",
        json={"full_name": "main.risk.m", "source": "models:/m-1", "status": "PENDING_REGISTRATION"},
        timeout=5,
    ).json()
    assert version["version"] == 1
    requests.put(
        f"{admin}/unity-catalog/model-versions/status",
        json={"full_name": "main.risk.m", "version": 1, "status": "READY"},
        timeout=5,
    ).raise_for_status()
    assert w.model_versions.get("main.risk.m", 1).status.value == "READY"
    table = requests.post(f"{admin}/unity-catalog/tables", json={"full_name": "main.risk.t"}, timeout=5).json()
    assert w.tables.get("main.risk.t").table_id == table["table_id"]
    assert requests.put(f"{admin}/timings", json={"endpoint_update": 5}, timeout=5).json()["endpoint_update"] == 5
    assert requests.put(f"{admin}/timings", json={"nope": 5}, timeout=5).status_code == 400
    fault = requests.post(f"{admin}/faults", json={"status": 429, "count": 1, "retry_after": 0}, timeout=5).json()
    assert requests.get(f"{admin}/faults", timeout=5).json()["faults"] == [fault]
    requests.delete(f"{admin}/faults", timeout=5).raise_for_status()
    w.serving_endpoints.create("e1")
    assert requests.get(f"{admin}/counters", timeout=5).json()["writes"] >= 1
    requests.post(f"{admin}/clock/advance", json={"seconds": 60}, timeout=5).raise_for_status()
    requests.post(f"{admin}/tokens", json={"token": "dapi-x", "user_name": "x@example.com"}, timeout=5)
    me = requests.get(
        f"{emu.url}/api/2.0/preview/scim/v2/Me", headers={"Authorization": "Bearer dapi-x"}, timeout=5
    ).json()
    assert me["userName"] == "x@example.com"
    requests.post(f"{admin}/reset", timeout=5).raise_for_status()
    assert list(w.serving_endpoints.list()) == []
    assert requests.get(f"{admin}/counters", timeout=5).json()["calls"] == {"GET /api/2.0/serving-endpoints": 1}


def test_out_of_band_change_is_a_normal_api_call(emu: Emulator, w: WorkspaceClient) -> None:
    """A person editing in the UI is emulated with a second client; the controller's counters can be reset after."""
    emu.seed_model_version("main.risk.m", source="models:/m-1")
    w.serving_endpoints.create("e1", config=None)
    person = WorkspaceClient(host=emu.url, token=DEFAULT_TOKEN)
    person.serving_endpoints.update_config(
        "e1", served_entities=[ServedEntityInput(entity_name="main.risk.m", entity_version="1")]
    )
    assert w.serving_endpoints.get("e1").state.config_update == EndpointStateConfigUpdate.IN_PROGRESS


def test_concurrent_creates_get_unique_ids(emu: Emulator, w: WorkspaceClient) -> None:
    ids: list[int] = []

    def create() -> None:
        for _ in range(10):
            ids.append(w.jobs.create(name="same").job_id or 0)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 80
    assert len(list(w.jobs.list(name="same"))) == 80


def test_runs_as_a_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.databricks", "--token", "dapi-proc=proc@example.com"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        w = WorkspaceClient(host=url, token="dapi-proc")
        assert w.current_user.me().user_name == "proc@example.com"
    finally:
        process.terminate()
        process.wait(timeout=10)
