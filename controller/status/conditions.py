"""One condition vocabulary for every kind: the two condition types and their reasons.

Two condition types, each with one meaning:
- Ready: the external object exists, matches the spec and is usable. This is what
  `kubectl wait --for=condition=Ready`, kstatus (Flux) and the Argo CD health checks read.
- Synced: the last reconcile reached the external system and applied everything it
  could. Ready=True with Synced=False means "still serving, but the last change failed".

Reasons (CamelCase, stable: dashboards and health checks match on them) are declared once,
here, with `reason(...)`: the constant code passes to a Verdict is the catalog entry the
docs are generated from (the tables in docs/troubleshooting.md and docs/kinds/*.md).

To add a reason:
1. Add `NAME = reason("Name", <condition>, <kinds>, "what it means", "what to do")` below;
   give `per_kind={"Kind": "..."}` where a kind's page should word it its own way.
2. Pass the constant (never a bare string) as the reason of a Verdict, `Waiting`, `run.wait`,
   `run.failed` or `run.not_ours`.
3. Run `mlopsctl generate` and commit the docs it rewrites. `tests/unit/test_reasons.py`
   fails when a reason the code can set is not declared here, or when the docs are stale.

The rules for setting conditions are in controller/status/setter.py; its names are reachable
from here too, so a kind needs one import for a Verdict and its reason.
"""

from __future__ import annotations

from controller.status.reasons import (
    CATALOG as CATALOG,
)
from controller.status.reasons import (
    EVERY_KIND,
    FAILING,
    MANAGED,
    NOT_READY,
    ON_DATABRICKS,
    READY_TRUE,
    WORKSPACE,
    reason,
)
from controller.status.setter import MAX_MESSAGE as MAX_MESSAGE
from controller.status.setter import Verdict as Verdict
from controller.status.setter import find as find
from controller.status.setter import is_true as is_true
from controller.status.setter import set_condition as set_condition

READY = "Ready"
SYNCED = "Synced"

RECONCILED = reason(
    "Reconciled",
    "Ready=True, Synced=True",
    EVERY_KIND,
    "the external object matches the spec; as Synced's reason while Ready is False: everything that can be "
    "applied now was",
    per_kind={
        "Workspace": "Synced only: the last connection check succeeded (Ready's reason is then `Connected`)",
        "MLModel": "the registered model, its declared versions and its aliases match the spec",
        "ServingEndpoint": "READY, not updating, and matching the spec",
        "MLJob": "the job matches the spec",
        "ModelMonitor": "the monitor is `ACTIVE` and matches the spec",
        "Experiment": "the experiment is active and its tags match the spec",
        "GitFolder": "the declared branch (pulled) or tag is checked out",
    },
)
OBSERVED = reason(
    "Observed",
    READY_TRUE,
    MANAGED,
    "ObserveOnly: the external object matches the spec; nothing is written",
)
DRIFT_DETECTED = reason(
    "DriftDetected",
    READY_TRUE,
    MANAGED,
    "ObserveOnly: the external object differs from the spec, as listed in `status.drift`; a Warning Event says so",
    "change the spec or the object, or switch to `managementPolicy: Manage` to have it corrected",
)
CONNECTED = reason(
    "Connected",
    READY_TRUE,
    (WORKSPACE,),
    "the controller reached the workspace or MLflow server with the credentials given",
)
CONNECTION_FAILED = reason(
    "ConnectionFailed",
    FAILING,
    EVERY_KIND,
    "the credentials were refused or the host did not answer",
    "check the Secret, the host and the network path from the controller",
)
CREDENTIALS_MISSING = reason(
    "CredentialsMissing",
    FAILING,
    EVERY_KIND,
    "the credentials Secret or one of its keys is missing, or the controller may not read it",
    "create the Secret with the keys docs/kinds/workspace.md lists; check the controller's RBAC",
)
WAITING_FOR_WORKSPACE = reason(
    "WaitingForWorkspace",
    FAILING,
    MANAGED,
    "the Workspace in `spec.workspaceRef` is missing, invalid, or has never connected; woken as soon as it connects",
    "check the Workspace's own status",
)
WAITING_FOR_MODEL_VERSION = reason(
    "WaitingForModelVersion",
    NOT_READY,
    ("MLModel", "ServingEndpoint"),
    "an alias or served entity names a model version that does not exist (yet), or an alias that is not set",
    "register the version, set the alias, or fix the number",
)
WAITING_FOR_DEPENDENCY = reason(
    "WaitingForDependency",
    NOT_READY,
    ("ServingEndpoint", "ModelMonitor", "MLJob", "MLModel"),
    "a resource this one refers to (an MLModel, a ServingEndpoint, a GitFolder) does not exist or is not Ready, "
    "or the monitor's output schema does not exist; woken when it changes",
    "create or fix the resource named in the message",
    per_kind={
        "ServingEndpoint": "the MLModel in a `modelRef` does not exist in this namespace or is not Ready",
        "ModelMonitor": "the ServingEndpoint in `endpointRef` does not exist, or the output schema does not exist",
        "MLModel": "the MLJob in `deploymentJobRef` does not exist in this namespace or has no job yet",
        "MLJob": "a GitFolder in a task's `git_folder_ref` does not exist in this namespace or is not Ready",
    },
)
WAITING_FOR_INFERENCE_TABLE = reason(
    "WaitingForInferenceTable",
    NOT_READY,
    ("ModelMonitor",),
    "the monitored table does not exist yet: the endpoint logs no inference table (set its "
    "`spec.inferenceTable`), has none yet, or the table is not in Unity Catalog yet; also a `tableName` "
    "that does not exist",
    "give the endpoint an inference table, or wait for its first requests to be logged",
)
EXTERNAL_UNAVAILABLE = reason(
    "ExternalUnavailable",
    FAILING,
    MANAGED,
    "the service answered 429 or 5xx, or did not answer; retried soon with backoff",
    "nothing if it is transient; otherwise check the service",
)
EXTERNAL_REJECTED = reason(
    "ExternalRejected",
    FAILING,
    MANAGED,
    "the service refused part of the spec; its message is in the condition. The rest of the spec is applied; "
    "the refused part is tried again at the next drift check",
    "fix the spec",
)
EXTERNAL_OBJECT_MISSING = reason(
    "ExternalObjectMissing",
    FAILING,
    MANAGED,
    "ObserveOnly: the object to observe does not exist",
    "create it outside the controller, fix the name, or switch to `managementPolicy: Manage`",
    per_kind={
        "MLModel": "ObserveOnly: the registered model does not exist",
        "MLJob": "ObserveOnly: no job, or more than one job, has the spec's name",
        "ServingEndpoint": "ObserveOnly: no endpoint has that name",
        "ModelMonitor": "ObserveOnly: there is no monitor on the table",
        "Experiment": "ObserveOnly: no experiment has the name, or it is in the deleted stage",
        "GitFolder": "ObserveOnly: there is no Git folder at the path",
    },
)
OWNED_BY_ANOTHER = reason(
    "OwnedByAnother",
    NOT_READY,
    MANAGED,
    "another resource owns the external object (its ownership tags name it); it is never changed or deleted",
    "two resources declare the same object: remove one",
)
ADOPTION_REQUIRED = reason(
    "AdoptionRequired",
    NOT_READY,
    ("MLModel", "ServingEndpoint", "ModelMonitor", "Experiment", "GitFolder"),
    "the external object exists and is not managed by any resource; it is never changed or deleted",
    "set `spec.adopt: true` to take it over",
)
ADOPTION_AMBIGUOUS = reason(
    "AdoptionAmbiguous",
    NOT_READY,
    ("MLJob",),
    "`spec.adopt` is set and several unmanaged jobs have the spec's name (names are not unique); none is taken over",
    "rename or delete the jobs that should not be taken over",
)
UNSUPPORTED = reason(
    "Unsupported",
    FAILING,
    (*ON_DATABRICKS, "Experiment", "MLModel"),
    "the kind needs a Databricks Workspace and `spec.workspaceRef` names an MLflow one",
    "refer to a Databricks Workspace",
    per_kind={
        "Experiment": "`spec.permissions` is set and `spec.workspaceRef` names an MLflow Workspace, which has no "
        "permissions API; the rest of the spec is applied",
        "MLModel": "`spec.permissions` is set and `spec.workspaceRef` names an MLflow Workspace, whose registry has "
        "no grants (or `spec.deploymentJobRef`: it has no deployment jobs); the rest of the spec is applied",
    },
)
DELETE_FAILED = reason(
    "DeleteFailed",
    FAILING,
    MANAGED,
    "deleting the external object failed; the finalizer stays, a Warning Event says why, and it is retried every 15 s",
    "fix the cause (often permissions); see 'A resource is stuck deleting' in docs/troubleshooting.md",
)
IMMUTABLE_FIELD_CHANGED = reason(
    "ImmutableFieldChanged",
    FAILING,
    ("ModelMonitor",),
    "a field Databricks cannot change on an existing monitor changed, and `onImmutableChange` is `Refuse`",
    "put the field back, or set `onImmutableChange: Recreate`",
)
MONITOR_PENDING = reason(
    "MonitorPending",
    NOT_READY,
    ("ModelMonitor",),
    "`PENDING`: Databricks is still setting the monitor up (or deleting it to make it again); "
    "looked at again after at most 15 s",
)
MONITOR_ERROR = reason(
    "MonitorError",
    NOT_READY,
    ("ModelMonitor",),
    "`ERROR` or `FAILED`, with Databricks' message (`latest_monitor_failure_message`) and a Warning Event "
    "when it happens",
    "fix the cause Databricks names (often the table or permissions)",
)
UPDATE_IN_PROGRESS = reason(
    "UpdateInProgress",
    NOT_READY,
    ("ServingEndpoint",),
    "Databricks is applying a config; Argo CD shows Progressing",
)
UPDATE_FAILED = reason(
    "UpdateFailed",
    FAILING,
    ("ServingEndpoint",),
    "the last config update failed; the message has each served entity's deployment message, Argo CD shows Degraded",
    "fix the cause in the spec (the same config is not sent again until the spec changes)",
)
ROLLOUT_PROGRESSING = reason(
    "RolloutProgressing",
    NOT_READY,
    ("ServingEndpoint",),
    "a new version is rolling out step by step (`spec.rollout`), or the rollout is paused for a person; "
    "`status.rollout` has the step, the traffic split and the analysis",
    "nothing while it progresses; when paused, set the `mlops.gitops.dev/rollout-action` annotation to "
    "`promote:<nonce>`, `abort:<nonce>` or `retry:<nonce>`",
)
ROLLOUT_ABORTED = reason(
    "RolloutAborted",
    NOT_READY,
    ("ServingEndpoint",),
    "the rollout's analysis failed (or a person aborted it): all the entity's traffic is back on the stable "
    "version and the canary is removed, while the alias or entityVersion still names the new version; the "
    "message names the failing check with its measured value and limit",
    "fix the version and change the spec, or retry with the annotation `mlops.gitops.dev/rollout-action: "
    "retry:<nonce>`",
)
ENDPOINT_NOT_READY = reason(
    "EndpointNotReady",
    NOT_READY,
    ("ServingEndpoint",),
    "not updating, but `state.ready` is NOT_READY (a served entity is not deployed)",
    "check the served entities' state in Databricks",
)
PROMOTION_BLOCKED = reason(
    "PromotionBlocked",
    NOT_READY,
    ("MLModel",),
    "a version failed the promotion gates of the alias the spec moves to it: the alias stays where it is, "
    "everything else was applied; `status.promotion` has each gate's measured and required value",
    "fix the version (log the metric, set the approval tag) or point the alias elsewhere; see docs/promotion.md",
)
ARTIFACT_LOCATION_DIFFERS = reason(
    "ArtifactLocationDiffers",
    NOT_READY,
    ("Experiment",),
    "the experiment stores artifacts elsewhere than `spec.artifactLocation` says; an experiment's artifact "
    "location cannot change, so it is left as it is (its tags are still managed)",
    "remove `spec.artifactLocation` to accept the experiment's (`status.artifactLocation`), or use another name",
)

# Never set by this version; kept because dashboards and health checks may match on it.
DELETING = "Deleting"


def is_waiting(reason: str) -> bool:
    """A Waiting* reason: the resource waits for something to exist or become Ready (it posts one Event)."""
    return reason.startswith("Waiting")
