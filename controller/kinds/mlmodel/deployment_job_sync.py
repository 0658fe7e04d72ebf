"""spec.deploymentJobRef: the MLJob set as the registered model's deployment job (Unity Catalog only)."""

from __future__ import annotations

from controller.kinds.mlmodel.observed import ObservedModel
from controller.kinds.mlmodel.run import ModelRun
from controller.status import conditions as c


def sync_deployment_job(run: ModelRun, model: ObservedModel) -> str | None:
    """Set, correct or clear the model's deployment job; returns the job this resource has set (status)."""
    ref = run.spec.deployment_job_ref
    if ref is None:
        earlier = run.request.deployment_job_set
        if not earlier or model.deployment_job_id != earlier:
            return None  # never set by this resource, or changed since by someone else: left alone
        if run.may_write(f"deployment job {earlier} is no longer in spec") and run.attempt(lambda: _set(run, "")):
            run.changed(f"removed deployment job {earlier}")
            return None
        return earlier
    if not run.registry.deployment_jobs:
        message = f"deploymentJobRef: registered model {run.name} is not on Unity Catalog, which runs deployment jobs"
        run.problems.append(c.Verdict(False, c.UNSUPPORTED, message))
        run.note(c.UNSUPPORTED, message, warning=True)
        return None
    if run.request.deployment_job_id is None:
        run.wait(c.WAITING_FOR_DEPENDENCY, f"deploymentJobRef: MLJob {ref.name} does not exist or has no job yet")
        return run.request.deployment_job_set
    wanted = str(run.request.deployment_job_id)
    current = model.deployment_job_id
    if current == wanted or not run.may_write(f"deployment job is {current}, spec says {wanted} (MLJob {ref.name})"):
        return wanted if current == wanted else run.request.deployment_job_set
    context = f"deploymentJobRef: MLJob {ref.name} (job {wanted})"
    if not run.attempt(lambda: _set(run, wanted), context=context):
        return run.request.deployment_job_set
    run.changed(f"set deployment job {wanted} (MLJob {ref.name})")
    return wanted


def _set(run: ModelRun, job_id: str) -> bool:
    run.registry.set_deployment_job(run.name, job_id)
    return True
