"""Shared pieces of the emulator's in-memory state: clock, timings, errors, ids.

Every area module (serving, jobs, catalog, monitors) keeps its own objects and
computes time-driven states lazily from `Clock.now()` when an object is read,
so no background thread is needed and the whole state is guarded by one lock.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

Json = dict[str, Any]
"""A JSON object as it travels on the wire."""


class ApiError(Exception):
    """An error answered the way Databricks answers it: HTTP status plus `error_code` and `message`."""

    def __init__(self, status: int, error_code: str, message: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> Json:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> ApiError:
    """400 INVALID_PARAMETER_VALUE: what Databricks answers for a request it refuses to accept."""
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def not_found(message: str, error_code: str = "RESOURCE_DOES_NOT_EXIST") -> ApiError:
    return ApiError(404, error_code, message)


def already_exists(message: str) -> ApiError:
    return ApiError(409, "RESOURCE_ALREADY_EXISTS", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "RESOURCE_CONFLICT", message)


@dataclasses.dataclass
class Timings:
    """How long each asynchronous state lasts, in seconds (settable at run time)."""

    endpoint_update: float = 2.0
    """Serving endpoint `config_update` stays IN_PROGRESS this long after a create or config update."""
    run_pending: float = 1.0
    """A job run stays PENDING this long, ..."""
    run_running: float = 2.0
    """... then RUNNING this long, then TERMINATED."""
    monitor_pending: float = 2.0
    """A data-quality monitor stays PENDING this long before ACTIVE (or ERROR)."""
    refresh_pending: float = 1.0
    """A monitor refresh stays PENDING this long, ..."""
    refresh_running: float = 2.0
    """... then RUNNING this long, then SUCCESS."""

    def update(self, values: Mapping[str, Any]) -> None:
        """Set the named delays; unknown names are refused so a typo does not pass silently."""
        known = {f.name for f in dataclasses.fields(self)}
        for key, value in values.items():
            if key not in known:
                raise invalid(f"Unknown timing '{key}'. Known: {', '.join(sorted(known))}")
            if not isinstance(value, int | float) or value < 0:
                raise invalid(f"Timing '{key}' must be a non-negative number")
        for key, value in values.items():
            setattr(self, key, float(value))

    def as_dict(self) -> Json:
        return dataclasses.asdict(self)


class Clock:
    """Wall-clock time plus an offset, so tests can jump over the state-machine delays."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        self._offset += seconds


def new_uuid() -> str:
    return str(uuid.uuid4())


def new_hex_id() -> str:
    return uuid.uuid4().hex


def require(body: Mapping[str, Any], field: str, kind: type | tuple[type, ...] = str) -> Any:
    """The value of a required field, or the 400 Databricks answers when it is missing or of the wrong type."""
    value = body.get(field)
    if value is None or value == "":
        raise invalid(f"Missing required field: {field}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise invalid(f"Invalid value for field '{field}'")
    return value


def optional(body: Mapping[str, Any], field: str, kind: type | tuple[type, ...]) -> Any:
    """The value of an optional field (None when absent), refusing a value of the wrong type."""
    value = body.get(field)
    if value is not None and not isinstance(value, kind):
        raise invalid(f"Invalid value for field '{field}'")
    return value


def int_param(value: Any, field: str) -> int:
    """A numeric id from a query string or body (the SDK sends ints as JSON numbers or query strings)."""
    if isinstance(value, bool):
        raise invalid(f"Invalid value for field '{field}'")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    if value is None:
        raise invalid(f"Missing required field: {field}")
    raise invalid(f"Invalid value for field '{field}': {value!r}")


def page(items: list[Json], token: str | None, size: int) -> tuple[list[Json], str | None]:
    """One page of a listing and the token of the next one; tokens are opaque offsets."""
    start = 0
    if token:
        if not token.isdigit():
            raise invalid(f"Invalid page token: {token}")
        start = int(token)
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


@dataclasses.dataclass(frozen=True)
class Request:
    """What a route handler sees of an HTTP request, after auth."""

    method: str
    path: str
    params: Mapping[str, str]
    """Values taken from the path template, e.g. the endpoint `name`."""
    query: Mapping[str, list[str]]
    body: Json
    principal: str
    """User (or service principal application id) the credentials belong to."""
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Looked up case-insensitively, as HTTP header names are."""

    def arg(self, name: str) -> str | None:
        """A single query-string value (the first, when repeated)."""
        values = self.query.get(name)
        return values[0] if values else None

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() == "true"


@dataclasses.dataclass(frozen=True)
class Text:
    """A non-JSON answer: text (the serving metrics export) or bytes (a Files API download)."""

    body: str | bytes
    content_type: str


Handler = Callable[[Request], Json | Text]


@dataclasses.dataclass(frozen=True)
class Route:
    """One REST operation: method, path template (`{name}` matches one path segment, `{name*}` the rest of the
    path) and its handler."""

    method: str
    template: str
    handler: Handler
    public: bool = False
    """Answered without credentials (discovery and the OAuth token endpoint)."""
    form: bool = False
    """The body is an HTML form (`application/x-www-form-urlencoded`), as OAuth token requests are, not JSON."""
    binary: bool = False
    """The body is raw bytes (a Files API upload); the handler finds them as `body["bytes"]`."""
