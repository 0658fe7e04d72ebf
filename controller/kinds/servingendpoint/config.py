"""Sending the endpoint config (served entities and traffic) when it differs from the spec.

A config write starts an asynchronous update, so it is sent only when every version it would newly
serve is READY in Unity Catalog: an endpoint waits for training instead of failing.
"""

from __future__ import annotations

from controller.kinds.servingendpoint.observed import (
    DEPLOYMENT_READY,
    READY,
    UPDATE_FAILED,
    ObservedConfig,
    ObservedEndpoint,
)
from controller.kinds.servingendpoint.state import EndpointRun
from controller.kinds.servingendpoint.wanted import Wanted, attempt_key, config_differences, config_payload
from controller.status import conditions as c


def sync_config(run: EndpointRun, endpoint: ObservedEndpoint, wanted: list[Wanted]) -> ObservedEndpoint | None:
    """Send the config when it differs; returns the endpoint as the update left it, or None when nothing was sent.

    A config whose update failed is not sent again for the same spec generation: Databricks
    would only fail it again, and each attempt can take many minutes.
    """
    differences = config_differences(run.spec, wanted, endpoint.config)
    failed = endpoint.config_update == UPDATE_FAILED
    if not differences and not failed:
        return None
    config = config_payload(run.spec, wanted)
    attempt = attempt_key(config, run.request.generation)
    if failed and attempt == run.request.config_attempt:
        return None
    check_versions(run, wanted, endpoint.config)
    if run.waits:
        return None
    updated = run.attempt(lambda: run.serving.update_config(run.name, config))
    if updated is None:
        return None
    run.config_attempt = attempt
    what = "; ".join(differences) if differences else "sent the config again after a failed update"
    moved = [w for w in wanted if w.follows and run.request.desired_versions.get(w.name) != w.version]
    if moved and not run.spec_changed:
        rolls = ", ".join(f"{w.name} to version {w.version} ({w.follows})" for w in moved)
        run.note("AliasMoved", f"rolling served entity {rolls}")
    else:
        run.changed(f"updating the config: {what}")
    return updated


def check_versions(run: EndpointRun, wanted: list[Wanted], config: ObservedConfig | None) -> None:
    """Wait for every Unity Catalog version the config would newly serve to be READY."""
    served = {
        ((e.entity_name or "").lower(), e.entity_version)
        for e in (config.entities if config else ())
        if e.deployment == DEPLOYMENT_READY
    }
    checked: dict[tuple[str, int], str | None] = {}
    for entity in wanted:
        key = (entity.entity_name.lower(), entity.version)
        # Only a Unity Catalog model (catalog.schema.model) has version states to wait for.
        if (key[0], str(entity.version)) in served or len(entity.entity_name.split(".")) != 3:
            continue
        if key not in checked:
            checked[key] = run.serving.version_status(entity.entity_name, entity.version)
        state = checked[key]
        if state == READY:
            continue
        what = "does not exist" if state is None else f"is {state}, not READY"
        message = f"served entity {entity.name}: version {entity.version} of {entity.entity_name} {what}"
        run.wait(c.WAITING_FOR_MODEL_VERSION, message)
