"""A serving endpoint's health per served entity, read from Databricks' metrics export.

The export (`GET /api/2.0/serving-endpoints/{name}/metrics`) is Prometheus text with one
series per served entity, each describing the last minute: gauges of the requests and of
the 4xx and 5xx answers in that minute, CPU and memory use in percent, and a histogram of
request latency in milliseconds. Here they become the names users write in
`endpointMetric`. A name with no data behind it (its series missing, or no requests to
divide by) is left out, never reported as 0, so a threshold is never met by silence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

ENDPOINT_METRICS: tuple[str, ...] = (
    "request_rate",
    "error_rate",
    "client_error_rate",
    "latency_p50_ms",
    "latency_p99_ms",
    "cpu_usage_percent",
    "memory_usage_percent",
)
"""What `endpointMetric` may name: requests/s; fractions (0..1) of requests answered 5xx and 4xx;
latency percentiles in ms; CPU and memory use in percent (averaged over the entity's replicas)."""

# The label naming the served entity (Databricks' integrations tag the series `served_model_name`).
_ENTITY_LABELS = ("served_entity_name", "served_model_name")
_REQUESTS = "request_count_total"
_ERRORS = {"error_rate": "request_5xx_count_total", "client_error_rate": "request_4xx_count_total"}
_UTILISATION = {"cpu_usage_percent": "cpu_usage_percentage", "memory_usage_percent": "mem_usage_percentage"}
_LATENCY_BUCKET = "request_latency_ms_bucket"
_QUANTILES = {"latency_p50_ms": 0.5, "latency_p99_ms": 0.99}
_SECONDS_PER_EXPORT = 60.0
"""Each count covers the last minute."""


@dataclass(frozen=True)
class EntityHealth:
    """One served entity's last minute; a name of ENDPOINT_METRICS missing from `values` has no data."""

    served_entity: str
    values: Mapping[str, float]


def parse_export(text: str) -> dict[str, EntityHealth]:
    """The export's series by served entity name. Raises ValueError when the text is not Prometheus text."""
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            entity = next((sample.labels[k] for k in _ENTITY_LABELS if k in sample.labels), None)
            if entity is None:
                continue
            if sample.name == _LATENCY_BUCKET:
                buckets[entity][float(sample.labels.get("le", ""))] += sample.value
            else:
                samples[entity][sample.name].append(sample.value)
    return {
        entity: EntityHealth(entity, _values(samples[entity], buckets[entity]))
        for entity in sorted(samples.keys() | buckets.keys())
    }


def _values(series: Mapping[str, list[float]], latency: Mapping[float, float]) -> dict[str, float]:
    """The ENDPOINT_METRICS one entity's series give: counts add up, utilisation is averaged."""
    values: dict[str, float] = {}
    requests = sum(series[_REQUESTS]) if _REQUESTS in series else None
    if requests is not None:
        values["request_rate"] = requests / _SECONDS_PER_EXPORT
    for name, errors in _ERRORS.items():
        if requests and errors in series:
            values[name] = sum(series[errors]) / requests
    for name, source in _UTILISATION.items():
        if source in series:
            values[name] = sum(series[source]) / len(series[source])
    for name, q in _QUANTILES.items():
        estimate = quantile(q, latency.items())
        if estimate is not None:
            values[name] = estimate
    return values


def quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """The q-quantile of a histogram given as (upper bound, cumulative count) pairs, as Prometheus'
    `histogram_quantile` estimates it: linearly within the bucket it falls in, so it is only as
    precise as the buckets are narrow. None without observations or without the `+Inf` bucket."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][0] != math.inf or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in ordered[:-1]:
        if count >= rank:
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower  # in the +Inf bucket: the last finite bound is the most a histogram can say
