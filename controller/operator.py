"""kopf start-up: settings, probes and the handler modules. No business logic lives here."""

from __future__ import annotations

import logging
from typing import Any

import kopf

from controller.api.crd import GROUP

# Importing the handler modules registers their handlers with kopf.
from controller.kinds.mljob import handlers as _mljob_handlers  # noqa: F401
from controller.kinds.mlmodel import handlers as _mlmodel_handlers  # noqa: F401
from controller.kinds.modelmonitor import handlers as _modelmonitor_handlers  # noqa: F401
from controller.kinds.servingendpoint import handlers as _servingendpoint_handlers  # noqa: F401
from controller.kinds.workspace import handlers as _workspace_handlers  # noqa: F401

FINALIZER = f"{GROUP}/finalizer"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Our own finalizer and annotation prefix, so we never collide with another kopf operator."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.WARNING
    # Detect a silently stalled watch: bookmarks arrive well within this when the stream is alive.
    settings.watching.inactivity_timeout = 300
    settings.watching.server_timeout = 270
    settings.watching.client_timeout = 300
    settings.execution.max_workers = 8
    settings.networking.request_timeout = 30


@kopf.on.probe(id="alive")
def alive(**_: Any) -> bool:
    return True
