"""The Argo CD health checks, run as Argo CD runs them: real Lua 5.1 offering only what Argo CD offers.

Every case in argocd/tests/ runs the shipped argocd/health/<Kind>.lua on a fixture object and
compares status and message. tests/unit/argocd_lua.py gives each script exactly the globals
Argo CD gives a custom check (no os, string, math or io library; strings without methods), so
a script that would fail in Argo CD fails here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

from controller.api import argocd, reason_docs
from controller.api.generate import stale_files
from controller.api.validation import validate_paths
from controller.cli import main
from controller.kinds.catalog import KINDS
from controller.status import conditions
from tests.unit import argocd_lua

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "argocd" / "tests"
BY_KIND = {kind.kind: kind for kind in KINDS}
HEALTH_STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: objects merge, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _cases() -> Iterator[Any]:
    shared = _load(CASES_DIR / "common.yaml")["cases"]
    for kind in BY_KIND:
        fixture = _load(CASES_DIR / f"{kind}.yaml")
        for case in [*shared, *fixture["cases"]]:
            if kind in case.get("kinds", [kind]):
                obj = merge_patch(fixture["object"], case.get("patch", {}))
                yield pytest.param(kind, obj, case["expect"], id=f"{kind}-{case['id']}")


CASES = list(_cases())


def _health(kind: str, obj: dict[str, Any]) -> tuple[str, str]:
    script = (ROOT / argocd.HEALTH_DIR / f"{kind}.lua").read_text()
    result = argocd_lua.run(script, f"{kind}.lua", obj)
    assert dict(result.items()).keys() == {"status", "message"}
    assert result["status"] in HEALTH_STATUSES
    assert isinstance(result["message"], str)
    return result["status"], result["message"]


@pytest.mark.parametrize(("kind", "obj", "expect"), CASES)
def test_health(kind: str, obj: dict[str, Any], expect: dict[str, str]) -> None:
    assert _health(kind, obj) == (expect["status"], expect["message"])


@pytest.mark.parametrize(("kind", "obj", "expect"), CASES)
def test_fixture_matches_the_models(kind: str, obj: dict[str, Any], expect: dict[str, str]) -> None:
    """Fixtures use the real spec and status fields, so a renamed field cannot leave a check reading nothing."""
    definition = BY_KIND[kind]
    assert obj["apiVersion"] == "mlops.gitops.dev/v1alpha1"
    assert obj["kind"] == kind
    definition.spec.model_validate(obj["spec"])
    status = {key: value for key, value in (obj.get("status") or {}).items() if key != "conditions"}
    definition.status.model_validate(status)


REASONS = sorted(
    value
    for name, value in vars(conditions).items()
    if name.isupper() and isinstance(value, str) and name not in {"READY", "SYNCED"}
)
# MonitorPending: Databricks is still setting the monitor up or deleting it; the controller polls it.
# RolloutProgressing: a ServingEndpoint rolling a version out step by step (or paused for a person).
TRANSIENT = {conditions.EXTERNAL_UNAVAILABLE, conditions.MONITOR_PENDING, conditions.ROLLOUT_PROGRESSING} | {
    reason for reason in REASONS if reason.startswith("WaitingFor")
}


def test_reason_vocabulary_is_read() -> None:
    assert {"WaitingForModelVersion", "ExternalUnavailable", "ExternalRejected"} <= set(REASONS)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        pytest.param("TRANSIENT_REASONS", TRANSIENT, id="transient"),
        pytest.param("OBSERVE_ONLY_REASONS", {conditions.OBSERVED, conditions.DRIFT_DETECTED}, id="observe-only"),
    ],
)
def test_reason_tables_name_exactly_the_vocabulary(table: str, expected: set[str]) -> None:
    common = (ROOT / argocd.SOURCE_DIR / "common.lua").read_text()
    keys = argocd_lua.run(f"{common}\nreturn {table}", "common.lua", {})
    assert set(keys.keys()) == expected


@pytest.mark.parametrize("kind", sorted(BY_KIND))
@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_when_not_ready(kind: str, reason: str) -> None:
    """A reason that means "not yet" keeps a sync wave waiting; any other fails it."""
    obj = merge_patch(
        _load(CASES_DIR / f"{kind}.yaml")["object"],
        {
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": reason, "message": "why"},
                    {"type": "Synced", "status": "True", "reason": "Reconciled"},
                ]
            }
        },
    )
    expected = "Progressing" if reason in TRANSIENT else "Degraded"
    assert _health(kind, obj) == OWN_HEALTH.get((kind, reason), (expected, f"{reason}: why"))


OWN_HEALTH = {
    # Held back by its gates, the registry keeps the version it had: waiting for evidence, not broken.
    ("MLModel", conditions.PROMOTION_BLOCKED): ("Suspended", "Promotion held back: why"),
}
"""Ready reasons a kind's own health check reads otherwise than "not yet" or "broken"."""


@pytest.mark.parametrize("kind", sorted(BY_KIND))
@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_when_not_synced(kind: str, reason: str) -> None:
    obj = merge_patch(
        _load(CASES_DIR / f"{kind}.yaml")["object"],
        {
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "False", "reason": reason, "message": "why"},
                    {"type": "Synced", "status": "False", "reason": reason, "message": "why"},
                ]
            }
        },
    )
    expected = "Progressing" if reason in TRANSIENT else "Degraded"
    assert _health(kind, obj) == (expected, f"{reason}: why")


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('return ("abc"):sub(1, 1)', id="string-method"),
        pytest.param('return string.find("abc", "b")', id="string-library"),
        pytest.param("return math.floor(1.5)", id="math-library"),
        pytest.param('return io.open("/etc/hostname")', id="io-library"),
        pytest.param("return os.time()", id="os-global"),
        pytest.param('return require("string").len("abc")', id="string-by-require"),
        pytest.param('return require("math").floor(1.5)', id="math-by-require"),
        pytest.param('return require("os").clock()', id="os-beyond-time-and-date"),
        pytest.param("return coroutine.create(print)", id="coroutine-library"),
        pytest.param("return debug.traceback()", id="debug-library"),
    ],
)
def test_sandbox_refuses_what_argocd_does_not_open(source: str) -> None:
    with pytest.raises(lua51.LuaError):
        argocd_lua.run(source, "probe.lua", {})


def test_os_string_and_math_are_absent_to_a_custom_check() -> None:
    source = "return {type(os), type(string), type(math), type(io), type(getmetatable(''))}"
    assert list(argocd_lua.run(source, "probe.lua", {}).values()) == ["nil"] * 5


def test_sandbox_keeps_what_argocd_opens() -> None:
    source = 'return table.concat({"a", tostring(#"bc"), type(obj.x)}, "-") .. require("os").time() * 0'
    assert argocd_lua.run(source, "probe.lua", {"x": 1}) == "a-2-number0"
    source = 'local os = require("os") return os.date("!%Y-%m-%d", 86400) .. " " .. type(actionParams)'
    assert argocd_lua.run(source, "probe.lua", {}) == "1970-01-02 table"


def test_every_run_starts_afresh() -> None:
    """Argo CD makes a new Lua state per check, so a global one script leaves is gone in the next."""
    assert argocd_lua.run("leftover = 1 return type(leftover)", "first.lua", {}) == "number"
    assert argocd_lua.run("return type(leftover)", "second.lua", {}) == "nil"


def test_every_kind_has_a_script_and_cases() -> None:
    assert sorted(p.stem for p in (ROOT / argocd.HEALTH_DIR).glob("*.lua")) == sorted(BY_KIND)
    assert sorted(p.stem for p in CASES_DIR.glob("*.yaml")) == sorted([*BY_KIND, "common"])
    assert {case.values[0] for case in CASES} == set(BY_KIND)


def test_generated_files_are_current() -> None:
    assert stale_files(ROOT) == [], "run `mlopsctl generate`"


def test_configmap_carries_every_script() -> None:
    configmap = yaml.safe_load((ROOT / argocd.CONFIGMAP).read_text())
    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"]["name"] == "argocd-cm"
    scripts = {kind: (ROOT / argocd.HEALTH_DIR / f"{kind}.lua").read_text() for kind in BY_KIND}
    assert configmap["data"] == {
        f"resource.customizations.health.mlops.gitops.dev_{kind}": text for kind, text in scripts.items()
    }


def test_check_reports_a_stale_script(tmp_path: Path) -> None:
    (tmp_path / argocd.SOURCE_DIR).mkdir(parents=True)
    for source in (ROOT / argocd.SOURCE_DIR).glob("*.lua"):
        (tmp_path / argocd.SOURCE_DIR / source.name).write_text(source.read_text())
    for page in reason_docs.pages():  # the generator also fills the reason tables in these
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / page).write_text((ROOT / page).read_text())
    assert main(["crds", "--root", str(tmp_path)]) == 0
    assert main(["crds", "--root", str(tmp_path), "--check"]) == 0
    (tmp_path / argocd.SOURCE_DIR / "MLModel.lua").write_text("return assess(obj, {})\n-- changed\n")
    (tmp_path / argocd.HEALTH_DIR / "Retired.lua").write_text("")
    assert stale_files(tmp_path) == [
        f"{argocd.HEALTH_DIR}/MLModel.lua",
        argocd.CONFIGMAP,
        argocd.CHART_KEYS,
        f"{argocd.HEALTH_DIR}/Retired.lua",
    ]
    assert main(["crds", "--root", str(tmp_path), "--check"]) == 1


def test_example_application_syncs_in_dependency_order() -> None:
    """examples/argocd: valid manifests, one wave per kind in dependency order, references that resolve."""
    folder = ROOT / "examples" / "argocd"
    assert validate_paths([folder]) == []
    documents = {}
    for name in _load(folder / "kustomization.yaml")["resources"]:
        document = _load(folder / name)
        documents[document["kind"]] = document
    waves = {
        kind: int(doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for kind, doc in documents.items()
    }
    assert sorted(waves, key=lambda kind: waves[kind]) == ["Workspace", "MLModel", "ServingEndpoint", "ModelMonitor"]
    assert len(set(waves.values())) == len(waves)
    workspace, model = documents["Workspace"]["metadata"]["name"], documents["MLModel"]
    endpoint, monitor = documents["ServingEndpoint"], documents["ModelMonitor"]
    assert {doc["spec"]["workspaceRef"]["name"] for doc in (model, endpoint, monitor)} == {workspace}
    (served,) = endpoint["spec"]["servedEntities"]
    assert served["modelRef"]["name"] == model["metadata"]["name"]
    assert served["modelRef"]["alias"] in model["spec"]["aliases"]
    assert monitor["spec"]["endpointRef"]["name"] == endpoint["metadata"]["name"]
