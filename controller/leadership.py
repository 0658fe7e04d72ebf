"""Leader election through a coordination.k8s.io Lease, for running more than one replica.

kopf's peering freezes replicas of equal priority instead of electing one, so the
controller takes a Lease with the official client's `leaderelection` before kopf
starts. Only the holder reconciles; a standby takes over once the holder stops
renewing (at most the lease duration). On a clean exit the holder hands the Lease
back, so a rolling restart does not wait out the lease.

Anything that goes wrong counts as no longer leading, never as still leading: the
election thread ending for any reason, or no successful renewal begun within the
renew deadline (even while a call hangs). Every Lease call has a timeout, and a call
that fails (refused, reset, timed out) is a failed attempt the election retries. A
holder that lost the Lease stops kopf and, whatever is still running, exits within
half the time left before a standby may take the Lease over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

logger = logging.getLogger(__name__)

_WATCH_SECONDS = 0.2  # how often the holder checks that its last renewal is recent enough


@dataclass(frozen=True)
class LeaseOptions:
    """Where the Lease lives and how long it lasts."""

    name: str
    namespace: str
    duration_seconds: float = 15.0

    @property
    def renew_deadline_seconds(self) -> float:
        return self.duration_seconds * 2 / 3

    @property
    def retry_seconds(self) -> float:
        return max(1.0, self.duration_seconds / 7)

    @property
    def call_timeout_seconds(self) -> float:
        """A renewal (a read, then a replace) fits in the renew deadline even when both calls time out."""
        return self.renew_deadline_seconds / 3

    @property
    def exit_grace_seconds(self) -> float:
        """After a lost renew deadline, half the time left before the Lease expires for a standby."""
        return (self.duration_seconds - self.renew_deadline_seconds) / 2


class Leadership:
    """Campaigns in a background thread; `wait_until_leading()` tells whether this replica came to hold the Lease."""

    def __init__(
        self,
        options: LeaseOptions,
        *,
        on_lost: Callable[[], None],
        api: Any = None,
        exit_process: Callable[[int], object] = os._exit,
    ) -> None:
        self.options = options
        self._on_lost = on_lost
        self._api = api  # a CoordinationV1Api; the cluster's own when None
        self._exit_process = exit_process
        self.identity = f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:6]}"
        self.leading = threading.Event()
        self.lost = threading.Event()
        self._decided = threading.Event()
        self._losing = threading.Lock()
        self._renewal_began = time.monotonic()
        self._lease_api: _BoundedLeaseApi | None = None

    def start(self) -> None:
        api = _BoundedLeaseApi(self._api or _cluster_api(), self.options.call_timeout_seconds)
        lock = LeaseLock(self.options.name, self.options.namespace, self.identity)
        lock.api_instance = api
        self._lease_api = api
        election = _Election(
            electionconfig.Config(
                lock,
                lease_duration=int(self.options.duration_seconds),
                renew_deadline=self.options.renew_deadline_seconds,
                retry_period=self.options.retry_seconds,
                onstarted_leading=self._started,
                onstopped_leading=lambda: self._lose("could not renew within the renew deadline"),
            ),
            leadership=self,
        )
        threading.Thread(target=self._campaign, args=(election,), name="leader-election", daemon=True).start()
        logger.info("waiting to lead: Lease %s/%s as %s", self.options.namespace, self.options.name, self.identity)

    def wait_until_leading(self) -> bool:
        """Block until this replica leads (True) or its election failed first (False: exit, campaign again)."""
        self._decided.wait()
        return self.leading.is_set() and not self.lost.is_set()

    def release(self) -> None:
        """Hand the Lease back if this replica holds it, so a standby takes over at once."""
        if self._lease_api is None or not self.leading.is_set() or self.lost.is_set():
            return
        name, namespace = self.options.name, self.options.namespace
        try:
            lease = self._lease_api.read_namespaced_lease(name, namespace)
            if lease.spec.holder_identity == self.identity:
                lease.spec.holder_identity = None
                self._lease_api.replace_namespaced_lease(name, namespace, lease)
                logger.info("released Lease %s/%s", namespace, name)
        except ApiException as exc:
            logger.warning("could not release Lease %s/%s: %s", namespace, name, exc.reason)

    def end_process(self) -> None:
        """Exit 1 at once, logs flushed, once kopf stopped after losing the Lease.

        Interpreter teardown would race this module's threads, still asleep or inside a call; it was
        seen ending the process with SIGABRT instead (CPython ends daemon threads with pthread_exit).
        """
        logging.shutdown()
        self._exit_process(1)

    def renewed(self, began: float) -> None:
        """The election holds the Lease as of `began` (monotonic), when its successful attempt started."""
        self._renewal_began = began

    def _campaign(self, election: _Election) -> None:
        try:
            election.run()
        except Exception:
            logger.exception("leader election failed")
        self._lose("the election thread ended")  # run() returns only once it stopped leading

    def _started(self) -> None:
        logger.info("leading: Lease %s/%s held by %s", self.options.namespace, self.options.name, self.identity)
        self.leading.set()
        self._decided.set()
        threading.Thread(target=self._watch_renewals, name="leader-renewals", daemon=True).start()

    def _watch_renewals(self) -> None:
        """Lose the Lease when no renewal began within the renew deadline, even while a call hangs."""
        while not self.lost.wait(_WATCH_SECONDS):
            if time.monotonic() - self._renewal_began > self.options.renew_deadline_seconds:
                self._lose(f"no renewal within the renew deadline ({self.options.renew_deadline_seconds:.1f}s)")

    def _lose(self, why: str) -> None:
        with self._losing:
            if self.lost.is_set():
                return
            self.lost.set()  # before reading `leading`: a replica starting to lead now sees it lost
        lease = f"{self.options.namespace}/{self.options.name}"
        if self.leading.is_set():
            grace = self.options.exit_grace_seconds
            logger.error("lost the Lease %s: %s; stopping, exiting in %.1fs at the latest", lease, why, grace)
            exit_timer = threading.Timer(grace, self._exit_process, (1,))
            exit_timer.daemon = True
            exit_timer.start()
        else:
            logger.error("leader election for Lease %s failed: %s; exiting to campaign again", lease, why)
        self._decided.set()
        self._on_lost()


class _Election(leaderelection.LeaderElection):  # type: ignore[misc]  # the client is untyped here
    """The client's election, reporting when each successful attempt began and stopping once lost."""

    def __init__(self, election_config: electionconfig.Config, *, leadership: Leadership) -> None:
        super().__init__(election_config)
        self._leadership = leadership

    def try_acquire_or_renew(self) -> bool:
        if self._leadership.lost.is_set():
            return False  # never renew for a process that is stopping
        began = time.monotonic()
        held = bool(super().try_acquire_or_renew())
        if held:
            self._leadership.renewed(began)
        return held


class _BoundedLeaseApi:
    """The Lease calls of LeaseLock (and of release), each with a timeout; every failure is an ApiException.

    LeaseLock treats an ApiException as a failed attempt and lets anything else end the election.
    """

    def __init__(self, api: Any, timeout: float) -> None:
        self._api = api
        self._timeout = timeout

    def read_namespaced_lease(self, name: str, namespace: str) -> Any:
        return self._call(self._api.read_namespaced_lease, name, namespace)

    def create_namespaced_lease(self, namespace: str, body: Any) -> Any:
        return self._call(self._api.create_namespaced_lease, namespace, body)

    def replace_namespaced_lease(self, name: str, namespace: str, body: Any) -> Any:
        return self._call(self._api.replace_namespaced_lease, name, namespace, body)

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args, _request_timeout=self._timeout)
        except ApiException:
            raise
        except Exception as exc:
            raise ApiException(reason=f"{type(exc).__name__}: {exc}") from exc


def _cluster_api() -> Any:
    """A CoordinationV1Api making one attempt per call: the election retries on its own schedule."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
    configuration = client.Configuration.get_default_copy()
    configuration.retries = False
    return client.CoordinationV1Api(client.ApiClient(configuration))
