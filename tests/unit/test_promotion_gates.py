"""Promotion gates: the verdicts as tables, then the MLModel reconcile holding back an alias (fake registry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from controller.api.validation import validate_document
from controller.kinds.mlmodel import reconcile as r
from controller.kinds.mlmodel.gates import Evidence, judge, latest_values
from controller.kinds.mlmodel.model import MLModelSpec, PromotionPolicy, PromotionStatus
from controller.kinds.mlmodel.observed import ObservedVersion
from controller.reconciling import ownership as own
from controller.status.patch import status_patch
from tests.unit.fake_registry import FakeRegistry

NOW = datetime(2026, 12, 1, tzinfo=UTC)

OWNER = "risk/fraud"
OURS = {own.OWNER_TAG: OWNER, own.MANAGED_BY_TAG: own.CONTROLLER_NAME}


def evidence(
    version: int = 8,
    *,
    tags: dict[str, str] | None = None,
    model: dict[str, float] | None = None,
    run: dict[str, float] | None = None,
) -> Evidence:
    return Evidence(version, tags or {}, model or {}, run or {})


def policy(**fields: Any) -> PromotionPolicy:
    return PromotionPolicy.model_validate(fields)


AUC_MIN = {"metrics": [{"name": "val_auc", "min": 0.91}]}
LOSS_MAX = {"metrics": [{"name": "loss", "max": 0.2}]}
NOT_WORSE = {"metrics": [{"name": "val_auc", "notWorseThan": "current"}]}
NOT_WORSE_TOL = {"metrics": [{"name": "val_auc", "notWorseThan": "current", "tolerance": 0.005}]}
LOWER_BETTER = {"metrics": [{"name": "loss", "notWorseThan": "current", "greaterIsBetter": False}]}
APPROVED = {"requireTags": {"validation_status": "approved"}}


@pytest.mark.parametrize(
    ("gates", "target", "current", "passed", "measured", "required", "message"),
    [
        (AUC_MIN, evidence(run={"val_auc": 0.93}), None, True, "0.93", ">= 0.91", "from the run of version 8"),
        (AUC_MIN, evidence(run={"val_auc": 0.91}), None, True, "0.91", ">= 0.91", "0.91"),
        (
            AUC_MIN,
            evidence(run={"val_auc": 0.87}),
            None,
            False,
            "0.87",
            ">= 0.91",
            "0.87 (from the run of version 8) is below 0.91",
        ),
        (AUC_MIN, evidence(run={"loss": 0.1}), None, False, "", ">= 0.91", "version 8 has no metric val_auc"),
        (LOSS_MAX, evidence(run={"loss": 0.25}), None, False, "0.25", "<= 0.2", "is above 0.2"),
        (LOSS_MAX, evidence(run={"loss": 0.15}), None, True, "0.15", "<= 0.2", "loss 0.15"),
        # The logged model's value is the one measured on this model: it wins over the run's.
        (
            AUC_MIN,
            evidence(model={"val_auc": 0.95}, run={"val_auc": 0.80}),
            None,
            True,
            "0.95",
            ">= 0.91",
            "logged model",
        ),
        (
            AUC_MIN,
            evidence(model={"val_auc": 0.80}, run={"val_auc": 0.95}),
            None,
            False,
            "0.8",
            ">= 0.91",
            "logged model",
        ),
        (AUC_MIN, evidence(model={"loss": 0.1}, run={"val_auc": 0.95}), None, True, "0.95", ">= 0.91", "from the run"),
        (
            NOT_WORSE,
            evidence(run={"val_auc": 0.93}),
            evidence(7, run={"val_auc": 0.92}),
            True,
            "0.93",
            ">= 0.92",
            "as good as version 7's 0.92",
        ),
        (NOT_WORSE, evidence(run={"val_auc": 0.92}), evidence(7, run={"val_auc": 0.92}), True, "0.92", ">= 0.92", ""),
        (
            NOT_WORSE,
            evidence(run={"val_auc": 0.918}),
            evidence(7, run={"val_auc": 0.92}),
            False,
            "0.918",
            ">= 0.92",
            "is worse than version 7's 0.92",
        ),
        (
            NOT_WORSE_TOL,
            evidence(run={"val_auc": 0.918}),
            evidence(7, run={"val_auc": 0.92}),
            True,
            "0.918",
            ">= 0.915",
            "",
        ),
        (
            NOT_WORSE_TOL,
            evidence(run={"val_auc": 0.91}),
            evidence(7, run={"val_auc": 0.92}),
            False,
            "0.91",
            ">= 0.915",
            "worse by more than 0.005",
        ),
        (
            LOWER_BETTER,
            evidence(run={"loss": 0.3}),
            evidence(7, run={"loss": 0.2}),
            False,
            "0.3",
            "<= 0.2",
            "worse than version 7's 0.2",
        ),
        (LOWER_BETTER, evidence(run={"loss": 0.1}), evidence(7, run={"loss": 0.2}), True, "0.1", "<= 0.2", ""),
        # A first promotion has nothing to compare with; the alias's target still needs its other gates.
        (NOT_WORSE, evidence(run={"val_auc": 0.5}), None, True, "", "", "no version holds the alias yet"),
        (
            NOT_WORSE,
            evidence(run={}),
            evidence(7, run={"val_auc": 0.92}),
            False,
            "",
            "as good as version 7",
            "version 8 has no metric val_auc",
        ),
        (
            NOT_WORSE,
            evidence(run={"val_auc": 0.95}),
            evidence(7, run={}),
            False,
            "0.95",
            "",
            "current version 7 has no metric val_auc",
        ),
        (APPROVED, evidence(tags={"validation_status": "approved"}), None, True, "approved", "approved", ""),
        (
            APPROVED,
            evidence(tags={"validation_status": "pending"}),
            None,
            False,
            "pending",
            "approved",
            "validation_status='pending'",
        ),
        (APPROVED, evidence(tags={"other": "approved"}), None, False, "", "approved", "has no tag validation_status"),
        (APPROVED, evidence(tags={"validation_status": "Approved"}), None, False, "Approved", "approved", ""),
    ],
    ids=[
        "min-passes",
        "min-is-inclusive",
        "min-fails",
        "missing-metric-fails",
        "max-fails",
        "max-passes",
        "logged-model-wins-pass",
        "logged-model-wins-fail",
        "run-when-model-lacks-it",
        "not-worse-better",
        "not-worse-equal",
        "not-worse-worse",
        "not-worse-within-tolerance",
        "not-worse-beyond-tolerance",
        "lower-is-better-worse",
        "lower-is-better-better",
        "first-promotion-no-current",
        "not-worse-target-missing-metric",
        "not-worse-current-missing-metric",
        "tag-matches",
        "tag-different",
        "tag-missing",
        "tag-is-case-sensitive",
    ],
)
def test_gate_verdicts(
    gates: dict[str, Any],
    target: Evidence,
    current: Evidence | None,
    passed: bool,
    measured: str,
    required: str,
    message: str,
) -> None:
    [result] = judge(policy(**gates), target, current)
    assert (result.passed, result.measured, result.required) == (passed, measured, required)
    assert message in result.message


def test_every_gate_is_judged_and_all_must_pass() -> None:
    both = policy(
        requireTags={"validation_status": "approved", "reviewer": "ana"}, metrics=[{"name": "val_auc", "min": 0.9}]
    )
    results = judge(both, evidence(tags={"validation_status": "approved"}, run={"val_auc": 0.95}), None)
    assert [(x.gate, x.passed) for x in results] == [
        ("tag reviewer", False),
        ("tag validation_status", True),
        ("metric val_auc min", True),
    ]


def test_latest_value_of_a_metric_logged_several_times() -> None:
    points = [("val_auc", 0.7, 1), ("val_auc", 0.9, 3), ("val_auc", 0.8, 2), ("loss", 0.2, 5), ("loss", 0.3, 5)]
    assert latest_values(points) == {"val_auc": 0.9, "loss": 0.3}


def manifest(promotion: dict[str, Any], aliases: dict[str, Any] | None = None) -> dict[str, Any]:
    spec = {"workspaceRef": {"name": "w"}, "registeredName": "fraud", "aliases": aliases or {"champion": 2}}
    return {
        "apiVersion": "mlops.gitops.dev/v1alpha1",
        "kind": "MLModel",
        "metadata": {"name": "fraud"},
        "spec": {**spec, "promotion": promotion},
    }


@pytest.mark.parametrize(
    ("promotion", "problem"),
    [
        ({"champion": {"metrics": [{"name": "val_auc"}]}}, "set exactly one of min, max or notWorseThan"),
        ({"champion": {"metrics": [{"name": "val_auc", "min": 0.9, "max": 0.99}]}}, "set exactly one of min, max"),
        ({"champion": {"metrics": [{"name": "val_auc", "min": 0.9, "tolerance": 0.01}]}}, "tolerance"),
        ({"champion": {"metrics": [{"name": "val_auc", "max": 0.9, "greaterIsBetter": False}]}}, "greaterIsBetter"),
        ({"champion": {"metrics": [{"name": "val_auc", "notWorseThan": "best"}]}}, "notWorseThan"),
        ({"champion": {"metrics": [{"name": "val_auc", "notWorseThan": "current", "tolerance": -1}]}}, "tolerance"),
        ({"chamption": {"requireTags": {"validation_status": "approved"}}}, "spec.promotion"),
    ],
    ids=[
        "no-bound",
        "two-bounds",
        "tolerance-without-not-worse",
        "direction-without-not-worse",
        "not-worse-than-what",
        "negative-tolerance",
        "policy-for-an-alias-not-in-spec",
    ],
)
def test_bad_policies_are_refused_naming_the_field(promotion: dict[str, Any], problem: str) -> None:
    found = validate_document(manifest(promotion))
    assert any(problem in line for line in found), found


def test_a_good_policy_is_valid() -> None:
    good = {
        "champion": {
            "requireTags": {"validation_status": "approved"},
            "metrics": [
                {"name": "val_auc", "min": 0.91},
                {"name": "val_auc", "notWorseThan": "current", "tolerance": 0.005},
                {"name": "loss", "notWorseThan": "current", "greaterIsBetter": False},
            ],
        }
    }
    assert validate_document(manifest(good)) == []


# ---- the reconcile, over a fake registry that knows versions' tags and metrics ----


@dataclass
class GatedRegistry(FakeRegistry):
    """The fake registry, with each version's tags and run metrics for the gates."""

    metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    evidence_reads: int = 0

    def evidence(self, name: str, version: ObservedVersion) -> Evidence:
        self.evidence_reads += 1
        found = next(v for v in self.versions[name] if v.version == version.version)
        return Evidence(version.version, dict(found.tags), {}, dict(self.metrics.get(version.version, {})))


def gated(registry: GatedRegistry, aliases: dict[str, int], promotion: dict[str, Any]) -> MLModelSpec:
    return MLModelSpec.model_validate(
        {"workspaceRef": {"name": "w"}, "registeredName": "fraud", "aliases": aliases, "promotion": promotion}
    )


def reconcile(
    registry: GatedRegistry, spec: MLModelSpec, previous: r.Outcome | None = None, *, spec_changed: bool = True
) -> r.Outcome:
    status = {
        alias: PromotionStatus.model_validate(entry)
        for alias, entry in (previous.observed.get("promotion", {}) if previous else {}).items()
        if entry is not None
    }
    request = r.Request(owner=OWNER, spec_changed=spec_changed, promotion=status)
    return r.reconcile(spec, registry=registry, request=request)


def seeded(metrics_by_version: dict[int, dict[str, float]], champion: int | None = 1) -> GatedRegistry:
    registry = GatedRegistry(metrics=metrics_by_version)
    registry.seed(
        "fraud", versions=max(metrics_by_version), tags=OURS, aliases={"champion": champion} if champion else {}
    )
    return registry


def test_version_below_threshold_is_not_promoted_and_status_says_why() -> None:
    registry = seeded({1: {"val_auc": 0.95}, 2: {"val_auc": 0.87}})
    outcome = reconcile(registry, gated(registry, {"champion": 2}, {"champion": AUC_MIN}))
    assert registry.models["fraud"].aliases == {"champion": 1}
    assert (outcome.ready.ok, outcome.ready.reason, outcome.synced.ok) == (False, "PromotionBlocked", True)
    assert "alias champion stays at version 1: version 2 failed" in outcome.ready.message
    assert "val_auc 0.87 (from the run of version 2) is below 0.91" in outcome.ready.message
    entry = outcome.observed["promotion"]["champion"]
    assert (entry["target"], entry["current"], entry["state"]) == (2, 1, "Blocked")
    assert entry["gates"][0] | {"message": ""} == {
        "gate": "metric val_auc min",
        "passed": False,
        "measured": "0.87",
        "required": ">= 0.91",
        "message": "",
    }
    assert outcome.observed["aliases"] == {"champion": 1}
    assert [n.reason for n in outcome.notes] == ["PromotionBlocked"]
    assert outcome.retry_after is None  # judged again at the next drift check, not in a hot loop
    assert not outcome.applied


def test_blocked_alias_reported_once_per_target_and_proceeds_when_the_version_is_approved() -> None:
    registry = seeded({1: {}, 2: {}})
    spec = gated(registry, {"champion": 2}, {"champion": APPROVED})
    first = reconcile(registry, spec)
    again = reconcile(registry, spec, first, spec_changed=True)
    assert [n.reason for n in first.notes] == ["PromotionBlocked"]
    assert again.notes == ()  # the same block is not an Event on every tick
    assert again.ready.reason == "PromotionBlocked"

    registry.versions["fraud"][1].tags["validation_status"] = "approved"  # a reviewer, in the registry UI
    moved = reconcile(registry, spec, again, spec_changed=True)
    assert registry.models["fraud"].aliases == {"champion": 2}
    assert moved.ready.ok
    assert [n.reason for n in moved.notes] == ["PromotionPassed", "Updated"]
    assert moved.observed["promotion"]["champion"]["state"] == "Promoted"
    assert moved.observed["promotion"]["champion"]["gates"][0]["passed"]


def test_new_target_blocked_is_reported_again() -> None:
    registry = seeded({1: {}, 2: {}, 3: {}})
    first = reconcile(registry, gated(registry, {"champion": 2}, {"champion": APPROVED}))
    other = reconcile(registry, gated(registry, {"champion": 3}, {"champion": APPROVED}), first)
    assert [n.reason for n in other.notes] == ["PromotionBlocked"]
    assert "version 3" in other.notes[0].message


def test_other_aliases_tags_and_versions_still_apply_while_one_is_blocked() -> None:
    registry = seeded({1: {"val_auc": 0.95}, 2: {"val_auc": 0.5}, 3: {"val_auc": 0.5}})
    spec = MLModelSpec.model_validate(
        {
            "workspaceRef": {"name": "w"},
            "registeredName": "fraud",
            "tags": {"team": "risk"},
            "aliases": {"champion": 2, "challenger": 3},
            "promotion": {"champion": AUC_MIN},
        }
    )
    outcome = reconcile(registry, spec)
    assert registry.models["fraud"].aliases == {"champion": 1, "challenger": 3}
    assert registry.models["fraud"].tags["team"] == "risk"
    assert outcome.ready.reason == "PromotionBlocked"
    assert list(outcome.observed["promotion"]) == ["champion"]


def test_not_worse_than_compares_with_the_version_the_alias_holds_in_the_registry() -> None:
    registry = seeded({1: {"val_auc": 0.80}, 2: {"val_auc": 0.95}, 3: {"val_auc": 0.90}}, champion=2)
    outcome = reconcile(registry, gated(registry, {"champion": 3}, {"champion": NOT_WORSE}))
    assert registry.models["fraud"].aliases["champion"] == 2
    assert "version 2's 0.95" in outcome.ready.message

    registry.models["fraud"].aliases["champion"] = 1  # moved by hand: 3 is now compared with 1
    outcome = reconcile(registry, gated(registry, {"champion": 3}, {"champion": NOT_WORSE}), outcome)
    assert registry.models["fraud"].aliases["champion"] == 3
    assert outcome.observed["promotion"]["champion"]["current"] == 1


def test_first_promotion_passes_not_worse_than_but_still_needs_its_bounds() -> None:
    registry = seeded({1: {"val_auc": 0.5}}, champion=None)
    both = {"metrics": [{"name": "val_auc", "notWorseThan": "current"}, {"name": "val_auc", "min": 0.9}]}
    outcome = reconcile(registry, gated(registry, {"champion": 1}, {"champion": both}))
    assert registry.models["fraud"].aliases == {}
    assert "alias champion is not set: version 1 failed metric val_auc min" in outcome.ready.message


def test_alias_at_its_target_is_never_judged_or_demoted() -> None:
    registry = seeded({1: {"val_auc": 0.1}})
    outcome = reconcile(registry, gated(registry, {"champion": 1}, {"champion": AUC_MIN}))
    assert registry.evidence_reads == 0
    assert outcome.ready.ok
    assert outcome.observed["promotion"]["champion"] == {"target": 1, "current": 1, "state": "Promoted", "gates": []}


def test_target_that_passed_is_put_back_after_a_manual_move_without_judging_again() -> None:
    registry = seeded({1: {"val_auc": 0.95}, 2: {"val_auc": 0.95}})
    spec = gated(registry, {"champion": 2}, {"champion": AUC_MIN})
    promoted = reconcile(registry, spec)
    registry.metrics[2] = {}  # the run's metrics were deleted since
    registry.models["fraud"].aliases["champion"] = 1  # and someone moved the alias by hand
    reads = registry.evidence_reads
    outcome = reconcile(registry, spec, promoted, spec_changed=False)
    assert registry.models["fraud"].aliases["champion"] == 2
    assert registry.evidence_reads == reads
    assert [n.reason for n in outcome.notes] == ["DriftCorrected"]


def test_ungated_aliases_read_nothing_more() -> None:
    registry = seeded({1: {}, 2: {}})
    spec = MLModelSpec.model_validate(
        {"workspaceRef": {"name": "w"}, "registeredName": "fraud", "aliases": {"champion": 2}}
    )
    outcome = reconcile(registry, spec)
    assert registry.evidence_reads == 0
    assert outcome.observed["promotion"] == {}


def test_removed_policy_clears_its_status_entry() -> None:
    registry = seeded({1: {}, 2: {}})
    blocked = reconcile(registry, gated(registry, {"champion": 2}, {"champion": APPROVED}))
    plain = MLModelSpec.model_validate(
        {"workspaceRef": {"name": "w"}, "registeredName": "fraud", "aliases": {"champion": 2}}
    )
    outcome = reconcile(registry, plain, blocked)
    assert outcome.observed["promotion"] == {}  # the frame's status patch sends champion: null
    patch = status_patch(outcome, status={"promotion": blocked.observed["promotion"]}, generation=2, now=NOW)
    assert patch["promotion"] == {"champion": None}
    assert registry.models["fraud"].aliases["champion"] == 2


def sample(metric: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def test_gate_metrics_count_results_and_blocked_aliases() -> None:
    blocked_before = sample("mlops_promotion_gate_results_total", result="blocked")
    passed_before = sample("mlops_promotion_gate_results_total", result="passed")
    registry = seeded({1: {}, 2: {"val_auc": 0.5}, 3: {"val_auc": 0.99}})
    spec = gated(registry, {"champion": 2, "challenger": 3}, {"champion": AUC_MIN, "challenger": AUC_MIN})
    reconcile(registry, spec)
    assert sample("mlops_promotion_gate_results_total", result="blocked") == blocked_before + 1
    assert sample("mlops_promotion_gate_results_total", result="passed") == passed_before + 1
    assert sample("mlops_promotions_blocked", namespace="risk", name="fraud") == 1
    r.delete(spec, connect=lambda: registry, owner=OWNER)
    assert REGISTRY.get_sample_value("mlops_promotions_blocked", {"namespace": "risk", "name": "fraud"}) is None


def test_observe_only_judges_nothing_and_reports_drift() -> None:
    registry = seeded({1: {}, 2: {}})
    spec = MLModelSpec.model_validate(
        {
            "workspaceRef": {"name": "w"},
            "registeredName": "fraud",
            "managementPolicy": "ObserveOnly",
            "aliases": {"champion": 2},
            "promotion": {"champion": APPROVED},
        }
    )
    outcome = reconcile(registry, spec)
    assert registry.evidence_reads == 0
    assert (outcome.ready.ok, outcome.ready.reason) == (True, "DriftDetected")
