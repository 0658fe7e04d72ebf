"""Carrying out `spec.rollout`: pick the entity to roll, show the state machine the endpoint, write its target.

The decisions are `rollout.decide`'s; this module turns the endpoint into what it reads (`Seen`), measures
for it (`ServingProbe`), builds the config of the target it names (the rolled entity at its version, the
canary entity beside it with its share of the entity's traffic, every other entity and route as the spec
says) and sends it, never while an update is IN_PROGRESS. One entity rolls at a time: another entity whose
version changed meanwhile keeps serving its old version until the rollout ends.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from controller.kinds.servingendpoint import rollout, rollout_metrics
from controller.kinds.servingendpoint.config import check_versions
from controller.kinds.servingendpoint.observed import (
    DEPLOYMENT_READY,
    IN_PROGRESS,
    NOT_UPDATING,
    UPDATE_FAILED,
    Json,
    ObservedConfig,
    ObservedEndpoint,
)
from controller.kinds.servingendpoint.rollout import ABORTED, COMPLETED, Decision, Inputs, Seen, Target
from controller.kinds.servingendpoint.rollout_model import MetricCheck, RolloutStatus, canary_name
from controller.kinds.servingendpoint.state import EndpointRun
from controller.kinds.servingendpoint.wanted import Wanted
from controller.status import conditions as c

ACTIVE = ("Progressing", "Paused")
JOB_TOKEN_PREFIX = "mlops-rollout-"  # noqa: S105 (an idempotency token's prefix, not a secret)


@dataclass(frozen=True)
class Rolling:
    """What a reconcile under a rollout reports: Ready's verdict while it rolls, and when to look again."""

    verdict: c.Verdict | None  # None: the rollout is complete, Ready is the endpoint's own
    look_again: float | None
    sent: ObservedEndpoint | None  # the endpoint as a config write left it


def sync_rollout(run: EndpointRun, endpoint: ObservedEndpoint, wanted: list[Wanted]) -> Rolling | None:
    """Roll the changed entity out as spec.rollout says; None when nothing rolls (the config follows the spec)."""
    policy = run.spec.rollout
    assert policy is not None
    current = endpoint.pending if endpoint.config_update == IN_PROGRESS and endpoint.pending else endpoint.config
    recorded = run.request.rollout
    chosen = _entity(recorded, wanted, current)
    if chosen is None:
        return None
    canary = canary_name(chosen.name)
    others = _pinned(wanted, chosen, current)
    seen = Seen(
        at=lambda target: not _differences(run, others, chosen, target, current),
        settled=endpoint.config_update == NOT_UPDATING and _deployed(endpoint.config),
        failed=endpoint.config_update == UPDATE_FAILED,
        serving=_version(current, chosen.name),
        canary=_version(current, canary),
    )
    inputs = Inputs(
        policy=policy,
        entity=chosen.name,
        wanted=chosen.version,
        seen=seen,
        recorded=recorded,
        action=run.request.action,
        generation=run.request.generation,
        now=run.request.now,
    )
    decision = rollout.decide(inputs, ServingProbe(run, chosen))
    run.notes += decision.notes
    rollout_metrics.count(run.request.owner, decision)
    # The frame's status patch removes the fields this one leaves out (an ended step's analysis, ...).
    run.rollout = None if decision.status is None else decision.status.model_dump(by_alias=True, exclude_none=True)
    if decision.target is None:
        return None
    sent = _send(run, endpoint, others, chosen, decision.target, current)
    return Rolling(_verdict(decision, chosen), decision.look_again, sent)


def _entity(recorded: RolloutStatus | None, wanted: list[Wanted], current: ObservedConfig | None) -> Wanted | None:
    """The entity to roll: the one rolling now, else the first whose served version differs from the spec's."""
    by_name = {w.name: w for w in wanted}
    if recorded is not None and recorded.phase in ACTIVE and recorded.entity in by_name:
        return by_name[recorded.entity]
    changed = [w for w in wanted if _version(current, w.name) not in (None, w.version)]
    if changed:
        return changed[0]
    if recorded is not None and recorded.entity in by_name and recorded.phase in (ABORTED, COMPLETED):
        return by_name[recorded.entity]
    return None


def _pinned(wanted: list[Wanted], chosen: Wanted, current: ObservedConfig | None) -> list[Wanted]:
    """The other entities, each kept at the version it serves when it changed too (it rolls out next)."""
    others = []
    for w in wanted:
        if w.name == chosen.name:
            continue
        served = _version(current, w.name)
        others.append(dataclasses.replace(w, version=served) if served is not None else w)
    return others


def target_config(run: EndpointRun, others: list[Wanted], chosen: Wanted, target: Target) -> tuple[list[Wanted], Json]:
    """The served entities and routes of a target, with the config payload in Databricks' form."""
    entities = [dataclasses.replace(chosen, version=target.version)]
    routes = dict(run.spec.traffic)
    if target.canary is not None:
        name = canary_name(chosen.name)
        entities.append(Wanted(chosen.spec.model_copy(update={"name": name}), chosen.entity_name, target.canary))
        share = routes.get(chosen.name, 100)
        moved = min(share, max(1, round(share * target.weight / 100))) if target.weight and share else 0
        routes |= {chosen.name: share - moved, name: moved}
    served = [*entities, *others]
    order = {e.name: n for n, e in enumerate(run.spec.served_entities)}
    served.sort(key=lambda w: (order.get(w.name, len(order)), w.name))
    config: Json = {"served_entities": [w.payload() for w in served]}
    if routes:
        config["traffic_config"] = {
            "routes": [{"served_entity_name": n, "traffic_percentage": p} for n, p in sorted(routes.items())]
        }
    return served, config


def _differences(
    run: EndpointRun, others: list[Wanted], chosen: Wanted, target: Target, config: ObservedConfig | None
) -> list[str]:
    if config is None:
        return ["the endpoint has no config"]
    served, payload = target_config(run, others, chosen, target)
    found = [f"served entity {w.name} is missing" for w in served if config.entity(w.name) is None]
    found += [d for w in served if (e := config.entity(w.name)) is not None for d in w.differences(e)]
    names = {w.name for w in served}
    found += [f"served entity {e.name} is not wanted" for e in config.entities if e.name not in names]
    routes = {
        r["served_entity_name"]: r["traffic_percentage"] for r in payload.get("traffic_config", {}).get("routes", ())
    }
    if routes and {k: v for k, v in config.traffic.items() if v} != {k: v for k, v in routes.items() if v}:
        found.append("traffic differs")
    return found


def _send(
    run: EndpointRun,
    endpoint: ObservedEndpoint,
    others: list[Wanted],
    chosen: Wanted,
    target: Target,
    current: ObservedConfig | None,
) -> ObservedEndpoint | None:
    """Write the target's config when the endpoint is not at it and no update runs."""
    if endpoint.config_update == IN_PROGRESS or not _differences(run, others, chosen, target, current):
        return None
    served, config = target_config(run, others, chosen, target)
    check_versions(run, served, endpoint.config)
    if run.waits:
        return None
    return run.attempt(lambda: run.serving.update_config(run.name, config))


def _verdict(decision: Decision, chosen: Wanted) -> c.Verdict | None:
    rec = decision.status
    if rec is None or rec.phase == COMPLETED:
        return None
    if rec.phase == ABORTED:
        source = chosen.follows or "spec.servedEntities[].entityVersion"
        serves = f"the endpoint serves version {rec.stable_version} while {source} says {rec.canary_version}"
        return c.Verdict(False, c.ROLLOUT_ABORTED, f"{rec.message}; {serves}")
    doing = f"rolling {rec.entity} from version {rec.stable_version} to {rec.canary_version}: {rec.summary}"
    return c.Verdict(False, c.ROLLOUT_PROGRESSING, doing + (f"; {rec.message}" if rec.message else ""))


def _version(config: ObservedConfig | None, name: str) -> int | None:
    entity = config.entity(name) if config else None
    return entity.version if entity else None


def _deployed(config: ObservedConfig | None) -> bool:
    return config is not None and all(e.deployment == DEPLOYMENT_READY for e in config.entities)


class ServingProbe:
    """Measures the canary for the analysis: its served entity's health, and runs of the MLJobs it names."""

    def __init__(self, run: EndpointRun, chosen: Wanted) -> None:
        self._run = run
        self._chosen = chosen  # the canary serves the version the spec asks for

    def health(self) -> Mapping[str, float]:
        found = self._run.serving.endpoint_health(self._run.name).get(canary_name(self._chosen.name))
        return found.values if found is not None else {}

    def start_job(self, check: MetricCheck, key: str) -> int | None:
        assert check.job_ref is not None
        job_id = self._run.request.jobs.get(check.job_ref.name)
        if job_id is None:
            return None
        token = JOB_TOKEN_PREFIX + hashlib.sha256(f"{self._run.request.owner}/{key}".encode()).hexdigest()[:40]
        params = {"model": self._chosen.entity_name, "version": str(self._chosen.version)}
        return self._run.serving.run_job(job_id, params=params, idempotency_token=token)

    def job_result(self, run_id: int) -> str | None:
        return self._run.serving.job_run_result(run_id)
