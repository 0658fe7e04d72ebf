"""What a plan says: each resource's action from its reconcile's Outcome, the summary line, exit codes, formats."""

from __future__ import annotations

import json

import pytest

from controller.plan import render
from controller.plan.judging import differences, judged
from controller.plan.result import Plan, ResourcePlan, Said
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome

READY = c.Verdict(True, c.RECONCILED, "")


def _judged(outcome: Outcome, writes: tuple[str, ...] = ()) -> ResourcePlan:
    return judged("MLModel", "risk", "fraud", "main.risk.fraud", outcome, writes)


@pytest.mark.parametrize(
    ("notes", "writes", "action"),
    [
        ((Note("Created", "created registered model x"),), ("create_model('x')",), "create"),
        ((Note("Adopted", "adopted existing registered model x"),), ("set_tag('x')",), "adopt"),
        ((Note("Updated", "set the description"),), ("set_description('x', 'd')",), "update"),
        ((), (), "none"),
    ],
)
def test_the_action_comes_from_the_controllers_own_notes_and_writes(
    notes: tuple[Note, ...], writes: tuple[str, ...], action: str
) -> None:
    assert _judged(Outcome(ready=READY, synced=READY, notes=notes), writes).action == action


def test_a_wait_is_reported_and_an_update_the_plan_itself_starts_is_not() -> None:
    waiting = c.Verdict(False, c.WAITING_FOR_MODEL_VERSION, "alias champion: version 7 is not registered")
    planned = _judged(Outcome(ready=waiting, synced=READY))
    assert (planned.action, planned.waiting) == ("none", Said(waiting.reason, waiting.message))
    updating = c.Verdict(False, c.UPDATE_IN_PROGRESS, "the endpoint is being updated")
    assert _judged(Outcome(ready=updating, synced=READY), ("update_config('e')",)).waiting is None
    assert _judged(Outcome(ready=updating, synced=READY)).waiting is not None
    blocked = c.Verdict(False, c.PROMOTION_BLOCKED, "champion: val_auc 0.8 is below 0.9")
    assert _judged(Outcome(ready=blocked, synced=READY)).waiting == Said(blocked.reason, blocked.message)


def test_a_refusal_is_an_error_even_where_synced_stays_true() -> None:
    owned = c.Verdict(False, c.OWNED_BY_ANOTHER, "registered model x is owned by other/x")
    planned = _judged(Outcome(ready=owned, synced=READY))
    assert (planned.action, planned.error) == ("error", Said(owned.reason, owned.message))
    rejected = c.Verdict(False, c.EXTERNAL_REJECTED, "INVALID_PARAMETER_VALUE: bad")
    assert _judged(Outcome(ready=rejected, synced=rejected)).action == "error"


def test_differences_are_the_observe_only_runs_drift() -> None:
    drift = Note(c.DRIFT_DETECTED, "description is 'a', spec says 'b'; tag team is 'x', spec says 'y'", warning=True)
    observed = Outcome(ready=READY, synced=READY, notes=(Note("Other", "x"), drift))
    assert differences(observed) == ("description is 'a', spec says 'b'", "tag team is 'x', spec says 'y'")


def _plan(*actions: str, waiting: int = 0) -> Plan:
    resources = [ResourcePlan("MLModel", "ns", f"m{i}", f"model {i}", action) for i, action in enumerate(actions)]
    for i in range(waiting):
        resources[i] = ResourcePlan("MLModel", "ns", f"w{i}", "w", "none", waiting=Said("WaitingForModelVersion", "v"))
    return Plan(tuple(resources))


def test_summary_and_exit_codes_as_terraform_plan_detailed_exitcode() -> None:
    assert _plan("create", "create", "update", "none", waiting=0).summary() == (
        "Plan: 2 to create, 1 to update, 0 to delete, 0 waiting."
    )
    assert _plan("none", "create", waiting=1).summary() == "Plan: 1 to create, 0 to update, 0 to delete, 1 waiting."
    assert _plan("adopt", "error").summary() == (
        "Plan: 0 to create, 1 to adopt, 0 to update, 0 to delete, 0 waiting, 1 cannot be applied."
    )
    assert [_plan(*a).exit_code for a in (("none",), ("none", "delete"), ("create", "error"))] == [0, 2, 1]
    assert Plan((), ("manifests.yaml:3:1: spec: Required value",)).exit_code == 1


def test_formats() -> None:
    change = ResourcePlan(
        "MLModel",
        "risk",
        "fraud",
        "main.risk.fraud",
        "update",
        changes=("alias champion points at 1, spec says 2",),
        writes=("set_alias('main.risk.fraud', 'champion', 2)",),
        notes=(Said("Updated", "pointed alias champion at version 2 (was 1)"),),
    )
    plan = Plan((change, ResourcePlan("ServingEndpoint", "risk", "a|b", "a|b", "none")))
    text = render.text(plan)
    assert "~ MLModel risk/fraud (main.risk.fraud): will be updated\n" in text
    assert "    ~ alias champion points at 1, spec says 2\n" in text
    assert "    call set_alias('main.risk.fraud', 'champion', 2)\n" in text
    assert text.endswith("Plan: 0 to create, 1 to update, 0 to delete, 0 waiting.\n")
    markdown = render.markdown(plan)
    assert "**Plan: 0 to create, 1 to update, 0 to delete, 0 waiting.**" in markdown
    assert "`ServingEndpoint risk/a\\|b`" in markdown  # a pipe does not break the table
    data = json.loads(render.to_json(plan))
    assert data["summary"] == {
        "create": 0, "adopt": 0, "update": 1, "delete": 0, "none": 1, "error": 0, "waiting": 0, "writes": 1
    }  # fmt: skip
    assert data["exitCode"] == 2
    assert data["resources"][0]["changes"] == ["alias champion points at 1, spec says 2"]
    assert data["resources"][0]["notes"] == [
        {"reason": "Updated", "message": "pointed alias champion at version 2 (was 1)"}
    ]
