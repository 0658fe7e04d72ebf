"""Leader election through a coordination.k8s.io Lease, for running more than one replica.

kopf's peering freezes replicas of equal priority instead of electing one, so the
controller takes a Lease with the official client's `leaderelection` before kopf
starts. Only the holder reconciles; a standby takes over once the holder stops
renewing (at most the lease duration). On a clean exit the holder hands the Lease
back, so a rolling restart does not wait out the lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

logger = logging.getLogger(__name__)


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


class Leadership:
    """Campaigns in a background thread; `wait_until_leading()` blocks until this replica holds the Lease."""

    def __init__(self, options: LeaseOptions, *, on_lost: Callable[[], None]) -> None:
        self.options = options
        self._on_lost = on_lost
        self.identity = f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:6]}"
        self.leading = threading.Event()
        self.lost = threading.Event()

    def start(self) -> None:
        _load_config()
        lock = LeaseLock(self.options.name, self.options.namespace, self.identity)
        election = leaderelection.LeaderElection(
            electionconfig.Config(
                lock,
                lease_duration=int(self.options.duration_seconds),
                renew_deadline=int(self.options.renew_deadline_seconds),
                retry_period=int(self.options.retry_seconds),
                onstarted_leading=self._started,
                onstopped_leading=self._stopped,
            )
        )
        threading.Thread(target=election.run, name="leader-election", daemon=True).start()
        logger.info("waiting to lead: Lease %s/%s as %s", self.options.namespace, self.options.name, self.identity)

    def wait_until_leading(self) -> None:
        self.leading.wait()

    def release(self) -> None:
        """Hand the Lease back if this replica holds it, so a standby takes over at once."""
        if not self.leading.is_set() or self.lost.is_set():
            return
        api = client.CoordinationV1Api()
        try:
            lease = api.read_namespaced_lease(self.options.name, self.options.namespace)
            if lease.spec.holder_identity == self.identity:
                lease.spec.holder_identity = None
                api.replace_namespaced_lease(self.options.name, self.options.namespace, lease)
                logger.info("released Lease %s/%s", self.options.namespace, self.options.name)
        except ApiException as exc:
            logger.warning("could not release Lease %s/%s: %s", self.options.namespace, self.options.name, exc.reason)

    def _started(self) -> None:
        logger.info("leading: Lease %s/%s held by %s", self.options.namespace, self.options.name, self.identity)
        self.leading.set()

    def _stopped(self) -> None:
        logger.error("lost the Lease %s/%s: stopping", self.options.namespace, self.options.name)
        self.lost.set()
        self._on_lost()


def _load_config() -> None:
    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config()
