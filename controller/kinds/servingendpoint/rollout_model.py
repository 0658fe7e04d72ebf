"""ServingEndpoint `spec.rollout` and `status.rollout`: a new version goes live step by step, checked on the way.

The shapes are shared with `mlopsctl rollout`, the Argo CD health check and the printer column, so the
field names here are a contract (docs/kinds/servingendpoint.md, "Rollout").
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from controller.api.common import CamelModel, ObjectRef
from controller.kinds.servingendpoint.health import ENDPOINT_METRICS

DURATION_PATTERN = r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
ROLLOUT_ACTION = "mlops.gitops.dev/rollout-action"
"""The annotation a person sets to `promote:<nonce>`, `abort:<nonce>` or `retry:<nonce>`; acted on once per value."""
CANARY_SUFFIX = "-canary"
MAX_ROLLED_ENTITY_NAME = 63 - len(CANARY_SUFFIX)
"""A rolled-out entity's name leaves room for the canary suffix within Databricks' 63 characters."""

Phase = Literal["Progressing", "Paused", "Aborted", "Completed"]


def seconds(duration: str) -> float:
    """A duration such as 30s, 10m or 1h30m in seconds (the pattern is enforced on input)."""
    match = re.fullmatch(DURATION_PATTERN, duration)
    assert match is not None
    hours, minutes, secs = (int(part[:-1]) if part else 0 for part in match.groups())
    return float(hours * 3600 + minutes * 60 + secs)


def canary_name(entity: str) -> str:
    """The canary's served entity name: stable and unique for the entity it rolls out."""
    return f"{entity}{CANARY_SUFFIX}"


class MetricCheck(CamelModel):
    """One check of an analysis: an endpoint metric of the canary within bounds, or an MLJob run that succeeds."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "has(self.endpointMetric) != has(self.jobRef)",
                    "message": "set either endpointMetric or jobRef",
                },
                {
                    "rule": "!has(self.endpointMetric) || has(self.max) || has(self.min)",
                    "message": "an endpointMetric check needs max, min or both",
                },
                {
                    "rule": "!has(self.jobRef) || (!has(self.max) && !has(self.min))",
                    "message": "a jobRef check passes when the run succeeds: max and min do not apply",
                },
            ]
        }
    }

    name: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9_-]+$")
    """The check's name, shown in status and in the abort reason."""

    endpoint_metric: str | None = Field(default=None, json_schema_extra={"enum": list(ENDPOINT_METRICS)})
    """A metric of the canary's served entity from the endpoint's metrics export: request_rate (requests/s),
    error_rate (fraction of requests answered 5xx), client_error_rate (fraction 4xx), latency_p50_ms,
    latency_p99_ms, cpu_usage_percent, memory_usage_percent."""

    max: float | None = None
    """The highest passing value."""

    min: float | None = None
    """The lowest passing value."""

    job_ref: ObjectRef | None = None
    """An MLJob in this namespace, run once per analysis step with job parameters `model` (registered name)
    and `version` (the canary's version); the check passes when the run succeeds."""

    @field_validator("endpoint_metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        """The CRD's enum, for objects made in code."""
        if value is not None and value not in ENDPOINT_METRICS:
            raise ValueError(f"endpointMetric must be one of {', '.join(ENDPOINT_METRICS)}")
        return value


class Analysis(CamelModel):
    """How an analysis step judges the canary."""

    interval: str = Field(default="1m", min_length=2, max_length=16, pattern=DURATION_PATTERN)
    """Time between two measurements, such as 30s or 1m."""

    count: int = Field(default=3, ge=1, le=100)
    """Conclusive measurements an analysis step takes; it passes when no more than failureLimit of them failed."""

    failure_limit: int = Field(default=0, ge=0, le=100)
    """Failed measurements tolerated; one more fails the analysis (and onFailure applies)."""

    inconclusive_limit: int = Field(default=3, ge=0, le=100)
    """Measurements without data (no traffic on the canary) tolerated; one more pauses the rollout for a
    person to decide. No data is never a pass."""

    metrics: list[MetricCheck] = Field(
        min_length=1,
        max_length=10,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )
    """The checks; a measurement passes when every endpoint metric is within its bounds."""


class AnalysisStep(CamelModel):
    """Run the rollout's analysis (`spec.rollout.analysis`); the rollout goes on only when it passes."""


class RolloutStep(CamelModel):
    """One step: move traffic, wait, or analyse."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "(has(self.traffic) ? 1 : 0) + (has(self.pause) ? 1 : 0) + (has(self.analysis) ? 1 : 0)"
                    " == 1",
                    "message": "a step sets exactly one of traffic, pause or analysis",
                }
            ]
        }
    }

    traffic: int | None = Field(default=None, ge=1, le=100)
    """Percent of the entity's traffic sent to the new version from this step on."""

    pause: str | None = Field(default=None, min_length=2, max_length=16, pattern=DURATION_PATTERN)
    """Wait this long (such as 30s, 10m, 1h), counted from when the current traffic split is deployed."""

    analysis: AnalysisStep | None = None
    """Run the analysis; a failure ends the rollout as onFailure says."""


class Rollout(CamelModel):
    """Roll a new version of a served entity out step by step instead of all at once."""

    model_config = CamelModel.model_config | {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {"rule": "has(self.steps[0].traffic)", "message": "the first step must set traffic"},
                {
                    "rule": "!self.steps.exists(s, has(s.analysis)) || has(self.analysis)",
                    "message": "an analysis step needs spec.rollout.analysis",
                    "fieldPath": ".analysis",
                },
            ]
        }
    }

    steps: list[RolloutStep] = Field(min_length=1, max_length=30)
    """The steps, in order; after the last one the entity serves the new version at its full share."""

    analysis: Analysis | None = None
    """What analysis steps measure."""

    on_failure: Literal["Rollback", "Pause"] = "Rollback"
    """When an analysis fails: Rollback sends all the entity's traffic back to the stable version and removes the
    canary; Pause keeps the current split and waits for a person (the rollout-action annotation)."""


class Measurement(CamelModel):
    """The latest value of one check."""

    metric: str
    """The check's name."""

    value: float | None = None
    """What an endpoint metric measured; unset: no data."""

    result: str | None = None
    """How a job check's run ended (SUCCESS, FAILED, ...); unset while it runs."""

    limit: str = ""
    """The bound it was held to, such as `<= 0.01`."""

    passed: bool | None = None
    """Whether it passed; unset: no data (inconclusive) or a job run still going."""


class AnalysisStatus(CamelModel):
    """The analysis of the current step."""

    taken: int = 0
    """Measurements taken in this step."""

    passes: int = 0
    """Measurements that passed."""

    failures: int = 0
    """Measurements that failed."""

    inconclusive: int = 0
    """Measurements without data."""

    measurements: list[Measurement] = Field(default_factory=list)
    """The latest value of each check."""

    job_run_ids: dict[str, int] = Field(default_factory=dict)
    """The run started for each job check (check name to run id), so a restart never starts another."""


class RolloutStatus(CamelModel):
    """Where the rollout of a new version stands. The controller resumes from here after a restart."""

    phase: Phase
    """Progressing, Paused (waiting for a person), Aborted (rolled back) or Completed."""

    entity: str
    """The served entity being rolled out."""

    stable_version: int
    """The version serving before the rollout, and again after an abort."""

    canary_version: int
    """The version being rolled out."""

    canary_entity: str
    """The served entity that serves the canary version during the rollout."""

    step: int = 0
    """The current step (0-based); equal to `steps` while the final config is deployed."""

    steps: int = 0
    """How many steps the rollout has."""

    canary_weight: int = 0
    """Percent of the entity's traffic on the canary now."""

    step_started_at: str | None = None
    """When the current step started (RFC 3339): when its traffic split was deployed."""

    analysis: AnalysisStatus | None = None
    """The current analysis step's measurements."""

    message: str = ""
    """What the rollout is doing or why it stopped."""

    last_action: str | None = None
    """The last value of the mlops.gitops.dev/rollout-action annotation acted on."""

    summary: str = ""
    """One line for the printer column, such as `step 2/6 canary v7 10%` or `complete v7`."""

    generation: int | None = None
    """The spec generation an abort happened at: the version is not tried again until the spec changes (or retry)."""

    started_at: str | None = None
    """When this rollout started (RFC 3339): a job check's run belongs to one rollout, never to an earlier one."""
