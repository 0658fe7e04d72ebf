"""Lateness of drift checks, from the controller's `mlops_drift_check_lateness_seconds` histogram.

Two scrapes of /metrics bracket a window; the difference of their buckets holds the checks started in it.
Quantiles are read from the buckets (linear within one), so their resolution is the buckets' bounds.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

METRIC = "mlops_drift_check_lateness_seconds"


@dataclass(frozen=True)
class Buckets:
    """Cumulative counts by upper bound (seconds), as Prometheus exports them."""

    counts: dict[float, float]

    def __sub__(self, earlier: Buckets) -> Buckets:
        return Buckets({bound: count - earlier.counts.get(bound, 0.0) for bound, count in self.counts.items()})

    @property
    def total(self) -> float:
        return self.counts.get(float("inf"), 0.0)

    def quantile(self, q: float) -> float:
        """The q-quantile (0..1), interpolated within its bucket; NaN without observations."""
        total = self.total
        if total <= 0:
            return float("nan")
        rank, lower, below = q * total, 0.0, 0.0
        for bound in sorted(self.counts):
            count = self.counts[bound]
            if count >= rank:
                if bound == float("inf"):
                    return lower  # beyond the last bound: that bound is all one can say
                inside = count - below
                return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
            lower, below = bound, count
        return lower


def scrape(port: int) -> Buckets | None:
    """The histogram's buckets now; None when the controller does not export it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    counts = {
        float(sample.labels["le"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == f"{METRIC}_bucket"
    }
    return Buckets(counts) if counts else None


def shown(window: Buckets, q: float) -> str:
    """The q-quantile as text; one beyond the last finite bound is only known to exceed it (`> 120s`)."""
    value = window.quantile(q)
    finite = [bound for bound in window.counts if bound != float("inf")]
    beyond = bool(finite) and value == max(finite) and window.counts[max(finite)] < q * window.total
    return f"> {value:.0f}s" if beyond else f"{value:.2f}s"


def report(window: Buckets | None, resources: int, intervals: int) -> str:
    if window is None:
        return f"drift check lateness: not measured (the controller exports no {METRIC})"
    per_resource = window.total / resources / intervals
    return (
        f"drift check lateness (checked at - due at), {window.total:.0f} checks, {per_resource:.2f} per resource "
        f"per interval: p50 {shown(window, 0.5)}, p99 {shown(window, 0.99)}"
    )
