"""A Databricks job and run as the MLJob reconcile sees them: plain values, settings in Databricks' JSON form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TERMINAL_STATES = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
"""Run life-cycle states after which a run never changes again."""


@dataclass(frozen=True)
class ObservedJob:
    """A job: its id, settings (snake_case JSON, as the Jobs API returns them) and creation time."""

    job_id: int
    settings: dict[str, Any]
    created_time: int = 0  # milliseconds since the epoch

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.settings.get("tags") or {})


@dataclass(frozen=True)
class ObservedRun:
    """A job run's life-cycle state and result."""

    run_id: int
    state: str
    result: str | None = None
    url: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    def as_status(self) -> dict[str, Any]:
        """The run in status' camelCase form."""
        return {"runId": self.run_id, "state": self.state, "result": self.result, "url": self.url}
