"""Every Databricks example converges while 30% of calls are answered 429 or 503, without duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.environment import seed_databricks
from sandbox.examples import example_documents
from tests.support import Kubectl, metric_sum

pytestmark = pytest.mark.e2e


@pytest.fixture
def flaky_emulator() -> Iterator[Emulator]:
    """An emulator of its own: the examples' fixed names must not meet other tests' objects."""
    with Emulator() as emulator:
        emulator.set_timings(endpoint_update=1.0, monitor_pending=1.0)
        seed_databricks(emulator)
        yield emulator


def test_examples_converge_under_throttling_and_outages(
    kubectl: Kubectl, flaky_emulator: Emulator, controller: ControllerProcess
) -> None:
    documents = _examples(flaky_emulator.url)
    refused_before = _refused(controller)
    flaky_emulator.inject_fault(429, probability=0.15, retry_after=1)
    flaky_emulator.inject_fault(503, probability=0.15, retry_after=1)
    for document in documents:
        kubectl.apply(document)
    ours = [d for d in documents if d["apiVersion"].startswith("mlops.gitops.dev/")]
    for document in ours:
        kubectl.wait_condition(document["kind"].lower(), document["metadata"]["name"], timeout=240)
    flaky_emulator.clear_faults()
    assert _refused(controller) > refused_before  # the faults did reach the controller

    w = WorkspaceClient(host=flaky_emulator.url, token=DEFAULT_TOKEN)
    jobs = Counter(job.settings.name for job in w.jobs.list() if job.settings and job.settings.name)
    declared = [d["spec"]["settings"]["name"] for d in ours if d["kind"] == "MLJob"]
    assert declared
    assert {name: jobs[name] for name in declared} == dict.fromkeys(declared, 1)
    endpoints = [e.name for e in w.serving_endpoints.list()]
    assert sorted(endpoints) == sorted(d["spec"]["endpointName"] for d in ours if d["kind"] == "ServingEndpoint")


def _refused(controller: ControllerProcess) -> float:
    calls = "mlops_external_calls_total"
    return sum(metric_sum(controller.metrics_port, calls, service="databricks", status=s) for s in ("429", "503"))


def _examples(host: str) -> list[dict[str, Any]]:
    """The Databricks examples pointed at the emulator, checked every 5 s so the faults are met often."""
    documents = example_documents("databricks", databricks_url=host)
    for document in documents:
        if document["kind"] == "Workspace":
            document["spec"]["driftInterval"] = "5s"
    return documents
