"""The response contract: an answer must be what Databricks' own clients read, checked against their own types.

A success body is compared with the type its client parses it into (contract_routes.py). For a
databricks-sdk dataclass, every key must be one the class's `from_dict` reads, recursively
through the field types (`dataclasses.fields`, `typing.get_type_hints`), and every enum value
one the SDK declares. For MLflow's protobuf messages (routes the SDK has no call for),
protobuf's own JSON parser decides. Arrays left empty and `null` values are flagged too:
Databricks answers in proto3 JSON, which leaves unset fields out. An error must carry an
error code the SDK declares (`ErrorCode`), with an HTTP status the SDK maps to a typed
exception that agrees with the code's. OAuth documents follow their RFCs.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import typing
from collections.abc import Iterator
from typing import Any

from databricks.sdk.errors.platform import ERROR_CODE_MAPPING, STATUS_CODE_MAPPING
from databricks.sdk.service import ml
from google.protobuf import json_format
from google.protobuf.message import Message
from prometheus_client.parser import text_string_to_metric_families

from sandbox.databricks.state import Text

EMPTY = "empty"
"""The SDK discards the answer: it must be `{}`."""
PROMETHEUS_TEXT = "prometheus-text"
"""The SDK hands the answer over as bytes (`raw=True`, `Accept: text/plain`): it must be Prometheus text."""
_OCTETS = "application/octet-stream"
OCTET_STREAM = "octet-stream"
"""The SDK hands the answer over as a stream (`raw=True`, a Files API download): raw bytes, as an octet stream."""


@dataclasses.dataclass(frozen=True)
class OAuthDocument:
    """A document an OAuth RFC defines, which the SDK reads in part: keys from the RFC, the SDK's present."""

    allowed: frozenset[str]
    needed: dict[str, type]


# RFC 6749 section 5.2.
_OAUTH_ERRORS = frozenset(
    [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ]
)


@dataclasses.dataclass(frozen=True)
class Legacy:
    """An older version's answer: the SDK's class for the current version, plus fields only the older one has."""

    cls: type
    extra: dict[type, dict[str, Any]]
    """Class met in the walk → JSON key → type hint."""


Contract = type | str | OAuthDocument | Legacy


def problems(contract: Contract, status: int, body: Any) -> Iterator[str]:
    """What in one answer breaks the contract, each as `<where>: <what>`."""
    if isinstance(contract, OAuthDocument):
        yield from _oauth_problems(contract, status, body)
    elif status >= 400:
        yield from error_problems(status, body)
    elif contract == EMPTY:
        if body != {}:
            yield f"body: {body!r} where the SDK expects {{}}"
    elif contract == PROMETHEUS_TEXT:
        yield from _prometheus_problems(body)
    elif contract == OCTET_STREAM:
        if not isinstance(body, Text) or not isinstance(body.body, bytes) or body.content_type != _OCTETS:
            yield f"body: {body!r} is not application/octet-stream bytes"
    elif isinstance(contract, type) and issubclass(contract, Message):
        try:
            json_format.ParseDict(body, contract())
        except json_format.ParseError as exc:
            yield f"body: {str(exc).splitlines()[0]}"
        yield from _omitted(body, "body")
    else:
        cls, extra = (contract.cls, contract.extra) if isinstance(contract, Legacy) else (contract, {})
        assert isinstance(cls, type)
        try:
            getattr(cls, "from_dict")(body)  # noqa: B009 - the classes share no protocol type
        except Exception as exc:
            yield f"body: {cls.__name__}.from_dict fails: {exc!r}"
        yield from _value_problems(body, cls, "body", extra)


def _prometheus_problems(body: Any) -> Iterator[str]:
    if not isinstance(body, Text) or not body.content_type.startswith("text/plain"):
        yield f"body: {body!r} is not text/plain"
        return
    try:
        text = body.body if isinstance(body.body, str) else body.body.decode()
        list(text_string_to_metric_families(text))
    except ValueError as exc:
        yield f"body: not Prometheus text: {exc}"


_ERROR_CODES = frozenset(code.value for code in ml.ErrorCode)


def error_problems(status: int, body: Any) -> Iterator[str]:
    """An error answer: Databricks' shape, a code the SDK knows, and a typed exception that fits the status."""
    if not isinstance(body, dict) or set(body) - {"error_code", "message", "details"}:
        yield f"error: {body!r} is not {{error_code, message}}"
        return
    code, message = body.get("error_code"), body.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        yield f"error: error_code and message must be strings, got {body!r}"
        return
    if code not in _ERROR_CODES:
        yield f"error_code: {code} is no ErrorCode the SDK declares"
    by_status = STATUS_CODE_MAPPING.get(status)
    if by_status is None:
        yield f"status: {status} has no typed exception in the SDK"
    by_code = ERROR_CODE_MAPPING.get(code)
    if by_status is not None and by_code is not None and not issubclass(by_code, by_status):
        yield f"error_code: {code} raises {by_code.__name__}, which is no {by_status.__name__} (HTTP {status})"


def _oauth_problems(document: OAuthDocument, status: int, body: Any) -> Iterator[str]:
    if not isinstance(body, dict):
        yield f"body: {body!r} is not an object"
    elif status >= 400:
        if set(body) - {"error", "error_description", "error_uri"} or body.get("error") not in _OAUTH_ERRORS:
            yield f"error: {body!r} is not an OAuth error (RFC 6749 5.2)"
    else:
        for key in sorted(set(body) - document.allowed):
            yield f"body.{key}: not a key of the RFC"
        for key, kind in document.needed.items():
            if not isinstance(body.get(key), kind):
                yield f"body.{key}: the SDK needs a {kind.__name__}, got {body.get(key)!r}"


Extra = dict[type, dict[str, Any]]


def _value_problems(value: Any, hint: Any, where: str, extra: Extra) -> Iterator[str]:
    if value is None:
        yield f"{where}: null (proto3 JSON leaves an unset field out)"
        return
    hint = _without_none(hint)
    origin = typing.get_origin(hint)
    if hint is Any:
        return
    if origin is list or hint is list:
        yield from _list_problems(value, (typing.get_args(hint) or (Any,))[0], where, extra)
    elif origin is dict or hint is dict:
        if not isinstance(value, dict):
            yield f"{where}: {value!r} where the SDK expects an object"
            return
        item = typing.get_args(hint)[1] if typing.get_args(hint) else Any
        for key, each in value.items():
            yield from _value_problems(each, item, f"{where}.{key}", extra)
    elif dataclasses.is_dataclass(hint):
        yield from _object_problems(value, typing.cast(type, hint), where, extra)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        if value not in {member.value for member in hint}:
            yield f"{where}: {value!r} is no {hint.__name__} value the SDK declares"
    elif hint in (str, int, float, bool):
        if not _is_instance(value, hint):
            yield f"{where}: {value!r} where the SDK expects {hint.__name__}"
    else:
        raise TypeError(f"the contract has no check for {hint!r} (at {where}): extend contract.py")


def _list_problems(value: Any, item: Any, where: str, extra: Extra) -> Iterator[str]:
    if not isinstance(value, list):
        yield f"{where}: {value!r} where the SDK expects an array"
        return
    if not value:
        yield f"{where}: empty array (proto3 JSON leaves it out)"
    for index, each in enumerate(value):
        yield from _value_problems(each, item, f"{where}[{index}]", extra)


def _object_problems(value: Any, cls: type, where: str, extra: Extra) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{where}: {value!r} where the SDK expects {cls.__name__}"
        return
    keys, hints, older = wire_keys(cls), typing.get_type_hints(cls), extra.get(cls, {})
    for key, each in value.items():
        if key in keys:
            yield from _value_problems(each, hints[keys[key]], f"{where}.{key}", extra)
        elif key in older:
            yield from _value_problems(each, older[key], f"{where}.{key}", extra)
        else:
            yield f"{where}.{key}: unknown key ({cls.__name__} has no such field)"


class _KeySpy(dict[str, Any]):
    """An empty body that records every key `from_dict` looks for: the class's JSON names."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def get(self, key: str, default: Any = None) -> Any:
        self.seen.append(key)
        return default

    def __contains__(self, key: object) -> bool:
        self.seen.append(str(key))
        return False


@functools.cache
def wire_keys(cls: type) -> dict[str, str]:
    """JSON key → field name. A JSON name differs from its field in case and punctuation only
    (`userName` → user_name, `$ref` → ref, `global` → global_)."""
    spy = _KeySpy()
    getattr(cls, "from_dict")(spy)  # noqa: B009
    fields = {_letters(field.name): field.name for field in dataclasses.fields(cls)}
    unmatched = [key for key in spy.seen if _letters(key) not in fields]
    assert not unmatched, f"{cls.__name__}.from_dict reads {unmatched}, which name no field"
    return {key: fields[_letters(key)] for key in spy.seen}


def _letters(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _without_none(hint: Any) -> Any:
    if typing.get_origin(hint) is typing.Union:
        rest = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else Any
    return hint


def _is_instance(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return kind is bool
    return isinstance(value, (int, float) if kind is float else kind)


def _omitted(value: Any, where: str) -> Iterator[str]:
    """Nulls and empty arrays anywhere in a body whose type the walk above does not know (protobuf)."""
    if value is None:
        yield f"{where}: null (proto3 JSON leaves an unset field out)"
    elif isinstance(value, list):
        if not value:
            yield f"{where}: empty array (proto3 JSON leaves it out)"
        for index, each in enumerate(value):
            yield from _omitted(each, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, each in value.items():
            yield from _omitted(each, f"{where}.{key}")
