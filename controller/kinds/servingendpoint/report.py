"""What a ServingEndpoint reconcile reports: status fields, the endpoint's own states, when to look again."""

from __future__ import annotations

from controller.kinds.servingendpoint.observed import (
    DEPLOYMENT_READY,
    IN_PROGRESS,
    READY,
    UPDATE_FAILED,
    Json,
    ObservedConfig,
    ObservedEndpoint,
)
from controller.kinds.servingendpoint.rollout_sync import Rolling
from controller.kinds.servingendpoint.state import UNSET, EndpointRun
from controller.reconciling.run import Holding
from controller.status import conditions as c
from controller.status.outcome import Outcome

NOT_READY_RETRY_SECONDS = 15.0
POLL_MIN_SECONDS = 2.0
POLL_MAX_SECONDS = 30.0


def outcome(
    run: EndpointRun, endpoint: ObservedEndpoint | None, *, applied: bool = False, rolling: Rolling | None = None
) -> Outcome:
    """The Outcome of a reconcile that reached the endpoint (or waits before there is one)."""
    config = endpoint.config if endpoint else None
    holding = _holding(run, endpoint) if endpoint else None
    if rolling is not None and rolling.verdict is not None:
        holding = _rolling(rolling, holding)
    return run.outcome(
        observed(run, endpoint),
        matches=f"serving endpoint {run.name} is READY and serves {_served_versions(config)}",
        holding=holding,
        applied=applied,
    )


def _rolling(rolling: Rolling, endpoint: Holding | None) -> Holding:
    """A rollout in progress (or aborted) is what Ready says, with the endpoint's own state after it."""
    assert rolling.verdict is not None
    message = rolling.verdict.message + (f"; {endpoint.ready.message}" if endpoint else "")
    retries = [r for r in (rolling.look_again, endpoint.retry if endpoint else None) if r is not None]
    return Holding(c.Verdict(False, rolling.verdict.reason, message), retry=min(retries) if retries else None)


def _holding(run: EndpointRun, endpoint: ObservedEndpoint) -> Holding | None:
    """The endpoint is as the spec wants it but not serving it yet: an update runs, failed, or is not ready."""
    if endpoint.config_update == IN_PROGRESS:
        progress = c.Verdict(False, c.UPDATE_IN_PROGRESS, _progress(endpoint))
        return Holding(progress, retry=_poll_seconds(endpoint, run.request.now))
    if endpoint.config_update == UPDATE_FAILED:
        return Holding(c.Verdict(False, c.UPDATE_FAILED, _failure(endpoint)), synced=False)
    if endpoint.ready != READY:
        return Holding(c.Verdict(False, c.ENDPOINT_NOT_READY, _not_ready(endpoint)), retry=NOT_READY_RETRY_SECONDS)
    return None


def observed(run: EndpointRun, endpoint: ObservedEndpoint | None) -> Json:
    """Status fields: what the endpoint serves now and is moving to, per entity and as a summary."""
    fields: Json = {"drift": run.drift}
    if run.config_attempt is not None:
        fields["configAttempt"] = run.config_attempt
    if run.rollout is not UNSET:
        fields["rollout"] = run.rollout
    config = endpoint.config if endpoint else None
    fields["servedEntities"] = _served_entities(run, config, endpoint.pending if endpoint else None)
    if endpoint is None:
        return fields
    table = endpoint.gateway.get("inference_table_config") or {}
    fields.update(
        url=run.serving.endpoint_url(run.name),
        endpointId=endpoint.id,
        ready=endpoint.ready,
        configUpdate=endpoint.config_update,
        configVersion=config.version if config else None,
        servedVersions=_served_versions(config),
        inferenceTableName=(
            f"{table['catalog_name']}.{table['schema_name']}.{table.get('table_name_prefix') or run.name}_payload"
            if table.get("enabled")
            else None
        ),
    )
    return fields


def _served_entities(run: EndpointRun, config: ObservedConfig | None, pending: ObservedConfig | None) -> list[Json]:
    """Each served entity (the spec's, then any other the endpoint has): version now, moving to, wanted."""
    spec_names = [e.name for e in run.spec.served_entities]
    extra = [e.name for cfg in (config, pending) if cfg for e in cfg.entities if e.name not in spec_names]
    entities = []
    for name in dict.fromkeys([*spec_names, *extra]):
        now = config.entity(name) if config else None
        moving = pending.entity(name) if pending else None
        shown = moving or now
        deployment = shown.deployment if shown else None
        entities.append(
            {
                "name": name,
                "entityName": (now.entity_name if now else None) or (moving.entity_name if moving else None),
                "entityVersion": now.version if now else None,
                "pendingVersion": moving.version if moving and (now is None or moving.version != now.version) else None,
                "desiredVersion": run.versions.get(name),
                "deployment": deployment,
                "message": shown.message if shown and deployment != DEPLOYMENT_READY else "",
            }
        )
    return entities


def _progress(endpoint: ObservedEndpoint) -> str:
    pending = endpoint.pending
    if pending is None:
        return "a config update is in progress"
    moves = [
        f"{e.name} -> version {e.entity_version}"
        for e in pending.entities
        if endpoint.config is None or _version_of(endpoint.config, e.name) != e.entity_version
    ]
    return f"config version {pending.version} is rolling out" + (f": {', '.join(moves)}" if moves else "")


def _failure(endpoint: ObservedEndpoint) -> str:
    entities = [*(endpoint.config.entities if endpoint.config else ())]
    entities += endpoint.pending.entities if endpoint.pending else ()
    messages = [f"{e.name}: {e.message}" for e in entities if e.deployment != DEPLOYMENT_READY and e.message]
    detail = "; ".join(dict.fromkeys(messages)) or "Databricks gave no reason; the previous config keeps serving"
    return f"the last config update failed: {detail}"


def _not_ready(endpoint: ObservedEndpoint) -> str:
    entities = endpoint.config.entities if endpoint.config else ()
    messages = [f"{e.name}: {e.deployment} {e.message}".strip() for e in entities if e.deployment != DEPLOYMENT_READY]
    return "the endpoint is NOT_READY" + (f": {'; '.join(messages)}" if messages else "")


def _poll_seconds(endpoint: ObservedEndpoint, now: float) -> float:
    """Look again soon after an update starts, less often the longer it runs."""
    if endpoint.pending_since_ms is None:
        return POLL_MIN_SECONDS * 2
    elapsed = max(0.0, now - endpoint.pending_since_ms / 1000)
    return min(POLL_MAX_SECONDS, max(POLL_MIN_SECONDS, elapsed / 4))


def _version_of(config: ObservedConfig, name: str) -> str | None:
    entity = config.entity(name)
    return entity.entity_version if entity else None


def _served_versions(config: ObservedConfig | None) -> str:
    return ",".join(f"{e.name}={e.entity_version}" for e in config.entities) if config else ""
