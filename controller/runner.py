"""Start the controller process: logging, metrics endpoint, then kopf's operator loop."""

from __future__ import annotations

import asyncio
import logging
import threading

import kopf
from prometheus_client import start_http_server

from controller import operator
from controller.api.crd import GROUP
from controller.clients.redaction import install_log_filter
from controller.leadership import Leadership, LeaseOptions
from controller.sharding import Shard


def run(
    *,
    namespaces: list[str],
    metrics_port: int,
    health_port: int,
    bind_address: str,
    json_logs: bool,
    verbose: bool,
    lease: LeaseOptions | None,
    shard: Shard,
) -> int:
    """Run until stopped. Watches the given namespaces, or all of them when none are given.

    With a Lease, reconciling starts only once this replica leads, and stops (exit code 1, so
    the pod restarts as a standby) if it ever loses the Lease or its election fails.
    """
    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if json_logs else kopf.LogFormat.FULL,
        log_refkey="object",
    )
    install_log_filter()  # no credential in a log line or in the Events kopf posts from log lines
    if metrics_port:
        start_http_server(metrics_port, addr=bind_address)
    liveness = liveness_url(bind_address, health_port) if health_port else None
    stop = threading.Event()
    leadership = Leadership(lease, on_lost=stop.set) if lease else None
    if leadership is not None:
        leadership.start()
        if not leadership.wait_until_leading():
            return 1  # the election failed before this replica led: restart and campaign again
    logging.getLogger(__name__).info("starting; handlers from %s; %s", operator.__name__, _describe(shard))
    try:
        asyncio.run(
            _operate(
                stop=stop if leadership is not None else None,
                settings=_settings(namespaced=bool(namespaces), shard=shard),
                clusterwide=not namespaces,
                namespaces=namespaces,
                liveness_endpoint=liveness,
            )
        )
    finally:
        if leadership is not None:
            leadership.release()
    if leadership is not None and leadership.lost.is_set():
        leadership.end_process()  # exit code 1
    return 0


async def _operate(
    *,
    stop: threading.Event | None,
    settings: kopf.OperatorSettings,
    clusterwide: bool,
    namespaces: list[str],
    liveness_endpoint: str | None,
) -> None:
    """kopf's operator until a signal or `stop`; then `stop` is set to free kopf's thread waiting on it.

    Without leader election there is no `stop`: kopf then stops on signals alone, and faster.
    """
    try:
        await kopf.operator(
            settings=settings,
            standalone=True,
            clusterwide=clusterwide,
            namespaces=namespaces,
            liveness_endpoint=liveness_endpoint,
            stop_flag=stop,
        )
    finally:
        if stop is not None:
            stop.set()


def _settings(*, namespaced: bool, shard: Shard) -> kopf.OperatorSettings:
    """In namespaced mode serve exactly the named namespaces, as found at start-up.

    kopf otherwise lists and watches Namespaces and CRDs cluster-wide to notice them coming and going;
    a controller limited to a few namespaces holds no cluster-wide rights to do that (docs/install.md).
    A shard's filter goes on every list and watch of the controller's kinds, so the API server sends
    only its slice: what kopf never sees, the drift scheduler and the indices never hold.
    """
    settings = kopf.OperatorSettings()
    settings.scanning.disabled = namespaced
    ours = _our_kinds  # every kind of the controller's group; never Namespaces or CRDs
    if (shard_selector := shard.shard_selector()) is not None:
        settings.watching.shard_selectors[ours] = shard_selector
    if (label_selector := shard.label_selector()) is not None:
        settings.watching.label_selectors[ours] = label_selector
    return settings


def _our_kinds(resource: kopf.Resource) -> bool:
    return resource.group == GROUP


def _describe(shard: Shard) -> str:
    if not shard.sharded:
        return "not sharded"
    cut = shard.shard_selector() or shard.label_selector() or "its --namespace list"
    return f"shard {shard.index} of {shard.count} ({cut})"


def liveness_url(address: str, port: int) -> str:
    """kopf's liveness endpoint on `address` (an IPv6 address goes in brackets)."""
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}:{port}/healthz"
