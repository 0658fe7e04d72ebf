"""Unity Catalog grants: one PATCH adds and removes exactly the privileges that differ."""

from __future__ import annotations

from collections.abc import Sequence

from controller.reconciling.catalog_grants import GrantChange, sync_grants
from controller.reconciling.permissions import Levels, Principal, Wanted
from controller.reconciling.run import Run

DS = Principal("principal", "data-scientists")
BOT = Principal("principal", "6f1c-app-id")


class FakeCatalog:
    def __init__(self, grants: Levels) -> None:
        self.grants = grants
        self.sent: list[list[GrantChange]] = []

    def get_grants(self, full_name: str) -> Levels | None:
        return self.grants

    def update_grants(self, full_name: str, changes: Sequence[GrantChange]) -> None:
        self.sent.append(list(changes))


def test_one_patch_adds_and_removes_the_difference() -> None:
    catalog = FakeCatalog({("principal", "data-scientists"): "EXECUTE,MANAGE", ("principal", "6f1c-app-id"): "EXECUTE"})
    run = Run(spec_changed=True, observe_only=False)
    want = Wanted({DS: "APPLY_TAG,EXECUTE"}, managed_before=frozenset({DS, BOT}))
    recorded = sync_grants(run, catalog, "main.risk.m", want, what="registered model main.risk.m")
    assert catalog.sent == [
        [
            GrantChange("data-scientists", add=("APPLY_TAG",), remove=("MANAGE",)),
            GrantChange("6f1c-app-id", add=(), remove=("EXECUTE",)),
        ]
    ]
    assert recorded == {"managed": ["principal:data-scientists"], "keptForController": None}
    assert [n.reason for n in run.notes] == ["Updated"]


def test_observe_only_reports_and_sends_nothing() -> None:
    catalog = FakeCatalog({})
    run = Run(spec_changed=False, observe_only=True)
    sync_grants(run, catalog, "main.risk.m", Wanted({DS: "EXECUTE"}), what="registered model main.risk.m")
    assert catalog.sent == []
    assert run.drift == ["permissions: principal data-scientists has no grant, spec says EXECUTE"]


def test_a_registry_without_grants_is_unsupported() -> None:
    class Mlflow(FakeCatalog):
        def get_grants(self, full_name: str) -> Levels | None:
            return None

    run = Run(spec_changed=False, observe_only=False)
    assert sync_grants(run, Mlflow({}), "m", Wanted({DS: "EXECUTE"}), what="registered model m") is None
    assert [p.reason for p in run.problems] == ["Unsupported"]
