"""Reconcile a ServingEndpoint: resolve what to serve, read the endpoint once, apply, report.

Databricks applies a config change asynchronously (minutes, sometimes half an hour),
and while `state.config_update` is IN_PROGRESS it refuses every other write. So a
reconcile never waits: it reads the endpoint, and when an update is in progress it
writes nothing and asks to look again soon. Otherwise it applies the parts in order,
one after another, each only when it differs: the config (served entities and traffic),
then the tags, then the AI gateway. A config write starts an update, so the tags and
the gateway follow in a later reconcile, once it is done.

When a served entity follows an MLModel alias, the version comes from the MLModel
index (no external call); a version is checked to be READY in Unity Catalog before a
config serving it is sent, so an endpoint waits for training instead of failing.

The steps live in their own modules (`wanted`, `config`, `tagging`, `gateway`, `report`);
this one holds the order, and names what the handlers use.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.clients import errors
from controller.kinds.servingendpoint import report, rollout_metrics
from controller.kinds.servingendpoint.config import check_versions, sync_config
from controller.kinds.servingendpoint.gateway import gateway_differences, gateway_parts, sync_gateway
from controller.kinds.servingendpoint.model import ServingEndpointSpec
from controller.kinds.servingendpoint.observed import IN_PROGRESS, UPDATE_FAILED, ObservedEndpoint
from controller.kinds.servingendpoint.rollout_sync import Rolling, sync_rollout
from controller.kinds.servingendpoint.state import EndpointRun, Request, Serving
from controller.kinds.servingendpoint.tagging import adopt, sync_tags, wanted_tags
from controller.kinds.servingendpoint.wanted import (
    Wanted,
    attempt_key,
    config_differences,
    config_payload,
    desired_versions,
    resolve,
    summary,
)
from controller.reconciling import ownership, permissions, policy
from controller.reconciling.run import guarded
from controller.status import conditions as c
from controller.status.outcome import Outcome

__all__ = [
    "Request",
    "Serving",
    "Wanted",
    "config_differences",
    "config_payload",
    "delete",
    "desired_versions",
    "gateway_differences",
    "gateway_parts",
    "reconcile",
    "resolve",
]

WAIT_RETRY_SECONDS = 10.0


def reconcile(spec: ServingEndpointSpec, *, serving: Serving, request: Request) -> Outcome:
    """Make the endpoint match the spec (or, under ObserveOnly, report how it differs)."""
    run = EndpointRun(
        spec=spec,
        request=request,
        serving=serving,
        spec_changed=request.applied_generation != request.generation,
        observe_only=policy.observe_only(spec),
        wait_retry=WAIT_RETRY_SECONDS,
    )
    return permissions.reported(guarded(run, lambda: _reconcile(run)), run.permissions)


def delete(spec: ServingEndpointSpec, *, connect: Callable[[], Serving], owner: str) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all, and an endpoint owned by someone else is never deleted.
    """
    name = spec.endpoint_name
    rollout_metrics.forget(owner)
    kept = policy.kept_on_delete(spec, f"serving endpoint {name}")
    if kept is not None:
        return kept
    serving = connect()
    endpoint = serving.get_endpoint(name)
    if endpoint is None:
        return f"serving endpoint {name} was already gone"
    if not ownership.owned_by(endpoint.tags, owner):
        return f"kept serving endpoint {name}: it is not owned by {owner}"
    try:
        serving.delete_endpoint(name)
    except errors.NotFound:
        return f"serving endpoint {name} was already gone"
    return f"deleted serving endpoint {name}"


def _reconcile(run: EndpointRun) -> Outcome:
    wanted, waits = resolve(run.spec, run.request.models)
    run.versions = {e.name: None for e in run.spec.served_entities} | {w.name: w.version for w in wanted}
    run.waits += waits
    endpoint = run.serving.get_endpoint(run.name)
    if endpoint is None:
        return _missing(run, wanted)
    if run.observe_only:
        _observe(run, endpoint, wanted)
        _sync_permissions(run, endpoint)
        return report.outcome(run, endpoint)
    what = f"serving endpoint {run.name}"
    claim = ownership.claim(endpoint.tags, owner=run.request.owner, adopt=run.spec.adopt, what=what)
    if not claim.mine:
        return run.not_ours(claim.reason, claim.message, observed=report.observed(run, endpoint))
    if claim.adopt:
        endpoint = adopt(run, endpoint)
    _sync_permissions(run, endpoint)
    rolling = sync_rollout(run, endpoint, wanted) if run.spec.rollout is not None and not run.waits else None
    if rolling is not None:
        return _rolled(run, endpoint, rolling)
    if endpoint.config_update == IN_PROGRESS or run.waits:
        return report.outcome(run, endpoint)
    pending = sync_config(run, endpoint, wanted)
    if pending is not None:
        return report.outcome(run, pending)
    if run.waits:
        return report.outcome(run, endpoint)
    config_done = not run.problems and not config_differences(run.spec, wanted, endpoint.config)
    endpoint = sync_tags(run, endpoint)
    endpoint = sync_gateway(run, endpoint)
    complete = config_done and endpoint.config_update != UPDATE_FAILED and not run.problems
    return report.outcome(run, endpoint, applied=complete)


def _rolled(run: EndpointRun, endpoint: ObservedEndpoint, rolling: Rolling) -> Outcome:
    """Under a rollout the config is the rollout's; tags and AI gateway follow the spec once no update runs."""
    if rolling.sent is not None or endpoint.config_update == IN_PROGRESS or run.waits:
        return report.outcome(run, rolling.sent or endpoint, rolling=rolling)
    endpoint = sync_tags(run, endpoint)
    endpoint = sync_gateway(run, endpoint)
    complete = rolling.verdict is None and endpoint.config_update != UPDATE_FAILED and not run.problems
    return report.outcome(run, endpoint, applied=complete, rolling=rolling)


def _missing(run: EndpointRun, wanted: list[Wanted]) -> Outcome:
    """No endpoint of that name: create it with config, tags and AI gateway in one call."""
    if run.observe_only:
        return run.failed(c.EXTERNAL_OBJECT_MISSING, f"serving endpoint {run.name} does not exist", retry=None)
    if not run.waits:
        check_versions(run, wanted, None)
    if run.waits:
        return report.outcome(run, None)
    config = config_payload(run.spec, wanted)
    gateway = gateway_parts(run.spec) or None
    endpoint = run.serving.create_endpoint(run.name, config=config, tags=wanted_tags(run), gateway=gateway)
    run.config_attempt = attempt_key(config, run.request.generation)
    run.note("Created", f"created serving endpoint {run.name} serving {summary(wanted)}")
    _sync_permissions(run, endpoint)
    return report.outcome(run, endpoint)


def _sync_permissions(run: EndpointRun, endpoint: ObservedEndpoint) -> None:
    """spec.permissions on the endpoint (by its id): one read, and one write when they differ."""
    recorded = run.request.managed_permissions
    if endpoint.id is None or not permissions.wanted_at_all(run.spec.permissions, recorded):
        return
    mode, identity = run.spec.permissions_mode, run.request.identity
    want = permissions.wanted(run.spec.permissions, mode=mode, recorded=recorded, controller=identity)
    run.permissions = permissions.sync(run, run.serving, endpoint.id, want, what=f"serving endpoint {run.name}")


def _observe(run: EndpointRun, endpoint: ObservedEndpoint, wanted: list[Wanted]) -> None:
    """ObserveOnly: list every difference, write nothing."""
    if not run.waits:
        run.drift += config_differences(run.spec, wanted, endpoint.config)
    run.drift += [
        f"tag {k} is {endpoint.tags.get(k)!r}, spec says {v!r}"
        for k, v in sorted(run.spec.tags.items())
        if endpoint.tags.get(k) != v
    ]
    run.drift += gateway_differences(run.spec, endpoint.gateway)
