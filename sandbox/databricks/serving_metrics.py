"""Serving endpoint health: what the metrics export (`GET .../serving-endpoints/{name}/metrics`) shows.

Databricks answers Prometheus text with one series per served entity, each describing
the last minute: gauges of the requests, 4xx and 5xx answers in that minute, CPU and
memory use, provisioned concurrency, and a histogram of request latency in ms.

The emulator makes that minute up, deterministically, from three things: the
endpoint's request rate (set per endpoint, 10 requests/s by default), the current
traffic split of the endpoint's active config (an entity with 10% of the traffic gets
10% of the requests), and how the registered model VERSION each entity serves behaves
(set per model and version: error fractions, p50/p99 latency, CPU and memory).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping

from sandbox.databricks.serving_endpoint import Endpoint
from sandbox.databricks.state import Json, Text, invalid

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_REQUEST_RATE = 10.0
"""Requests per second an endpoint gets when no test set its rate, so metrics exist without setup."""
LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000, 600000)
_LABEL = "served_model_name"
_CONCURRENCY = {"Small": 4, "Medium": 16, "Large": 64}
"""The upper end of each workload size's provisioned concurrency (Databricks' sizing table)."""


@dataclasses.dataclass(frozen=True)
class VersionBehaviour:
    """How the requests served by one registered model version go."""

    error_rate: float = 0.0
    """Fraction of requests answered 5xx."""
    client_error_rate: float = 0.0
    """Fraction of requests answered 4xx."""
    latency_p50_ms: float = 40.0
    latency_p99_ms: float = 120.0
    cpu_usage_percent: float = 20.0
    memory_usage_percent: float = 30.0

    def changed(self, changes: Mapping[str, object]) -> VersionBehaviour:
        """A copy with `changes` applied, refusing unknown names and values out of range (400)."""
        known = {f.name for f in dataclasses.fields(self)}
        values: dict[str, float] = {}
        for name, value in changes.items():
            if name not in known:
                raise invalid(f"Unknown behaviour '{name}'. Known: {', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise invalid(f"Behaviour '{name}' must be a non-negative number")
            values[name] = float(value)
        new = dataclasses.replace(self, **values)
        if new.error_rate + new.client_error_rate > 1:
            raise invalid("error_rate and client_error_rate together must not exceed 1")
        if new.latency_p50_ms > new.latency_p99_ms:
            raise invalid("latency_p50_ms must not exceed latency_p99_ms")
        if max(new.cpu_usage_percent, new.memory_usage_percent) > 100:
            raise invalid("cpu_usage_percent and memory_usage_percent must not exceed 100")
        return new


class ServingHealth:
    """The request rates and version behaviours set by tests, and the export they give."""

    def __init__(self) -> None:
        self.request_rates: dict[str, float] = {}
        self.behaviours: dict[tuple[str, str], VersionBehaviour] = {}

    def set_request_rate(self, endpoint: str, per_second: object) -> None:
        if isinstance(per_second, bool) or not isinstance(per_second, int | float) or per_second < 0:
            raise invalid("requests_per_second must be a non-negative number")
        self.request_rates[endpoint] = float(per_second)

    def set_version_behaviour(self, model: str, version: int, changes: Mapping[str, object]) -> VersionBehaviour:
        """Change the named parts of how `model` version `version` behaves; the rest stay as they were."""
        key = (model.lower(), str(version))
        self.behaviours[key] = self.behaviours.get(key, VersionBehaviour()).changed(changes)
        return self.behaviours[key]

    def export(self, ep: Endpoint, now: float) -> Text:
        """The export of the minute that ended last on the emulator clock, as of the endpoint's active config."""
        stamp = int(now // 60) * 60_000
        rate = self.request_rates.get(ep.name, DEFAULT_REQUEST_RATE)
        config = ep.config or {}
        routes = {
            r["served_entity_name"]: r["traffic_percentage"] for r in config.get("traffic_config", {}).get("routes", [])
        }
        minutes = [
            _Minute(entity, round(rate * 60 * routes.get(entity["name"], 0) / 100), self._behaviour(entity))
            for entity in config.get("served_entities", [])
            if entity["state"]["deployment"] == "DEPLOYMENT_READY"
        ]
        return Text("".join(_family_lines(minutes, stamp)), CONTENT_TYPE)

    def _behaviour(self, entity: Json) -> VersionBehaviour:
        key = (str(entity.get("entity_name", "")).lower(), str(entity.get("entity_version", "")))
        return self.behaviours.get(key, VersionBehaviour())


@dataclasses.dataclass(frozen=True)
class _Minute:
    """One served entity's last minute."""

    entity: Json
    requests: int
    behaviour: VersionBehaviour

    @property
    def name(self) -> str:
        return str(self.entity["name"])

    def gauges(self) -> dict[str, float]:
        server_errors = round(self.requests * self.behaviour.error_rate)
        # Rounded apart, the two error counts could add up to more requests than there were.
        client_errors = min(round(self.requests * self.behaviour.client_error_rate), self.requests - server_errors)
        out = {
            "cpu_usage_percentage": self.behaviour.cpu_usage_percent,
            "mem_usage_percentage": self.behaviour.memory_usage_percent,
            "request_4xx_count_total": float(client_errors),
            "request_5xx_count_total": float(server_errors),
            "request_count_total": float(self.requests),
        }
        concurrency = self.entity.get("max_provisioned_concurrency") or _CONCURRENCY.get(
            str(self.entity.get("workload_size"))
        )
        if concurrency is not None:
            out["provisioned_concurrent_requests_total"] = float(concurrency)
        return out

    def latency(self) -> _Latency:
        b = self.behaviour
        # The minute's latencies: the quantile function through these points, sampled once per request.
        return _Latency(
            (
                (0.0, b.latency_p50_ms / 2),
                (0.5, b.latency_p50_ms),
                (0.99, b.latency_p99_ms),
                (1.0, b.latency_p99_ms * 1.5),
            )
        )


@dataclasses.dataclass(frozen=True)
class _Latency:
    """The latencies of one entity's minute, as a distribution."""

    knots: tuple[tuple[float, float], ...]
    """(quantile, ms) points of a piecewise-linear quantile function."""

    def share_at_most(self, ms: float) -> float:
        """The fraction of requests that took at most `ms`."""
        pairs = list(zip(self.knots, self.knots[1:], strict=False))
        for (q0, v0), (q1, v1) in reversed(pairs):
            if ms >= v1:
                return q1
            if ms >= v0:
                return q0 + (q1 - q0) * (ms - v0) / (v1 - v0)
        return 0.0

    def mean(self) -> float:
        return sum((q1 - q0) * (v0 + v1) / 2 for (q0, v0), (q1, v1) in zip(self.knots, self.knots[1:], strict=False))


def _family_lines(minutes: list[_Minute], stamp: int) -> Iterator[str]:
    """Prometheus text, grouped by family as the format requires; every sample stamped with the minute."""
    gauges = [(m.name, m.gauges()) for m in minutes]
    for family in sorted({family for _, values in gauges for family in values}):
        yield f"# TYPE {family} gauge\n"
        for name, values in gauges:
            if family in values:
                yield _sample(family, {_LABEL: name}, values[family], stamp)
    if minutes:
        yield "# TYPE request_latency_ms histogram\n"
    for m in minutes:
        latency = m.latency()
        for bound in (*LATENCY_BUCKETS_MS, math.inf):
            # Request i (0-based) of n took the latency at quantile (i + 0.5) / n.
            count = min(m.requests, math.floor(m.requests * latency.share_at_most(bound) + 0.5))
            le = "+Inf" if bound == math.inf else f"{float(bound)}"
            yield _sample("request_latency_ms_bucket", {_LABEL: m.name, "le": le}, float(count), stamp)
        yield _sample("request_latency_ms_sum", {_LABEL: m.name}, round(m.requests * latency.mean(), 3), stamp)
        yield _sample("request_latency_ms_count", {_LABEL: m.name}, float(m.requests), stamp)


def _sample(name: str, labels: Mapping[str, str], value: float, stamp: int) -> str:
    text = ",".join(f'{k}="{_escaped(v)}"' for k, v in labels.items())
    return f"{name}{{{text}}} {value} {stamp}\n"


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
