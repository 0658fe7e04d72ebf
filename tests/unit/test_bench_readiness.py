"""The convergence benchmark's own harness: Ready detection by listing, and what it times.

The benchmark once waited with `kubectl wait --all`, which took about 100 s for 500 objects whatever
the operator did; these tests keep its Ready detection honest (stale or missing conditions are not
Ready, completion is seen at the first listing that shows every resource Ready, the apply is timed apart).
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import readiness


def _model(name: str, *, generation: int = 1, ready: str | None = None, seen: int | None = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"name": name, "generation": generation}}
    if ready is not None:
        condition: dict[str, Any] = {"type": "Ready", "status": ready}
        if seen is not None:
            condition["observedGeneration"] = seen
        obj["status"] = {"conditions": [{"type": "Synced", "status": "True"}, condition]}
    return obj


@pytest.mark.parametrize(
    ("obj", "ready"),
    [
        (_model("a"), False),  # no status yet
        (_model("a", ready="False"), False),
        (_model("a", ready="Unknown"), False),
        (_model("a", ready="True"), True),
        (_model("a", ready="True", seen=None), True),  # an operator that stamps no observedGeneration
        (_model("a", generation=2, ready="True", seen=1), False),  # Ready for an older spec
        ({"metadata": {"name": "a"}, "status": {"conditions": [{"type": "Synced", "status": "True"}]}}, False),
    ],
)
def test_ready_means_ready_true_for_the_current_generation(obj: dict[str, Any], ready: bool) -> None:
    assert readiness.is_ready(obj) is ready


def test_the_tracker_times_each_resource_from_its_first_listing_to_its_first_ready_listing() -> None:
    tracker = readiness.ReadyTracker(frozenset({"a", "b"}))
    tracker.observe([_model("a")], 0.5)
    tracker.observe([_model("a", ready="True"), _model("b"), _model("other", ready="True")], 1.0)
    assert not tracker.done
    tracker.observe([_model("a", ready="False"), _model("b", ready="True")], 1.5)  # a flapping back is still done
    assert tracker.done
    assert tracker.latencies() == [0.5, 0.5]
    assert "other" not in tracker.first_seen


def test_convergence_ends_at_the_first_listing_that_shows_every_resource_ready() -> None:
    """With a fake clock: three resources turn Ready on the third, fourth and sixth listing."""
    now = [0.0]
    listings = [
        [],
        [_model("a"), _model("b"), _model("c")],
        [_model("a", ready="True"), _model("b"), _model("c")],
        [_model("a", ready="True"), _model("b", ready="True"), _model("c")],
        [_model("a", ready="True"), _model("b", ready="True"), _model("c")],
        [_model(n, ready="True") for n in "abc"],
    ]
    served: list[int] = []

    def list_items() -> list[dict[str, Any]]:
        served.append(1)
        return listings[min(len(served), len(listings)) - 1]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    result = readiness.converge(
        lambda: None, list_items, ["a", "b", "c"], timeout=60, poll=0.5, clock=lambda: now[0], sleep=sleep
    )
    assert len(served) == len(listings)  # stopped at the first all-Ready listing, not later
    assert result.ready_seconds == 2.5
    assert result.latencies == [0.5, 1.0, 2.0]
    assert result.count == 3


def test_a_failed_apply_is_raised_not_waited_out() -> None:
    def apply() -> None:
        raise RuntimeError("kubectl apply: refused")

    with pytest.raises(RuntimeError, match="refused"):
        readiness.converge(apply, lambda: [], ["a"], timeout=5, poll=0.01)


def test_resources_that_never_turn_ready_time_out_naming_how_many() -> None:
    with pytest.raises(TimeoutError, match="1 of 2 resources not Ready"):
        readiness.converge(
            lambda: None, lambda: [_model("a", ready="True"), _model("b")], ["a", "b"], timeout=0.2, poll=0.01
        )
