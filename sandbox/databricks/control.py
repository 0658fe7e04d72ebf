"""Test controls: injected faults, added latency, and per-operation call counters.

These act before a request reaches the emulated API, so a test can prove that
a client retries (429/503 with Retry-After), survives dropped connections,
copes with a request carried out after it gave up waiting, and sends no more
calls than it should.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections import Counter
from typing import Any

from sandbox.databricks.state import ApiError, Json, invalid

_FAULT_CODES = {
    409: ("RESOURCE_CONFLICT", "Conflict (injected by the emulator)."),
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests (injected by the emulator)."),
    500: ("INTERNAL_ERROR", "Internal error (injected by the emulator)."),
    502: ("BAD_GATEWAY", "Bad gateway (injected by the emulator)."),
    503: ("TEMPORARILY_UNAVAILABLE", "The service is temporarily unavailable (injected by the emulator)."),
    504: ("DEADLINE_EXCEEDED", "Deadline exceeded (injected by the emulator)."),
}
DROP = "drop"
"""A fault that closes the connection without answering."""
HANG = "hang"
"""A fault that holds the request for `seconds`, then carries it out and answers, the client waiting or not."""


@dataclasses.dataclass
class Fault:
    """One fault rule: what to answer, how often, and to which requests.

    Exactly one of `count` (the next N matching calls) or `probability` (each
    matching call, independently) says how often; with neither, every matching
    call fails until the rule is cleared. Without `path_prefix` a rule matches
    only the REST API (`/api/...`), never the OAuth and discovery endpoints.
    `seconds` is how long a `hang` holds the request.
    """

    id: int
    status: int | str
    count: int | None = None
    probability: float | None = None
    retry_after: int = 1
    path_prefix: str | None = None
    method: str | None = None
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return path.startswith(self.path_prefix or "/api/")

    def error(self) -> ApiError:
        assert isinstance(self.status, int)
        code, message = _FAULT_CODES[self.status]
        headers = {"Retry-After": str(self.retry_after)} if self.status in (429, 503) else {}
        return ApiError(self.status, code, message, headers=headers)

    def as_dict(self) -> Json:
        return dataclasses.asdict(self)


class Controls:
    """Faults, latency and counters; callers hold the emulator lock."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self.latency: dict[str, float] = {}
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._random = random.Random()

    def reset(self) -> None:
        self.faults.clear()
        self.latency.clear()
        self.calls.clear()

    def add_fault(
        self,
        status: int | str = 503,
        *,
        count: int | None = None,
        probability: float | None = None,
        retry_after: int = 1,
        path_prefix: str | None = None,
        method: str | None = None,
        seconds: float = 0.0,
    ) -> Fault:
        if status not in (DROP, HANG) and status not in _FAULT_CODES:
            raise invalid(f"Unsupported fault status {status!r}. Use one of {sorted(_FAULT_CODES)}, 'drop' or 'hang'.")
        if not isinstance(seconds, int | float) or (status == HANG) != (seconds > 0):
            raise invalid("Give seconds (more than 0) with a hang, and only with a hang.")
        if count is not None and probability is not None:
            raise invalid("Give either count or probability, not both.")
        if count is not None and count < 1:
            raise invalid("count must be at least 1.")
        if probability is not None and not 0 <= probability <= 1:
            raise invalid("probability must be between 0 and 1.")
        fault = Fault(next(self._ids), status, count, probability, retry_after, path_prefix, method, seconds)
        self.faults.append(fault)
        return fault

    def pick_fault(self, method: str, path: str) -> Fault | None:
        """The fault to answer this call with, if any (consuming one use of a counted fault)."""
        for fault in self.faults:
            if not fault.matches(method, path):
                continue
            if fault.probability is not None and self._random.random() >= fault.probability:
                continue
            if fault.count is not None:
                fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
            return fault
        return None

    def set_latency(self, seconds: float, path_prefix: str | None = None) -> None:
        if seconds < 0:
            raise invalid("Latency must not be negative.")
        key = path_prefix or "/"
        if seconds == 0:
            self.latency.pop(key, None)
        else:
            self.latency[key] = seconds

    def delay_for(self, path: str) -> float:
        """The added latency for a path: the longest matching prefix wins."""
        matching = [p for p in self.latency if path.startswith(p)]
        return self.latency[max(matching, key=len)] if matching else 0.0

    def count(self, method: str, template: str) -> None:
        self.calls[f"{method} {template}"] += 1

    def snapshot(self, prefix: str | None = None) -> Json:
        """Counts per `METHOD /path/{template}`, and API reads (GET, HEAD) and writes (other verbs) in total."""
        calls = {k: v for k, v in sorted(self.calls.items()) if not prefix or k.split(" ", 1)[1].startswith(prefix)}
        api = [(k.split(" ", 1), v) for k, v in calls.items() if k.split(" ", 1)[1].startswith("/api/")]
        reads = sum(v for (method, _), v in api if method in ("GET", "HEAD"))
        writes = sum(v for (method, _), v in api if method not in ("GET", "HEAD"))
        out: dict[str, Any] = {"calls": calls, "reads": reads, "writes": writes}
        return out
