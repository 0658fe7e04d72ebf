"""Reconcile a Workspace: check the connection and report who the controller is there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from controller.clients import errors
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome

RETRY_UNAVAILABLE_SECONDS = 10.0
RETRY_MISCONFIGURED_SECONDS = 30.0


@dataclass(frozen=True)
class Identity:
    """What the service says about the controller's connection."""

    identity: str | None
    server_version: str | None


class ConnectionProbe(Protocol):
    """Makes one cheap authenticated read that proves the connection works."""

    def check(self) -> Identity: ...


def reconcile(connect: Callable[[], ConnectionProbe], *, now: datetime, was_connected: bool) -> Outcome:
    """Check the connection; report it as Ready with the identity, or why it fails."""
    checked_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        identity = connect().check()
    except errors.Misconfigured as exc:
        return _failed(c.CREDENTIALS_MISSING, str(exc), checked_at, RETRY_MISCONFIGURED_SECONDS, was_connected)
    except errors.Unauthorized as exc:
        return _failed(c.CONNECTION_FAILED, str(exc), checked_at, RETRY_MISCONFIGURED_SECONDS, was_connected)
    except errors.ExternalError as exc:
        return _failed(c.CONNECTION_FAILED, str(exc), checked_at, RETRY_UNAVAILABLE_SECONDS, was_connected)
    who = identity.identity or "anonymous"
    notes = () if was_connected else (Note(c.CONNECTED, f"connected as {who}"),)
    return Outcome(
        ready=c.Verdict(True, c.CONNECTED, f"connected as {who}"),
        synced=c.Verdict(True, c.RECONCILED),
        observed={
            "connected": True,
            "identity": identity.identity,
            "serverVersion": identity.server_version,
            "checkedAt": checked_at,
            "lastConnectedAt": checked_at,
        },
        notes=notes,
    )


def _failed(reason: str, message: str, checked_at: str, retry: float, was_connected: bool) -> Outcome:
    return Outcome(
        ready=c.Verdict(False, reason, message),
        synced=c.Verdict(False, reason, message),
        observed={"connected": False, "checkedAt": checked_at},
        notes=(Note(reason, message, warning=True),) if was_connected else (),
        retry_after=retry,
    )
