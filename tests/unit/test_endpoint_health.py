"""Reading a serving endpoint's metrics export: each served entity's last minute as the names of ENDPOINT_METRICS."""

from __future__ import annotations

import math

import pytest

from controller.kinds.servingendpoint.health import ENDPOINT_METRICS, EntityHealth, parse_export, quantile

STAMP = 1788718020000

# Shaped as Databricks answers: gauges of the last minute (`_total` names declared as gauges), samples
# stamped in ms, one series per served entity, and a latency histogram in ms.
EXPORT = f"""\
# TYPE cpu_usage_percentage gauge
cpu_usage_percentage{{served_model_name="stable"}} 23.5 {STAMP}
cpu_usage_percentage{{served_model_name="canary"}} 61.0 {STAMP}
# TYPE mem_usage_percentage gauge
mem_usage_percentage{{served_model_name="stable"}} 41.25 {STAMP}
mem_usage_percentage{{served_model_name="canary"}} 44.0 {STAMP}
# TYPE provisioned_concurrent_requests_total gauge
provisioned_concurrent_requests_total{{served_model_name="stable"}} 4.0 {STAMP}
provisioned_concurrent_requests_total{{served_model_name="canary"}} 4.0 {STAMP}
# TYPE request_4xx_count_total gauge
request_4xx_count_total{{served_model_name="stable"}} 27.0 {STAMP}
request_4xx_count_total{{served_model_name="canary"}} 0.0 {STAMP}
# TYPE request_5xx_count_total gauge
request_5xx_count_total{{served_model_name="stable"}} 0.0 {STAMP}
request_5xx_count_total{{served_model_name="canary"}} 3.0 {STAMP}
# TYPE request_count_total gauge
request_count_total{{served_model_name="stable"}} 540.0 {STAMP}
request_count_total{{served_model_name="canary"}} 60.0 {STAMP}
# TYPE request_latency_ms histogram
request_latency_ms_bucket{{served_model_name="stable",le="50.0"}} 270.0 {STAMP}
request_latency_ms_bucket{{served_model_name="stable",le="100.0"}} 530.0 {STAMP}
request_latency_ms_bucket{{served_model_name="stable",le="250.0"}} 540.0 {STAMP}
request_latency_ms_bucket{{served_model_name="stable",le="+Inf"}} 540.0 {STAMP}
request_latency_ms_sum{{served_model_name="stable"}} 27000.0 {STAMP}
request_latency_ms_count{{served_model_name="stable"}} 540.0 {STAMP}
request_latency_ms_bucket{{served_model_name="canary",le="50.0"}} 30.0 {STAMP}
request_latency_ms_bucket{{served_model_name="canary",le="500.0"}} 54.0 {STAMP}
request_latency_ms_bucket{{served_model_name="canary",le="1000.0"}} 60.0 {STAMP}
request_latency_ms_bucket{{served_model_name="canary",le="+Inf"}} 60.0 {STAMP}
request_latency_ms_sum{{served_model_name="canary"}} 9000.0 {STAMP}
request_latency_ms_count{{served_model_name="canary"}} 60.0 {STAMP}
"""


def test_a_realistic_export_gives_every_name_per_served_entity() -> None:
    health = parse_export(EXPORT)

    assert set(health) == {"stable", "canary"}
    assert health["stable"].served_entity == "stable"
    assert health["stable"].values == pytest.approx(
        {
            "request_rate": 9.0,  # requests in the minute / 60
            "error_rate": 0.0,
            "client_error_rate": 0.05,
            "latency_p50_ms": 50.0,  # rank 270 is the top of the first bucket
            "latency_p99_ms": 100.0 + 150.0 * (534.6 - 530.0) / 10.0,  # rank 534.6 falls in (100, 250]
            "cpu_usage_percent": 23.5,
            "memory_usage_percent": 41.25,
        }
    )
    canary = health["canary"].values
    assert canary["request_rate"] == 1.0
    assert canary["error_rate"] == 0.05
    assert canary["client_error_rate"] == 0.0
    assert canary["latency_p50_ms"] == 50.0
    assert canary["latency_p99_ms"] == pytest.approx(500.0 + 500.0 * (59.4 - 54.0) / 6.0)
    assert set(health["canary"].values) == set(ENDPOINT_METRICS)


def test_the_contract_names_what_users_may_write() -> None:
    assert set(ENDPOINT_METRICS) >= {
        "request_rate",
        "error_rate",
        "client_error_rate",
        "latency_p50_ms",
        "latency_p99_ms",
        "cpu_usage_percent",
        "memory_usage_percent",
    }


MISSING = [
    # (series left out of the export, names that then have no data)
    ("request_5xx_count_total", {"error_rate"}),
    ("request_4xx_count_total", {"client_error_rate"}),
    ("request_count_total", {"request_rate", "error_rate", "client_error_rate"}),
    ("cpu_usage_percentage", {"cpu_usage_percent"}),
    ("mem_usage_percentage", {"memory_usage_percent"}),
    ("request_latency_ms", {"latency_p50_ms", "latency_p99_ms"}),
]


@pytest.mark.parametrize(("series", "absent"), MISSING)
def test_a_missing_series_means_no_data_never_zero(series: str, absent: set[str]) -> None:
    text = "".join(line + "\n" for line in EXPORT.splitlines() if series not in line)

    values = parse_export(text)["canary"].values

    assert set(values) == set(ENDPOINT_METRICS) - absent


def test_a_minute_without_requests_has_a_rate_of_zero_and_no_error_rate_or_latency() -> None:
    text = f"""\
# TYPE request_count_total gauge
request_count_total{{served_model_name="idle"}} 0.0 {STAMP}
# TYPE request_5xx_count_total gauge
request_5xx_count_total{{served_model_name="idle"}} 0.0 {STAMP}
# TYPE request_4xx_count_total gauge
request_4xx_count_total{{served_model_name="idle"}} 0.0 {STAMP}
# TYPE cpu_usage_percentage gauge
cpu_usage_percentage{{served_model_name="idle"}} 2.3 {STAMP}
# TYPE request_latency_ms histogram
request_latency_ms_bucket{{served_model_name="idle",le="5.0"}} 0.0 {STAMP}
request_latency_ms_bucket{{served_model_name="idle",le="+Inf"}} 0.0 {STAMP}
request_latency_ms_sum{{served_model_name="idle"}} 0.0 {STAMP}
request_latency_ms_count{{served_model_name="idle"}} 0.0 {STAMP}
"""
    assert parse_export(text)["idle"].values == {"request_rate": 0.0, "cpu_usage_percent": 2.3}


def test_an_entity_with_no_series_is_not_in_the_result() -> None:
    canary_only = "".join(line + "\n" for line in EXPORT.splitlines() if '"stable"' not in line)

    assert set(parse_export(canary_only)) == {"canary"}
    assert parse_export("") == {}


def test_series_of_other_labels_and_unknown_series_are_ignored() -> None:
    text = f"""\
# TYPE request_count_total gauge
request_count_total{{served_entity_name="a"}} 120.0 {STAMP}
request_count_total 999.0 {STAMP}
# TYPE model_queue_time_ms histogram
model_queue_time_ms_bucket{{served_entity_name="a",le="+Inf"}} 120.0 {STAMP}
"""
    assert parse_export(text) == {"a": EntityHealth("a", {"request_rate": 2.0})}


def test_counts_declared_as_counters_read_as_the_gauges_do() -> None:
    text = EXPORT.replace("request_count_total gauge", "request_count counter").replace(
        "request_5xx_count_total gauge", "request_5xx_count counter"
    )

    assert parse_export(text) == parse_export(EXPORT)


def test_text_that_is_not_prometheus_text_is_refused() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the parser's own message varies
        parse_export('request_count_total{served_model_name="a" 1\n')


QUANTILES = [
    # (q, (upper bound, cumulative count) pairs, estimate)
    (0.5, [(100.0, 10.0), (math.inf, 10.0)], 50.0),
    (0.99, [(100.0, 50.0), (200.0, 100.0), (math.inf, 100.0)], 198.0),
    (0.5, [(100.0, 0.0), (200.0, 10.0), (math.inf, 10.0)], 150.0),
    (0.99, [(100.0, 10.0), (math.inf, 20.0)], 100.0),  # in the +Inf bucket: the last finite bound
    (0.5, [(100.0, 0.0), (math.inf, 0.0)], None),  # no observations
    (0.5, [(100.0, 10.0)], None),  # no +Inf bucket
    (0.5, [], None),
]


@pytest.mark.parametrize(("q", "buckets", "expected"), QUANTILES)
def test_quantiles_are_estimated_within_their_bucket(
    q: float, buckets: list[tuple[float, float]], expected: float | None
) -> None:
    assert quantile(q, buckets) == (pytest.approx(expected) if expected is not None else None)
