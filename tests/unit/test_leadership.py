"""Leader election: any failure means not leading; every Lease call is bounded; a hung renewal still loses.

The election runs for real (the client's LeaderElection over a fake Lease API that checks
resourceVersion like the API server), with a 3 s lease: renew deadline 2 s, retry 1 s.
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import ProtocolError

from controller.leadership import Leadership, LeaseOptions
from tests.support import wait_until

OPTIONS = LeaseOptions(name="controller", namespace="system", duration_seconds=3)
WAIT = 30.0  # how long a test waits for something that must happen (it happens within seconds)


class FakeLeases:
    """The Lease calls of CoordinationV1Api over one stored Lease; faults are queued per call."""

    def __init__(self) -> None:
        self.lease: client.V1Lease | None = None
        self.timeouts: list[object] = []
        self.faults: list[BaseException] = []
        self.hang: threading.Event | None = None  # when given, a replace blocks until it is set
        self.hanging = threading.Event()
        self.renewals = 0
        self.unreadable = False  # reads answer a Lease the client's election cannot parse
        self._lock = threading.Lock()

    def read_namespaced_lease(self, name: str, namespace: str, *, _request_timeout: object = None) -> Any:
        self._enter(_request_timeout)
        with self._lock:
            if self.unreadable:
                return types.SimpleNamespace(spec="unreadable")
            if self.lease is None:
                raise ApiException(status=404, reason="Not Found", body='{"code": 404}')
            return copy.deepcopy(self.lease)

    def create_namespaced_lease(
        self, namespace: str, body: client.V1Lease, *, _request_timeout: object = None
    ) -> client.V1Lease:
        self._enter(_request_timeout)
        with self._lock:
            if self.lease is not None:
                raise ApiException(status=409, reason="AlreadyExists")
            self.lease = client.V1Lease(metadata=client.V1ObjectMeta(name="controller", resource_version="1"))
            self.lease.spec = body.spec
            return copy.deepcopy(self.lease)

    def replace_namespaced_lease(
        self, name: str, namespace: str, body: client.V1Lease, *, _request_timeout: object = None
    ) -> client.V1Lease:
        self._enter(_request_timeout)
        if self.hang is not None:
            self.hanging.set()
            self.hang.wait()
        with self._lock:
            assert self.lease is not None
            if body.metadata.resource_version != self.lease.metadata.resource_version:
                raise ApiException(status=409, reason="Conflict")
            version = str(int(self.lease.metadata.resource_version) + 1)
            self.lease = client.V1Lease(metadata=client.V1ObjectMeta(name=name, resource_version=version))
            self.lease.spec = copy.deepcopy(body.spec)
            self.renewals += 1
            return copy.deepcopy(self.lease)

    def _enter(self, timeout: object) -> None:
        self.timeouts.append(timeout)
        if self.faults:
            raise self.faults.pop(0)


class Candidate:
    """A Leadership over the fake, recording when it reports a loss and when it ends the process."""

    def __init__(self, leases: FakeLeases) -> None:
        self.lost = threading.Event()
        self.exit_codes: list[int] = []
        self.exited = threading.Event()
        self.leadership = Leadership(OPTIONS, on_lost=self.lost.set, api=leases, exit_process=self._exit)

    def _exit(self, code: int) -> None:
        self.exit_codes.append(code)
        self.exited.set()


@pytest.fixture
def leases() -> Iterator[FakeLeases]:
    fake = FakeLeases()
    yield fake
    if fake.hang is not None:
        fake.hang.set()


@pytest.fixture
def candidate(leases: FakeLeases) -> Iterator[Candidate]:
    made = Candidate(leases)
    yield made
    made.leadership.lost.set()  # its election stops renewing; the thread is a daemon


def lead(candidate: Candidate, leases: FakeLeases) -> None:
    candidate.leadership.start()
    assert candidate.leadership.wait_until_leading()
    assert leases.lease is not None
    assert leases.lease.spec.holder_identity == candidate.leadership.identity


def test_every_lease_call_has_a_timeout_shorter_than_the_renew_deadline(
    candidate: Candidate, leases: FakeLeases
) -> None:
    lead(candidate, leases)
    renewed = leases.renewals
    wait_until(lambda: leases.renewals > renewed, timeout=WAIT, interval=0.05, what="a renewal")
    candidate.leadership.release()
    assert leases.lease is not None
    assert leases.lease.spec.holder_identity is None
    assert leases.timeouts
    assert set(leases.timeouts) == {OPTIONS.call_timeout_seconds}
    assert 2 * OPTIONS.call_timeout_seconds < OPTIONS.renew_deadline_seconds  # a read and a replace fit


def test_refused_reset_and_timed_out_calls_are_retried_not_the_end_of_the_election(
    candidate: Candidate, leases: FakeLeases
) -> None:
    leases.faults = [ConnectionRefusedError(111, "Connection refused"), ProtocolError("reset"), TimeoutError()]
    lead(candidate, leases)
    assert not leases.faults
    assert not candidate.lost.is_set()


def test_a_standby_whose_election_fails_gives_up_so_that_it_restarts(candidate: Candidate, leases: FakeLeases) -> None:
    leases.unreadable = True  # the election thread raises on the first read
    candidate.leadership.start()
    assert not candidate.leadership.wait_until_leading()
    assert candidate.lost.is_set()
    assert candidate.exit_codes == []  # it never reconciled: runner.run returns 1 by itself


def test_a_leader_whose_election_fails_stops_reconciling_and_exits_non_zero(
    candidate: Candidate, leases: FakeLeases
) -> None:
    lead(candidate, leases)
    leases.unreadable = True
    assert candidate.lost.wait(WAIT), "kopf is told to stop"
    assert candidate.exited.wait(WAIT), "the process is ended even if kopf does not stop"
    assert candidate.exit_codes == [1]


def test_a_leader_whose_renewal_hangs_loses_the_lease_while_the_call_still_hangs(
    candidate: Candidate, leases: FakeLeases
) -> None:
    lead(candidate, leases)
    leases.hang = threading.Event()
    assert leases.hanging.wait(WAIT)
    assert candidate.lost.wait(WAIT), "kopf is told to stop"
    assert candidate.exited.wait(WAIT)
    assert candidate.exit_codes == [1]
    assert not leases.hang.is_set(), "the renewal never returned"
