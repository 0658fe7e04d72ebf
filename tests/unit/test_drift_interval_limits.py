"""A driftInterval outside 1s to 24h is refused at apply, with the field named.

0s used to be clamped to 1s without a word, and a huge value switched drift correction off. Checked through
`validate_document`, which applies the CRD's own CEL rule as the API server does.
"""

from __future__ import annotations

from typing import Any

import pytest

from controller.api.validation import validate_document


def _workspace(drift_interval: str) -> dict[str, Any]:
    spec = {"mlflow": {"trackingUri": "http://mlflow:5000"}, "driftInterval": drift_interval}
    return {"apiVersion": "mlops.gitops.dev/v1alpha1", "kind": "Workspace", "metadata": {"name": "x"}, "spec": spec}


@pytest.mark.parametrize("interval", ["1s", "30s", "5m", "1h30m", "24h", "23h59m59s", "86400s", "1440m"])
def test_drift_intervals_from_1s_to_24h_are_accepted(interval: str) -> None:
    assert validate_document(_workspace(interval)) == []


@pytest.mark.parametrize("interval", ["0s", "0h0m0s", "0m", "24h0m1s", "25h", "86401s", "1441m", "9999999h"])
def test_drift_intervals_outside_1s_to_24h_are_refused(interval: str) -> None:
    assert validate_document(_workspace(interval)) == ["spec.driftInterval: driftInterval must be from 1s to 24h"]
