"""Reconcile a ServingEndpoint: resolve what to serve, read the endpoint once, apply, report.

Databricks applies a config change asynchronously (minutes, sometimes half an hour),
and while `state.config_update` is IN_PROGRESS it refuses every other write. So a
reconcile never waits: it reads the endpoint, and when an update is in progress it
writes nothing and asks to look again soon. Otherwise it applies the parts in order,
one after another, each only when it differs: the config (served entities and traffic),
then the tags, then the AI gateway. A config write starts an update, so the tags and
the gateway follow in a later reconcile, once it is done.

Only what the spec says is compared: the server fills in defaults (routes, served
entity names, workload settings), and parts the spec leaves unset (AI gateway pieces)
stay as they are. Served entities are always named explicitly, so a new version keeps
the entity's name and the routes that use it.

When a served entity follows an MLModel alias, the version comes from the MLModel
index (no external call); a version is checked to be READY in Unity Catalog before a
config serving it is sent, so an endpoint waits for training instead of failing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from controller.clients import errors
from controller.kinds.servingendpoint.model import ServedEntity, ServingEndpointSpec
from controller.kinds.servingendpoint.observed import (
    DEPLOYMENT_READY,
    IN_PROGRESS,
    READY,
    UPDATE_FAILED,
    Json,
    ObservedConfig,
    ObservedEndpoint,
    ObservedEntity,
)
from controller.kinds.servingendpoint.refs import ModelView
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome, failure, record_change

TAG_PREFIX = "mlops.gitops.dev"
OWNER_TAG = f"{TAG_PREFIX}/owner"
MANAGED_BY_TAG = f"{TAG_PREFIX}/managed-by"
MANAGED_TAG = f"{TAG_PREFIX}/managed"  # JSON: the tag keys this resource set
CONTROLLER_NAME = "mlops-gitops-controller"

WAIT_RETRY_SECONDS = 10.0
UNAVAILABLE_RETRY_SECONDS = 10.0
NOT_READY_RETRY_SECONDS = 15.0
POLL_MIN_SECONDS = 2.0
POLL_MAX_SECONDS = 30.0

T = TypeVar("T")


class Serving(Protocol):
    """What the reconcile needs from Databricks Model Serving (and Unity Catalog, for version states)."""

    def get_endpoint(self, name: str) -> ObservedEndpoint | None: ...
    def create_endpoint(
        self, name: str, *, config: Json, tags: dict[str, str], gateway: Json | None
    ) -> ObservedEndpoint: ...
    def update_config(self, name: str, config: Json) -> ObservedEndpoint: ...
    def patch_tags(self, name: str, *, add: dict[str, str], remove: list[str]) -> dict[str, str]: ...
    def put_ai_gateway(self, name: str, gateway: Json) -> Json: ...
    def delete_endpoint(self, name: str) -> None: ...
    def version_status(self, model: str, version: int) -> str | None: ...
    def endpoint_url(self, name: str) -> str: ...


@dataclass(frozen=True)
class Request:
    """One reconcile's input besides the spec: who asks, what status remembers, the followed MLModels."""

    owner: str  # "namespace/name" of the resource
    generation: int
    now: float  # epoch seconds: how long an update has been running decides how soon to look again
    models: Mapping[str, ModelView] = field(default_factory=dict)  # MLModels of this namespace, by name
    applied_generation: int | None = None
    desired_versions: Mapping[str, int | None] = field(default_factory=dict)  # entity → version last wanted
    config_attempt: str | None = None


@dataclass(frozen=True)
class Wanted:
    """A served entity as the spec wants it, its version resolved."""

    spec: ServedEntity
    entity_name: str
    version: int

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def follows(self) -> str | None:
        """'alias A of MLModel M' when the version comes from an alias."""
        ref = self.spec.model_ref
        return f"alias {ref.alias} of MLModel {ref.name}" if ref else None

    def payload(self) -> Json:
        """The served entity in Databricks' form."""
        body: Json = {
            "name": self.name,
            "entity_name": self.entity_name,
            "entity_version": str(self.version),
            "workload_size": self.spec.workload_size,
            "workload_type": self.spec.workload_type,
            "scale_to_zero_enabled": self.spec.scale_to_zero,
        }
        if self.spec.environment_vars:
            body["environment_vars"] = dict(self.spec.environment_vars)
        return body

    def differences(self, served: ObservedEntity) -> list[str]:
        found: list[str] = []
        name = f"served entity {self.name}"
        if (served.entity_name or "").lower() != self.entity_name.lower():
            found.append(f"{name} serves {served.entity_name}, spec says {self.entity_name}")
        if served.entity_version != str(self.version):
            found.append(f"{name} serves version {served.entity_version}, spec says {self.version}")
        if served.workload_size != self.spec.workload_size:
            found.append(f"{name} workload size is {served.workload_size}, spec says {self.spec.workload_size}")
        if (served.workload_type or "CPU") != self.spec.workload_type:
            found.append(f"{name} workload type is {served.workload_type}, spec says {self.spec.workload_type}")
        if bool(served.scale_to_zero) != self.spec.scale_to_zero:
            found.append(f"{name} scale to zero is {bool(served.scale_to_zero)}, spec says {self.spec.scale_to_zero}")
        if served.environment_vars != self.spec.environment_vars:
            found.append(f"{name} environment variables differ")
        return found


@dataclass
class _Run:
    """What one reconcile has done and found so far."""

    spec: ServingEndpointSpec
    request: Request
    serving: Serving
    versions: dict[str, int | None] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    problems: list[c.Verdict] = field(default_factory=list)
    waits: list[c.Verdict] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    corrections: int = 0
    attempt: str | None = None

    @property
    def name(self) -> str:
        return self.spec.endpoint_name

    @property
    def observe_only(self) -> bool:
        return self.spec.management_policy == "ObserveOnly"

    @property
    def spec_changed(self) -> bool:
        """This generation has not been applied in full yet: differences are the user's change, not drift."""
        return self.request.applied_generation != self.request.generation

    def changed(self, what: str) -> None:
        self.corrections += record_change(self.notes, what, spec_changed=self.spec_changed)

    def failed(self, reason: str, message: str, *, retry: float | None) -> Outcome:
        return failure(reason, message, notes=self.notes, retry=retry, corrections=self.corrections)


def reconcile(spec: ServingEndpointSpec, *, serving: Serving, request: Request) -> Outcome:
    """Make the endpoint match the spec (or, under ObserveOnly, report how it differs)."""
    run = _Run(spec=spec, request=request, serving=serving)
    try:
        return _reconcile(run)
    except errors.Unavailable as exc:
        return run.failed(c.EXTERNAL_UNAVAILABLE, str(exc), retry=exc.retry_after or UNAVAILABLE_RETRY_SECONDS)
    except errors.Unauthorized as exc:
        return run.failed(c.CONNECTION_FAILED, f"Databricks refused the credentials: {exc}", retry=None)
    except (errors.NotFound, errors.AlreadyExists) as exc:  # created or deleted meanwhile: look again soon
        return run.failed(c.EXTERNAL_UNAVAILABLE, str(exc), retry=WAIT_RETRY_SECONDS)
    except errors.Rejected as exc:
        return run.failed(c.EXTERNAL_REJECTED, str(exc), retry=None)


def delete(spec: ServingEndpointSpec, *, connect: Callable[[], Serving], owner: str) -> str:
    """Carry out deletionPolicy; returns what was done. Raises the external error when a delete fails.

    Retain and ObserveOnly never connect at all, and an endpoint owned by someone else is never deleted.
    """
    name = spec.endpoint_name
    if spec.deletion_policy == "Retain" or spec.management_policy == "ObserveOnly":
        return f"kept serving endpoint {name} (deletionPolicy {spec.deletion_policy})"
    serving = connect()
    endpoint = serving.get_endpoint(name)
    if endpoint is None:
        return f"serving endpoint {name} was already gone"
    if endpoint.tags.get(OWNER_TAG) != owner:
        return f"kept serving endpoint {name}: it is not owned by {owner}"
    try:
        serving.delete_endpoint(name)
    except errors.NotFound:
        return f"serving endpoint {name} was already gone"
    return f"deleted serving endpoint {name}"


def resolve(spec: ServingEndpointSpec, models: Mapping[str, ModelView]) -> tuple[list[Wanted], list[c.Verdict]]:
    """Each served entity with its version (from the spec, or from the alias it follows), and why others wait."""
    wanted: list[Wanted] = []
    waits: list[c.Verdict] = []
    for entity in spec.served_entities:
        ref = entity.model_ref
        if ref is None:
            wanted.append(Wanted(entity, str(entity.entity_name), int(entity.entity_version or 0)))
            continue
        model = models.get(ref.name)
        if model is None:
            waits.append(
                c.Verdict(
                    False,
                    c.WAITING_FOR_DEPENDENCY,
                    f"served entity {entity.name}: MLModel {ref.name} does not exist in this namespace",
                )
            )
        elif not model.ready:
            waits.append(
                c.Verdict(
                    False,
                    c.WAITING_FOR_DEPENDENCY,
                    f"served entity {entity.name}: MLModel {ref.name} is not Ready ({model.message})",
                )
            )
        elif ref.alias not in model.aliases:
            waits.append(
                c.Verdict(
                    False,
                    c.WAITING_FOR_MODEL_VERSION,
                    f"served entity {entity.name}: alias {ref.alias} of MLModel {ref.name}"
                    f" ({model.registered_name}) is not set",
                )
            )
        else:
            wanted.append(Wanted(entity, model.registered_name, model.aliases[ref.alias]))
    return wanted, waits


def desired_versions(spec: ServingEndpointSpec, models: Mapping[str, ModelView]) -> dict[str, int | None]:
    """Served entity name → the version the spec asks for now (None while it cannot be resolved)."""
    found = {w.name: w.version for w in resolve(spec, models)[0]}
    return {e.name: found.get(e.name) for e in spec.served_entities}


def config_payload(spec: ServingEndpointSpec, wanted: list[Wanted]) -> Json:
    """The endpoint config in Databricks' form: named served entities, and routes when the spec sets them."""
    config: Json = {"served_entities": [w.payload() for w in wanted]}
    if spec.traffic:
        config["traffic_config"] = {
            "routes": [
                {"served_entity_name": name, "traffic_percentage": percent}
                for name, percent in sorted(spec.traffic.items())
            ]
        }
    return config


def config_differences(spec: ServingEndpointSpec, wanted: list[Wanted], config: ObservedConfig | None) -> list[str]:
    """How the endpoint's config differs from the spec, in the fields the spec sets."""
    if config is None:
        return ["the endpoint has no config"]
    found: list[str] = []
    for entity in wanted:
        served = config.entity(entity.name)
        if served is None:
            found.append(f"served entity {entity.name} is missing")
        else:
            found += entity.differences(served)
    names = {e.name for e in spec.served_entities}
    found += [f"served entity {e.name} is not in the spec" for e in config.entities if e.name not in names]
    if spec.traffic and _routed(config.traffic) != _routed(spec.traffic):
        found.append(f"traffic is {_routes(config.traffic)}, spec says {_routes(spec.traffic)}")
    return found


def gateway_parts(spec: ServingEndpointSpec) -> Json:
    """The AI gateway parts the spec sets, in Databricks' form."""
    parts: Json = {}
    table = spec.inference_table
    if table is not None:
        parts["inference_table_config"] = {
            "catalog_name": table.catalog,
            "schema_name": table.schema_,
            "table_name_prefix": table.table_prefix,
            "enabled": table.enabled,
        }
    if spec.rate_limits is not None:
        parts["rate_limits"] = [
            {
                "renewal_period": limit.renewal_period,
                "calls": limit.calls,
                "key": limit.key,
                **({"principal": limit.principal} if limit.principal else {}),
            }
            for limit in spec.rate_limits
        ]
    if spec.usage_tracking is not None:
        parts["usage_tracking_config"] = {"enabled": spec.usage_tracking}
    return parts


def gateway_differences(spec: ServingEndpointSpec, gateway: Json) -> list[str]:
    """How the endpoint's AI gateway differs from the parts the spec sets."""
    wanted = gateway_parts(spec)
    found: list[str] = []
    if "inference_table_config" in wanted:
        now, want = _table(gateway.get("inference_table_config")), _table(wanted["inference_table_config"])
        if now != want:
            found.append(f"inference table is {_describe_table(now)}, spec says {_describe_table(want)}")
    if "rate_limits" in wanted and _limits(gateway.get("rate_limits")) != _limits(wanted["rate_limits"]):
        found.append("rate limits differ")
    if "usage_tracking_config" in wanted:
        now_tracking = bool((gateway.get("usage_tracking_config") or {}).get("enabled"))
        if now_tracking != wanted["usage_tracking_config"]["enabled"]:
            found.append(f"usage tracking is {now_tracking}, spec says {not now_tracking}")
    return found


def _reconcile(run: _Run) -> Outcome:
    wanted, waits = resolve(run.spec, run.request.models)
    run.versions = {e.name: None for e in run.spec.served_entities} | {w.name: w.version for w in wanted}
    run.waits += waits
    endpoint = run.serving.get_endpoint(run.name)
    if endpoint is None:
        return _missing(run, wanted)
    if run.observe_only:
        _observe(run, endpoint, wanted)
        return _outcome(run, endpoint)
    refusal, endpoint = _claim(run, endpoint)
    if refusal is not None:
        return _refused(run, refusal, endpoint)
    if endpoint.config_update == IN_PROGRESS or run.waits:
        return _outcome(run, endpoint)
    pending = _sync_config(run, endpoint, wanted)
    if pending is not None:
        return _outcome(run, pending)
    if run.waits:
        return _outcome(run, endpoint)
    config_done = not run.problems and not config_differences(run.spec, wanted, endpoint.config)
    endpoint = _sync_tags(run, endpoint)
    endpoint = _sync_gateway(run, endpoint)
    complete = config_done and endpoint.config_update != UPDATE_FAILED and not run.problems
    return _outcome(run, endpoint, applied=complete)


def _missing(run: _Run, wanted: list[Wanted]) -> Outcome:
    """No endpoint of that name: create it with config, tags and AI gateway in one call."""
    if run.observe_only:
        return run.failed(c.EXTERNAL_OBJECT_MISSING, f"serving endpoint {run.name} does not exist", retry=None)
    if not run.waits:
        _check_versions(run, wanted, None)
    if run.waits:
        return _outcome(run, None)
    config = config_payload(run.spec, wanted)
    tags = {**run.spec.tags, **_ownership_tags(run.request.owner), MANAGED_TAG: _encode_managed(run.spec.tags)}
    gateway = gateway_parts(run.spec) or None
    endpoint = run.serving.create_endpoint(run.name, config=config, tags=tags, gateway=gateway)
    run.attempt = _attempt_key(config, run.request.generation)
    run.notes.append(Note("Created", f"created serving endpoint {run.name} serving {_summary(wanted)}"))
    return _outcome(run, endpoint)


def _claim(run: _Run, endpoint: ObservedEndpoint) -> tuple[c.Verdict | None, ObservedEndpoint]:
    """Refuse an endpoint owned by another resource; adopt an unowned one only when asked."""
    owner = endpoint.tags.get(OWNER_TAG)
    if owner == run.request.owner:
        return None, endpoint
    if owner:
        return c.Verdict(False, c.OWNED_BY_ANOTHER, f"serving endpoint {run.name} is owned by {owner}"), endpoint
    if not run.spec.adopt:
        message = f"serving endpoint {run.name} already exists and is not managed; set spec.adopt: true to take it over"
        return c.Verdict(False, c.ADOPTION_REQUIRED, message), endpoint
    if endpoint.config_update == IN_PROGRESS:
        return None, endpoint  # adopted once the update is done: no write while IN_PROGRESS
    tags = run.serving.patch_tags(run.name, add=_ownership_tags(run.request.owner), remove=[])
    run.notes.append(Note("Adopted", f"adopted existing serving endpoint {run.name}"))
    return None, dataclasses.replace(endpoint, tags=tags)


def _sync_config(run: _Run, endpoint: ObservedEndpoint, wanted: list[Wanted]) -> ObservedEndpoint | None:
    """Send the config when it differs; returns the endpoint as the update left it, or None when nothing was sent.

    A config whose update failed is not sent again for the same spec generation: Databricks
    would only fail it again, and each attempt can take many minutes.
    """
    differences = config_differences(run.spec, wanted, endpoint.config)
    failed = endpoint.config_update == UPDATE_FAILED
    if not differences and not failed:
        return None
    config = config_payload(run.spec, wanted)
    attempt = _attempt_key(config, run.request.generation)
    if failed and attempt == run.request.config_attempt:
        return None
    _check_versions(run, wanted, endpoint.config)
    if run.waits:
        return None
    updated = _apply(run, lambda: run.serving.update_config(run.name, config))
    if updated is None:
        return None
    run.attempt = attempt
    what = "; ".join(differences) if differences else "sent the config again after a failed update"
    moved = [w for w in wanted if w.follows and run.request.desired_versions.get(w.name) != w.version]
    if moved and not run.spec_changed:
        rolls = ", ".join(f"{w.name} to version {w.version} ({w.follows})" for w in moved)
        run.notes.append(Note("AliasMoved", f"rolling served entity {rolls}"))
    else:
        run.changed(f"updating the config: {what}")
    return updated


def _check_versions(run: _Run, wanted: list[Wanted], config: ObservedConfig | None) -> None:
    """Wait for every Unity Catalog version the config would newly serve to be READY."""
    served = {
        ((e.entity_name or "").lower(), e.entity_version)
        for e in (config.entities if config else ())
        if e.deployment == DEPLOYMENT_READY
    }
    checked: dict[tuple[str, int], str | None] = {}
    for entity in wanted:
        key = (entity.entity_name.lower(), entity.version)
        if (key[0], str(entity.version)) in served or len(entity.entity_name.split(".")) != 3:
            continue
        if key not in checked:
            checked[key] = run.serving.version_status(entity.entity_name, entity.version)
        state = checked[key]
        if state == READY:
            continue
        what = "does not exist" if state is None else f"is {state}, not READY"
        run.waits.append(
            c.Verdict(
                False,
                c.WAITING_FOR_MODEL_VERSION,
                f"served entity {entity.name}: version {entity.version} of {entity.entity_name} {what}",
            )
        )


def _sync_tags(run: _Run, endpoint: ObservedEndpoint) -> ObservedEndpoint:
    """Set the spec's tags and ownership; remove only tags this resource set and no longer lists."""
    desired = {**run.spec.tags, **_ownership_tags(run.request.owner), MANAGED_TAG: _encode_managed(run.spec.tags)}
    add = {k: v for k, v in desired.items() if endpoint.tags.get(k) != v}
    remove = sorted(k for k in _managed(endpoint.tags) - set(run.spec.tags) if k in endpoint.tags)
    if not add and not remove:
        return endpoint
    tags = _apply(run, lambda: run.serving.patch_tags(run.name, add=add, remove=remove))
    if tags is None:
        return endpoint
    described = [f"set tag {k}={v}" for k, v in sorted(add.items()) if not k.startswith(TAG_PREFIX)]
    described += [f"removed tag {k}" for k in remove]
    if described:
        run.changed(", ".join(described))
    return dataclasses.replace(endpoint, tags=tags)


def _sync_gateway(run: _Run, endpoint: ObservedEndpoint) -> ObservedEndpoint:
    """Put the AI gateway parts the spec sets, keeping the others as they are."""
    differences = gateway_differences(run.spec, endpoint.gateway)
    if not differences:
        return endpoint
    desired = {**endpoint.gateway, **gateway_parts(run.spec)}
    now = endpoint.gateway.get("inference_table_config") or {}
    want = desired.get("inference_table_config") or {}
    if now.get("enabled") and want.get("enabled") and _table(now) != _table(want):
        # Databricks refuses to move an enabled inference table: turn capture off first.
        paused = {**endpoint.gateway, "inference_table_config": {**now, "enabled": False}}
        if _apply(run, lambda: run.serving.put_ai_gateway(run.name, paused)) is None:
            return endpoint
    gateway = _apply(run, lambda: run.serving.put_ai_gateway(run.name, desired))
    if gateway is None:
        return endpoint
    run.changed("AI gateway: " + "; ".join(differences))
    return dataclasses.replace(endpoint, gateway=gateway)


def _observe(run: _Run, endpoint: ObservedEndpoint, wanted: list[Wanted]) -> None:
    """ObserveOnly: list every difference, write nothing."""
    if not run.waits:
        run.drift += config_differences(run.spec, wanted, endpoint.config)
    run.drift += [
        f"tag {k} is {endpoint.tags.get(k)!r}, spec says {v!r}"
        for k, v in sorted(run.spec.tags.items())
        if endpoint.tags.get(k) != v
    ]
    run.drift += gateway_differences(run.spec, endpoint.gateway)


def _apply(run: _Run, action: Callable[[], T]) -> T | None:
    """Run one write; a refusal is recorded as a problem instead of stopping the reconcile."""
    try:
        return action()
    except errors.Rejected as exc:
        run.problems.append(c.Verdict(False, c.EXTERNAL_REJECTED, str(exc)))
        run.notes.append(Note(c.EXTERNAL_REJECTED, str(exc), warning=True))
        return None


def _refused(run: _Run, refusal: c.Verdict, endpoint: ObservedEndpoint) -> Outcome:
    """The endpoint is not ours to manage: say so, report what it serves, write nothing."""
    return Outcome(
        ready=refusal,
        synced=c.Verdict(True, c.RECONCILED, ""),
        observed=_observed(run, endpoint, applied=False),
        notes=(*run.notes, Note(refusal.reason, refusal.message, warning=True)),
    )


def _outcome(run: _Run, endpoint: ObservedEndpoint | None, *, applied: bool = False) -> Outcome:
    observed = _observed(run, endpoint, applied=applied)
    notes = list(run.notes)
    synced_ok = c.Verdict(True, c.RECONCILED, "")
    retry: float | None = None
    if run.problems:
        message = "; ".join(p.message for p in run.problems)
        ready = synced = c.Verdict(False, run.problems[0].reason, message)
    elif run.waits:
        ready = c.Verdict(False, run.waits[0].reason, "; ".join(w.message for w in run.waits))
        synced = c.Verdict(True, c.RECONCILED, "applied everything that can be applied now")
        retry = WAIT_RETRY_SECONDS
    elif endpoint is None:  # only reached with waits or problems
        raise AssertionError("an endpoint outcome without an endpoint")
    elif endpoint.config_update == IN_PROGRESS:
        ready, synced = c.Verdict(False, c.UPDATE_IN_PROGRESS, _progress(endpoint)), synced_ok
        retry = _poll_seconds(endpoint, run.request.now)
    elif endpoint.config_update == UPDATE_FAILED:
        ready = c.Verdict(False, c.UPDATE_FAILED, _failure(endpoint))
        synced = synced_ok if run.observe_only else ready
    elif endpoint.ready != READY:
        ready, synced = c.Verdict(False, c.ENDPOINT_NOT_READY, _not_ready(endpoint)), synced_ok
        retry = NOT_READY_RETRY_SECONDS
    elif run.drift:
        notes.append(Note(c.DRIFT_DETECTED, "; ".join(run.drift), warning=True))
        ready, synced = c.Verdict(True, c.DRIFT_DETECTED, "ObserveOnly: " + "; ".join(run.drift)), synced_ok
    else:
        reason = c.OBSERVED if run.observe_only else c.RECONCILED
        serves = _served_versions(endpoint.config)
        ready, synced = c.Verdict(True, reason, f"serving endpoint {run.name} is READY and serves {serves}"), synced_ok
    return Outcome(
        ready=ready,
        synced=synced,
        observed=observed,
        notes=tuple(notes),
        retry_after=retry,
        drift_corrections=run.corrections,
    )


def _observed(run: _Run, endpoint: ObservedEndpoint | None, *, applied: bool) -> Json:
    """Status fields: what the endpoint serves now and is moving to, per entity and as a summary."""
    observed: Json = {"drift": run.drift}
    if run.attempt is not None:
        observed["configAttempt"] = run.attempt
    if applied:
        observed["appliedGeneration"] = run.request.generation
    config = endpoint.config if endpoint else None
    pending = endpoint.pending if endpoint else None
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
    observed["servedEntities"] = entities
    if endpoint is None:
        return observed
    table = endpoint.gateway.get("inference_table_config") or {}
    observed.update(
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
    return observed


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


def _summary(wanted: list[Wanted]) -> str:
    return ", ".join(f"{w.name}={w.entity_name} version {w.version}" for w in wanted)


def _routed(traffic: Mapping[str, int]) -> dict[str, int]:
    """Routes that carry traffic: a 0% route and no route mean the same."""
    return {name: percent for name, percent in traffic.items() if percent}


def _routes(traffic: Mapping[str, int]) -> str:
    return ",".join(f"{name}={percent}%" for name, percent in sorted(traffic.items()))


def _table(raw: Json | None) -> tuple[str, str, str, bool] | None:
    """An inference table's location, or None when capture is off (where a disabled table points is moot)."""
    if not raw or not raw.get("enabled"):
        return None
    return (str(raw.get("catalog_name")), str(raw.get("schema_name")), str(raw.get("table_name_prefix")), True)


def _describe_table(table: tuple[str, str, str, bool] | None) -> str:
    return "off" if table is None else f"{table[0]}.{table[1]}.{table[2]}_payload"


def _limits(raw: list[Json] | None) -> list[tuple[object, ...]]:
    """Rate limits without order, with Databricks' defaults made explicit."""
    return sorted(
        (
            (
                limit.get("calls"),
                limit.get("tokens"),
                limit.get("key") or "endpoint",
                limit.get("renewal_period") or "minute",
                limit.get("principal"),
            )
            for limit in raw or []
        ),
        key=repr,
    )


def _ownership_tags(owner: str) -> dict[str, str]:
    return {OWNER_TAG: owner, MANAGED_BY_TAG: CONTROLLER_NAME}


def _managed(tags: Mapping[str, str]) -> set[str]:
    try:
        raw = json.loads(tags.get(MANAGED_TAG) or "{}")
    except json.JSONDecodeError:
        return set()
    return {str(k) for k in raw.get("tags", [])} if isinstance(raw, dict) else set()


def _encode_managed(tags: Mapping[str, str]) -> str:
    return json.dumps({"tags": sorted(tags)}, separators=(",", ":"))


def _attempt_key(config: Json, generation: int) -> str:
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    return f"g{generation}-{digest}"
