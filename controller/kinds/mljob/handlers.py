"""kopf handlers for MLJob: reconcile on spec change, on resume, and on the drift timer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
from pydantic import ValidationError

from controller import handling
from controller.api.crd import GROUP, VERSION
from controller.kinds.mljob import reconcile as mljob
from controller.kinds.mljob.external import DatabricksJobs
from controller.kinds.mljob.model import LastRun, MLJobSpec
from controller.kinds.mljob.observed import ObservedRun
from controller.kinds.workspace import lookup
from controller.kinds.workspace.handlers import NotUsable, databricks, databricks_client
from controller.settings import TIMER_INTERVAL
from controller.status.outcome import Outcome

KIND = "MLJob"
RUN_POLL_SECONDS = 30.0


@kopf.on.resume(GROUP, VERSION, "mljobs")
@kopf.on.create(GROUP, VERSION, "mljobs")
@kopf.on.update(GROUP, VERSION, "mljobs", field="spec")
def mljob_changed(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    _reconcile(body, patch, logger, kwargs["workspaces"])


@kopf.timer(GROUP, VERSION, "mljobs", interval=TIMER_INTERVAL)
def mljob_drift(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    if handling.is_due(body.meta):
        _reconcile(body, patch, logger, kwargs["workspaces"])


@kopf.on.delete(GROUP, VERSION, "mljobs")
def mljob_deleted(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, **kwargs: Any) -> None:
    spec = MLJobSpec.model_validate(dict(body.spec))
    namespace, job_id = str(body.meta["namespace"]), body.status.get("jobId")

    def connect() -> mljob.Jobs:
        return DatabricksJobs(databricks_client(kwargs["workspaces"], namespace, spec.workspace_ref.name, kind=KIND))

    handling.delete_external(
        body=body,
        patch=patch,
        logger=logger,
        failure=f"deleting job {job_id or spec.settings.name} failed",
        run=lambda: mljob.delete(spec, connect=connect, uid=str(body.meta["uid"]), job_id=job_id),
    )


def _reconcile(body: kopf.Body, patch: kopf.Patch, logger: kopf.Logger, workspaces: kopf.Index[Any, Any]) -> None:
    spec = MLJobSpec.model_validate(dict(body.spec))
    view = lookup.find(workspaces.get((body.meta["namespace"], spec.workspace_ref.name)))
    drift = view.drift_seconds if view else lookup.DEFAULT_DRIFT_SECONDS

    def run() -> Outcome:
        try:
            jobs = DatabricksJobs(databricks(view, str(body.meta["namespace"]), spec.workspace_ref.name, kind=KIND))
        except NotUsable as exc:
            return exc.outcome
        request = mljob.Request(
            owner=f"{body.meta['namespace']}/{body.meta['name']}",
            uid=str(body.meta["uid"]),
            generation=int(body.meta.get("generation") or 0),
            spec_changed=handling.spec_changed(body),
            recorded=_recorded(body.status),
            poll_seconds=min(RUN_POLL_SECONDS, drift),
        )
        return mljob.reconcile(spec, jobs=jobs, request=request)

    handling.reconcile(kind=KIND, body=body, patch=patch, logger=logger, drift_seconds=drift, run=run)


def _recorded(status: Mapping[str, Any]) -> mljob.Recorded:
    """What earlier reconciles left in status."""
    last_run: ObservedRun | None = None
    try:
        if status.get("lastRun"):
            last = LastRun.model_validate(dict(status["lastRun"]))
            last_run = ObservedRun(run_id=last.run_id, state=last.state, result=last.result, url=last.url)
    except ValidationError:
        last_run = None
    return mljob.Recorded(
        job_id=status.get("jobId"),
        applied_hash=status.get("appliedSettingsHash"),
        job_hash=status.get("jobSettingsHash"),
        last_run=last_run,
    )
