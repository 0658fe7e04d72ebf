"""The convergence benchmark's own logic: the counts it is given, and the line that compares both operators."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import convergence, harness
from benchmarks.readiness import Convergence


def test_counts_are_comma_separated_whole_numbers_each_once_ascending() -> None:
    assert harness.counts("2000, 500,,500") == [500, 2000]
    assert harness.counts("20") == [20]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("500,2k", "'2k' is not a whole number"),
        ("500,0", "0 is not a count of resources"),
        ("-5", "-5 is not a count of resources"),
        (" , ", "no count given"),
    ],
)
def test_a_bad_count_is_refused_saying_which(text: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        harness.counts(text)


def test_argparse_names_the_option_with_a_bad_count(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=harness.counts)
    with pytest.raises(SystemExit):
        parser.parse_args(["--models", "500,x"])
    assert "argument --models: 'x' is not a whole number" in capsys.readouterr().err


def _run(ready: float, apply: float = 1.0, count: int = 500) -> Convergence:
    return Convergence(count, apply_seconds=apply, ready_seconds=ready, latencies=[0.5, 1.0, 2.0])


def test_the_report_puts_both_operators_side_by_side_with_the_ratio_and_the_target() -> None:
    compared = convergence.Compared(controller=_run(36.9, apply=9.9), baseline=_run(10.3, apply=9.8))
    lines = compared.report().splitlines()
    assert lines[0] == "convergence of 500 MLModels (Ready detected by listing every 0.5s):"
    assert lines[1].startswith("  500 Ready in 36.9s with the controller (apply took 9.9s;")
    assert lines[2].startswith("  500 Ready in 10.3s with a do-nothing kopf operator (apply took 9.8s;")
    assert lines[3] == "  ratio 3.58 (target <= 1.5x: NOT met)"


def test_a_ratio_at_or_under_the_target_is_met() -> None:
    assert convergence.Compared(_run(15.0), _run(10.0)).report().endswith("(target <= 1.5x: met)")
    assert convergence.Compared(_run(15.1), _run(10.0)).report().endswith("(target <= 1.5x: NOT met)")


def test_thousands_are_listed_less_often_than_hundreds() -> None:
    assert convergence.poll_seconds(500) == 0.5
    assert convergence.poll_seconds(2000) == 2.0
    report = convergence.Compared(_run(60.0, count=2000), _run(40.0, count=2000)).report()
    assert report.startswith("convergence of 2000 MLModels (Ready detected by listing every 2.0s):")


def test_each_count_and_operator_has_a_namespace_of_its_own() -> None:
    assert convergence.namespaces("ctl", [500, 2000]) == ["bench-ctl-500", "bench-ctl-2000"]
    assert not set(convergence.namespaces("ctl", [500])) & set(convergence.namespaces("noop", [500]))
