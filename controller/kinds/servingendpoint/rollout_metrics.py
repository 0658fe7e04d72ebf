"""The rollout's metrics: the phase of each endpoint's rollout, analysis measurements, and aborts."""

from __future__ import annotations

import contextlib

from controller import metrics
from controller.kinds.servingendpoint.rollout import PHASES, Decision


def count(owner: str, decision: Decision) -> None:
    """Count what one decision did, and show the rollout's phase (every phase 0 once there is none)."""
    for result in decision.rounds:
        metrics.ROLLOUT_ANALYSIS_RUNS.labels(result=result).inc()
    if decision.aborted:
        metrics.ROLLOUT_ABORTS.inc()
    namespace, name = owner.split("/", 1)
    now = decision.status.phase if decision.status else None
    for phase in PHASES:
        metrics.ROLLOUT_PHASE.labels(namespace=namespace, name=name, phase=phase).set(1 if phase == now else 0)


def forget(owner: str) -> None:
    """The endpoint's resource is gone: drop its phase series."""
    namespace, name = owner.split("/", 1)
    for phase in PHASES:
        with contextlib.suppress(KeyError):  # never set: the endpoint never rolled out
            metrics.ROLLOUT_PHASE.remove(namespace, name, phase)
