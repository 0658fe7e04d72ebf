"""Plan the manifests: each resource through its kind's own reconcile, over a client that only reads.

Resources are planned in dependency order, and what each would publish after its reconcile (an MLModel's
aliases, an endpoint's inference table, a job's id) is what the ones after it read, as the controller's
followers would once woken. A resource that exists in the cluster is reconciled with its live status
(appliedGeneration, rollout state, recorded ids) and the generation the new spec would get; a new one
as the controller first sees it. Where a reconcile would write, it runs once more under ObserveOnly
on a fresh recorder: that run's drift is the difference field by field, in the kind's own words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from controller.clients import errors
from controller.kinds.workspace.connection import connected_through
from controller.kinds.workspace.connections import Connection
from controller.kinds.workspace.model import WorkspaceSpec
from controller.plan import judging
from controller.plan.credentials import Credentials
from controller.plan.kinds import BY_PLURAL, PLANNED, NeedsDatabricks, Planned
from controller.plan.manifests import Declared
from controller.plan.recording import Recorder
from controller.plan.result import ADOPT, DELETE, ERROR, NOTHING, UPDATE, ResourcePlan, Said, event
from controller.reconciling import errors as reactions
from controller.status import conditions as c
from controller.status.outcome import Outcome
from controller.wiring.kind import Resource

Key = tuple[str, str, str]
"""(plural, namespace, name)"""
NEW_UID = "new"
"""A new resource's uid: the API server assigns the real one when it is applied."""


class Planner:
    """Plans the declared resources against the live ones, connecting to each Workspace once."""

    def __init__(
        self, declared: list[Declared], live: Mapping[Key, Mapping[str, Any]], credentials: Credentials
    ) -> None:
        self._declared = {d.key: d for d in declared}
        self._live = live
        self._credentials = credentials
        self._states: dict[Key, tuple[Mapping[str, Any], Mapping[str, Any]]] = {
            key: (obj.get("spec") or {}, obj.get("status") or {}) for key, obj in live.items()
        }
        for key, each in self._declared.items():
            self._states[key] = (each.spec, self._states.get(key, ({}, {}))[1])
        self._connections: dict[tuple[str, str], Connection | Said] = {}

    def declared(self) -> list[ResourcePlan]:
        """Every declared resource's plan, dependencies first."""
        found: list[ResourcePlan] = []
        for planned in PLANNED:
            plural = planned.kind.definition.plural
            for key in sorted(k for k in self._declared if k[0] == plural):
                found.append(self._plan(planned, self._declared[key]))
        return found

    def pruned(self) -> list[ResourcePlan]:
        """What deleting the live resources the manifests leave out would do, in the namespaces they cover."""
        covered = {d.namespace for d in self._declared.values()}
        found: list[ResourcePlan] = []
        for planned in reversed(PLANNED):
            plural = planned.kind.definition.plural
            for key in sorted(k for k in self._live if k[0] == plural and k[1] in covered and k not in self._declared):
                found.append(self._plan_delete(planned, self._live[key]))
        return found

    def _plan(self, planned: Planned, declared: Declared) -> ResourcePlan:
        kind = planned.kind
        live = self._live.get(declared.key)
        resource = kind.resource(*self._meta(planned, declared, live), self._indices())
        external = _external(planned, resource)
        if kind is BY_PLURAL["workspaces"].kind:
            return self._plan_workspace(planned, resource, external)
        client = self._client(planned, resource)
        if isinstance(client, Said):
            waits = c.is_waiting(client.reason)
            plan = ResourcePlan(kind.definition.kind, resource.namespace, resource.name, external, NOTHING)
            return (
                dataclasses.replace(plan, waiting=client)
                if waits
                else dataclasses.replace(plan, action=ERROR, error=client)
            )
        with connected_through(_PlanConnections(self)):  # a copied version's source Workspace, read for real
            outcome = _reconciled(planned, resource, client)
        writes = tuple(call.describe() for call in client.calls)
        plan = judging.judged(kind.definition.kind, resource.namespace, resource.name, external, outcome, writes)
        if plan.action in (UPDATE, ADOPT) and resource.spec.management_policy != "ObserveOnly":
            observe = resource.spec.model_copy(update={"management_policy": "ObserveOnly"})
            fresh = client.fresh()  # nothing the first run made up
            with connected_through(_PlanConnections(self)):
                observed = _reconciled(planned, dataclasses.replace(resource, spec=observe), fresh)
            plan = dataclasses.replace(plan, changes=judging.differences(observed))
        if plan.action != ERROR:
            status = judging.planned_status(self._states[declared.key][1], outcome, resource.generation)
            self._states[declared.key] = (declared.spec, status)
        return plan

    def _plan_workspace(self, planned: Planned, resource: Resource[Any, Any], external: str) -> ResourcePlan:
        """A Workspace has no external object: its plan is its connection check (a read)."""
        spec: WorkspaceSpec = resource.spec

        def probe() -> Recorder:
            connection = self._connection(resource.namespace, resource.name, spec)
            if isinstance(connection, Said):
                raise errors.Misconfigured(connection.message)
            return planned.recorder(connection)

        outcome = planned.kind.reconcile(resource, probe)
        return judging.judged(planned.kind.definition.kind, resource.namespace, resource.name, external, outcome, ())

    def _plan_delete(self, planned: Planned, obj: Mapping[str, Any]) -> ResourcePlan:
        kind = planned.kind
        meta = obj["metadata"]
        resource = kind.resource(meta, obj.get("spec") or {}, obj.get("status") or {}, self._indices())
        plan = ResourcePlan(
            kind.definition.kind, resource.namespace, resource.name, _external(planned, resource), NOTHING
        )
        recorders: list[Recorder] = []

        def connect() -> Any:
            client = self._client(planned, resource)
            if isinstance(client, Said):
                raise errors.Unavailable(client.message)
            recorders.append(client)
            return client

        try:
            done = kind.delete(resource, connect) if kind is not BY_PLURAL["workspaces"].kind else "removed"
        except errors.ExternalError as exc:
            return dataclasses.replace(plan, action=ERROR, error=Said(c.DELETE_FAILED, str(exc)))
        writes = tuple(call.describe() for recorder in recorders for call in recorder.calls)
        note = event("Pruned", f"not in the manifests: {done}")
        return dataclasses.replace(plan, action=DELETE if writes else NOTHING, writes=writes, notes=(note,))

    def _meta(
        self, planned: Planned, declared: Declared, live: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], Mapping[str, Any], Mapping[str, Any]]:
        """metadata, spec and status as the controller would see them once the manifest is applied."""
        body_meta = declared.body.get("metadata") or {}
        meta: dict[str, Any] = {"namespace": declared.namespace, "name": declared.name, "uid": NEW_UID, "generation": 1}
        meta["annotations"] = body_meta.get("annotations") or {}
        status: Mapping[str, Any] = {}
        if live is not None:
            live_meta = live["metadata"]
            spec_model = planned.kind.spec
            same = spec_model.model_validate(declared.spec) == spec_model.model_validate(live.get("spec") or {})
            generation = int(live_meta.get("generation") or 1)
            meta |= {"uid": live_meta["uid"], "generation": generation if same else generation + 1}
            meta["annotations"] = live_meta.get("annotations") or {}
            status = live.get("status") or {}
        return meta, declared.spec, status

    def _indices(self) -> dict[str, Any]:
        """The published entries and kinds' indices as kopf would hold them, from the live and planned states."""
        indices: dict[str, Any] = {}
        for planned in PLANNED:
            kind = planned.kind
            if kind.publishes is not None:
                published = kind.publishes
                indices[published.index] = {
                    (ns, name): [published.entry(spec, status)]
                    for (plural, ns, name), (spec, status) in self._states.items()
                    if plural == published.plural
                }
            for index in kind.indices:
                grouped: dict[Any, list[Any]] = {}
                for (plural, ns, name), (spec, status) in self._states.items():
                    if plural == index.plural:
                        for key, value in index.entries(ns, name, spec, status).items():
                            grouped.setdefault(key, []).append(value)
                indices[index.name] = grouped
        return indices

    def _client(self, planned: Planned, resource: Resource[Any, Any]) -> Recorder | Said:
        """The kind's recording client in the resource's Workspace, or what stands in the way."""
        name = resource.spec.workspace_ref.name
        state = self._states.get(("workspaces", resource.namespace, name))
        if state is None:
            return Said(c.WAITING_FOR_WORKSPACE, f"Workspace {name} does not exist")
        connection = self._connection(resource.namespace, name, WorkspaceSpec.model_validate(dict(state[0])))
        if isinstance(connection, Said):
            return connection
        try:
            return planned.recorder(connection)
        except NeedsDatabricks as exc:
            return Said(c.UNSUPPORTED, f"{planned.kind.definition.kind} {exc} ({name})")

    def _connection(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection | Said:
        key = (namespace, name)
        if key not in self._connections:
            try:
                self._connections[key] = self._credentials.connect(namespace, name, spec)
            except errors.ExternalError as exc:
                self._connections[key] = Said(c.CONNECTION_FAILED, f"Workspace {name}: {exc}")
        return self._connections[key]


@dataclasses.dataclass(frozen=True)
class _PlanConnections:
    """The plan's connections where a kind's reconcile reaches another Workspace itself."""

    planner: Planner

    def get(self, namespace: str, name: str, spec: WorkspaceSpec) -> Connection:
        found = self.planner._connection(namespace, name, spec)
        if isinstance(found, Said):
            raise errors.Misconfigured(found.message)
        return found


def _reconciled(planned: Planned, resource: Resource[Any, Any], client: Recorder) -> Outcome:
    """The kind's reconcile; a client error no reconcile caught ends as it does in the controller (handling)."""
    try:
        return planned.kind.reconcile(resource, client)
    except errors.ExternalError as exc:
        return reactions.escaped(exc)


def _external(planned: Planned, resource: Resource[Any, Any]) -> str:
    name: Callable[[Resource[Any, Any]], str] = planned.kind.external_name
    return name(resource)
