"""Where the monitor is and writes to: the table's name and id, and the output schema's id.

The table comes from spec.tableName, or from the referenced ServingEndpoint's inference table;
while any of them does not exist yet the reconcile waits. Ids come from status while the applied
spec holds, so the steady state reads neither.
"""

from __future__ import annotations

from controller.kinds.modelmonitor.run import MonitorRun
from controller.reconciling.run import Waiting
from controller.status import conditions as c


def table_name(run: MonitorRun) -> str:
    """The table to monitor: spec.tableName, or the referenced endpoint's inference table."""
    if run.spec.table_name is not None:
        return run.spec.table_name
    assert run.spec.endpoint_ref is not None  # the CRD requires exactly one of the two
    name = run.spec.endpoint_ref.name
    endpoint = run.request.endpoint
    if endpoint is None:
        raise Waiting(c.WAITING_FOR_DEPENDENCY, f"ServingEndpoint {name} does not exist")
    if endpoint.inference_table_name:
        return endpoint.inference_table_name
    if not endpoint.capture_declared:
        message = f"ServingEndpoint {name} logs no inference table: set its spec.inferenceTable"
    elif not endpoint.ready:
        message = f"ServingEndpoint {name} has no inference table yet (the endpoint is not Ready)"
    else:
        message = f"ServingEndpoint {name} has no inference table yet"
    raise Waiting(c.WAITING_FOR_INFERENCE_TABLE, message)


def table_id(run: MonitorRun, name: str, *, fresh: bool = False) -> tuple[str, bool]:
    """The table's id and whether it came from status (no read) rather than from Unity Catalog."""
    recorded = run.recorded
    if not fresh and recorded.table_id and recorded.table_name == name:
        return recorded.table_id, True
    found = run.monitors.table_id(name)
    if found is None:
        via = f" (ServingEndpoint {run.spec.endpoint_ref.name})" if run.spec.endpoint_ref else ""
        raise Waiting(c.WAITING_FOR_INFERENCE_TABLE, f"table {name}{via} does not exist yet")
    return found, False


def schema_id(run: MonitorRun) -> str:
    """The output schema's id: from status while the applied spec holds, else from Unity Catalog."""
    if not run.request.spec_changed and run.recorded.output_schema_id:
        return run.recorded.output_schema_id
    found = run.monitors.schema_id(run.spec.output_schema)
    if found is None:
        raise Waiting(c.WAITING_FOR_DEPENDENCY, f"output schema {run.spec.output_schema} does not exist")
    return found
