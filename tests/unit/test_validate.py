"""`mlopsctl validate`: offline checks with file, document and field in every message."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.cli import main
from tests.support import EXAMPLES

BROKEN = Path(__file__).parent / "manifests" / "broken"


def test_examples_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLES)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "expected",
    [
        "mlmodel-types.yaml:1: spec.deletionPolicy: Input should be 'Retain' or 'Delete'",
        "mlmodel-types.yaml:2: spec.colour: Extra inputs are not permitted",
        "workspace-missing.yaml:1: spec.mlflow.trackingUri: Field required",
        "mlmodel-rules.yaml:1: spec.aliases: alias names 'latest' and 'v<number>' are reserved by MLflow",
        "mlmodel-rules.yaml:2: spec.aliases: an alias that names a version handle must name one of spec.versions",
        "mlmodel-rules.yaml:3: spec: set exactly one of databricks or mlflow",
    ],
)
def test_broken_manifests_name_file_document_and_field(capsys: pytest.CaptureFixture[str], expected: str) -> None:
    assert main(["validate", str(BROKEN)]) == 1
    assert expected in capsys.readouterr().err
