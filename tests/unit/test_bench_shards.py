"""The shard memory benchmark's own logic: namespaces that split evenly, the MLModels dealt out over them,
the resources a controller holds as its metrics say, and the printed comparison."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from benchmarks import shards
from benchmarks.shards import Figure
from controller import sharding

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


@pytest.mark.parametrize("count", [2, 3, 4])
def test_namespaces_fall_evenly_in_each_shard_by_the_api_servers_hash(count: int) -> None:
    by_shard = shards.balanced_namespaces(count)
    assert sum(len(names) for names in by_shard) == shards.NAMESPACES
    assert max(len(names) for names in by_shard) - min(len(names) for names in by_shard) <= 1
    for index, names in enumerate(by_shard):
        assert all(sharding.shard_of(ns, count) == index for ns in names)
    every = [ns for names in by_shard for ns in names]
    assert len(set(every)) == len(every)
    assert all(DNS_LABEL.fullmatch(ns) for ns in every)


def test_the_namespaces_are_the_same_in_every_run() -> None:
    assert shards.balanced_namespaces(2) == shards.balanced_namespaces(2)


def test_models_dealt_out_in_turn_split_evenly_between_the_shards() -> None:
    by_shard = shards.balanced_namespaces(2)
    counts = shards.spread(2001, shards.interleaved(by_shard))
    assert sum(counts.values()) == 2001
    assert sorted(set(counts.values())) == [100, 101]
    per_shard = [sum(counts[ns] for ns in names) for names in by_shard]
    assert sorted(per_shard) == [1000, 1001]


def test_interleaving_takes_one_of_each_shard_in_turn() -> None:
    assert shards.interleaved([["a", "b", "c"], ["x", "y"]]) == ["a", "x", "b", "y", "c"]


def _unsharded() -> Figure:
    return Figure("unsharded", 300.0, 2020, 20, "drift check lateness ...")


def _shards() -> list[Figure]:
    return [
        Figure("shard 0 of 2", 210.0, 1010, 10, "checks of shard 0"),
        Figure("shard 1 of 2", 225.0, 1010, 10, "checks of shard 1"),
    ]


def test_the_report_sets_each_shard_beside_the_unsharded_with_ratio_resources_and_sum() -> None:
    text = shards.report(_unsharded(), _shards(), models=2000, interval=30)
    lines = text.splitlines()
    assert lines[0].startswith("memory per shard: 2000 MLModels (Unity Catalog, one alias) in 20 namespaces")
    assert "drift interval 30s" in lines[0]
    assert "median of 30 readings" in lines[0]
    assert lines[1].split() == ["process", "RSS", "resources", "held", "of", "unsharded"]
    assert lines[2].split() == ["unsharded", "(20", "ns)", "300", "MiB", "2020", "100%"]
    assert lines[3].split() == ["shard", "0", "of", "2", "(10", "ns)", "210", "MiB", "1010", "70%"]
    assert lines[4].split() == ["shard", "1", "of", "2", "(10", "ns)", "225", "MiB", "1010", "75%"]
    assert lines[5].split() == ["all", "2", "shards", "together", "435", "MiB", "2020", "145%"]


def test_the_report_reads_the_per_process_and_per_resource_parts_from_the_figures() -> None:
    # 435 MiB for two processes against 300 for one: 135 MiB per process; (300 - 135) MiB over 2020 resources.
    text = shards.report(_unsharded(), _shards(), models=2000, interval=30)
    assert "about 135 MiB every process pays, plus 84 KiB per resource held" in text


def test_the_report_says_how_each_process_kept_up_with_its_drift_checks() -> None:
    lines = shards.report(_unsharded(), _shards(), models=2000, interval=30).splitlines()
    assert lines[-3:] == [
        "    unsharded: drift check lateness ...",
        "    shard 0 of 2: checks of shard 0",
        "    shard 1 of 2: checks of shard 1",
    ]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--shards", "1"], "argument --shards: must be 2 or more, not 1"),
        (["--models", "0"], "argument --models: must be 1 or more, not 0"),
        (["--models", "2k"], "argument --models: '2k' is not a whole number"),
        (["--drift-interval", "1"], "argument --drift-interval: must be 5 or more, not 1"),
    ],
)
def test_bad_options_are_refused_naming_the_option(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        shards.main(argv)
    assert says in capsys.readouterr().err


@pytest.fixture
def metrics_port() -> Iterator[tuple[int, CollectorRegistry]]:
    """A /metrics endpoint serving a registry of the test's own, as the controller's does."""
    registry = CollectorRegistry()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], registry
    finally:
        server.shutdown()
        server.server_close()


def test_the_resources_held_are_the_condition_gauge_over_every_kind_and_status(
    metrics_port: tuple[int, CollectorRegistry],
) -> None:
    port, registry = metrics_port
    gauge = Gauge(shards.HELD_METRIC, "by kind and Ready status", ["kind", "status"], registry=registry)
    gauge.labels("MLModel", "True").set(995)
    gauge.labels("MLModel", "False").set(5)
    gauge.labels("Workspace", "True").set(10)
    Gauge("mlops_other", "not counted", registry=registry).set(7)
    assert shards.held(port) == 1010


def test_a_controller_not_answering_yet_holds_no_known_count() -> None:
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    assert shards.held(port) is None
