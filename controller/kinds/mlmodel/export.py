"""A registered model as an MLModel spec that adopts it as it is (for `mlopsctl import`).

The inverse of what the reconcile applies: the description, the tags and every alias, each alias as
the version number it points at now, so the adopting reconcile finds nothing to change.
"""

from __future__ import annotations

from pydantic import ValidationError

from controller.api.common import ObjectRef
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.mlmodel.observed import ObservedModel
from controller.reconciling.ownership import TAG_PREFIX


def spec_of(model: ObservedModel, *, workspace: str) -> MLModelSpec | list[str]:
    """The spec adopting the model, or why the kind cannot express it."""
    try:
        return MLModelSpec(
            workspace_ref=ObjectRef(name=workspace),
            registered_name=model.name,
            description=model.description or None,
            tags={k: v for k, v in model.tags.items() if not k.startswith(TAG_PREFIX)},
            aliases=dict(model.aliases),
            adopt=True,
        )
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
