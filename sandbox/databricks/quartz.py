"""Quartz cron expressions and Java time-zone ids, as Databricks schedules take them.

Each check returns why a value is refused, or None; the caller words the API error.
The grammar is Quartz's `CronExpression`: six or seven fields (seconds first, an
optional year last), `?` in exactly one of day-of-month and day-of-week, and the
`L`, `W` and `#` forms of those two fields.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import cache

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# java.util.TimeZone's three-letter ids that the IANA database (zoneinfo) does not have.
_JAVA_SHORT_IDS = frozenset(
    "ACT AET AGT ART AST BET BST CAT CNT CST CTT EAT ECT IET IST JST MIT NET NST PLT PNT PRT PST SST VST".split()  # noqa: SIM905
)
_GMT_OFFSET = re.compile(r"^GMT[+-](\d{1,2})(?::?(\d{2}))?$")
_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    """Names standing for low, low + 1, ... (months from 1, days of the week from 1 = SUN)."""


_FIELDS = (
    _Field("seconds", 0, 59),
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 1, 7, _DAYS),
    _Field("year", 1970, 2099),
)
_DAY_OF_MONTH, _DAY_OF_WEEK = 3, 5


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a Quartz cron expression, or None when it is one."""
    parts = expression.upper().split()
    if len(parts) not in (6, 7):
        return f"expected 6 or 7 fields (seconds minutes hours day-of-month month day-of-week [year]), got {len(parts)}"
    for index, (field, text) in enumerate(zip(_FIELDS, parts, strict=False)):
        problem = _field_problem(index, field, text)
        if problem:
            return f"{field.name} field '{text}': {problem}"
    if (parts[_DAY_OF_MONTH] == "?") == (parts[_DAY_OF_WEEK] == "?"):
        return "'?' must be given in exactly one of the day-of-month and day-of-week fields"
    return None


def timezone_problem(timezone_id: str) -> str | None:
    """Why `timezone_id` is not a Java time-zone id, or None when it is one."""
    if timezone_id in _zone_ids() or timezone_id in _JAVA_SHORT_IDS:
        return None
    offset = _GMT_OFFSET.match(timezone_id)
    if offset and int(offset[1]) <= 23 and int(offset[2] or 0) <= 59:
        return None
    return "not a Java time-zone id (for example UTC, Europe/Berlin or America/Los_Angeles)"


@cache
def _zone_ids() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _field_problem(index: int, field: _Field, text: str) -> str | None:
    if text == "?":
        return None if index in (_DAY_OF_MONTH, _DAY_OF_WEEK) else "'?' is only allowed for day-of-month or day-of-week"
    for item in text.split(","):
        problem = _special(index, item) if _is_special(index, item) else _item_problem(field, item)
        if problem:
            return problem
    return None


def _is_special(index: int, item: str) -> bool:
    if index == _DAY_OF_MONTH:
        return item in ("L", "LW") or item.startswith("L-") or (item.endswith("W") and len(item) > 1)
    if index == _DAY_OF_WEEK:
        return item == "L" or "#" in item or (item.endswith("L") and len(item) > 1)
    return False


def _special(index: int, item: str) -> str | None:
    """What is wrong with an `L`, `W` or `#` form, or None."""
    if index == _DAY_OF_MONTH:
        if item.startswith("L-"):
            return None if _NUMBER.match(item[2:]) and int(item[2:]) <= 30 else "'L-n' needs 0 <= n <= 30"
        if item.endswith("W") and item != "LW":
            day = item[:-1]
            return None if _NUMBER.match(day) and 1 <= int(day) <= 31 else "'nW' needs a day of the month 1-31"
        return None
    if "#" in item:
        day, _, nth = item.partition("#")
        if _value(_FIELDS[_DAY_OF_WEEK], day) is None:
            return f"'{day}' is not a day of the week"
        return None if _NUMBER.match(nth) and 1 <= int(nth) <= 5 else "'d#n' needs 1 <= n <= 5"
    if item != "L" and _value(_FIELDS[_DAY_OF_WEEK], item[:-1]) is None:
        return f"'{item[:-1]}' is not a day of the week"
    return None


def _item_problem(field: _Field, item: str) -> str | None:
    base, slash, step = item.partition("/")
    if slash:
        if not _NUMBER.match(step) or int(step) == 0:
            return f"the increment '{step}' must be a positive number"
        if int(step) > field.high:
            return f"the increment {step} is more than {field.high}"
    if base == "*":
        return None
    start, dash, end = base.partition("-")
    for value in (start, end) if dash else (start,):
        if _value(field, value) is None:
            return f"'{value}' is not a value from {field.low} to {field.high}" + (
                f" or {field.names[0]}-{field.names[-1]}" if field.names else ""
            )
    return None


def _value(field: _Field, text: str) -> int | None:
    if text in field.names:
        return field.low + field.names.index(text)
    if _NUMBER.match(text) and field.low <= int(text) <= field.high:
        return int(text)
    return None
