"""A Workspace's credentials: registered for redaction as they are read, used without surrounding
whitespace, and the whitespace reported once in a Warning Event."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from controller.clients import errors
from controller.clients.redaction import redact
from controller.kinds.workspace.connections import Connections
from controller.kinds.workspace.model import WorkspaceSpec
from controller.kinds.workspace.reconcile import CREDENTIALS_NORMALIZED, Identity, reconcile
from controller.status import conditions as c

NOW = datetime(2026, 12, 1, tzinfo=UTC)
MLFLOW = WorkspaceSpec.model_validate(
    {"mlflow": {"trackingUri": "http://mlflow.test:5000", "credentialsSecretRef": {"name": "creds"}}}
)


def _connections(data: Mapping[str, str]) -> Connections:
    return Connections(lambda namespace, name: data if (namespace, name) == ("team", "creds") else None)


def test_credentials_are_used_without_surrounding_whitespace_and_it_is_said_once() -> None:
    connection = _connections({"token": "  tok-from-a-file\n"}).get("team", "ws", MLFLOW)
    assert connection.mlflow is not None
    assert connection.mlflow.registry.get_host_creds().token == "tok-from-a-file"
    first, second = connection.probe(), connection.probe()
    assert len(first.notices) == 1
    assert "`token` in Secret creds has surrounding whitespace" in first.notices[0]
    assert second.notices == ()  # the next checks of the same connection say nothing more


def test_every_secret_value_read_is_masked_even_when_the_connection_cannot_be_made() -> None:
    with pytest.raises(errors.Misconfigured):
        _connections({"password": "pw-without-a-user"}).get("team", "ws", MLFLOW)
    assert redact("refused pw-without-a-user") == "refused ***"


def test_the_identity_fields_are_not_masked() -> None:
    _connections({"username": "alice-reads-models", "password": "pw-of-alice"}).get("team", "ws", MLFLOW)
    assert redact("connected as alice-reads-models") == "connected as alice-reads-models"


@dataclass
class _Probe:
    notices: tuple[str, ...]
    failure: errors.ExternalError | None = None

    def check(self) -> Identity:
        if self.failure is not None:
            raise self.failure
        return Identity(identity="alice", server_version=None)


def test_the_whitespace_warning_is_an_event_whether_or_not_the_check_succeeds() -> None:
    notice = "the value of `token` in Secret creds has surrounding whitespace"
    connected = reconcile(lambda: _Probe((notice,)), now=NOW, was_connected=False)
    refused = _Probe((notice,), errors.Unauthorized("Invalid access token."))
    failed = reconcile(lambda: refused, now=NOW, was_connected=True)
    assert [(n.reason, n.warning) for n in connected.notes] == [(CREDENTIALS_NORMALIZED, True), (c.CONNECTED, False)]
    assert [(n.reason, n.warning) for n in failed.notes] == [
        (CREDENTIALS_NORMALIZED, True),
        (c.CONNECTION_FAILED, True),
    ]
    assert connected.notes[0].message == notice
    assert not failed.ready.ok
