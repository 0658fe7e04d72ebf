"""References between imported resources, so that Git says how assets depend on each other.

An endpoint serving the version an imported model's alias points at follows that alias (`modelRef`)
when exactly one alias points there; with several the version stays explicit and the manifest says
which aliases could be chosen. A monitor on an imported endpoint's inference table refers to the
endpoint (`endpointRef`). Run after naming: references carry the resources' names.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.api.common import ObjectRef
from controller.importing.assets import Asset
from controller.kinds.mlmodel.model import MLModelSpec
from controller.kinds.modelmonitor.model import ModelMonitorSpec
from controller.kinds.servingendpoint.model import ModelAliasRef, ServedEntity, ServingEndpointSpec


def resolve(assets: Sequence[Asset]) -> None:
    """Replace explicit versions and table names by references where an imported resource stands for them."""
    models = {a.spec.registered_name.lower(): a for a in assets if isinstance(a.spec, MLModelSpec)}
    tables: dict[str, Asset] = {}
    for asset in assets:
        if isinstance(asset.spec, ServingEndpointSpec):
            _follow_aliases(asset, models)
            table = asset.spec.inference_table
            if table is not None and table.enabled:
                tables[f"{table.catalog}.{table.schema_}.{table.table_prefix}_payload".lower()] = asset
    for asset in assets:
        spec = asset.spec
        if isinstance(spec, ModelMonitorSpec) and spec.table_name and spec.table_name.lower() in tables:
            endpoint = tables[spec.table_name.lower()]
            asset.spec = spec.model_copy(update={"table_name": None, "endpoint_ref": ObjectRef(name=endpoint.name)})


def _follow_aliases(asset: Asset, models: dict[str, Asset]) -> None:
    spec = asset.spec
    assert isinstance(spec, ServingEndpointSpec)
    entities: list[ServedEntity] = []
    for entity in spec.served_entities:
        model = models.get((entity.entity_name or "").lower())
        aliases = _aliases_at(model, entity.entity_version) if model else []
        if model is not None and len(aliases) == 1:
            ref = ModelAliasRef(name=model.name, alias=aliases[0])
            entity = entity.model_copy(update={"model_ref": ref, "entity_name": None, "entity_version": None})
        elif model is not None and aliases:
            asset.comments.append(
                f"served entity {entity.name} keeps version {entity.entity_version} explicit: aliases "
                f"{', '.join(aliases)} of MLModel {model.name} all point at it; to follow one, replace entityName "
                f"and entityVersion with modelRef: {{name: {model.name}, alias: <one of them>}}"
            )
        entities.append(entity)
    asset.spec = spec.model_copy(update={"served_entities": entities})


def _aliases_at(model: Asset, version: int | None) -> list[str]:
    spec = model.spec
    assert isinstance(spec, MLModelSpec)
    return sorted(alias for alias, target in spec.aliases.items() if target == version)
