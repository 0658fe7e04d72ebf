"""The chart's Grafana dashboard asks only for metrics the controller exports.

Every PromQL expression of the dashboard (panel targets and template variables) is read by a tokenizer that
knows PromQL's strings, label matchers, ranges, functions, grouping clauses and keywords; each metric name
it finds must be a series the controller's Prometheus registry exports (a histogram's `_bucket`, `_sum`
and `_count`, a counter's `_total`), read from the registry itself after importing `controller.metrics`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

import controller.metrics  # noqa: F401 -- registers the controller's metrics in the default registry `mlopsctl run` serves
from tests.support import REPO

DASHBOARD = REPO / "charts" / "mlops-gitops-controller" / "files" / "grafana-dashboard.json"

KEYWORDS = {"bool", "offset", "and", "or", "unless", "atan2", "inf", "nan"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
                "quantile", "limitk", "limit_ratio"}  # fmt: skip
TOKEN = re.compile(
    r"""
    (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<variable>\$\{[^}]*\}|\$\w+|\[\[\w+\]\])
  | (?P<number>(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)?)
  | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<space>\s+)
  | (?P<punct>=~|!~|!=|==|<=|>=|[(){},=<>+\-*/%^@])
    """,
    re.VERBOSE,
)
GRAFANA_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.*),\s*\w+\s*\)\s*$", re.DOTALL)
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (Grafana's `label_values(selector, label)` included)."""
    label_values = GRAFANA_LABEL_VALUES.match(expr)
    if label_values:
        expr = label_values["selector"]
    tokens = []
    position = 0
    while position < len(expr):
        match = TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read {expr[position:]!r} in {expr!r}")
        position = match.end()
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
    names: set[str] = set()
    braces = 0
    skip_group = False
    for i, (kind, text) in enumerate(tokens):
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if skip_group:
            skip_group = text != ")"
        elif text == "{":
            if i == 0 or tokens[i - 1][0] != "name":
                raise ValueError(f"a selector without a metric name in {expr!r}: name every metric")
            braces += 1
        elif text == "}":
            braces -= 1
        elif kind == "name" and braces == 0:
            if text in GROUPING:
                skip_group = following == "("
            elif text in AGGREGATIONS and following in GROUPING:
                continue  # `sum by (kind) (...)`: the grouping comes before the parenthesis
            elif following != "(" and text not in KEYWORDS:
                names.add(text)
    return names


def exported() -> set[str]:
    """Every series name the controller's registry serves, by each family's type."""
    found: set[str] = set()
    for family in REGISTRY.collect():
        found |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        found |= {sample.name for sample in family.samples}
    return found


def expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, expression) for every panel target (rows' panels too) and every query variable."""

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels") or [])

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets") or []:
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            yield f"variable {variable['name']}", variable["query"]["query"]


def test_every_query_of_the_dashboard_names_only_metrics_the_controller_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    served = exported()
    found = {where: metric_names(expr) for where, expr in expressions(dashboard)}
    assert all(found.values()), {where: names for where, names in found.items() if not names}
    unknown = {where: sorted(names - served) for where, names in found.items() if names - served}
    assert not unknown, f"not exported by the controller: {unknown}"


def test_the_dashboard_shows_every_area_the_metrics_cover() -> None:
    used = set().union(*(metric_names(expr) for _, expr in expressions(json.loads(DASHBOARD.read_text()))))
    assert {
        "mlops_reconciles_total",
        "mlops_reconcile_duration_seconds_bucket",
        "mlops_drift_corrections_total",
        "mlops_resources_by_condition",
        "mlops_external_calls_total",
        "mlops_promotion_gate_results_total",
        "mlops_promotions_blocked",
        "mlops_rollout_phase",
        "mlops_rollout_analysis_runs_total",
        "mlops_rollout_aborts_total",
    } <= used


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (kind, result) (rate(mlops_reconciles_total{job=~"$job"}[$__rate_interval]))',
            {"mlops_reconciles_total"},
        ),
        ("histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m])))", {"a_bucket"}),
        ("sum(rate(a_total[5m])) by (kind) / on (kind) group_left (name) b", {"a_total", "b"}),
        ('label_replace(a, "dst", "$1", "src", "(.*) {x} rate(y)")', {"a"}),
        ("a offset 1h30m > bool 1e3 and b @ start() unless c[5m:1m] or -inf", {"a", "b", "c"}),
        ("topk(10, a_total) * ignoring (pod) count without (le) (b)", {"a_total", "b"}),
        ('label_values(mlops_reconciles_total{job=~"$job"}, kind)', {"mlops_reconciles_total"}),
        ("vector(0)", set()),
    ],
)
def test_the_tokenizer_finds_exactly_the_selected_metrics(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_a_selector_without_a_metric_name_is_refused() -> None:
    with pytest.raises(ValueError, match="without a metric name"):
        metric_names('sum(rate({__name__=~"mlops_.*"}[5m]))')


def test_histogram_and_counter_series_map_to_their_families() -> None:
    served = exported()
    assert {"mlops_reconcile_duration_seconds_bucket", "mlops_reconcile_duration_seconds_count"} <= served
    assert {"mlops_reconciles_total", "mlops_rollout_aborts_total"} <= served
    assert "mlops_reconciles" not in served
    assert "mlops_reconcile_duration_seconds" not in served
