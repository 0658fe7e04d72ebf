"""When a reconcile reads the model's versions, and when the model's own read is enough.

A drift check reads the registered model (tags, aliases, its deployment job) in one call. Its versions
are a second, paged read, made only when something in this reconcile needs them; otherwise an alias
already pointing at its version proves that version exists, and nothing else looks at versions.
"""

from __future__ import annotations

from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.observed import ObservedModel


def versions_needed(spec: MLModelSpec, model: ObservedModel, *, spec_changed: bool) -> bool:
    """Whether the versions must be read: the spec changed, versions are declared (found or registered by
    their source), a deployment job reports runs per version, or an alias is not where the spec points it
    (its target must exist and may have gates to pass)."""
    if spec_changed or spec.versions:
        return True
    if spec.deployment_job_ref is not None or model.deployment_job_id:
        return True
    return any(model.aliases.get(alias) != target for alias, target in spec.aliases.items())
