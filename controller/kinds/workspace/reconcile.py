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
CREDENTIALS_NORMALIZED = "CredentialsNormalized"
"""The Warning Event's reason when a credential was used without the whitespace around it in its Secret."""


@dataclass(frozen=True)
class Identity:
    """What the service says about the controller's connection."""

    identity: str | None
    server_version: str | None


class ConnectionProbe(Protocol):
    """Makes one cheap authenticated read that proves the connection works."""

    @property
    def notices(self) -> tuple[str, ...]:
        """What to warn about the credentials, whether or not the check succeeds."""
        ...

    def check(self) -> Identity: ...


# Which ConnectionProbe methods only read and which write: `mlopsctl plan` passes reads through and records writes
# instead of making them (a unit test fails when a method of the Protocol is in neither set).
PROBE_READS = frozenset({"notices", "check"})
PROBE_WRITES: frozenset[str] = frozenset()


def reconcile(connect: Callable[[], ConnectionProbe], *, now: datetime, was_connected: bool) -> Outcome:
    """Check the connection; report it as Ready with the identity, or why it fails."""
    checked_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    warnings: tuple[Note, ...] = ()
    try:
        probe = connect()
        warnings = tuple(Note(CREDENTIALS_NORMALIZED, notice, warning=True) for notice in probe.notices)
        identity = probe.check()
    except errors.Misconfigured as exc:
        return _failed(
            c.CREDENTIALS_MISSING, str(exc), checked_at, RETRY_MISCONFIGURED_SECONDS, was_connected, warnings
        )
    except errors.Unauthorized as exc:
        return _failed(c.CONNECTION_FAILED, str(exc), checked_at, RETRY_MISCONFIGURED_SECONDS, was_connected, warnings)
    except errors.ExternalError as exc:
        return _failed(c.CONNECTION_FAILED, str(exc), checked_at, RETRY_UNAVAILABLE_SECONDS, was_connected, warnings)
    who = identity.identity or "anonymous"
    notes = warnings if was_connected else (*warnings, Note(c.CONNECTED, f"connected as {who}"))
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


def _failed(
    reason: str, message: str, checked_at: str, retry: float, was_connected: bool, warnings: tuple[Note, ...]
) -> Outcome:
    return Outcome(
        ready=c.Verdict(False, reason, message),
        synced=c.Verdict(False, reason, message),
        observed={"connected": False, "checkedAt": checked_at},
        notes=(*warnings, Note(reason, message, warning=True)) if was_connected else warnings,
        retry_after=retry,
    )
