"""The one mapping from a client error to what the resource's status says and when to look again.

Two families:
- failures of the connection or the service (Unavailable, Unauthorized, Misconfigured) stop the
  whole reconcile: no other write would fare better;
- refusals of one request (Rejected, NotFound, AlreadyExists) end only the part of the spec that
  made it: the reconcile records the refusal and applies the rest.
A refusal as written (Rejected) is not retried before the next drift check: the same request would
be refused again. NotFound and AlreadyExists mean the external object changed under the reconcile
(created or deleted meanwhile), so the next look, soon, sees the new state.
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.clients import errors
from controller.status import conditions as c
from controller.status.outcome import Note, Outcome

UNAVAILABLE_RETRY_SECONDS = 10.0
CHANGED_MEANWHILE_RETRY_SECONDS = 30.0
MISCONFIGURED_RETRY_SECONDS = 30.0

REFUSALS = (errors.Rejected, errors.NotFound, errors.AlreadyExists)


@dataclass(frozen=True)
class Reaction:
    """How a resource reacts to one client error."""

    reason: str  # the Ready and Synced condition reason
    message: str
    retry: float | None  # seconds until the next look; None: the next drift check


def react(exc: errors.ExternalError) -> Reaction:
    """The reaction to a client error, by its class (never by its message)."""
    message = str(exc)
    if isinstance(exc, errors.Unavailable):
        return Reaction(c.EXTERNAL_UNAVAILABLE, message, exc.retry_after or UNAVAILABLE_RETRY_SECONDS)
    if isinstance(exc, errors.Unauthorized):
        return Reaction(c.CONNECTION_FAILED, f"the credentials were refused: {message}", None)
    if isinstance(exc, errors.Misconfigured):
        return Reaction(c.CREDENTIALS_MISSING, message, MISCONFIGURED_RETRY_SECONDS)
    if isinstance(exc, errors.Rejected):
        return Reaction(c.EXTERNAL_REJECTED, message, None)
    if isinstance(exc, errors.NotFound | errors.AlreadyExists):
        return Reaction(c.EXTERNAL_REJECTED, message, CHANGED_MEANWHILE_RETRY_SECONDS)
    return Reaction(c.EXTERNAL_UNAVAILABLE, message, UNAVAILABLE_RETRY_SECONDS)


def escaped(exc: errors.ExternalError) -> Outcome:
    """The Outcome for a client error no reconcile caught: status and a warning Event, never a bare traceback."""
    reaction = react(exc)
    verdict = c.Verdict(False, reaction.reason, reaction.message)
    return Outcome(
        ready=verdict,
        synced=verdict,
        notes=(Note(reaction.reason, reaction.message, warning=True),),
        retry_after=reaction.retry,
    )
