"""Jobs API 2.0, 2.1 and 2.2: jobs (names are not unique), their runs, and continuous jobs.

`service` answers the REST calls; `settings` validates and fills in what the service
stores; `versions` shapes it as each API version shows it (`legacy`: 2.0's single-task
format); `runs` carries the run life cycle.
"""

from sandbox.databricks.jobs.runs import RESULTS
from sandbox.databricks.jobs.service import Jobs

__all__ = ["RESULTS", "Jobs"]
