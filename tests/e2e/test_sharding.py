"""Sharding on the API server: 2 shards x 2 replicas over 20 namespaces, each resource reconciled by one shard;
a shard leader killed pauses only its own namespaces until its standby takes over, and nothing is written twice.

The controllers run as the chart's ServiceAccount (a release with shards: 2), so its RBAC is proven enough,
and count against an emulator of their own (the session's is shared with every other test).
"""

from __future__ import annotations

import collections
import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller import sharding
from controller.kinds.catalog import KINDS
from sandbox.cluster import LocalCluster
from sandbox.controller_process import ControllerProcess
from sandbox.databricks import DEFAULT_TOKEN, Emulator
from sandbox.databricks.server import Exchange
from tests.e2e.chart import Release
from tests.e2e.conftest import EXISTING_CLUSTER, _install_crds
from tests.support import Kubectl, metric_sum, wait_until

pytestmark = pytest.mark.e2e

SHARDS = 2
PER_SHARD = 10  # namespaces, each with a Workspace and an MLModel
LEASE_SECONDS = 6
ALIAS_WRITE = "/api/2.1/unity-catalog/models/{full_name}/aliases/{alias}"
LEADING = "leading: Lease"
RUN_LABEL = "mlops-e2e/sharding-run"
PLURALS = [definition.plural for definition in KINDS]


@pytest.fixture
def emulator_of_its_own() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def test_each_resource_is_reconciled_by_one_shard_and_a_dead_leader_pauses_only_its_shard(
    kubeconfig: Path, controller: ControllerProcess, emulator_of_its_own: Emulator, tmp_path: Path
) -> None:
    emulator, run = emulator_of_its_own, uuid.uuid4().hex[:6]
    admin = Kubectl(kubeconfig)
    namespaces = _balanced_namespaces(run)
    controller.stop()  # the session's unsharded controller would reconcile every namespace too
    release = Release.install(kubeconfig, f"shard-{run}", f"mlops-shard-{run}", {"shards": str(SHARDS)})
    identity = release.service_account_kubeconfig(tmp_path / "sa.kubeconfig")
    replicas: dict[int, list[ControllerProcess]] = {shard: [] for shard in range(SHARDS)}
    try:
        for shard, slot in ((shard, slot) for shard in range(SHARDS) for slot in range(2)):
            args = [
                "--leader-elect", "--lease-namespace", release.namespace, "--lease-name", release.fullname,
                "--lease-seconds", str(LEASE_SECONDS), "--shard-index", str(shard), "--shard-count", str(SHARDS),
            ]  # fmt: skip
            log = tmp_path / f"shard-{shard}-replica-{slot}.log"
            process = ControllerProcess(kubeconfig=identity, log_path=log, args=args, extra_env={"POD_NAME": log.stem})
            replicas[shard].append(process.start())
        leaders = {shard: _leader(replicas[shard]) for shard in range(SHARDS)}
        leases = json.loads(Kubectl(kubeconfig, release.namespace)("get", "leases", "-o", "json").stdout)["items"]
        holders = {lease["metadata"]["name"]: lease["spec"]["holderIdentity"] for lease in leases}
        for shard, leader in leaders.items():
            assert holders[f"{release.fullname}-shard-{shard}-of-{SHARDS}"].startswith(leader.log_path.stem)

        with emulator.recording() as exchanges:
            for ns in _all(namespaces):
                admin("create", "namespace", ns)
                Kubectl(kubeconfig, ns).apply(_manifests(ns, emulator, run))
            _wait_ready(admin, run, len(_all(namespaces)))
            assert _alias_writes(exchanges) == {_registered(ns): 1 for ns in _all(namespaces)}
            expected_held = _resources_by_shard(admin)  # ours, and any other test's left in the cluster
            for shard, leader in leaders.items():
                # What its watches showed it: the Workspaces and MLModels of its own namespaces, none of the others.
                _wait_held(leader, expected_held[shard], timeout=30)
                log = leader.log()
                assert all(_model(ns) in log for ns in namespaces[shard])
                assert not any(_model(ns) in log for other in namespaces if other != shard for ns in namespaces[other])
            for standby in (r for shard in replicas for r in replicas[shard] if r not in leaders.values()):
                assert not any(_model(ns) in standby.log() for ns in _all(namespaces))
            rss = {shard: _rss_mib(leader) for shard, leader in leaders.items()}

            # Shard 0's leader dies without handing its Lease back; an alias moves in each shard.
            for ns in (namespaces[0][0], namespaces[1][0]):
                emulator.seed_model_version(_registered(ns), source=f"models:/{ns}-2", run_id=f"run-{ns}-2")
            killed = leaders[0]
            killed.kill()
            died = time.monotonic()
            for ns in (namespaces[0][0], namespaces[1][0]):
                Kubectl(kubeconfig, ns)("patch", "mlmodel", _model(ns), "--type=merge", "-p", _champion(2))
            wait_until(
                lambda: _alias_writes(exchanges).get(_registered(namespaces[1][0])) == 2 or None,
                timeout=30,
                what="shard 1 moving its alias while shard 0 has no leader",
            )
            assert _alias_writes(exchanges)[_registered(namespaces[0][0])] == 1  # shard 0 waits for its standby
            other_shard_moved = time.monotonic() - died
            standby = next(r for r in replicas[0] if r is not killed)
            wait_until(
                lambda: _alias_writes(exchanges).get(_registered(namespaces[0][0])) == 2 or None,
                timeout=LEASE_SECONDS + 30,
                what="shard 0's standby taking over and moving the alias",
            )
            assert LEADING in standby.log()
            own_shard_moved = time.monotonic() - died
            time.sleep(2)  # the standby's resume of all of shard 0 has run: it must have written nothing
            expected = {_registered(ns): 1 for ns in _all(namespaces)}
            expected |= {_registered(namespaces[0][0]): 2, _registered(namespaces[1][0]): 2}
            assert _alias_writes(exchanges) == expected

        for shard in replicas:
            for process in replicas[shard]:
                process.stop()
        whole = ControllerProcess(kubeconfig=identity, log_path=tmp_path / "unsharded.log").start()
        try:
            _wait_held(whole, sum(_resources_by_shard(admin).values()), timeout=90)
            unsharded = _rss_mib(whole)
        finally:
            whole.stop()
        print(
            f"RSS with {PER_SHARD * SHARDS} namespaces: shard 0 leader {rss[0]:.0f} MiB, shard 1 leader "
            f"{rss[1]:.0f} MiB, one unsharded controller {unsharded:.0f} MiB "
            f"(shards at {rss[0] / unsharded:.0%} and {rss[1] / unsharded:.0%} of it); after shard 0's leader was "
            f"killed, shard 1 moved an alias in {other_shard_moved:.1f} s, shard 0 in {own_shard_moved:.1f} s "
            f"(a {LEASE_SECONDS} s Lease)"
        )
    finally:
        for shard in replicas:
            for process in replicas[shard]:
                process.stop()
        # Namespace by namespace: `kubectl -n default delete -A` refuses objects of other namespaces, and
        # resources left here would be resumed by the session's controller against this test's stopped emulator.
        for ns in _all(namespaces):
            Kubectl(kubeconfig, ns)("delete", "mlmodels,workspaces", "--all", "--wait=false", check=False)
            admin("delete", "namespace", ns, "--wait=false", check=False)
        wait_until(lambda: not _listed(admin, run) or None, timeout=60, what="the run's resources deleted")
        release.uninstall()
        if not controller.running:
            controller.start()


@pytest.mark.skipif(bool(os.environ.get(EXISTING_CLUSTER)), reason="starts an API server of its own")
def test_without_server_side_sharding_only_a_fallback_starts(tmp_path: Path) -> None:
    with LocalCluster(sharded_watches=False) as cluster, Emulator() as emulator:
        _install_crds(cluster.kubeconfig_path)
        refused = ControllerProcess(
            kubeconfig=cluster.kubeconfig_path,
            log_path=tmp_path / "refused.log",
            args=["--shard-index", "0", "--shard-count", "2"],
        ).start()
        wait_until(lambda: refused.exit_code, timeout=60, what="the sharded controller refusing to start")
        assert refused.exit_code == 2
        assert "--shard-count=2 needs an API server with sharded list and watch" in refused.log()
        assert "--shard-fallback=label" in refused.log()

        # The label fallback: shard 0 reconciles what is labelled for it, and leaves shard 1's alone.
        admin = Kubectl(cluster.kubeconfig_path)
        admin("create", "secret", "generic", "dbx-credentials", f"--from-literal=token={DEFAULT_TOKEN}")
        for shard in range(2):
            workspace = _workspace(f"dbx-{shard}", emulator, "default")
            workspace["metadata"]["labels"] = {sharding.SHARD_LABEL: str(shard)}
            admin.apply(workspace)
        args = ["--shard-index", "0", "--shard-count", "2", "--shard-fallback", "label"]
        with ControllerProcess(kubeconfig=cluster.kubeconfig_path, log_path=tmp_path / "label.log", args=args) as ok:
            admin.wait_condition("workspace", "dbx-0", timeout=60)
            assert "shard 0 of 2 (mlops.gitops.dev/shard=0)" in ok.log()
            assert not admin.get("workspace", "dbx-1").get("status")
            assert ok.running


def _balanced_namespaces(run: str) -> dict[int, list[str]]:
    """PER_SHARD namespaces for each shard. Varied names: FNV-1a puts names that differ only at the end
    (team-1, team-2) close together, so numbered names could all fall in one shard (docs/scaling.md)."""
    found: dict[int, list[str]] = {shard: [] for shard in range(SHARDS)}
    while any(len(names) < PER_SHARD for names in found.values()):
        name = f"sh-{run}-{uuid.uuid4().hex[:6]}"
        names = found[sharding.shard_of(name, SHARDS)]
        if len(names) < PER_SHARD:
            names.append(name)
    return found


def _all(namespaces: dict[int, list[str]]) -> list[str]:
    return [ns for names in namespaces.values() for ns in names]


def _listed(admin: Kubectl, run: str) -> list[str]:
    """The run's MLModels and Workspaces that still exist, in any namespace."""
    found = admin("get", "mlmodels,workspaces", "--all-namespaces", "-l", f"{RUN_LABEL}={run}", "-o", "name")
    return found.stdout.split()


def _model(namespace: str) -> str:
    return f"model-{namespace}"


def _registered(namespace: str) -> str:
    return f"main.{namespace.replace('-', '_')}.model"


def _champion(version: int) -> str:
    return json.dumps({"spec": {"aliases": {"champion": version}}})


def _workspace(name: str, emulator: Emulator, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "databricks": {"host": emulator.url, "credentialsSecretRef": {"name": "dbx-credentials"}},
            "driftInterval": "1m",
        },
    }


def _manifests(ns: str, emulator: Emulator, run: str) -> str:
    """A namespace's credentials Secret, Workspace and MLModel, with its registered model's first version."""
    label = {RUN_LABEL: run}
    emulator.seed_model_version(_registered(ns), source=f"models:/{ns}-1", run_id=f"run-{ns}-1")
    workspace = _workspace("dbx", emulator, ns)
    workspace["metadata"]["labels"] = label
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "dbx-credentials", "namespace": ns},
            "stringData": {"token": DEFAULT_TOKEN},
        },
        workspace,
        {
            "apiVersion": "mlops.gitops.dev/v1alpha1",
            "kind": "MLModel",
            "metadata": {"name": _model(ns), "namespace": ns, "labels": label},
            "spec": {
                "workspaceRef": {"name": "dbx"},
                "registeredName": _registered(ns),
                "adopt": True,
                "aliases": {"champion": 1},
            },
        },
    ]
    return yaml.safe_dump_all(objects)


def _leader(replicas: list[ControllerProcess]) -> ControllerProcess:
    return wait_until(
        lambda: next((r for r in replicas if LEADING in r.log()), None), timeout=60, what="a leader of the shard"
    )


def _wait_ready(admin: Kubectl, run: str, count: int) -> None:
    def ready() -> bool | None:
        listed = json.loads(admin("get", "mlmodels", "-A", "-l", f"{RUN_LABEL}={run}", "-o", "json").stdout)
        done = [
            item
            for item in listed["items"]
            if any(c["type"] == "Ready" and c["status"] == "True" for c in item.get("status", {}).get("conditions", []))
        ]
        return len(done) == count or None

    wait_until(ready, timeout=120, interval=0.5, what=f"{count} MLModels Ready")


def _alias_writes(exchanges: list[Exchange]) -> dict[str, int]:
    """Successful alias writes per registered model, as the workspace answered them."""
    written: collections.Counter[str] = collections.Counter()
    for exchange in list(exchanges):
        if exchange.method == "PUT" and exchange.template == ALIAS_WRITE and exchange.status == 200:
            body = exchange.body
            assert isinstance(body, dict)
            written[f"{body['catalog_name']}.{body['schema_name']}.{body['model_name']}"] += 1
    return dict(written)


def _resources_by_shard(admin: Kubectl) -> dict[int, int]:
    """The controller's resources in the cluster, not being deleted, by the shard their namespace falls in."""
    kinds = ",".join(f"{plural}.mlops.gitops.dev" for plural in PLURALS)
    listed = json.loads(admin("get", kinds, "-A", "-o", "json").stdout)["items"]
    alive = [item["metadata"]["namespace"] for item in listed if "deletionTimestamp" not in item["metadata"]]
    counted = collections.Counter(sharding.shard_of(namespace, SHARDS) for namespace in alive)
    return {shard: counted[shard] for shard in range(SHARDS)}


def _wait_held(process: ControllerProcess, count: int, *, timeout: float) -> None:
    """Until the controller has reconciled and holds `count` resources (its condition gauge, over all kinds)."""
    held: list[float] = []

    def holds() -> bool | None:
        held.append(metric_sum(process.metrics_port, "mlops_resources_by_condition"))
        return held[-1] == count or None

    try:
        wait_until(holds, timeout=timeout, what=f"{process.log_path.stem} holding {count} resources")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it holds {held[-1] if held else 'none'}") from exc


def _rss_mib(process: ControllerProcess) -> float:
    status = Path(f"/proc/{process.pid}/status").read_text()
    kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kib / 1024
