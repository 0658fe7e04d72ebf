"""The controller's own error classes, one per way a reconcile must react.

Clients translate SDK and HTTP errors into these by error code and status, never by
message text, so reconcile logic never sees an SDK exception.
"""

from __future__ import annotations


class ExternalError(Exception):
    """An external system refused or failed a call; the message is the system's own."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class NotFound(ExternalError):
    """The object does not exist."""


class AlreadyExists(ExternalError):
    """An object with that name exists already."""


class Rejected(ExternalError):
    """The request is invalid as written; retrying the same request cannot succeed."""


class Unauthorized(ExternalError):
    """The credentials were refused; nothing works until they change."""


class Unavailable(ExternalError):
    """A transient failure (connection, timeout, 429, 5xx, conflict while updating): retry later."""

    def __init__(self, message: str, *, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Misconfigured(ExternalError):
    """The connection settings are incomplete (a Secret or one of its keys is missing)."""
