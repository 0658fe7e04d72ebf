"""The benchmark's lateness quantiles, read from the controller's histogram buckets."""

from __future__ import annotations

import math

from benchmarks.lateness import Buckets, shown

INF = float("inf")


def test_quantiles_come_from_the_window_between_two_scrapes() -> None:
    before = Buckets({0.1: 5, 1.0: 5, 10.0: 5, INF: 5})
    after = Buckets({0.1: 95, 1.0: 104, 10.0: 105, INF: 105})  # 90 early, 9 up to 1 s, 1 up to 10 s late
    window = after - before
    assert window.total == 100
    assert math.isclose(window.quantile(0.5), 0.1 * 50 / 90)
    assert math.isclose(window.quantile(0.99), 1.0)
    assert 1.0 < window.quantile(0.995) < 10.0


def test_no_checks_is_no_figure_and_beyond_the_last_bound_is_that_bound() -> None:
    assert math.isnan(Buckets({0.1: 0, INF: 0}).quantile(0.5))
    assert Buckets({0.1: 0, 60.0: 0, INF: 3}).quantile(0.5) == 60.0


def test_a_quantile_beyond_the_last_bound_is_shown_as_more_than_it() -> None:
    backlog = Buckets({1.0: 10, 120.0: 40, INF: 100})  # 60 checks later than 120 s
    assert shown(backlog, 0.5) == "> 120s"
    assert shown(backlog, 0.3) != "> 120s"
    assert shown(Buckets({1.0: 10, 120.0: 100, INF: 100}), 0.99) == "118.68s"  # 1 + 119 * 89/90
