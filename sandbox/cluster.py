"""A real Kubernetes API server (kube-apiserver backed by etcd) on loopback.

Tests and the local sandbox need the real API machinery (validation, RBAC, watches, the
TokenRequest API), not a fake. Only the API server runs: no kubelet, scheduler or controller
manager, so pods never start and nothing creates ServiceAccounts or their tokens by itself.
The binaries come from ``tests/cluster/build.sh``, which caches them outside Git.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import http.client
import json
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sandbox.cluster_binaries import (
    BUILD_COMMAND,
    CLUSTER_BINARIES,
    ClusterError,
    cache_dir,
    find_binary,
    kubernetes_minor,
    missing_binaries,
    repo_root,
)
from sandbox.cluster_pki import Pki

__all__ = [
    "BUILD_COMMAND",
    "CLUSTER_BINARIES",
    "ClusterError",
    "LocalCluster",
    "cache_dir",
    "find_binary",
    "free_loopback_ports",
    "kubeconfig",
    "missing_binaries",
    "repo_root",
]

SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
ADMIN_USER = "admin"
SHARDED_WATCH_GATE = "ShardedListAndWatch"
SHARDED_WATCH_MINOR = 36  # the first Kubernetes minor with sharded list and watch (alpha, off by default)
_LOG_TAIL_LINES = 40


def free_loopback_ports(count: int) -> list[int]:
    """Ports the kernel reports free now; all are held at once so they are distinct."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def kubeconfig(*, server: str, ca_pem: bytes, user: str, token: str, namespace: str = "default") -> str:
    """A single-context kubeconfig (JSON is valid YAML) with the CA inlined, so it can be copied."""
    ca_data = base64.b64encode(ca_pem).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": "local", "user": user, "namespace": namespace}}],
        "current-context": user,
    }
    return json.dumps(config, indent=2)


@dataclasses.dataclass(frozen=True)
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: IO[bytes]


class LocalCluster:
    """etcd and kube-apiserver on free loopback ports, with an admin identity in ``system:masters``.

    Construction prepares everything on disk (certificates, token file, kubeconfig); ``start()``
    launches the processes and returns once ``/readyz`` answers; ``stop()`` ends them and removes
    the work dir unless it was given or ``keep_work_dir`` is set. Use it as a context manager.
    RBAC is on, so other identities (ServiceAccounts) get only what roles grant them. With
    ``sharded_watches`` (the default) the API server filters lists and watches by shard (Kubernetes 1.36+).
    """

    def __init__(
        self,
        *,
        work_dir: Path | None = None,
        keep_work_dir: bool = False,
        bin_dir: Path | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        sharded_watches: bool = True,
    ) -> None:
        self.etcd_binary = find_binary("etcd", bin_dir=bin_dir)
        self.apiserver_binary = find_binary("kube-apiserver", bin_dir=bin_dir)
        # Asked of the binary, not assumed: a cache built before the move to 1.36 has no such gate to turn on.
        self._knows_sharding = kubernetes_minor(self.apiserver_binary) >= SHARDED_WATCH_MINOR
        self.sharded_watches = sharded_watches and self._knows_sharding
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._remove_work_dir = work_dir is None and not keep_work_dir
        self.work_dir = work_dir or Path(tempfile.mkdtemp(prefix="local-cluster-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)

        etcd_client_port, etcd_peer_port, self.apiserver_port = free_loopback_ports(3)
        self.etcd_url = f"http://127.0.0.1:{etcd_client_port}"
        self._etcd_peer_url = f"http://127.0.0.1:{etcd_peer_port}"
        self.server_url = f"https://127.0.0.1:{self.apiserver_port}"

        self._pki = Pki(self.work_dir / "pki")
        self.ca_path = self._pki.ca_cert
        self.admin_token = secrets.token_urlsafe(32)
        self._token_file = self.work_dir / "tokens.csv"
        self._token_file.write_text(f'{self.admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
        self._token_file.chmod(0o600)
        self.kubeconfig_path = self._write_kubeconfig(
            self.work_dir / "admin.kubeconfig", user=ADMIN_USER, token=self.admin_token
        )
        self.etcd_log = self.work_dir / "etcd.log"
        self.apiserver_log = self.work_dir / "kube-apiserver.log"
        self.startup_seconds: float | None = None
        self._processes: list[_Process] = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Launch etcd and kube-apiserver; return when the API server reports ready."""
        if self._processes:
            raise ClusterError("the cluster is already running")
        started = time.monotonic()
        try:
            self._launch("etcd", self._etcd_command(), self.etcd_log)
            self._launch("kube-apiserver", self._apiserver_command(), self.apiserver_log)
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        """End the API server, then etcd (SIGTERM, SIGKILL after ``stop_timeout``); clean up."""
        while self._processes:
            process = self._processes.pop()
            _terminate(process.popen, timeout=self.stop_timeout)
            process.log.close()
        if self._remove_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def stop_apiserver(self) -> None:
        """Kill kube-apiserver alone, as in an API server crash; etcd keeps the cluster's data."""
        process = next((p for p in self._processes if p.name == "kube-apiserver"), None)
        if process is None:
            raise ClusterError("kube-apiserver is not running")
        self._processes.remove(process)
        process.popen.kill()
        process.popen.wait()
        process.log.close()

    def start_apiserver(self) -> None:
        """Start kube-apiserver again on the same port and etcd; return when it reports ready."""
        if any(p.name == "kube-apiserver" for p in self._processes):
            raise ClusterError("kube-apiserver is already running")
        self._launch("kube-apiserver", self._apiserver_command(), self.apiserver_log)
        self._wait_until_ready()

    def service_account_kubeconfig(
        self, namespace: str, name: str, path: Path, *, duration_seconds: int = 3600
    ) -> Path:
        """Write a kubeconfig acting as an existing ServiceAccount, with a TokenRequest token.

        No controller manager runs here, so ServiceAccounts get no token Secrets; a bound token
        from the TokenRequest API is what pods would receive anyway.
        """
        command = [
            *self.kubectl_command(),
            "create",
            "token",
            name,
            f"--namespace={namespace}",
            f"--duration={duration_seconds}s",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ClusterError(f"cannot get a token for {namespace}/{name}: {result.stderr.strip()}")
        user = f"system:serviceaccount:{namespace}:{name}"
        return self._write_kubeconfig(path, user=user, token=result.stdout.strip(), namespace=namespace)

    def kubectl_command(self) -> list[str]:
        """The start of a kubectl command line that talks to this cluster as the admin."""
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise ClusterError("kubectl is not on PATH")
        return [kubectl, f"--kubeconfig={self.kubeconfig_path}"]

    def _write_kubeconfig(self, path: Path, *, user: str, token: str, namespace: str = "default") -> Path:
        content = kubeconfig(
            server=self.server_url, ca_pem=self._pki.ca_pem, user=user, token=token, namespace=namespace
        )
        path.write_text(content)
        path.chmod(0o600)
        return path

    def _etcd_command(self) -> list[str]:
        return [
            str(self.etcd_binary),
            "--name=local",
            f"--data-dir={self.work_dir / 'etcd-data'}",
            f"--listen-client-urls={self.etcd_url}",
            f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls={self._etcd_peer_url}",
            f"--initial-advertise-peer-urls={self._etcd_peer_url}",
            f"--initial-cluster=local={self._etcd_peer_url}",
            "--log-level=warn",
            # The data is thrown away with the work dir: durability only costs time.
            "--unsafe-no-fsync=true",
        ]

    def _apiserver_command(self) -> list[str]:
        pki = self._pki
        return [
            str(self.apiserver_binary),
            f"--etcd-servers={self.etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.apiserver_port}",
            f"--tls-cert-file={pki.server_cert}",
            f"--tls-private-key-file={pki.server_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--token-auth-file={self._token_file}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki.service_account_public_key}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            # This admission plugin waits for ServiceAccounts that only a controller manager creates.
            "--disable-admission-plugins=ServiceAccount",
            *self._feature_gates(),
        ]

    def _feature_gates(self) -> list[str]:
        """Sharded controllers ask for their slice of each list and watch (alpha: off by default)."""
        if not self._knows_sharding:
            return []  # an older server refuses to start on a gate it does not know
        return [f"--feature-gates={SHARDED_WATCH_GATE}={str(self.sharded_watches).lower()}"]

    def _launch(self, name: str, command: list[str], log_path: Path) -> None:
        log = log_path.open("ab")
        popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self._processes.append(_Process(name=name, popen=popen, log=log))

    def _wait_until_ready(self) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.popen.poll() is not None:
                    exit_code = process.popen.returncode
                    raise ClusterError(f"{process.name} exited with {exit_code}\n{self._log_tails()}")
            if self._answers_ready(context):
                return
            time.sleep(0.1)
        raise ClusterError(
            f"{self.server_url}/readyz did not answer within {self.startup_timeout}s\n{self._log_tails()}"
        )

    def _answers_ready(self, context: ssl.SSLContext) -> bool:
        connection = http.client.HTTPSConnection("127.0.0.1", self.apiserver_port, context=context, timeout=2)
        try:
            connection.request("GET", "/readyz", headers={"Authorization": f"Bearer {self.admin_token}"})
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def _log_tails(self) -> str:
        return "\n".join(_tail(path) for path in (self.etcd_log, self.apiserver_log))


def _tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines() if path.exists() else []
    body = "\n".join(lines[-_LOG_TAIL_LINES:])
    return f"--- last lines of {path} ---\n{body}"


def _terminate(process: subprocess.Popen[bytes], *, timeout: float) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
