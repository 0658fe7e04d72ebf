"""The endpoint's tags: the spec's, the ownership tags, and the record of which keys this resource set.

The record lets a tag dropped from the spec be removed while tags set by others stay.
"""

from __future__ import annotations

import dataclasses

from controller.kinds.servingendpoint.observed import IN_PROGRESS, ObservedEndpoint
from controller.kinds.servingendpoint.state import EndpointRun
from controller.reconciling import ownership
from controller.reconciling.ownership import MANAGED_TAG, TAG_PREFIX


def wanted_tags(run: EndpointRun) -> dict[str, str]:
    """Every tag the endpoint should carry: the spec's, ownership, and the managed record."""
    return {
        **run.spec.tags,
        **ownership.ownership_tags(run.request.owner),
        MANAGED_TAG: ownership.encode_managed(tags=run.spec.tags),
    }


def adopt(run: EndpointRun, endpoint: ObservedEndpoint) -> ObservedEndpoint:
    """Take over an unowned endpoint by writing the ownership tags."""
    if endpoint.config_update == IN_PROGRESS:
        return endpoint  # adopted once the update is done: no write while IN_PROGRESS
    tags = run.serving.patch_tags(run.name, add=ownership.ownership_tags(run.request.owner), remove=[])
    run.note("Adopted", f"adopted existing serving endpoint {run.name}")
    return dataclasses.replace(endpoint, tags=tags)


def sync_tags(run: EndpointRun, endpoint: ObservedEndpoint) -> ObservedEndpoint:
    """Set the spec's tags and ownership; remove only tags this resource set and no longer lists."""
    add = {k: v for k, v in wanted_tags(run).items() if endpoint.tags.get(k) != v}
    managed = ownership.read_managed(endpoint.tags, "tags")["tags"]
    remove = sorted(k for k in managed - set(run.spec.tags) if k in endpoint.tags)
    if not add and not remove:
        return endpoint
    tags = run.attempt(lambda: run.serving.patch_tags(run.name, add=add, remove=remove))
    if tags is None:
        return endpoint
    described = [f"set tag {k}={v}" for k, v in sorted(add.items()) if not k.startswith(TAG_PREFIX)]
    described += [f"removed tag {k}" for k in remove]
    if described:
        run.changed(", ".join(described))
    return dataclasses.replace(endpoint, tags=tags)
