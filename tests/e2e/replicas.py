"""Controller replicas run as a Deployment runs them, and the Lease they campaign for.

Each replica restarts its process when it exits, with a log file per run (so "leading" means this run
leads) and POD_NAME set, which the controller puts first in its Lease identity.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config

from sandbox.controller_process import ControllerProcess
from tests.support import wait_until

LEADING = "leading: Lease"
_IDENTITY = re.compile(r"waiting to lead: Lease \S+ as (\S+)")


class Replica:
    """One replica slot: a `mlopsctl run` process, replaced by a new run whenever it exits."""

    def __init__(self, slot: int, *, kubeconfig: Path, folder: Path, args: Sequence[str]) -> None:
        self.slot = slot
        self._kubeconfig = kubeconfig
        self._folder = folder
        self._args = list(args)
        self.runs = 0
        self.exit_codes: list[int] = []
        self._identity: str | None = None
        self._led = False  # this run has said it leads (cached: a leader's log grows fast)
        self.process = self._run()

    @property
    def name(self) -> str:
        return f"replica-{self.slot}-{self.runs}"

    def log(self) -> str:
        return self.process.log()

    @property
    def identity(self) -> str | None:
        if self._identity is None and (found := _IDENTITY.search(self.log())):
            self._identity = found.group(1)
        return self._identity

    @property
    def leading(self) -> bool:
        """Running and told in this run that it leads: this process reconciles."""
        self._led = self._led or LEADING in self.log()
        return self._led and self.process.running

    def restart_if_exited(self) -> None:
        """What a Deployment does with a container that exited: record how it ended, start a new one."""
        code = self.process.exit_code
        if code is not None:
            self.exit_codes.append(code)
            self._identity, self._led = None, False
            self.process = self._run()

    def stop(self) -> None:
        self.process.stop()

    def _run(self) -> ControllerProcess:
        self.runs += 1
        process = ControllerProcess(
            kubeconfig=self._kubeconfig,
            log_path=self._folder / f"{self.name}.log",
            extra_env={"POD_NAME": self.name},
            args=self._args,
        )
        return process.start()


@dataclass(frozen=True)
class LeaseRecord:
    holder: str | None
    renewed: datetime.datetime | None


class Lease:
    """Reads the Lease the replicas campaign for, as the admin, failing fast while the API server is down."""

    def __init__(self, kubeconfig: Path, namespace: str, name: str) -> None:
        self._api = client.CoordinationV1Api(config.new_client_from_config(config_file=str(kubeconfig)))
        self.namespace = namespace
        self.name = name

    def read(self) -> LeaseRecord | None:
        try:
            lease = self._api.read_namespaced_lease(self.name, self.namespace, _request_timeout=2)
        except Exception:  # not created yet, or the API server is still coming back
            return None
        return LeaseRecord(holder=lease.spec.holder_identity, renewed=lease.spec.renew_time)

    def wait_renewal(self, *, timeout: float) -> LeaseRecord:
        """The record just after its holder next renews it (the start of a renew cycle)."""
        before = wait_until(self.read, timeout=timeout, what=f"Lease {self.namespace}/{self.name}")

        def renewed() -> LeaseRecord | None:
            now = self.read()
            return now if now is not None and now.renewed != before.renewed else None

        return wait_until(renewed, timeout=timeout, interval=0.05, what=f"a renewal of a Lease held as {before}")


def one_leader(replicas: Sequence[Replica], lease: Lease, *, timeout: float) -> Replica:
    """Restart exited replicas until exactly one runs leading and is seen renewing the Lease; that replica.

    A replica that lost the Lease counts as leading until its process has exited.
    """
    last = lease.read()

    def renewed_by_the_only_leader() -> Replica | None:
        nonlocal last
        for replica in replicas:
            replica.restart_if_exited()
        record = lease.read()
        renewed = record is not None and last is not None and record.renewed != last.renewed
        last = record or last
        leaders = [r for r in replicas if r.leading]
        if renewed and record is not None and len(leaders) == 1 and record.holder == leaders[0].identity:
            return leaders[0]
        return None

    return wait_until(
        renewed_by_the_only_leader,
        timeout=timeout,
        interval=0.1,
        what="exactly one replica leading, renewing the Lease",
    )
