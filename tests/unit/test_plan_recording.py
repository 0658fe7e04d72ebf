"""The plan's recording client: every Protocol method is declared read or write, reads pass, writes are kept."""

from __future__ import annotations

from typing import Any

import pytest

from controller.kinds.catalog import KINDS
from controller.kinds.mljob.observed import ObservedJob
from controller.kinds.mlmodel.observed import ObservedModel
from controller.kinds.mlmodel.run import Registry
from controller.plan.kinds import PLANNED
from controller.plan.recording import PASS, Recorder, Simulated, UndeclaredCall
from controller.plan.simulated import SimulatedJobs, SimulatedRegistry, SimulatedServing


def _methods(protocol: type) -> set[str]:
    """Its methods and properties (a plain attribute such as Registry.creates_versions is neither)."""
    members = {name: value for name, value in vars(protocol).items() if not name.startswith("_")}
    return {name for name, value in members.items() if callable(value) or isinstance(value, property)}


def test_every_kind_is_planned() -> None:
    assert {p.kind.definition.kind for p in PLANNED} == {k.kind for k in KINDS}


@pytest.mark.parametrize("planned", PLANNED, ids=lambda p: p.kind.definition.kind)
def test_every_protocol_method_is_declared_a_read_or_a_write(planned: Any) -> None:
    protocol = planned.protocol
    methods = _methods(protocol)
    assert methods, f"no methods found on {protocol}"
    undeclared = methods - planned.reads - planned.writes
    assert not undeclared, f"{protocol.__name__}: declare {sorted(undeclared)} as reads or writes (next to it)"
    assert not planned.reads & planned.writes
    assert (planned.reads | planned.writes) <= methods, "a declared name that the Protocol does not have"


class _Registry:
    creates_versions = True

    def __init__(self) -> None:
        self.made: list[str] = []

    def get_model(self, name: str) -> ObservedModel | None:
        return ObservedModel(name=name, description="old", tags={}, aliases={"champion": 1})

    def set_alias(self, name: str, alias: str, version: int) -> None:
        self.made.append("set_alias")

    def delete_model(self, name: str) -> None:
        self.made.append("delete_model")


def _recorder(real: Any, simulated: Simulated | None = None) -> Recorder:
    return Recorder(
        real,
        reads=frozenset({"get_model"}),
        writes=frozenset({"set_alias", "create_model"}),
        simulated=simulated or Simulated(real),
    )


def test_reads_pass_through_and_writes_are_recorded_not_made() -> None:
    real = _Registry()
    recorder = _recorder(real)
    registry: Registry = recorder  # type: ignore[assignment]
    assert registry.get_model("m") == real.get_model("m")
    registry.set_alias("m", "champion", 2)
    assert real.made == []
    assert [call.describe() for call in recorder.calls] == ["set_alias('m', 'champion', 2)"]
    assert registry.creates_versions is True


def test_an_undeclared_method_is_refused_not_called() -> None:
    real = _Registry()
    with pytest.raises(UndeclaredCall, match="delete_model"):
        _recorder(real).delete_model("m")
    assert real.made == []


def test_a_created_object_is_what_later_reads_see() -> None:
    real = _Registry()
    recorder = _recorder(real, SimulatedRegistry(real))
    recorder.create_model("new", description="d", tags={"team": "risk"})
    assert recorder.get_model("new") == ObservedModel(name="new", description="d", tags={"team": "risk"}, aliases={})
    assert recorder.get_model("other") == real.get_model("other")


def test_a_credential_in_a_call_is_masked() -> None:
    recorder = _recorder(_Registry())
    recorder.set_alias("m", "token=dapi0123456789abcdef0123456789abcdef", 1)
    assert "dapi0123" not in recorder.calls[0].describe()


def test_simulated_endpoint_update_starts_an_update_with_the_sent_config() -> None:
    class Serving:
        def get_endpoint(self, name: str) -> Any:
            return None

    simulated = SimulatedServing(Serving())
    config = {"served_entities": [{"name": "a", "entity_name": "m", "entity_version": "2"}]}
    created = simulated.create_endpoint("e", config=config, tags={}, gateway=None)
    assert created.config_update == "IN_PROGRESS"
    assert created.pending is not None
    assert created.pending.traffic == {"a": 100}
    assert simulated.get_endpoint("e") is created
    assert simulated.get_endpoint("other") is PASS


def test_simulated_job_tag_update_is_what_the_next_read_of_the_job_sees() -> None:
    existing = ObservedJob(job_id=7, settings={"name": "train", "tags": {"team": "risk"}})

    class Jobs:
        def get_job(self, job_id: int) -> ObservedJob | None:
            return existing if job_id == 7 else None

    simulated = SimulatedJobs(Jobs())
    assert simulated.get_job(7) is PASS  # untouched: read for real
    simulated.update_tags(7, {"team": "risk", "mlops.gitops.dev/owner": "ns/train"})
    assert simulated.get_job(7) == ObservedJob(
        job_id=7, settings={"name": "train", "tags": {"team": "risk", "mlops.gitops.dev/owner": "ns/train"}}
    )
