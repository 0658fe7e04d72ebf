"""Run the emulator as a process: `python -m sandbox.databricks --port 8765`.

Prints the workspace URL on the first line of stdout, then serves until
interrupted (SIGINT or SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Sequence

from sandbox.databricks.server import DEFAULT_TOKEN, DEFAULT_USER, Emulator
from sandbox.databricks.state import Timings


def _pair(value: str, sep: str) -> tuple[str, str]:
    left, found, right = value.partition(sep)
    if not found or not left:
        raise argparse.ArgumentTypeError(f"expected KEY{sep}VALUE, got {value!r}")
    return left, right


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.databricks", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN[=USER]",
        help=f"an accepted personal access token (repeatable; default {DEFAULT_TOKEN}={DEFAULT_USER})",
    )
    parser.add_argument(
        "--oauth-client",
        action="append",
        default=[],
        metavar="CLIENT_ID:SECRET",
        type=lambda v: _pair(v, ":"),
        help="an accepted OAuth M2M client (repeatable)",
    )
    parser.add_argument(
        "--timing",
        action="append",
        default=[],
        metavar="NAME=SECONDS",
        type=lambda v: _pair(v, "="),
        help=f"a state-machine delay, one of: {', '.join(Timings().as_dict())}",
    )
    parser.add_argument("--schema", action="append", default=[], metavar="CATALOG.SCHEMA", help="seed a schema")
    parser.add_argument("--workspace-id", default="1234567890123456")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(argv)
    tokens = dict(_pair(t, "=") if "=" in t else (t, DEFAULT_USER) for t in args.token) or None
    timings = Timings()
    timings.update({name: float(seconds) for name, seconds in args.timing})
    emulator = Emulator(
        host=args.host,
        port=args.port,
        tokens=tokens,
        oauth_clients=dict(args.oauth_client),
        workspace_id=args.workspace_id,
        timings=timings,
    )
    for schema in args.schema:
        emulator.seed_schema(schema)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        print(emulator.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
