"""From an HTTP request to a route and its parsed parts: path parameters, query, body."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable
from typing import Any

from sandbox.databricks.state import ApiError, Json, Route

# Methods whose request the SDKs put in the query string: a body of theirs carries nothing.
_QUERY_METHODS = ("GET", "DELETE")


def _compile(template: str) -> re.Pattern[str]:
    # `{name*}` takes the rest of the path, slashes included (the Files API's file and directory paths).
    pattern = re.sub(r"\\\{(\w+)\\\*\\\}", r"(?P<\1>/.*)", re.escape(template))
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", pattern)
    return re.compile(f"^{pattern}$")


class Router:
    """Finds the route for a method and path; the template is the key the call counters use."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, _compile(route.template)) for route in routes]

    @property
    def routes(self) -> list[Route]:
        return [route for route, _ in self._routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route and its path parameters; `path` is as sent, so an encoded `/` stays inside its segment."""
        for route, pattern in self._routes:
            if route.method != method:
                continue
            found = pattern.match(path)
            if found:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        return None


def split_target(target: str) -> tuple[str, dict[str, list[str]]]:
    """The raw path and the query of a request target such as `/api/2.2/jobs/get?job_id=1`."""
    parsed = urllib.parse.urlsplit(target)
    return parsed.path, urllib.parse.parse_qs(parsed.query, keep_blank_values=True)


def parse_body(route: Route, method: str, body: bytes) -> Json:
    """The body as the handler sees it: a JSON object, the fields of a form for a form route, or the raw bytes
    under `bytes` for a binary route."""
    if route.binary:
        return {"bytes": body}
    if route.form:
        return {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
    if not body.strip():
        return {}
    try:
        value: Any = json.loads(body)
    except ValueError as exc:
        raise ApiError(400, "MALFORMED_REQUEST", f"Invalid JSON given in the body of the request: {exc}") from exc
    if value is None and method in _QUERY_METHODS:
        return {}  # `null` for "no request object" (seen from Databricks' Go SDK)
    if not isinstance(value, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "The request body must be a JSON object.")
    return value
