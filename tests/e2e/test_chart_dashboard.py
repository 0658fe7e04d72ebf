"""The chart's Grafana dashboard ConfigMap, rendered by the real helm: labelled for the sidecar, valid JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.chart import CHART, helm, render, set_args

pytestmark = pytest.mark.e2e

DASHBOARD_FILE = CHART / "files" / "grafana-dashboard.json"
ENABLED = ("--set", "grafanaDashboard.enabled=true")


def dashboards(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [obj for obj in objects if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].endswith("-dashboard")]


def test_enabled_the_dashboard_is_a_configmap_the_grafana_sidecar_loads() -> None:
    [config_map] = dashboards(render(*ENABLED, release="ctl", namespace="mlops-system"))
    meta = config_map["metadata"]
    assert (meta["name"], meta["namespace"]) == ("ctl-mlops-gitops-controller-dashboard", "mlops-system")
    assert meta["labels"]["grafana_dashboard"] == "1"
    assert "annotations" not in meta
    [(key, text)] = config_map["data"].items()
    assert key.endswith(".json")
    dashboard = json.loads(text)
    assert dashboard == json.loads(DASHBOARD_FILE.read_text())
    assert dashboard["uid"] == "mlops-gitops-controller"


def test_label_folder_and_namespace_follow_the_values() -> None:
    values = {
        "grafanaDashboard.label": "dashboards.example.com/grafana",
        "grafanaDashboard.labelValue": "mlops",
        "grafanaDashboard.folder": "MLOps",
        "grafanaDashboard.folderAnnotation": "grafana_folder",
        "grafanaDashboard.namespace": "monitoring",
    }
    [config_map] = dashboards(render(*ENABLED, *set_args(values)))
    meta = config_map["metadata"]
    assert meta["labels"]["dashboards.example.com/grafana"] == "mlops"
    assert "grafana_dashboard" not in meta["labels"]
    assert meta["annotations"] == {"grafana_folder": "MLOps"}
    assert meta["namespace"] == "monitoring"
    result = helm("lint", "--strict", str(CHART), *ENABLED, *set_args(values))
    assert "0 chart(s) failed" in result.stdout, result.stdout


def test_a_numeric_label_value_is_rendered_as_the_string_labels_need() -> None:
    [config_map] = dashboards(render(*ENABLED, "--set", "grafanaDashboard.labelValue=1"))
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"


@pytest.mark.parametrize(
    "values", [pytest.param((), id="default"), pytest.param(("--set", "grafanaDashboard.enabled=false"), id="disabled")]
)
def test_off_by_default_and_when_disabled(values: tuple[str, ...]) -> None:
    objects = render(*values)
    assert dashboards(objects) == []
    assert any(obj["kind"] == "Deployment" for obj in objects)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        pytest.param({"grafanaDashboard.labelValue": "not valid!"}, "'/grafanaDashboard/labelValue'", id="label-value"),
        pytest.param({"grafanaDashboard.label": "a/b/c"}, "'/grafanaDashboard/label'", id="label-key"),
        pytest.param({"grafanaDashboard.folders": "x"}, "additional properties 'folders'", id="misspelt-key"),
    ],
)
def test_the_schema_refuses_bad_dashboard_values(values: dict[str, str], problem: str) -> None:
    result = helm("template", "ctl", str(CHART), *set_args(values), check=False)
    assert result.returncode != 0
    assert problem in result.stderr, result.stderr
