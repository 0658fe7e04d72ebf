"""What a kind declares so that one factory can wire it: its reconcile, delete, dependencies and published entry.

A kind's `handlers.py` builds one `Kind` from its own functions and imports no kopf; `controller.wiring.register`
turns every Kind in the catalog into kopf handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from controller.api.crd import KindDefinition
from controller.clients import errors
from controller.status import conditions as c
from controller.status.outcome import Outcome
from controller.wiring.dependents import DEPENDENTS

SpecT = TypeVar("SpecT", bound=BaseModel)
StatusT = TypeVar("StatusT", bound=BaseModel)
ClientT = TypeVar("ClientT")
EntryT = TypeVar("EntryT")


class NotUsable(Exception):
    """What the resource needs to reach its external system cannot be used now; `outcome` says why."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.ready.message)
        self.outcome = outcome


Ref = tuple[str, str]
"""A dependency in the resource's namespace: (plural of its kind, name)."""


@dataclass(frozen=True)
class Published(Generic[EntryT]):
    """What other kinds read of a kind: a typed entry computed from its spec and status, kept in memory.

    It lives beside the producing kind; a change of the entry wakes the resources that follow it.
    """

    plural: str
    entry: Callable[[Mapping[str, Any], Mapping[str, Any]], EntryT]

    @property
    def index(self) -> str:
        return f"{self.plural}_published"


@dataclass(frozen=True)
class Index:
    """A kind's own in-memory index over some kind's resources (kopf passes it by `name`)."""

    name: str
    plural: str
    entries: Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], dict[Any, Any]]  # ns, name, spec, status


@dataclass(frozen=True)
class Resource(Generic[SpecT, StatusT]):
    """One resource as a reconcile sees it: identity, typed spec and status, and what other kinds publish."""

    namespace: str
    name: str
    uid: str
    generation: int
    spec: SpecT
    status: StatusT
    conditions: tuple[dict[str, Any], ...]
    indices: Mapping[str, Any]
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def owner(self) -> str:
        """The ownership tag's value on external objects: "namespace/name"."""
        return f"{self.namespace}/{self.name}"

    @property
    def spec_changed(self) -> bool:
        """Whether this generation has not been applied in full yet (status.appliedGeneration).

        A difference found while applying a new spec is the user's change; one found after it was applied
        was made out of band: drift. A status written before appliedGeneration existed is read from Synced.
        """
        applied: int | None = getattr(self.status, "applied_generation", None)
        if applied is None:
            synced = c.find(list(self.conditions), c.SYNCED)
            if synced is not None and synced.get("status") == "True":
                applied = synced.get("observedGeneration")
        return applied != self.generation

    @property
    def waiting(self) -> bool:
        """Whether the last reconcile left it waiting for something (a dependency, a version, its Workspace)."""
        ready = c.find(list(self.conditions), c.READY)
        return ready is None or str(ready.get("reason", "")).startswith("WaitingFor")

    def find(self, published: Published[EntryT], name: str) -> EntryT | None:
        """Another resource's published entry, by name in this namespace; None when it does not exist.

        The entry just published wins over kopf's index, which is updated only after the publishing
        callback returns (after the followers were nudged).
        """
        latest = DEPENDENTS.latest((published.plural, self.namespace, name))
        if latest is not None:
            return latest  # type: ignore[no-any-return]
        for entry in self.indices[published.index].get((self.namespace, name), ()):
            return entry  # type: ignore[no-any-return]
        return None

    def index(self, name: str) -> Any:
        return self.indices[name]


def read_status(model: type[StatusT], raw: Mapping[str, Any]) -> StatusT:
    """Status through the kind's model; a field that does not parse (written by another version) is left out.

    Only the unreadable fields are lost, not the whole status: the next reconcile writes them again.
    """
    fields = dict(raw)
    for _ in range(len(fields) + 1):
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
            if not bad & set(fields):
                break
            fields = {key: value for key, value in fields.items() if key not in bad}
    return model()


def _no_dependencies(_resource: Resource[Any, Any]) -> Iterable[Ref]:
    return ()


def _when_waiting(resource: Resource[Any, Any]) -> bool:
    return resource.waiting


@dataclass(frozen=True)
class Kind(Generic[SpecT, StatusT, ClientT]):
    """Everything the factory needs to serve one kind."""

    definition: KindDefinition
    spec: type[SpecT]
    status: type[StatusT]
    connect: Callable[[Resource[SpecT, StatusT]], ClientT]
    """The kind's external client for this resource, or NotUsable (its Workspace missing or not connected)."""
    reconcile: Callable[[Resource[SpecT, StatusT], ClientT], Outcome]
    delete: Callable[[Resource[SpecT, StatusT], Callable[[], ClientT]], str]
    """Carry out deletionPolicy (connecting only when it must); returns what was done."""
    drift_seconds: Callable[[Resource[SpecT, StatusT]], float]
    external_name: Callable[[Resource[SpecT, StatusT]], str]
    """How messages name the external object ("registered model main.risk.fraud")."""
    follows: Callable[[Resource[SpecT, StatusT]], Iterable[Ref]] = _no_dependencies
    """The resources whose published entries this one depends on."""
    woken: Callable[[Resource[SpecT, StatusT]], bool] = _when_waiting
    """Whether a change of a followed entry calls for a reconcile now, judged from this resource's own status."""
    publishes: Published[Any] | None = None
    indices: tuple[Index, ...] = field(default=())
    waking_annotations: tuple[str, ...] = ()
    """Annotations a person sets to ask for something (a rollout action): a new value reconciles at once."""

    def run(self, resource: Resource[SpecT, StatusT]) -> Outcome:
        """Connect and reconcile; a connection that cannot be made now is the Outcome."""
        try:
            client = self.connect(resource)
        except NotUsable as exc:
            return exc.outcome
        return self.reconcile(resource, client)

    def remove(self, resource: Resource[SpecT, StatusT]) -> str:
        """Carry out deletionPolicy; while the connection cannot be made the delete is retried (Unavailable)."""

        def connect() -> ClientT:
            try:
                return self.connect(resource)
            except NotUsable as exc:
                raise errors.Unavailable(str(exc)) from exc

        return self.delete(resource, connect)

    def resource(
        self, meta: Mapping[str, Any], spec: Mapping[str, Any], status: Mapping[str, Any], indices: Mapping[str, Any]
    ) -> Resource[SpecT, StatusT]:
        """The typed view of a resource."""
        return Resource(
            namespace=str(meta["namespace"]),
            name=str(meta["name"]),
            uid=str(meta["uid"]),
            generation=int(meta.get("generation") or 0),
            spec=self.spec.model_validate(dict(spec)),
            status=read_status(self.status, status),
            conditions=tuple(dict(cond) for cond in status.get("conditions") or ()),
            indices=indices,
            annotations={str(k): str(v) for k, v in (meta.get("annotations") or {}).items()},
        )
