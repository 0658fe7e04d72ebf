"""kopf start-up: settings, probes, and every kind in the catalog wired by one factory. No business logic lives here."""

from __future__ import annotations

import importlib
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import kopf

from controller.api.crd import GROUP, VERSION
from controller.kinds.catalog import KINDS
from controller.persistence import BoundedProgressStorage, DigestDiffBaseStorage
from controller.reconciling.ownership import CONTROLLER_NAME
from controller.settings import WATCH_SILENCE_SECONDS
from controller.watch_health import WATCH
from controller.wiring.register import register, register_scheduler

FINALIZER = f"{GROUP}/finalizer"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Our own finalizer and annotation prefix, so we never collide with another kopf operator."""
    settings.persistence.finalizer = FINALIZER
    # Bounded whatever the spec's size: Kubernetes refuses annotations over 256 KiB in all (controller.persistence).
    settings.persistence.progress_storage = BoundedProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = DigestDiffBaseStorage(prefix=GROUP)
    settings.posting.level = logging.WARNING
    # Events name the controller as their source (`kubectl describe` shows it under From), not kopf.
    settings.posting.reporting_component = CONTROLLER_NAME
    settings.posting.reporting_instance = os.environ.get("POD_NAME") or socket.gethostname()
    # Detect a silently stalled watch: bookmarks arrive well within this when the stream is alive.
    settings.watching.inactivity_timeout = 300
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.execution.max_workers = 8
    settings.networking.request_timeout = 30


def _watched(kind: str) -> Callable[..., None]:
    def watched(event: kopf.RawEvent, uid: str, **_: Any) -> None:
        WATCH.saw(kind, uid, deleted=event.get("type") == "DELETED")

    return watched


register_scheduler()
for _definition in KINDS:
    # Each kind's wiring is its `handlers.KIND`: a sixth kind is one folder and one line in the catalog.
    register(importlib.import_module(f"controller.kinds.{_definition.singular}.handlers").KIND)
    kopf.on.event(GROUP, VERSION, _definition.plural, id=f"watched-{_definition.singular}")(_watched(_definition.kind))


@kopf.on.probe(id="watching")
def watching(**_: Any) -> str:
    """Fails (HTTP 500 on the liveness endpoint) when a watch stream has gone silent."""
    silent = WATCH.silent_kinds(WATCH_SILENCE_SECONDS)
    if silent:
        raise kopf.PermanentError(f"no watch events for {', '.join(silent)} in {WATCH_SILENCE_SECONDS:.0f}s")
    return "ok"
