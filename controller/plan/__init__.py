"""`mlopsctl plan`: what applying manifests would change in Databricks and MLflow, decided by the controller's
own reconcile code over clients that read for real and record their writes (`planning`, `recording`).

`plan(...)` returns the plan as data (`result.Plan`); `command` prints it and sets the exit code.
"""

from controller.plan.making import plan
from controller.plan.result import Plan, ResourcePlan

__all__ = ["Plan", "ResourcePlan", "plan"]
