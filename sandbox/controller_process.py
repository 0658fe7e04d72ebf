"""The controller as its own process (`mlopsctl run`), exactly as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from sandbox.cluster import free_loopback_ports


class ControllerProcess:
    """Starts, stops and kills `mlopsctl run` against a kubeconfig; logs go to a file."""

    def __init__(
        self,
        *,
        kubeconfig: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        args: Sequence[str] = (),
        python: str = sys.executable,
        verbose: bool = True,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.args = list(args)  # more `mlopsctl run` options, e.g. ["-n", "team-a"]
        self.python = python  # a runtime-only environment measures what production runs
        self.verbose = verbose  # DEBUG logs (every body kopf sees, every HTTP call) for tests; not what production runs
        self.metrics_port, self.health_port = free_loopback_ports(2)
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """How the process ended by itself; None while it runs or once `stop()`/`kill()` ended it."""
        return self._process.poll() if self._process is not None else None

    def start(self) -> Self:
        command = [
            self.python,
            "-m",
            "controller",
            "run",
            "--kubeconfig",
            str(self.kubeconfig),
            "--metrics-port",
            str(self.metrics_port),
            "--health-port",
            str(self.health_port),
            "--bind-address",
            "127.0.0.1",  # the sandbox and the tests listen on loopback only
            *(["--verbose"] if self.verbose else []),
            *self.args,
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.extra_env}
            )
        return self

    def stop(self, *, timeout: float = 20.0) -> None:
        """SIGTERM, as Kubernetes stops a pod; SIGKILL if it does not exit in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL: a crash at an arbitrary point."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
