"""Two replicas through API server outages: after each, exactly one leads and each change is written once.

The API server is killed at a random point of the leader's renew cycle, for 5 to 60 s, ten times (etcd
keeps the data). A replica that lost the Lease must exit non-zero and is restarted, as its Deployment
would; the replica left leading must renew the Lease and be the only process reconciling.
MLOPS_E2E_SEED replays the outages of a run (it prints its seed).
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.cluster import BUILD_COMMAND, LocalCluster, missing_binaries
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from tests.e2e.chart import Release
from tests.e2e.conftest import DRIFT_INTERVAL, EXISTING_CLUSTER, adopted_model
from tests.e2e.replicas import Lease, Replica, one_leader
from tests.support import REPO, Kubectl, wait_until

pytestmark = pytest.mark.e2e

LEASE_SECONDS = 12  # renew deadline 8 s: the shortest outages (plus the API server's start) straddle it
RENEW_SECONDS = max(1.0, LEASE_SECONDS / 7)  # the controller's retry period: one renewal each
OUTAGE_BOUNDS = (5, 6, 7, 8, 10, 12, 15, 20, 28, 40, 60)  # one outage drawn from each interval
NAMESPACE = "ha"
LEASE_NAMESPACE = "mlops-ha"
MODELS = [f"m{i}" for i in range(3)]
ALIAS_WRITE = "PUT /api/2.1/unity-catalog/models/{full_name}/aliases/{alias}"
SECOND_WRITER_WINDOW = 3.0  # a second reconciler would write within a drift interval of the first


@dataclass
class Round:
    outage: float  # how long the API server is down
    cycle_offset: float  # when, after the leader's last renewal
    unavailable: float = 0.0  # from the kill until the API server answers again
    settled: float = 0.0  # from then until exactly one replica leads and renews
    leader_before: str = ""
    leader_after: str = ""
    alias_writes: int = 0

    def __str__(self) -> str:
        return (
            f"outage {self.outage:4.1f}s at +{self.cycle_offset:.2f}s, unavailable {self.unavailable:4.1f}s, "
            f"one leader {self.settled:4.1f}s later: {self.leader_before} -> {self.leader_after}, "
            f"alias writes {self.alias_writes}/{len(MODELS)}"
        )


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """A local cluster of this module's own: its API server is stopped and started again."""
    if os.environ.get(EXISTING_CLUSTER):
        pytest.skip("stops the API server, so it runs on the local cluster only")
    if missing := missing_binaries():
        pytest.fail(f"missing {', '.join(map(str, missing))}: run `{BUILD_COMMAND}` first", pytrace=False)
    with LocalCluster() as local:
        admin = Kubectl(local.kubeconfig_path)
        admin("apply", "--server-side", "-f", str(REPO / "crds"))
        admin("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        yield local


@pytest.mark.timeout(900)
def test_one_leader_and_one_write_per_change_through_api_server_outages(
    cluster: LocalCluster, emulator: Emulator, tmp_path: Path
) -> None:
    seed = int(os.environ.get("MLOPS_E2E_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    rounds = [
        Round(rng.uniform(low, high), rng.uniform(0, RENEW_SECONDS)) for low, high in itertools.pairwise(OUTAGE_BOUNDS)
    ]
    rng.shuffle(rounds)
    identity = Release.install(cluster.kubeconfig_path, "ha", LEASE_NAMESPACE).service_account_kubeconfig(
        tmp_path / "sa.kubeconfig"
    )
    kubectl = Kubectl(cluster.kubeconfig_path, NAMESPACE)
    _models(kubectl, emulator)
    args = [
        "--leader-elect", "--lease-namespace", LEASE_NAMESPACE, "--lease-name", "ha",
        "--lease-seconds", str(LEASE_SECONDS),
    ]  # fmt: skip
    replicas = [Replica(slot, kubeconfig=identity, folder=tmp_path, args=args) for slot in range(2)]
    lease = Lease(cluster.kubeconfig_path, LEASE_NAMESPACE, "ha")
    settle = 3 * LEASE_SECONDS + 30  # the Lease expires, a restarted replica starts and campaigns
    started = time.monotonic()
    try:
        one_leader(replicas, lease, timeout=settle)
        for model in MODELS:
            kubectl.wait_condition("mlmodel", model, timeout=60)
        for number, round_ in enumerate(rounds, 1):
            round_.leader_before = one_leader(replicas, lease, timeout=settle).name
            wait_until(lambda: all(r.identity for r in replicas), timeout=60, what="every replica campaigning")
            lease.wait_renewal(timeout=LEASE_SECONDS)
            time.sleep(round_.cycle_offset)
            down = time.monotonic()
            cluster.stop_apiserver()
            time.sleep(round_.outage)
            cluster.start_apiserver()
            up = time.monotonic()
            round_.unavailable = up - down

            leader = one_leader(replicas, lease, timeout=settle)
            round_.settled = time.monotonic() - up
            round_.leader_after = leader.name
            assert all(code != 0 for r in replicas for code in r.exit_codes), "a replica exited 0 after an outage"
            round_.alias_writes, reconcilers = _change(kubectl, emulator, replicas, version=1 + number % 2)
            assert round_.alias_writes == len(MODELS), f"round {number}: {round_}: one alias write per model"
            assert reconcilers == [leader.name], f"round {number}: {round_}: only the leader reconciles"
    finally:
        for replica in replicas:
            replica.stop()
        print(f"\nseed {seed}, lease {LEASE_SECONDS}s, {time.monotonic() - started:.0f}s in all; logs in {tmp_path}")
        for number, round_ in enumerate(rounds, 1):
            print(f"round {number:2}: {round_}")
        print("exit codes:", {r.slot: r.exit_codes for r in replicas})


def _models(kubectl: Kubectl, emulator: Emulator) -> None:
    """A Databricks Workspace and MLModels whose `champion` alias moves between versions 1 and 2."""
    Kubectl(kubectl.kubeconfig)("create", "namespace", NAMESPACE)
    kubectl("create", "secret", "generic", "dbx-credentials", f"--from-literal=token={DEFAULT_TOKEN}")
    workspace = {"host": emulator.url, "credentialsSecretRef": {"name": "dbx-credentials"}}
    kubectl.apply(
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "Workspace",
            "metadata": {"name": "dbx"},
            "spec": {"databricks": workspace, "driftInterval": DRIFT_INTERVAL},
        }
    )
    for model in MODELS:
        registered = _registered(model)
        for version in (1, 2):
            emulator.seed_model_version(registered, source=f"models:/m-{model}-{version}", run_id=f"run-{version}")
        kubectl.apply(adopted_model(model, registered))


def _change(kubectl: Kubectl, emulator: Emulator, replicas: list[Replica], *, version: int) -> tuple[int, list[str]]:
    """Move every model's alias: the alias writes the emulator received, and the replicas that handled a model."""
    seen = {r.name: len(r.log()) for r in replicas}
    emulator.reset_counters()
    for model in MODELS:
        kubectl("patch", "mlmodel", model, "--type=merge", "-p", f'{{"spec":{{"aliases":{{"champion":{version}}}}}}}')
    for model in MODELS:
        kubectl.wait_condition("mlmodel", model, timeout=60)
    time.sleep(SECOND_WRITER_WINDOW)
    writes = int(emulator.counters()["calls"].get(ALIAS_WRITE, 0))
    reconcilers = [
        r.name for r in replicas if any(_registered(model) in r.log()[seen.get(r.name, 0) :] for model in MODELS)
    ]
    return writes, reconcilers


def _registered(model: str) -> str:
    """The model's name in Unity Catalog: in the log of every process that handles the resource."""
    return f"main.{NAMESPACE}.{model}"
