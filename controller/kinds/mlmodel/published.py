"""What other kinds read of an MLModel: its registered name, aliases and readiness.

A served entity with `modelRef` serves the version an MLModel's alias points at. Every MLModel's entry
is kept in memory (a kopf index fed by its watch), so resolving a reference costs no call to the API
server or to the registry, and an alias that moves wakes the endpoints following it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.kinds.mlmodel.model import MLModelStatus
from controller.status import conditions as c
from controller.wiring.kind import Published, read_status


@dataclass(frozen=True)
class ModelView:
    """An MLModel as endpoints see it."""

    registered_name: str
    aliases: dict[str, int]
    ready: bool
    message: str  # Ready's reason and message, to say why an endpoint waits


def view(spec: Mapping[str, Any], status: Mapping[str, Any]) -> ModelView:
    """The MLModel's published entry, from its spec and its typed status.

    An alias held back by its promotion gates still points at a usable version, so a model whose only
    trouble is a blocked promotion counts as ready: endpoints keep following its aliases.
    """
    typed = read_status(MLModelStatus, status)
    ready = next((cond for cond in typed.conditions if cond.type == c.READY), None)
    reason = ready.reason if ready else "not reconciled yet"
    return ModelView(
        registered_name=str(spec.get("registeredName") or ""),
        aliases=dict(typed.aliases),
        ready=ready is not None and (ready.status == "True" or ready.reason == c.PROMOTION_BLOCKED),
        message=f"{reason}: {ready.message}" if ready and ready.message else reason,
    )


MLMODEL = Published("mlmodels", view)
