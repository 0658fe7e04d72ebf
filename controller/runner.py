"""Start the controller process: logging, metrics endpoint, then kopf's operator loop."""

from __future__ import annotations

import asyncio
import logging

import kopf
from prometheus_client import start_http_server

from controller import operator


def run(*, namespaces: list[str], metrics_port: int, health_port: int, json_logs: bool, verbose: bool) -> int:
    """Run until stopped. Watches the given namespaces, or all of them when none are given."""
    kopf.configure(
        verbose=verbose,
        log_format=kopf.LogFormat.JSON if json_logs else kopf.LogFormat.FULL,
        log_refkey="object",
    )
    logging.getLogger("kopf.objects").addFilter(_quiet_timer_successes)
    if metrics_port:
        start_http_server(metrics_port)
    liveness = f"http://0.0.0.0:{health_port}/healthz" if health_port else None
    logging.getLogger(__name__).info("starting; handlers from %s", operator.__name__)
    asyncio.run(
        kopf.operator(
            settings=_settings(namespaced=bool(namespaces)),
            standalone=True,
            clusterwide=not namespaces,
            namespaces=namespaces,
            liveness_endpoint=liveness,
        )
    )
    return 0


def _settings(*, namespaced: bool) -> kopf.OperatorSettings:
    """In namespaced mode serve exactly the named namespaces, as found at start-up.

    kopf otherwise lists and watches Namespaces and CRDs cluster-wide to notice them coming and going;
    a controller limited to a few namespaces holds no cluster-wide rights to do that (docs/install.md).
    """
    settings = kopf.OperatorSettings()
    settings.scanning.disabled = namespaced
    return settings


def _quiet_timer_successes(record: logging.LogRecord) -> bool:
    """Drop kopf's per-tick "Timer ... succeeded" lines: the drift timer ticks often and mostly does nothing."""
    message = record.getMessage()
    return not (message.startswith("Timer ") and message.endswith(" succeeded."))
