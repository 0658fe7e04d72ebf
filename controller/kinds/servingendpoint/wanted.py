"""What the spec asks the endpoint to serve: served entities with their versions resolved, and the config.

Only what the spec says is compared: the server fills in defaults (routes, served entity names,
workload settings). Served entities are always named explicitly, so a new version keeps the
entity's name and the routes that use it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from controller.kinds.mlmodel.published import ModelView
from controller.kinds.servingendpoint.model import ModelAliasRef, ServedEntity, ServingEndpointSpec
from controller.kinds.servingendpoint.observed import Json, ObservedConfig, ObservedEntity
from controller.status import conditions as c


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
        if model is not None and model.ready and ref.alias in model.aliases:
            wanted.append(Wanted(entity, model.registered_name, model.aliases[ref.alias]))
        else:
            waits.append(_unresolved(entity.name, ref, model))
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


def attempt_key(config: Json, generation: int) -> str:
    """Names one config sent for one generation, so a failed one is not sent again."""
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    return f"g{generation}-{digest}"


def summary(wanted: list[Wanted]) -> str:
    return ", ".join(f"{w.name}={w.entity_name} version {w.version}" for w in wanted)


def _unresolved(entity: str, ref: ModelAliasRef, model: ModelView | None) -> c.Verdict:
    """Why a served entity that follows an alias waits: no such MLModel, not Ready, or the alias is not set."""
    served = f"served entity {entity}: MLModel {ref.name}"
    if model is None:
        return c.Verdict(False, c.WAITING_FOR_DEPENDENCY, f"{served} does not exist in this namespace")
    if not model.ready:
        return c.Verdict(False, c.WAITING_FOR_DEPENDENCY, f"{served} is not Ready ({model.message})")
    alias = f"served entity {entity}: alias {ref.alias} of MLModel {ref.name} ({model.registered_name})"
    return c.Verdict(False, c.WAITING_FOR_MODEL_VERSION, f"{alias} is not set")


def _routed(traffic: Mapping[str, int]) -> dict[str, int]:
    """Routes that carry traffic: a 0% route and no route mean the same."""
    return {name: percent for name, percent in traffic.items() if percent}


def _routes(traffic: Mapping[str, int]) -> str:
    return ",".join(f"{name}={percent}%" for name, percent in sorted(traffic.items()))
