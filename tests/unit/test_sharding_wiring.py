"""`mlopsctl run`'s shard flags: refused by name before anything starts, and a shard's filter on every watch of
the controller's kinds (never on Namespaces or CRDs, which kopf watches for itself)."""

from __future__ import annotations

import pytest
from kopf._cogs.structs.references import Resource  # kopf selects settings by its own resource type

from controller import cli, runner
from controller.api.crd import GROUP, VERSION
from controller.kinds.catalog import KINDS
from controller.sharding import Fallback, Shard

NAMESPACES = Resource("", "v1", "namespaces")
CRDS = Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--shard-count", "2", "--shard-index", "2"], "--shard-index must be between 0 and 1"),
        (["--shard-count", "3", "--shard-fallback", "namespaces"], "--shard-fallback=namespaces needs"),
    ],
)
def test_impossible_shard_options_stop_the_run_naming_the_flag(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", *argv]) == 2
    assert flag in capsys.readouterr().err


def test_the_environment_sets_the_shard_as_the_flags_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPS_SHARD_COUNT", "2")
    monkeypatch.setenv("MLOPS_SHARD_INDEX", "4")
    assert cli.main(["run"]) == 2
    assert "--shard-index must be between 0 and 1" in capsys.readouterr().err

    monkeypatch.setenv("MLOPS_SHARD_INDEX", "first")
    with pytest.raises(SystemExit) as usage:
        cli.main(["run"])
    assert usage.value.code == 2
    assert "--shard-index: invalid int value: 'first'" in capsys.readouterr().err

    monkeypatch.setenv("MLOPS_SHARD_INDEX", "0")
    monkeypatch.setenv("MLOPS_SHARD_FALLBACK", "labels")
    assert cli.main(["run"]) == 2
    assert "--shard-fallback must be one of namespaces, label, not 'labels'" in capsys.readouterr().err


def test_a_shard_filters_every_kind_of_the_controller_on_the_server() -> None:
    settings = runner._settings(namespaced=False, shard=Shard(1, 2))
    for definition in KINDS:
        resource = Resource(GROUP, VERSION, definition.plural)
        assert settings.watching.shard_selectors.collect(resource) == [
            "shardRange(object.metadata.namespace, '0x8000000000000000', '0x10000000000000000')"
        ]
        assert not settings.watching.label_selectors.collect(resource)
    for meta in (NAMESPACES, CRDS):
        assert not settings.watching.shard_selectors.collect(meta)


def test_the_label_fallback_filters_by_label_and_sends_no_shard_selector() -> None:
    settings = runner._settings(namespaced=False, shard=Shard(0, 2, Fallback.LABEL))
    for definition in KINDS:
        resource = Resource(GROUP, VERSION, definition.plural)
        assert settings.watching.label_selectors.collect(resource) == ["mlops.gitops.dev/shard=0"]
        assert not settings.watching.shard_selectors.collect(resource)
    assert not settings.watching.label_selectors.collect(NAMESPACES)


def test_one_shard_filters_nothing() -> None:
    settings = runner._settings(namespaced=True, shard=Shard())
    resource = Resource(GROUP, VERSION, KINDS[0].plural)
    assert not settings.watching.shard_selectors.collect(resource)
    assert not settings.watching.label_selectors.collect(resource)
