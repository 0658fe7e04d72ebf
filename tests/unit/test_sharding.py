"""Shards: the namespace hash is the API server's, the slices cover the hash space once, the support decision
reads the server's echo, and options that would orphan or double-handle resources are refused by flag name."""

from __future__ import annotations

import hashlib

import pytest

from controller import sharding
from controller.sharding import Fallback, Shard, ShardingError


def _never_asked() -> bool:
    raise AssertionError("the API server was asked although the options do not need it")


def test_the_namespace_hash_is_64_bit_fnv_1a_as_the_api_server_computes_it() -> None:
    # Published FNV-1a 64 test vectors: the server hashes with Go's hash/fnv New64a.
    assert sharding.namespace_hash("") == 0xCBF29CE484222325
    assert sharding.namespace_hash("a") == 0xAF63DC4C8601EC8C
    assert sharding.namespace_hash("foobar") == 0x85944171F73967E8


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_the_shards_cover_the_hash_space_once_in_equal_slices(count: int) -> None:
    ranges = [sharding.hash_range(index, count) for index in range(count)]
    assert ranges[0][0] == 0
    assert ranges[-1][1] == sharding.HASH_SPACE
    assert all(ranges[i][1] == ranges[i + 1][0] for i in range(count - 1))  # no gap, no overlap
    widths = {end - start for start, end in ranges}
    assert max(widths) - min(widths) <= 1


def test_two_shards_ask_for_the_halves_the_kubernetes_docs_show() -> None:
    assert sharding.selector(0, 2) == (
        "shardRange(object.metadata.namespace, '0x0000000000000000', '0x8000000000000000')"
    )
    assert sharding.selector(1, 2) == (
        "shardRange(object.metadata.namespace, '0x8000000000000000', '0x10000000000000000')"
    )


def test_bounds_are_zero_padded_because_the_server_compares_them_as_strings() -> None:
    # The server compares hex by length, then as text: an unpadded '0x4000...' of 3 shards would misplace objects.
    for count in (3, 5, 7):
        for index in range(count):
            start, end = sharding.selector(index, count).split("'")[1::2]
            assert len(start) == 18
            assert len(end) == (19 if index == count - 1 else 18)


def test_each_namespace_lands_in_the_one_shard_whose_range_holds_its_hash() -> None:
    # Varied names: FNV-1a keeps names that differ only at the end (team-1, team-2) close together.
    namespaces = [hashlib.sha256(str(n).encode()).hexdigest()[:10] for n in range(200)]
    for count in (2, 3, 4):
        for namespace in namespaces:
            index = sharding.shard_of(namespace, count)
            start, end = sharding.hash_range(index, count)
            assert start <= sharding.namespace_hash(namespace) < end
        spread = {sharding.shard_of(namespace, count) for namespace in namespaces}
        assert spread == set(range(count))


def test_a_list_answer_echoing_the_selector_shows_support() -> None:
    requested = sharding.selector(0, 2)
    echoed = {"metadata": {"resourceVersion": "7", "shardInfo": {"selector": requested}}, "items": []}
    assert sharding.applied(echoed, requested)
    # The server prints the selector back in its own spelling: spaces and quotes do not matter.
    respelled = requested.replace(", ", ",").replace("'", '"')
    assert sharding.applied({"metadata": {"shardInfo": {"selector": respelled}}}, requested)


def test_a_list_answer_without_the_echo_shows_the_selector_was_ignored() -> None:
    requested = sharding.selector(0, 2)
    assert not sharding.applied({"metadata": {"resourceVersion": "7"}, "items": [{}]}, requested)
    assert not sharding.applied({}, requested)
    assert not sharding.applied({"metadata": {"shardInfo": {"selector": sharding.selector(1, 2)}}}, requested)


def test_one_shard_keeps_todays_lease_and_filters_nothing() -> None:
    shard = Shard()
    assert shard.lease_name("mlops-gitops-controller") == "mlops-gitops-controller"
    assert shard.shard_selector() is None
    assert shard.label_selector() is None
    shard.check(namespaces=[], server_supports=_never_asked)


def test_each_shard_has_its_own_lease() -> None:
    names = {Shard(index, 3).lease_name("ctl") for index in range(3)}
    assert names == {"ctl-shard-0-of-3", "ctl-shard-1-of-3", "ctl-shard-2-of-3"}


def test_a_sharded_controller_is_refused_by_a_server_that_ignores_shard_selectors() -> None:
    with pytest.raises(ShardingError) as refused:
        Shard(1, 2).check(namespaces=[], server_supports=lambda: False)
    message = str(refused.value)
    assert "--shard-count=2" in message
    assert sharding.FEATURE_GATE in message
    assert "--shard-fallback=namespaces" in message
    assert "--shard-fallback=label" in message
    Shard(1, 2).check(namespaces=[], server_supports=lambda: True)


def test_a_fallback_needs_no_server_support_and_sends_no_shard_selector() -> None:
    by_label = Shard(1, 2, Fallback.LABEL)
    by_label.check(namespaces=[], server_supports=_never_asked)
    assert by_label.shard_selector() is None
    assert by_label.label_selector() == "mlops.gitops.dev/shard=1"

    by_namespaces = Shard(0, 2, Fallback.NAMESPACES)
    by_namespaces.check(namespaces=["team-a", "team-b"], server_supports=_never_asked)
    assert by_namespaces.shard_selector() is None
    assert by_namespaces.label_selector() is None
    assert by_namespaces.lease_name("ctl") == "ctl-shard-0-of-2"


def test_the_namespaces_fallback_without_namespaces_is_refused() -> None:
    with pytest.raises(ShardingError, match=r"--shard-fallback=namespaces needs .* --namespace"):
        Shard(0, 2, Fallback.NAMESPACES).check(namespaces=[], server_supports=_never_asked)


@pytest.mark.parametrize(
    ("index", "count", "flag"), [(2, 2, "--shard-index"), (-1, 2, "--shard-index"), (0, 0, "--shard-count")]
)
def test_impossible_shard_numbers_are_refused_by_flag(index: int, count: int, flag: str) -> None:
    with pytest.raises(ShardingError, match=flag):
        Shard(index, count)


def test_an_unknown_fallback_is_refused_by_flag() -> None:
    assert sharding.parse_fallback(None) is Fallback.NONE
    assert sharding.parse_fallback("") is Fallback.NONE
    assert sharding.parse_fallback("label") is Fallback.LABEL
    with pytest.raises(ShardingError, match="--shard-fallback must be one of namespaces, label, not 'labels'"):
        sharding.parse_fallback("labels")
