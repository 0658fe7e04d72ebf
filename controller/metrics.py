"""Prometheus metrics, served on the metrics port by `mlopsctl run`."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECONCILES = Counter(
    "mlops_reconciles_total", "Reconciles by kind and result (ready, waiting, failed).", ["kind", "result"]
)
RECONCILE_SECONDS = Histogram(
    "mlops_reconcile_duration_seconds",
    "Time one reconcile took, including external calls.",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DRIFT_CORRECTIONS = Counter(
    "mlops_drift_corrections_total", "External changes made out of band and put back.", ["kind"]
)
CONDITION = Gauge(
    "mlops_resources_by_condition",
    "Resources by kind and their Ready status (True, False).",
    ["kind", "status"],
)
EXTERNAL_CALLS = Counter(
    "mlops_external_calls_total",
    "Calls to Databricks (per HTTP request: method and API path, HTTP status) and MLflow (per operation, "
    "OK or the error code).",
    ["service", "method", "status"],
)
PROMOTION_GATE_RESULTS = Counter(
    "mlops_promotion_gate_results_total",
    "MLModel alias promotions judged against their gates, by result (passed, blocked).",
    ["result"],
)
PROMOTIONS_BLOCKED = Gauge(
    "mlops_promotions_blocked",
    "MLModel aliases held back by their promotion gates now, per resource.",
    ["namespace", "name"],
)
ROLLOUT_PHASE = Gauge(
    "mlops_rollout_phase",
    "ServingEndpoint rollouts: 1 for the phase each is in now (Progressing, Paused, Aborted, Completed), 0 for the"
    " others.",
    ["namespace", "name", "phase"],
)
ROLLOUT_ANALYSIS_RUNS = Counter(
    "mlops_rollout_analysis_runs_total",
    "Rollout analysis measurements of a canary, by result (passed, failed, inconclusive: no data).",
    ["result"],
)
ROLLOUT_ABORTS = Counter("mlops_rollout_aborts_total", "Rollouts rolled back to the stable version.")
DRIFT_CHECK_LATENESS = Histogram(
    "mlops_drift_check_lateness_seconds",
    "How long after its due time a scheduled reconcile (drift check or retry) started; grows when reconciles back up.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
