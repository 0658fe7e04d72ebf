"""`mlopsctl run`: its options (flags, and the environment variables some of them default to) and the start."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from controller import sharding


def add(commands: Any) -> None:
    """The `run` subcommand on `mlopsctl`'s subparsers."""
    run = commands.add_parser("run", help="run the controller")
    run.add_argument("--kubeconfig", help="kubeconfig to use (default: in-cluster, then KUBECONFIG)")
    run.add_argument("-n", "--namespace", action="append", help="watch only this namespace (repeatable)")
    run.add_argument("--metrics-port", type=int, default=8080, help="Prometheus metrics port (0 disables)")
    run.add_argument("--health-port", type=int, default=8081, help="liveness probe port (0 disables)")
    run.add_argument(
        "--bind-address",
        default="0.0.0.0",  # noqa: S104 -- in a pod the probes and the scraper come from outside the container
        help="address the metrics and liveness endpoints listen on (default 0.0.0.0; 127.0.0.1 for loopback only)",
    )
    run.add_argument(
        "--watch-silence-seconds",
        type=float,
        help="fail the liveness probe when a kind with resources gets no watch event for this long "
        "(default 900; keep it above twice the largest driftInterval)",
    )
    run.add_argument(
        "--max-concurrent-reconciles",
        type=_at_least_one,
        help="scheduled reconciles (drift checks, retries, wake-ups) running at once (default 20; one Workspace's "
        "resources take at most half)",
    )
    run.add_argument("--log-format", choices=["text", "json"], default="text")
    run.add_argument("--leader-elect", action="store_true", help="reconcile only while holding a Lease (replicas > 1)")
    run.add_argument("--lease-name", default="mlops-gitops-controller", help="the Lease to hold")
    run.add_argument(
        "--lease-namespace",
        default=os.environ.get("POD_NAMESPACE", "default"),
        help="the Lease's namespace (default: $POD_NAMESPACE, else default)",
    )
    run.add_argument("--lease-seconds", type=float, default=15.0, help="how long a Lease lasts without renewal")
    run.add_argument(
        "--shard-index",
        type=int,
        default=os.environ.get("MLOPS_SHARD_INDEX", "0"),
        help="which shard this controller is, 0 to --shard-count - 1 (default: $MLOPS_SHARD_INDEX, else 0)",
    )
    run.add_argument(
        "--shard-count",
        type=_at_least_one,
        default=os.environ.get("MLOPS_SHARD_COUNT", "1"),
        help="split the namespaces into this many shards, each its own controller with its own Lease; needs "
        "Kubernetes 1.36+ with ShardedListAndWatch on, unless --shard-fallback (default: $MLOPS_SHARD_COUNT, else 1)",
    )
    run.add_argument(
        "--shard-fallback",
        choices=[fallback.value for fallback in sharding.Fallback if fallback is not sharding.Fallback.NONE],
        default=os.environ.get("MLOPS_SHARD_FALLBACK") or None,
        help="split without the API server's help: by each shard's --namespace, or by the label "
        "mlops.gitops.dev/shard=<index> on every resource (default: $MLOPS_SHARD_FALLBACK)",
    )
    run.add_argument("-v", "--verbose", action="store_true")


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def run(args: argparse.Namespace) -> int:
    """Check the shard against the API server, then run the controller until it stops; the exit code."""
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    if args.watch_silence_seconds:
        os.environ["MLOPS_WATCH_SILENCE_SECONDS"] = str(args.watch_silence_seconds)
    if args.max_concurrent_reconciles:
        os.environ["MLOPS_MAX_CONCURRENT_RECONCILES"] = str(args.max_concurrent_reconciles)
    try:
        shard = sharding.Shard(args.shard_index, args.shard_count, sharding.parse_fallback(args.shard_fallback))
        shard.check(namespaces=args.namespace or [], server_supports=lambda: _server_supports(shard, args))
    except sharding.ShardingError as exc:
        print(f"mlopsctl run: {exc}", file=sys.stderr)
        return 2
    from controller import runner  # imports kopf and the handlers: only when running
    from controller.leadership import LeaseOptions

    lease = None
    if args.leader_elect:
        name = shard.lease_name(args.lease_name)
        lease = LeaseOptions(name=name, namespace=args.lease_namespace, duration_seconds=args.lease_seconds)
    return runner.run(
        lease=lease,
        shard=shard,
        namespaces=args.namespace or [],
        metrics_port=args.metrics_port,
        health_port=args.health_port,
        bind_address=args.bind_address,
        json_logs=args.log_format == "json",
        verbose=args.verbose,
    )


def _server_supports(shard: sharding.Shard, args: argparse.Namespace) -> bool:
    from controller import shard_support  # the Kubernetes client: only when it must be asked

    return shard_support.server_supports(args.lease_namespace, sharding.selector(shard.index, shard.count))
