"""The per-resource bookkeeping behind the drift timer and the condition gauge."""

from __future__ import annotations

from prometheus_client import REGISTRY

from controller.handling import _Registry


def _gauge(kind: str, status: str) -> float | None:
    return REGISTRY.get_sample_value("mlops_resources_by_condition", {"kind": kind, "status": status})


def test_condition_gauge_moves_resources_between_statuses_and_forgets_deleted_ones() -> None:
    registry = _Registry()
    registry.record_ready("GaugeKind", "a", "False")
    registry.record_ready("GaugeKind", "b", "True")
    registry.record_ready("GaugeKind", "a", "True")
    registry.record_ready("GaugeKind", "a", "True")
    assert (_gauge("GaugeKind", "True"), _gauge("GaugeKind", "False")) == (2, 0)
    registry.forget("b")
    assert _gauge("GaugeKind", "True") == 1


def test_unscheduled_resources_are_not_due_and_scheduled_ones_are_after_their_delay() -> None:
    registry = _Registry()
    assert not registry.is_due("new")  # its create or resume handler reconciles it first
    registry.schedule("now", 0)
    registry.schedule("later", 3600)
    assert registry.is_due("now")
    assert not registry.is_due("later")
