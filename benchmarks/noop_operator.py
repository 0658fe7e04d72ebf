"""The baseline: a kopf operator that does nothing but mark each MLModel Ready.

It runs on the same API server with the same kopf settings as the controller, so the
convergence benchmark measures what the controller adds on top of kopf itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = "benchmark.mlops.gitops.dev/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="benchmark.mlops.gitops.dev")
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="benchmark.mlops.gitops.dev")
    settings.execution.max_workers = 8


@kopf.on.create("mlops.gitops.dev", "v1alpha1", "mlmodels")
def mark_ready(meta: kopf.Meta, patch: kopf.Patch, **_: Any) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    generation = meta.get("generation")
    condition = {"lastTransitionTime": now, "observedGeneration": generation, "message": ""}
    patch.status["observedGeneration"] = generation
    patch.status["conditions"] = [
        {"type": "Ready", "status": "True", "reason": "Noop", **condition},
        {"type": "Synced", "status": "True", "reason": "Noop", **condition},
    ]
