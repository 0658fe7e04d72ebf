"""The shared decision of spec.permissions: what is granted, revoked and left alone, and the controller kept."""

from __future__ import annotations

import pytest

from controller.reconciling.permissions import (
    CAN_MANAGE,
    IS_OWNER,
    Principal,
    Wanted,
    controller_principal,
    decide,
    status,
)

DS = Principal("group", "data-scientists")
OPS = Principal("group", "ops")
ANA = Principal("user", "ana@example.com")
BOT = Principal("servicePrincipal", "6f1c-app-id")
ME = Principal("user", "controller@example.com")


@pytest.mark.parametrize(
    ("want", "observed", "grants", "revokes", "replaces"),
    [
        # a new principal is added; one the spec never listed is left alone (one PATCH)
        (Wanted({DS: "CAN_QUERY"}), {ANA: "CAN_MANAGE"}, {DS: "CAN_QUERY"}, (), False),
        # already as wanted: nothing to write
        (Wanted({DS: "CAN_QUERY"}), {DS: "CAN_QUERY", ANA: "CAN_VIEW"}, {}, (), False),
        # a level changed by hand is put back (the whole list: PUT)
        (Wanted({DS: "CAN_QUERY"}), {DS: "CAN_MANAGE"}, {DS: "CAN_QUERY"}, (), True),
        # removed from the spec: revoked, because the resource listed it before
        (
            Wanted({DS: "CAN_QUERY"}, managed_before=frozenset({DS, OPS})),
            {DS: "CAN_QUERY", OPS: "CAN_VIEW"},
            {},
            (OPS,),
            True,
        ),
        # a principal never listed keeps its grant even when the spec drops all of them
        (Wanted({}, managed_before=frozenset({DS})), {DS: "CAN_QUERY", ANA: "CAN_VIEW"}, {}, (DS,), True),
        # Authoritative: every direct grant the spec does not list goes
        (Wanted({DS: "CAN_QUERY"}, authoritative=True), {DS: "CAN_QUERY", ANA: "CAN_VIEW"}, {}, (ANA,), True),
    ],
)
def test_decide(
    want: Wanted,
    observed: dict[Principal, str],
    grants: dict[Principal, str],
    revokes: tuple[Principal, ...],
    replaces: bool,
) -> None:
    change = decide(want, observed)
    assert change.grants == grants
    assert change.revokes == revokes
    if grants or revokes:
        assert change.replaces is replaces
    assert change.kept_for_controller is None


def test_the_controller_keeps_its_managing_grant_in_authoritative_mode() -> None:
    change = decide(Wanted({DS: "CAN_QUERY"}, authoritative=True, controller=ME), {ME: CAN_MANAGE, ANA: "CAN_VIEW"})
    assert change.acl == {DS: "CAN_QUERY", ME: CAN_MANAGE}
    assert change.revokes == (ANA,)
    assert (
        change.kept_for_controller == f"kept CAN_MANAGE for the controller's own {ME}: spec.permissions would remove it"
    )


def test_the_controller_is_not_lowered_by_the_spec() -> None:
    change = decide(Wanted({ME: "CAN_VIEW"}, controller=ME), {ME: CAN_MANAGE})
    assert change.empty
    assert change.acl[ME] == CAN_MANAGE
    assert change.kept_for_controller is not None
    assert "lower it to CAN_VIEW" in change.kept_for_controller


def test_the_controller_without_a_grant_of_its_own_is_left_as_it_is() -> None:
    """A workspace admin manages through the inherited admins grant: nothing to keep."""
    change = decide(Wanted({DS: "CAN_QUERY"}, authoritative=True, controller=ME), {ANA: "CAN_VIEW"})
    assert ME not in change.acl
    assert change.kept_for_controller is None


def test_a_job_keeps_its_one_owner_when_the_spec_names_none() -> None:
    want = Wanted({DS: "CAN_VIEW"}, authoritative=True, owner_level=IS_OWNER)
    change = decide(want, {ANA: IS_OWNER, OPS: "CAN_VIEW"})
    assert change.acl == {DS: "CAN_VIEW", ANA: IS_OWNER}
    assert change.revokes == (OPS,)


def test_a_job_owner_named_in_the_spec_replaces_the_current_one() -> None:
    want = Wanted({BOT: IS_OWNER}, owner_level=IS_OWNER, controller=ME)
    change = decide(want, {ME: IS_OWNER})
    assert change.acl == {BOT: IS_OWNER, ME: CAN_MANAGE}  # ownership handed over; the controller still manages
    assert change.replaces
    assert change.kept_for_controller is not None


def test_status_keeps_principals_to_revoke_until_the_change_is_written() -> None:
    want = Wanted({DS: "CAN_QUERY"}, managed_before=frozenset({OPS}))
    change = decide(want, {OPS: "CAN_VIEW"})
    assert status(want, change, applied=False)["managed"] == ["group:data-scientists", "group:ops"]
    assert status(want, change, applied=True)["managed"] == ["group:data-scientists"]


@pytest.mark.parametrize(
    ("identity", "principal"),
    [("ana@example.com", ANA), ("6f1c-app-id", BOT), (None, None), ("", None)],
)
def test_the_workspace_identity_as_a_principal(identity: str | None, principal: Principal | None) -> None:
    assert controller_principal(identity) == principal


def test_principals_round_trip_through_status() -> None:
    assert [Principal.parse(p.key) for p in (DS, ANA, BOT)] == [DS, ANA, BOT]
    assert Principal.parse("robot:x") is None


def test_observe_only_words_say_what_differs() -> None:
    change = decide(
        Wanted({DS: "CAN_QUERY", OPS: "CAN_VIEW"}, managed_before=frozenset({ANA})), {DS: "CAN_VIEW", ANA: "CAN_VIEW"}
    )
    assert change.differences() == [
        "group data-scientists has CAN_VIEW, spec says CAN_QUERY",
        "group ops has no grant, spec says CAN_VIEW",
        "user ana@example.com has CAN_VIEW, spec says none",
    ]
    assert change.describe() == [
        "granted CAN_QUERY to group data-scientists",
        "granted CAN_VIEW to group ops",
        "revoked the grant of user ana@example.com",
    ]
