"""Two replicas: one Lease holder reconciles; when it dies, the standby takes over without double writes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sandbox.controller_process import ControllerProcess
from sandbox.databricks import Emulator
from tests.e2e.conftest import CONTROLLER_NAMESPACE, adopted_model
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 6


def test_standby_takes_over_when_the_leader_dies(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, controller: ControllerProcess, tmp_path: Path
) -> None:
    controller.stop()  # the session controller would reconcile too; the kubectl fixture restarts it
    schema = kubectl.namespace.replace("-", "_")
    args = [
        "--leader-elect", "--lease-namespace", CONTROLLER_NAMESPACE, "--lease-name", f"ha-{kubectl.namespace}",
        "--lease-seconds", str(LEASE_SECONDS),
    ]  # fmt: skip
    replicas = [
        ControllerProcess(kubeconfig=controller.kubeconfig, log_path=tmp_path / f"replica-{i}.log", args=args)
        for i in range(2)
    ]
    for replica in replicas:
        replica.start()
    try:
        leader = wait_until(
            lambda: next((r for r in replicas if "leading: Lease" in r.log()), None), timeout=30, what="a leader"
        )
        standby = next(r for r in replicas if r is not leader)

        emulator.reset_counters()
        first = _uc_model(kubectl, emulator, schema, "first")
        kubectl.wait_condition("mlmodel", first, timeout=60)
        assert "leading: Lease" not in standby.log()
        assert first not in standby.log()  # the standby did not touch it

        leader.kill()  # no chance to hand the Lease back: the standby must wait it out
        second = _uc_model(kubectl, emulator, schema, "second")
        kubectl("wait", "--for=condition=Ready", f"mlmodel/{second}", f"--timeout={LEASE_SECONDS + 30}s")
        assert "leading: Lease" in standby.log()

        alias_writes = emulator.counters()["calls"].get("PUT /api/2.1/unity-catalog/models/{full_name}/aliases/{alias}")
        assert alias_writes == 2  # one per model: nothing was written twice across the handover

        standby.stop()  # SIGTERM, as in a rolling update: the Lease is handed back, not left to expire
        assert "released Lease" in standby.log()
    finally:
        for replica in replicas:
            replica.stop()


def _uc_model(kubectl: Kubectl, emulator: Emulator, schema: str, name: str) -> str:
    resource = f"{name}-{uuid.uuid4().hex[:4]}"
    registered = f"main.{schema}.{name}"
    emulator.seed_model_version(registered, source=f"models:/m-{name}", run_id=f"run-{name}")
    kubectl.apply(adopted_model(resource, registered))
    return resource
