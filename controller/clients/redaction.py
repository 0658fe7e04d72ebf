"""Credentials out of every message that leaves the process: status conditions, Events and logs.

Error texts from HTTP libraries and services quote what they were sent (an invalid header, a form
body, a URL), so no message is trusted. `redact` masks two things:
- every credential value the connection layer read from a Secret (`register`), wherever it shows;
- the shapes credentials take, for values never registered: Databricks tokens, JWTs, Authorization
  headers, passwords in URLs, secrets in form or JSON bodies.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.parse

MASK = "***"
MIN_LENGTH = 6  # a shorter value would blank out ordinary words in every message; it is guessable anyway

_CREDENTIAL_FIELDS = r"client_secret|password|passwd|access_token|refresh_token|id_token|api_key|token|secret"
_SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(?:dapi|dose)[0-9a-f]{32}(?:-\d+)?\b"), MASK),  # Databricks PATs and OAuth secrets
    (re.compile(r"\beyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]*"), MASK),  # JWTs: OAuth access tokens
    (re.compile(r"\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@", re.IGNORECASE), rf"\1:{MASK}@"),  # user:pass@
    (re.compile(rf"\b({_CREDENTIAL_FIELDS})=(?!\*\*\*)[^\s&\"',;)]+", re.IGNORECASE), rf"\1={MASK}"),  # form, query
    (re.compile(rf"(\"(?:{_CREDENTIAL_FIELDS})\"\s*:\s*\")[^\"]+\"", re.IGNORECASE), rf'\1{MASK}"'),  # JSON
]
_AUTHORIZATION = re.compile(r"\b(bearer|basic)(\s+)([\w.~+/=-]{8,})", re.IGNORECASE)


class _Known:
    """The credential values read so far, as one pattern (longest first, so no part of one is left)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, values: set[str]) -> None:
        with self._lock:
            if values <= self._values:
                return
            self._values |= values
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


_KNOWN = _Known()


def register(*values: str | None) -> None:
    """Mask these credential values in every later message, in the forms error texts quote them in."""
    forms: set[str] = set()
    for value in values:
        stripped = (value or "").strip()
        if len(stripped) >= MIN_LENGTH:
            # as sent, URL-encoded in a form body, escaped in JSON or in a repr
            forms |= {stripped, urllib.parse.quote_plus(stripped), json.dumps(stripped)[1:-1], repr(stripped)[1:-1]}
    if forms:
        _KNOWN.add(forms)


def redact(text: str) -> str:
    """The text with every known credential and every credential-shaped string masked."""
    text = _KNOWN.mask(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return _AUTHORIZATION.sub(_mask_credential, text)


def _mask_credential(match: re.Match[str]) -> str:
    """`Bearer <token>`, `Basic <base64>`: masked unless what follows is a plain word ("Basic authentication")."""
    scheme, space, value = match.groups()
    plain_word = value.isalpha() and (value.islower() or value.istitle())
    return match.group(0) if plain_word or value == MASK else f"{scheme}{space}{MASK}"


class RedactingFilter(logging.Filter):
    """Redacts a log record's message, its arguments and its exception text before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: keep both, as logging would
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), ()  # merged: an argument's str() is where a secret hides
        if record.exc_info:
            # formatted here, once, so that no formatter (text or JSON) formats the raw exception again
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LOG_FILTER = RedactingFilter()


def install_log_filter() -> None:
    """Put the filter on every handler configured so far (the root's and any logger's own, e.g. one posting Events).

    On a handler, not a logger: a logger's filters see only the records logged on it, not its children's.
    """
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):  # placeholders in the dict have no handlers
            handler.addFilter(LOG_FILTER)
