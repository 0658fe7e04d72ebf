"""spec.permissions on the emulator, through the real SDK and API server: ServingEndpoint and MLJob.

Grants land in one write, a principal removed from the spec is revoked, grants changed by hand are put
back (DriftCorrected) while principals the spec never listed are left alone, Authoritative owns the whole
list but never the controller's own grant, an unknown principal is reported by name, ObserveOnly writes
nothing, and the steady state costs one permissions read per drift check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.iam import AccessControlRequest, PermissionLevel
from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

from sandbox.databricks import DEFAULT_TOKEN, DEFAULT_USER, Emulator
from tests.e2e.conftest import DRIFT_INTERVAL
from tests.support import Kubectl, wait_until

pytestmark = pytest.mark.e2e

API = "mlops.gitops.dev/v1alpha1"
PERMISSIONS = "/api/2.0/permissions/{object_type}/{object_id}"
DRIFT_SECONDS = float(DRIFT_INTERVAL.removesuffix("s"))
SP = "6f1c2a9e-app-id"
ANA = "ana@example.com"

Levels = dict[tuple[str, str], str]


@pytest.fixture
def w(emulator: Emulator) -> WorkspaceClient:
    for kind, name in (("group_name", "data-scientists"), ("service_principal_name", SP), ("user_name", ANA)):
        emulator.add_principal(kind, name)
    return WorkspaceClient(host=emulator.url, token=DEFAULT_TOKEN)


def direct(w: WorkspaceClient, object_type: str, object_id: str) -> Levels:
    """The object's direct grants as (field, name) → level."""
    found: Levels = {}
    for entry in w.permissions.get(object_type, object_id).access_control_list or []:
        name = entry.user_name or entry.group_name or entry.service_principal_name or ""
        field = "user" if entry.user_name else "group" if entry.group_name else "servicePrincipal"
        for p in entry.all_permissions or []:
            if not p.inherited and p.permission_level:
                found[(field, name)] = p.permission_level.value
    return found


def by_hand(w: WorkspaceClient, object_type: str, object_id: str, **levels: str) -> None:
    """A person's PATCH: group=level pairs, e.g. data_scientists="CAN_VIEW"."""
    acl = [
        AccessControlRequest(group_name=name.replace("_", "-"), permission_level=PermissionLevel(level))
        for name, level in levels.items()
    ]
    w.permissions.update(object_type, object_id, access_control_list=acl)


def permission_writes(emulator: Emulator) -> int:
    calls = emulator.counters()["calls"]
    return int(calls.get(f"PUT {PERMISSIONS}", 0)) + int(calls.get(f"PATCH {PERMISSIONS}", 0))


def events(kubectl: Kubectl, name: str, reason: str) -> list[str]:
    return [e["message"] for e in kubectl.events(name) if e["reason"] == reason]


def settled(
    kubectl: Kubectl, kind: str, name: str, check: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    """Wait until the resource is Ready for its generation and `check` holds of its status."""

    def ok() -> dict[str, Any] | None:
        obj = kubectl.get(kind, name)
        status = obj.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
        current = ready.get("observedGeneration") == obj["metadata"]["generation"] and ready.get("status") == "True"
        return obj if current and check(status) else None

    return wait_until(ok, timeout=timeout, what=f"{kind}/{name} settled")


def endpoint(name: str, endpoint_name: str, model: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "ServingEndpoint",
        "metadata": {"name": name},
        "spec": {
            "workspaceRef": {"name": "dbx"},
            "endpointName": endpoint_name,
            "servedEntities": [{"name": "main", "entityName": model, "entityVersion": 1}],
            "deletionPolicy": "Delete",
            **spec,
        },
    }


def test_endpoint_permissions(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.scorer"
    emulator.seed_model_version(model, source="models:/m-1", run_id="r-1")
    grants = [{"group": "data-scientists", "level": "CAN_QUERY"}, {"servicePrincipal": SP, "level": "CAN_MANAGE"}]
    kubectl.apply(endpoint("scorer", f"{ns}-scorer", model, permissions=grants))
    obj = settled(kubectl, "servingendpoint", "scorer", lambda s: bool((s.get("permissions") or {}).get("managed")))
    endpoint_id = obj["status"]["endpointId"]
    assert obj["status"]["permissions"]["managed"] == ["group:data-scientists", f"servicePrincipal:{SP}"]
    me = ("user", DEFAULT_USER)
    assert direct(w, "serving-endpoints", endpoint_id) == {
        ("group", "data-scientists"): "CAN_QUERY",
        ("servicePrincipal", SP): "CAN_MANAGE",
        me: "CAN_MANAGE",  # the creator's grant: a principal the spec never listed, left alone
    }

    # Steady state: one permissions read per drift check (as many as endpoint reads), no write.
    emulator.reset_counters()
    wait_until(lambda: emulator.counters()["calls"].get(f"GET {PERMISSIONS}", 0) >= 2, timeout=4 * DRIFT_SECONDS)
    calls = emulator.counters()["calls"]
    reads = calls.get(f"GET {PERMISSIONS}", 0)
    assert abs(reads - calls.get("GET /api/2.0/serving-endpoints/{name}", 0)) <= 1, calls
    assert permission_writes(emulator) == 0

    # By hand: a managed grant lowered and a new principal granted; the first is put back, the second stays.
    w.permissions.update(
        "serving-endpoints",
        endpoint_id,
        access_control_list=[
            AccessControlRequest(group_name="data-scientists", permission_level=PermissionLevel.CAN_VIEW),
            AccessControlRequest(user_name=ANA, permission_level=PermissionLevel.CAN_VIEW),
        ],
    )
    emulator.reset_counters()
    wait_until(
        lambda: direct(w, "serving-endpoints", endpoint_id).get(("group", "data-scientists")) == "CAN_QUERY",
        timeout=4 * DRIFT_SECONDS,
    )
    assert direct(w, "serving-endpoints", endpoint_id)[("user", ANA)] == "CAN_VIEW"
    assert permission_writes(emulator) == 1
    wait_until(lambda: events(kubectl, "scorer", "DriftCorrected"), timeout=10)
    assert "granted CAN_QUERY to group data-scientists" in events(kubectl, "scorer", "DriftCorrected")[-1]

    # The service principal removed from the spec: its grant is revoked in one write; Ana's stays.
    emulator.reset_counters()
    kubectl.apply(endpoint("scorer", f"{ns}-scorer", model, permissions=grants[:1]))
    settled(kubectl, "servingendpoint", "scorer", lambda s: s["permissions"]["managed"] == ["group:data-scientists"])
    assert direct(w, "serving-endpoints", endpoint_id) == {
        ("group", "data-scientists"): "CAN_QUERY",
        ("user", ANA): "CAN_VIEW",
        me: "CAN_MANAGE",
    }
    assert permission_writes(emulator) == 1

    # Authoritative: Ana's grant goes; the controller's own CAN_MANAGE stays, and status says so.
    kubectl.apply(endpoint("scorer", f"{ns}-scorer", model, permissions=grants[:1], permissionsMode="Authoritative"))
    obj = settled(kubectl, "servingendpoint", "scorer", lambda s: bool(s["permissions"].get("keptForController")))
    assert direct(w, "serving-endpoints", endpoint_id) == {("group", "data-scientists"): "CAN_QUERY", me: "CAN_MANAGE"}
    assert DEFAULT_USER in obj["status"]["permissions"]["keptForController"]
    assert any(DEFAULT_USER in m for m in events(kubectl, "scorer", "PermissionKept"))

    # An unknown principal: refused, reported by name, the rest untouched.
    unknown = [*grants[:1], {"group": "no-such-team", "level": "CAN_VIEW"}]
    kubectl.apply(endpoint("scorer", f"{ns}-scorer", model, permissions=unknown))
    failing = kubectl.wait_condition("servingendpoint", "scorer", status="False", timeout=30)
    ready = next(c for c in failing["status"]["conditions"] if c["type"] == "Ready")
    assert "GroupName(no-such-team)" in ready["message"], ready
    assert ("group", "no-such-team") not in direct(w, "serving-endpoints", endpoint_id)


def test_endpoint_permissions_observe_only(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    ns = kubectl.namespace
    model = f"main.{ns.replace('-', '_')}.watched"
    emulator.seed_model_version(model, source="models:/m-1", run_id="r-1")
    entity = ServedEntityInput(name="main", entity_name=model, entity_version="1", workload_size="Small")
    config = EndpointCoreConfigInput(name=f"{ns}-watched", served_entities=[entity])
    created = w.serving_endpoints.create(f"{ns}-watched", config=config).response
    assert created is not None
    assert created.id is not None
    by_hand(w, "serving-endpoints", created.id, data_scientists="CAN_VIEW")
    grants = [{"group": "data-scientists", "level": "CAN_QUERY"}]
    emulator.reset_counters()
    kubectl.apply(endpoint("watched", f"{ns}-watched", model, managementPolicy="ObserveOnly", permissions=grants))
    obj = kubectl.wait_condition("servingendpoint", "watched", reason="DriftDetected", timeout=30)
    assert [d for d in obj["status"]["drift"] if not d.startswith("permissions")] == []
    assert "permissions: group data-scientists has CAN_VIEW, spec says CAN_QUERY" in obj["status"]["drift"]
    assert permission_writes(emulator) == 0
    assert direct(w, "serving-endpoints", created.id)[("group", "data-scientists")] == "CAN_VIEW"


def test_refused_at_apply_naming_the_field(kubectl: Kubectl, databricks_workspace: str) -> None:
    bad_level = endpoint("bad", "bad", "main.a.b", permissions=[{"group": "data-scientists", "level": "CAN_RUN"}])
    result = kubectl.apply(bad_level, check=False)
    assert result.returncode != 0
    assert "spec.permissions[0].level" in result.stderr, result.stderr
    two = endpoint("bad", "bad", "main.a.b", permissions=[{"group": "a", "user": "b@example.com", "level": "CAN_VIEW"}])
    result = kubectl.apply(two, check=False)
    assert "set exactly one of user, group or servicePrincipal" in result.stderr, result.stderr
    twice = [{"group": "a", "level": "CAN_VIEW"}, {"group": "a", "level": "CAN_QUERY"}]
    result = kubectl.apply(endpoint("bad", "bad", "main.a.b", permissions=twice), check=False)
    assert "each group is listed once" in result.stderr, result.stderr


def job(name: str, job_name: str, **spec: Any) -> dict[str, Any]:
    task = {"task_key": "score", "notebook_task": {"notebook_path": "/Repos/risk/score"}}
    return {
        "apiVersion": API,
        "kind": "MLJob",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": "dbx"}, "settings": {"name": job_name, "tasks": [task]}, **spec},
    }


def test_job_permissions_and_owner(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    ns = kubectl.namespace
    me = ("user", DEFAULT_USER)
    runners = {"group": "data-scientists", "level": "CAN_MANAGE_RUN"}
    owner = {"servicePrincipal": SP, "level": "IS_OWNER"}
    kubectl.apply(job("nightly", f"{ns}-nightly", permissions=[runners, owner]))
    obj = settled(kubectl, "mljob", "nightly", lambda s: bool((s.get("permissions") or {}).get("managed")))
    job_id = str(obj["status"]["jobId"])
    # Ownership goes to the service principal; the controller, the creator and owner until now, keeps CAN_MANAGE.
    assert direct(w, "jobs", job_id) == {
        ("group", "data-scientists"): "CAN_MANAGE_RUN",
        ("servicePrincipal", SP): "IS_OWNER",
        me: "CAN_MANAGE",
    }
    assert DEFAULT_USER in obj["status"]["permissions"]["keptForController"]

    # The owner entry dropped from the spec: a job keeps exactly one owner, so the service principal stays it.
    kubectl.apply(job("nightly", f"{ns}-nightly", permissions=[runners]))
    settled(kubectl, "mljob", "nightly", lambda s: s["permissions"]["managed"] == ["group:data-scientists"])
    assert direct(w, "jobs", job_id)[("servicePrincipal", SP)] == "IS_OWNER"

    # Authoritative: a grant made by hand to someone else is revoked; owner and controller stay.
    by_hand(w, "jobs", job_id, users="CAN_VIEW")
    emulator.reset_counters()
    kubectl.apply(job("nightly", f"{ns}-nightly", permissions=[runners], permissionsMode="Authoritative"))
    wait_until(lambda: ("group", "users") not in direct(w, "jobs", job_id), timeout=4 * DRIFT_SECONDS)
    assert direct(w, "jobs", job_id) == {
        ("group", "data-scientists"): "CAN_MANAGE_RUN",
        ("servicePrincipal", SP): "IS_OWNER",
        me: "CAN_MANAGE",
    }
    assert permission_writes(emulator) == 1


def test_job_owner_refused_at_apply(kubectl: Kubectl, databricks_workspace: str) -> None:
    two = [{"user": ANA, "level": "IS_OWNER"}, {"servicePrincipal": SP, "level": "IS_OWNER"}]
    result = kubectl.apply(job("bad", "bad", permissions=two), check=False)
    assert "a job has one owner" in result.stderr, result.stderr
    group = [{"group": "data-scientists", "level": "IS_OWNER"}]
    result = kubectl.apply(job("bad", "bad", permissions=group), check=False)
    assert "a group cannot own a job" in result.stderr, result.stderr


def experiment(name: str, experiment_name: str, workspace: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Experiment",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": workspace}, "name": experiment_name, **spec},
    }


def test_experiment_permissions(kubectl: Kubectl, databricks_workspace: str, w: WorkspaceClient) -> None:
    name = f"/Shared/{kubectl.namespace}-training"
    editors = [{"group": "data-scientists", "level": "CAN_EDIT"}, {"user": ANA, "level": "CAN_READ"}]
    kubectl.apply(experiment("training", name, databricks_workspace, permissions=editors))
    obj = settled(kubectl, "experiment", "training", lambda s: bool((s.get("permissions") or {}).get("managed")))
    experiment_id = obj["status"]["experimentId"]
    assert direct(w, "experiments", experiment_id) == {
        ("group", "data-scientists"): "CAN_EDIT",
        ("user", ANA): "CAN_READ",
        ("user", DEFAULT_USER): "CAN_MANAGE",
    }
    kubectl.apply(experiment("training", name, databricks_workspace, permissions=editors[:1]))
    settled(kubectl, "experiment", "training", lambda s: s["permissions"]["managed"] == ["group:data-scientists"])
    assert ("user", ANA) not in direct(w, "experiments", experiment_id)


def test_experiment_permissions_on_mlflow_are_unsupported(kubectl: Kubectl, workspace: str) -> None:
    grants = [{"group": "data-scientists", "level": "CAN_EDIT"}]
    kubectl.apply(experiment("training", f"{kubectl.namespace}-training", workspace, permissions=grants))
    failing = kubectl.wait_condition("experiment", "training", status="False", reason="Unsupported", timeout=30)
    ready = next(c for c in failing["status"]["conditions"] if c["type"] == "Ready")
    assert "spec.permissions needs a Databricks Workspace" in ready["message"], ready
    assert failing["status"]["experimentId"]  # the experiment itself was made


def test_git_folder_permissions(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    url = "https://github.com/acme/permissions-code.git"
    emulator.seed_git_remote(url, branches={"main": "1" * 40})
    runners = [{"group": "data-scientists", "level": "CAN_RUN"}, {"servicePrincipal": SP, "level": "CAN_READ"}]
    path = f"/Repos/{kubectl.namespace}/code"
    folder = {
        "apiVersion": API,
        "kind": "GitFolder",
        "metadata": {"name": "code"},
        "spec": {"workspaceRef": {"name": "dbx"}, "url": url, "path": path, "branch": "main"},
    }
    folder["spec"]["permissions"] = runners
    kubectl.apply(folder)
    obj = settled(kubectl, "gitfolder", "code", lambda s: bool((s.get("permissions") or {}).get("managed")))
    repo_id = str(obj["status"]["repoId"])
    assert direct(w, "repos", repo_id)[("group", "data-scientists")] == "CAN_RUN"
    assert direct(w, "repos", repo_id)[("servicePrincipal", SP)] == "CAN_READ"
    folder["spec"]["permissions"] = runners[:1]
    kubectl.apply(folder)
    settled(kubectl, "gitfolder", "code", lambda s: s["permissions"]["managed"] == ["group:data-scientists"])
    assert ("servicePrincipal", SP) not in direct(w, "repos", repo_id)


def uc_grants(w: WorkspaceClient, name: str) -> dict[str, set[str]]:
    found = w.grants.get("FUNCTION", name).privilege_assignments or []
    return {a.principal or "": {p.value for p in a.privileges or []} for a in found}


def uc_model(name: str, registered: str, workspace: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "MLModel",
        "metadata": {"name": name},
        "spec": {"workspaceRef": {"name": workspace}, "registeredName": registered, "adopt": True, **spec},
    }


def test_model_grants_on_unity_catalog(
    kubectl: Kubectl, databricks_workspace: str, emulator: Emulator, w: WorkspaceClient
) -> None:
    registered = f"main.{kubectl.namespace.replace('-', '_')}.scorer"
    emulator.seed_model_version(registered, source="models:/m-1", run_id="r-1")
    grants = [
        {"group": "data-scientists", "privileges": ["EXECUTE"]},
        {"servicePrincipal": SP, "privileges": ["EXECUTE", "APPLY_TAG"]},
    ]
    kubectl.apply(uc_model("scorer", registered, databricks_workspace, permissions=grants))
    obj = settled(kubectl, "mlmodel", "scorer", lambda s: bool((s.get("permissions") or {}).get("managed")))
    assert obj["status"]["permissions"]["managed"] == ["principal:6f1c2a9e-app-id", "principal:data-scientists"]
    assert uc_grants(w, registered) == {"data-scientists": {"EXECUTE"}, SP: {"APPLY_TAG", "EXECUTE"}}

    # By hand: MANAGE added to a managed principal, EXECUTE granted to another; the first is undone in one PATCH.
    w.grants.update(
        "FUNCTION",
        registered,
        changes=[
            PermissionsChange(principal="data-scientists", add=[Privilege.MANAGE]),
            PermissionsChange(principal=ANA, add=[Privilege.EXECUTE]),
        ],
    )
    emulator.reset_counters()
    wait_until(lambda: uc_grants(w, registered).get("data-scientists") == {"EXECUTE"}, timeout=4 * DRIFT_SECONDS)
    assert uc_grants(w, registered)[ANA] == {"EXECUTE"}
    assert (
        emulator.counters()["calls"].get("PATCH /api/2.1/unity-catalog/permissions/{securable_type}/{full_name}") == 1
    )

    # The service principal removed from the spec loses its privileges; Ana's stay.
    kubectl.apply(uc_model("scorer", registered, databricks_workspace, permissions=grants[:1]))
    settled(kubectl, "mlmodel", "scorer", lambda s: s["permissions"]["managed"] == ["principal:data-scientists"])
    assert uc_grants(w, registered) == {"data-scientists": {"EXECUTE"}, ANA: {"EXECUTE"}}

    # An unknown principal is reported by name.
    unknown = [*grants[:1], {"group": "no-such-team", "privileges": ["EXECUTE"]}]
    kubectl.apply(uc_model("scorer", registered, databricks_workspace, permissions=unknown))
    failing = kubectl.wait_condition("mlmodel", "scorer", status="False", timeout=30)
    ready = next(c for c in failing["status"]["conditions"] if c["type"] == "Ready")
    assert "Could not find principal with name no-such-team" in ready["message"], ready


def test_model_grants_on_mlflow_are_unsupported(kubectl: Kubectl, workspace: str) -> None:
    grants = [{"group": "data-scientists", "privileges": ["EXECUTE"]}]
    model = uc_model("scorer", f"{kubectl.namespace}-scorer", workspace, permissions=grants)
    model["spec"]["adopt"] = False
    kubectl.apply(model)
    failing = kubectl.wait_condition("mlmodel", "scorer", status="False", reason="Unsupported", timeout=30)
    ready = next(c for c in failing["status"]["conditions"] if c["type"] == "Ready")
    assert "spec.permissions needs a Databricks Workspace" in ready["message"], ready
