"""The per-resource bookkeeping behind the drift loops and the condition gauge, and the status patch."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import REGISTRY

from controller.handling import _Registry
from controller.status.conditions import Verdict
from controller.status.outcome import Outcome
from controller.status.patch import patched_status, status_patch


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


def test_status_records_the_applied_generation_only_when_the_reconcile_applied_it() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    done = Verdict(True, "Reconciled")
    applied = status_patch(Outcome(ready=done, synced=done, applied=True), status={}, generation=4, now=now)
    waiting = Verdict(False, "WaitingForModelVersion")
    pending = status_patch(Outcome(ready=waiting, synced=done), status={}, generation=5, now=now)
    assert applied["appliedGeneration"] == 4
    assert "appliedGeneration" not in pending  # the patch keeps the generation applied before
    assert pending["observedGeneration"] == 5


def test_a_map_key_gone_from_the_external_object_is_removed_from_status() -> None:
    """Status is written as a merge patch, which merges maps: a key that disappeared must be sent as null."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    done = Verdict(True, "Reconciled")
    before = {"aliases": {"champion": 2, "challenger": 1}, "labels": {"a": {"x": 1, "y": 2}}, "summary": "old"}
    observed = {"aliases": {"champion": 3}, "labels": {"a": {"x": 1}}, "summary": "new", "versions": [1]}
    patch = status_patch(Outcome(ready=done, synced=done, observed=observed), status=before, generation=1, now=now)
    assert patch["aliases"] == {"champion": 3, "challenger": None}
    assert patch["labels"] == {"a": {"x": 1, "y": None}}
    assert patch["summary"] == "new"
    assert patch["versions"] == [1]


def test_the_status_after_the_patch_is_what_the_api_server_would_store() -> None:
    """`mlopsctl plan` hands this to the resources that follow: a gone alias is gone, untouched fields stay."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    done = Verdict(True, "Reconciled")
    before = {"aliases": {"champion": 2, "challenger": 1}, "url": "https://x", "appliedGeneration": 1}
    outcome = Outcome(ready=done, synced=done, observed={"aliases": {"champion": 3}}, applied=True)
    after = patched_status(outcome, status=before, generation=2, now=now)
    assert after["aliases"] == {"champion": 3}
    assert (after["url"], after["appliedGeneration"], after["observedGeneration"]) == ("https://x", 2, 2)
    assert [(x["type"], x["status"]) for x in after["conditions"]] == [("Ready", "True"), ("Synced", "True")]
