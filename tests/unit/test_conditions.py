"""Condition setter rules: observedGeneration stamped, transition time moves only on a status flip."""

from __future__ import annotations

from datetime import UTC, datetime

from controller.status import conditions as c

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 1, 2, tzinfo=UTC)


def test_transition_time_moves_only_when_status_changes() -> None:
    first = c.set_condition([], type_=c.READY, verdict=c.Verdict(False, "A", "a"), generation=1, now=T0)
    same = c.set_condition(first, type_=c.READY, verdict=c.Verdict(False, "B", "b"), generation=2, now=T1)
    flipped = c.set_condition(same, type_=c.READY, verdict=c.Verdict(True, "C"), generation=2, now=T1)
    assert same[0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert (same[0]["reason"], same[0]["observedGeneration"]) == ("B", 2)
    assert flipped[0]["lastTransitionTime"] == "2026-01-02T00:00:00Z"


def test_other_conditions_are_kept_and_messages_trimmed() -> None:
    conditions = c.set_condition([], type_=c.SYNCED, verdict=c.Verdict(True, "X"), generation=1, now=T0)
    conditions = c.set_condition(
        conditions, type_=c.READY, verdict=c.Verdict(False, "Y", "m " * 2000), generation=1, now=T0
    )
    assert [x["type"] for x in conditions] == ["Ready", "Synced"]
    assert len(conditions[0]["message"]) <= c.MAX_MESSAGE
