"""What other kinds read of a ServingEndpoint: its inference table and readiness (a ModelMonitor follows it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.kinds.servingendpoint.model import ServingEndpointStatus
from controller.status import conditions as c
from controller.wiring.kind import Published, read_status


@dataclass(frozen=True)
class EndpointView:
    """A ServingEndpoint as monitors see it."""

    inference_table_name: str | None
    """status.inferenceTableName: set once the endpoint logs to a payload table."""
    ready: bool
    capture_declared: bool
    """Whether the endpoint's spec asks for an inference table at all."""


def view(spec: Mapping[str, Any], status: Mapping[str, Any]) -> EndpointView:
    """The ServingEndpoint's published entry, from its spec and its typed status."""
    typed = read_status(ServingEndpointStatus, status)
    capture = spec.get("inferenceTable") or {}
    return EndpointView(
        inference_table_name=typed.inference_table_name or None,
        ready=any(cond.type == c.READY and cond.status == "True" for cond in typed.conditions),
        capture_declared=bool(capture) and capture.get("enabled", True) is not False,
    )


SERVINGENDPOINT = Published("servingendpoints", view)
