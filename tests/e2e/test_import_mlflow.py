"""`mlopsctl import` from the real MLflow server's registry: models with aliases and tags import, apply and
are adopted; a counting proxy in front of the server shows the import writes nothing and adoption writes
only the ownership tags."""

from __future__ import annotations

import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mlflow
import pytest
import yaml

from sandbox.mlflow_server import MlflowServer
from sandbox.training import register_versions
from tests.e2e.conftest import workspace_manifest
from tests.support import Kubectl

pytestmark = pytest.mark.e2e

TAG_WRITE = "POST /api/2.0/mlflow/registered-models/set-tag"


class CountingProxy:
    """Forwards every call to the MLflow server and counts them by method and path."""

    def __init__(self, upstream: str) -> None:
        self.calls: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                proxy.calls[f"{self.command} {self.path.split('?', 1)[0]}"] += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(  # noqa: S310 -- upstream is the test's own http:// server
                    upstream + self.path, data=body, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- as above
                        status, payload, kind = response.status, response.read(), response.headers.get("Content-Type")
                except urllib.error.HTTPError as refused:
                    status, payload, kind = refused.code, refused.read(), refused.headers.get("Content-Type")
                self.send_response(status)
                self.send_header("Content-Type", kind or "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815 -- http.server's names

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def writes(self) -> dict[str, int]:
        return {call: n for call, n in self.calls.items() if not call.startswith("GET ")}

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture
def counted(mlflow_server: MlflowServer) -> Iterator[CountingProxy]:
    proxy = CountingProxy(mlflow_server.url)
    yield proxy
    proxy.close()


def test_an_mlflow_registry_imports_and_is_adopted_with_only_ownership_tags_written(
    kubectl: Kubectl, mlflow_server: MlflowServer, counted: CountingProxy, tmp_path: Path
) -> None:
    token = kubectl.namespace.replace("-", "")  # the server is shared by the session
    client = mlflow.MlflowClient(mlflow_server.url)
    name = f"{token}_fraud"
    register_versions(mlflow_server.url, name, 2)  # what training made
    client.set_registered_model_alias(name, "champion", "2")
    client.set_registered_model_alias(name, "challenger", "1")
    client.set_registered_model_tag(name, "team", "risk")
    client.update_registered_model(name, description="Card fraud")
    kubectl.apply(workspace_manifest("counted", counted.url))
    kubectl.wait_condition("workspace", "counted")
    out = tmp_path / "imported"

    counted.calls.clear()
    command = [sys.executable, "-m", "controller", "import", "--workspace", "counted", "--filter", f"{token}_*"]
    command += ["-o", str(out), "-n", kubectl.namespace, "--kubeconfig", str(kubectl.kubeconfig)]
    imported = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert imported.returncode == 0, imported.stderr
    assert counted.writes() == {}
    assert any(call.startswith("GET /api/2.0/mlflow/registered-models/search") for call in counted.calls)

    manifest = yaml.safe_load((out / f"mlmodel-{token}-fraud.yaml").read_text())
    assert manifest["spec"] == {
        "workspaceRef": {"name": "counted"},
        "registeredName": name,
        "description": "Card fraud",
        "tags": {"team": "risk"},
        "aliases": {"champion": 2, "challenger": 1},
        "adopt": True,
    }

    counted.calls.clear()
    kubectl("apply", "-k", str(out))
    kubectl.wait_condition("mlmodel", f"{token}-fraud")
    assert counted.writes() == {TAG_WRITE: 3}, counted.writes()  # owner, managed-by, the managed record
    model = client.get_registered_model(name)
    assert model.tags["mlops.gitops.dev/owner"] == f"{kubectl.namespace}/{token}-fraud"
    assert model.aliases == {"champion": "2", "challenger": "1"}
