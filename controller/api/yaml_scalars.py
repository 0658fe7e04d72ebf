"""A YAML scalar as kubectl reads it, and so as the API server receives it.

kubectl reads YAML 1.1 with go-yaml v2 and sends JSON. That differs from a YAML 1.2 reader (and from
PyYAML's own YAML 1.1) in ways that change what a manifest means: `y`, `n`, `on` and `off` are booleans,
`1e3` is a number, `1:30` and timestamps stay strings, `1.0` arrives as the integer 1 (JSON has one
number type), and JSON has no infinity, NaN or integer beyond 64 bits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from controller.api.located import shown

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_CORE = "tag:yaml.org,2002:"
_BOOLEANS = dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True) | (
    dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False)
)
_NULLS = {"", "~", "null", "Null", "NULL"}
_NOT_JSON = {f"{sign}{word}" for word in (".inf", ".Inf", ".INF") for sign in ("", "+", "-")} | {".nan", ".NaN", ".NAN"}
# Integers as Go's strconv.ParseInt(text, 0, 64) reads them (a leading 0 is octal), after go-yaml drops '_'.
_INTEGER = re.compile(r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|0([0-7]*)|([1-9][0-9]*))")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_MAX_DIGITS = 200
"""Far beyond 64 bits in any base; longer literals are not converted at all (Python refuses huge ones)."""


@dataclass(frozen=True)
class Unsendable:
    """A value the API server would never see as written: kubectl refuses it, or rounds it.

    It stays in the document where it was written (aliases and merges carry it along like any value), and
    nothing at or above it is checked further: its own problem says what is wrong.
    """

    text: str

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Scalar:
    """The value the API server gets, and what kubectl would refuse or silently change about it."""

    value: Any
    problem: str | None = None
    merge: bool = False
    """The plain key `<<`: merge the mapping that follows."""


def resolve(text: str, tag: str | None, plain: bool) -> Scalar:
    """The scalar `text`, untagged or with its explicit tag; `plain` when written without quotes."""
    if tag is None or tag == "!":
        return _plain(text) if plain and tag is None else Scalar(text)
    if tag in (_CORE + "str", _CORE + "timestamp"):
        return Scalar(text)
    wanted = {_CORE + "int": int, _CORE + "float": float, _CORE + "bool": bool, _CORE + "null": type(None)}
    if tag in wanted:
        scalar = _plain(text)
        kind = type(scalar.value)
        if kind is wanted[tag] or (tag == _CORE + "float" and kind is int):
            return scalar
        return Scalar(Unsendable(text), f"kubectl cannot read {shown(text)} as {_short(tag)}")
    if tag == _CORE + "binary":
        return Scalar(Unsendable(text), "kubectl cannot pass !!binary on; write the base64 text as a plain string")
    return Scalar(text, f"YAML tag {_short(tag)} means nothing to kubectl, which reads {shown(text)} as a string")


def _plain(text: str) -> Scalar:
    if text in _BOOLEANS:
        return Scalar(_BOOLEANS[text])
    if text in _NULLS:
        return Scalar(None)
    if text in _NOT_JSON:
        return Scalar(Unsendable(text), f"JSON has no {text}: kubectl refuses to send it")
    if text == "<<":
        return Scalar(text, merge=True)
    if text[0] == "." or text[0] in "+-0123456789":
        return _number(text.replace("_", "") if text[0] != "." else text) or Scalar(text)
    return Scalar(text)


def _number(text: str) -> Scalar | None:
    match = _INTEGER.fullmatch(text)
    if match:
        sign, hexa, octal, binary, zero_octal, decimal = match.groups()
        for digits, base in ((hexa, 16), (octal, 8), (binary, 2), (decimal, 10), (zero_octal, 8)):
            if digits is not None:  # exactly one alternative matched
                return _integer(sign, digits, base, text)
    if _FLOAT.fullmatch(text):
        number = float(text)
        if math.isinf(number):
            return None  # go-yaml reads a float literal too big for 64 bits as a string
        if number.is_integer() and INT64_MIN <= number <= INT64_MAX:
            return Scalar(int(number))  # sent as JSON `1`, read back by the API server as an integer
        return Scalar(number)
    return None


def _integer(sign: str, digits: str, base: int, text: str) -> Scalar:
    significant = digits.lstrip("0") or "0"
    if len(significant) <= _MAX_DIGITS:
        value = int(significant, base) * (-1 if sign == "-" else 1)
        if INT64_MIN <= value <= INT64_MAX:
            return Scalar(value)
    shown_text = text if len(text) <= 30 else text[:30] + "..."
    problem = f"Invalid value: {shown_text}: integers must fit in 64 bits; kubectl would send a rounded number"
    return Scalar(Unsendable(shown_text), problem)


def _short(tag: str) -> str:
    return "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
