"""`python -m sandbox` (what `make sandbox` runs): everything locally, with the examples applied."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sandbox import environment


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--work-dir", type=Path, default=Path(".sandbox"), help="where state and logs go")
    parser.add_argument("--mlflow-port", type=int, default=5000)
    parser.add_argument("--databricks-port", type=int, default=8765)
    parser.add_argument("--once", action="store_true", help="exit after printing the resources")
    args = parser.parse_args(argv)
    _stop_on_signals()
    return environment.run(
        work_dir=args.work_dir.resolve(),
        mlflow_port=args.mlflow_port,
        databricks_port=args.databricks_port,
        once=args.once,
    )


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP (`kill`, `timeout`, a closed terminal) stop everything as Ctrl-C does.

    Python's default for them ends the process at once, leaving the API server, MLflow, the emulator and the
    controller running and holding their ports, so the next `make sandbox` could not start.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for each in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, interrupt)


if __name__ == "__main__":
    sys.exit(main())
