"""The shared frame: one mapping from client errors to conditions and retry, the same for every kind.

Each kind's reconcile is run over its in-memory fake with an error injected into a call that stops
the reconcile (creating the object, or reading it); every kind must end the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from controller.clients import errors
from controller.kinds.mljob import reconcile as mljob
from controller.kinds.mlmodel import reconcile as mlmodel
from controller.kinds.modelmonitor import reconcile as modelmonitor
from controller.kinds.servingendpoint import reconcile as servingendpoint
from controller.reconciling import errors as reactions
from controller.reconciling.run import Holding, Run, Waiting, guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome
from tests.unit import test_mljob_reconcile as jobs_test
from tests.unit import test_modelmonitor_reconcile as monitors_test
from tests.unit import test_servingendpoint_reconcile as serving_test
from tests.unit.fake_registry import FakeRegistry
from tests.unit.test_mlmodel_reconcile import run as reconcile_model
from tests.unit.test_mlmodel_reconcile import spec as model_spec


@dataclass(frozen=True)
class Expected:
    reason: str
    retry: float | None


# The table every kind follows. Ready and Synced are both False with the reason; the message is the service's.
TABLE: dict[str, tuple[errors.ExternalError, Expected]] = {
    "unavailable": (errors.Unavailable("503 Service Unavailable"), Expected(c.EXTERNAL_UNAVAILABLE, 10.0)),
    "unavailable-with-retry-after": (
        errors.Unavailable("429 Too Many Requests", retry_after=4.0),
        Expected(c.EXTERNAL_UNAVAILABLE, 4.0),
    ),
    "unauthorized": (errors.Unauthorized("Invalid access token."), Expected(c.CONNECTION_FAILED, None)),
    "misconfigured": (errors.Misconfigured("Secret dbx has no key token"), Expected(c.CREDENTIALS_MISSING, 30.0)),
    "rejected": (errors.Rejected("Invalid name."), Expected(c.EXTERNAL_REJECTED, None)),
    "not-found": (errors.NotFound("does not exist."), Expected(c.EXTERNAL_REJECTED, 30.0)),
    "already-exists": (errors.AlreadyExists("already exists."), Expected(c.EXTERNAL_REJECTED, 30.0)),
}


def _model(error: errors.ExternalError) -> Outcome:
    registry = FakeRegistry()
    registry.refuse["create_model"] = error
    return reconcile_model(registry, model_spec())


def _endpoint(error: errors.ExternalError) -> Outcome:
    serving = serving_test.FakeServing()
    serving.refuse["create_endpoint"] = error
    return serving_test.run(serving, serving_test.spec())


def _job(error: errors.ExternalError) -> Outcome:
    jobs = jobs_test.FakeJobs()
    jobs.refuse["create"] = error
    request = jobs_test._request({}, generation=1, spec_changed=True)
    return mljob.reconcile(jobs_test._spec(), jobs=jobs, request=request)


def _monitor(error: errors.ExternalError) -> Outcome:
    monitors = monitors_test.FakeMonitors()
    monitors.refuse["get_monitor"] = error
    return modelmonitor.reconcile(monitors_test._spec(), monitors=monitors, request=monitors_test._request())


KINDS: dict[str, Callable[[errors.ExternalError], Outcome]] = {
    "MLModel": _model,
    "ServingEndpoint": _endpoint,
    "MLJob": _job,
    "ModelMonitor": _monitor,
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", TABLE)
def test_every_kind_ends_a_client_error_the_same_way(kind: str, case: str) -> None:
    error, expected = TABLE[case]
    outcome = KINDS[kind](error)
    assert (outcome.ready.ok, outcome.synced.ok) == (False, False)
    assert (outcome.ready.reason, outcome.synced.reason) == (expected.reason, expected.reason)
    assert outcome.retry_after == expected.retry
    assert str(error) in outcome.ready.message
    assert [n.reason for n in outcome.notes if n.warning] == [expected.reason]


@pytest.mark.parametrize("case", TABLE)
def test_an_error_no_reconcile_caught_still_ends_in_status_and_an_event(case: str) -> None:
    error, expected = TABLE[case]
    outcome = reactions.escaped(error)
    assert (outcome.ready.reason, outcome.synced.ok, outcome.retry_after) == (expected.reason, False, expected.retry)
    assert [(n.reason, n.warning) for n in outcome.notes] == [(expected.reason, True)]


def test_refusals_are_recorded_and_the_reconcile_goes_on() -> None:
    run = Run(spec_changed=False, observe_only=False)
    assert run.attempt(lambda: _raise(errors.Rejected("alias 'latest' is reserved")), context="alias latest") is None
    assert run.attempt(lambda: "written") == "written"
    outcome = run.outcome({}, matches="matches")
    assert (outcome.ready.reason, outcome.synced.ok) == (c.EXTERNAL_REJECTED, False)
    assert outcome.ready.message == "alias latest: alias 'latest' is reserved"


def test_a_connection_failure_inside_an_attempt_stops_the_reconcile() -> None:
    run = Run(spec_changed=False, observe_only=False)
    outcome = guarded(run, lambda: run.attempt(lambda: _raise(errors.Unavailable("connection refused"))) or _never())
    assert (outcome.ready.reason, outcome.retry_after) == (c.EXTERNAL_UNAVAILABLE, 10.0)


def test_a_wait_is_not_a_failure() -> None:
    run = Run(spec_changed=False, observe_only=False, wait_retry=5.0)
    outcome = guarded(run, lambda: _raise(Waiting(c.WAITING_FOR_DEPENDENCY, "ServingEndpoint e does not exist")))
    assert (outcome.ready.ok, outcome.ready.reason, outcome.synced.ok) == (False, c.WAITING_FOR_DEPENDENCY, True)
    assert outcome.retry_after == 5.0


@pytest.mark.parametrize(
    ("observe_only", "spec_changed", "reason", "corrections"),
    [(False, True, "Updated", 0), (False, False, "DriftCorrected", 1)],
)
def test_a_write_is_the_users_change_while_the_spec_is_new_else_drift(
    observe_only: bool, spec_changed: bool, reason: str, corrections: int
) -> None:
    run = Run(spec_changed=spec_changed, observe_only=observe_only)
    run.changed("set tag team=risk")
    assert ([n.reason for n in run.notes], run.corrections) == ([reason], corrections)


def test_under_observe_only_a_difference_is_drift_and_no_write_is_allowed() -> None:
    run = Run(spec_changed=False, observe_only=True)
    assert not run.may_write("tag team is 'x', spec says 'risk'")
    outcome = run.outcome({}, matches="matches")
    assert (outcome.ready.ok, outcome.ready.reason) == (True, c.DRIFT_DETECTED)
    assert [n.reason for n in outcome.notes] == [c.DRIFT_DETECTED]


def _raise(exc: Exception) -> Outcome:
    raise exc


def _never() -> Outcome:
    raise AssertionError("the reconcile went on after the connection failed")


def test_the_kinds_share_the_frame() -> None:
    for module in (mlmodel, servingendpoint, mljob, modelmonitor):
        assert not hasattr(module, "OWNER_TAG"), f"{module.__name__} keeps its own copy of the ownership tags"


@pytest.mark.parametrize(
    ("record", "applied"),
    [
        (lambda run: None, True),
        (lambda run: run.wait(c.WAITING_FOR_MODEL_VERSION, "alias champion: version 9 is not registered"), False),
        (lambda run: run.refused(errors.Rejected("alias 'latest' is reserved")), False),
    ],
    ids=["all-applied", "waiting", "refused"],
)
def test_a_generation_is_applied_only_when_nothing_waits_or_was_refused(
    record: Callable[[Run], None], applied: bool
) -> None:
    run = Run(spec_changed=True, observe_only=False)
    record(run)
    assert run.outcome({}, matches="matches").applied is applied


def test_an_object_that_is_not_usable_yet_has_not_applied_the_generation() -> None:
    run = Run(spec_changed=True, observe_only=False)
    holding = Holding(c.Verdict(False, c.UPDATE_IN_PROGRESS, "config version 2 is rolling out"), retry=2.0)
    outcome = run.outcome({}, matches="matches", holding=holding)
    assert (outcome.applied, outcome.synced.ok, outcome.retry_after) == (False, True, 2.0)


def test_a_look_again_keeps_ready_and_a_wait_retry_wins_over_it() -> None:
    run = Run(spec_changed=False, observe_only=False, wait_retry=15.0)
    assert run.outcome({}, matches="m", look_again=30.0).retry_after == 30.0
    assert run.outcome({}, matches="m", look_again=30.0).ready.ok
    run.wait(c.WAITING_FOR_DEPENDENCY, "MLModel m does not exist")
    assert run.outcome({}, matches="m", look_again=30.0).retry_after == 15.0
