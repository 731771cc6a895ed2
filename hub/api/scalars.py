"""The API's date, time and period scalars, each with ``@specifiedBy``.

``Date`` and ``DateTime`` replace Strawberry's built-ins (same names and wire format, ISO 8601)
so that clients and code generators can see which format they follow. Times the hub keeps are
UTC: a ``DateTime`` always carries its offset (a naive value is taken as UTC), as RFC 3339 asks.

``Period`` names a reporting period the way the programmes do: a year ``2026``, a quarter
``2026-Q3``, a month ``2026-09`` or a half-month ``2026-09-H2`` (days 1-15 and 16 to the end, the
MPI's period). Its value is the canonical text, checked when a request is parsed: a malformed
period is a BAD_USER_INPUT validation error before any resolver runs, and a field of type
``Period`` always holds a well-formed name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Final, NewType

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.types.scalar import ScalarDefinition

__all__ = ["PERIOD_SPEC", "SCALAR_OVERRIDES", "Period", "period_text"]

# The hub serves hub/api/scalars.md at this path (hub.console): the grammar, with examples.
PERIOD_SPEC: Final = "/spec/scalars#period"
_PERIOD_RE: Final = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2])(?:-H([12]))?)?$")

Period = NewType("Period", str)


def period_text(value: object) -> str:
    """The canonical period name ``value`` is; ``ValueError`` when it is none."""
    if not isinstance(value, str):
        raise ValueError(f"a period is a string such as 2026-Q3 or 2026-09-H2, not {value!r}")
    text = value.strip()
    match = _PERIOD_RE.match(text)
    if match is None:
        raise ValueError(
            f"{text[:40]!r} is not a period: write YYYY, YYYY-Qn, YYYY-MM or YYYY-MM-H1/H2"
        )
    if not 1900 <= int(match.group(1)) <= 2200:
        raise ValueError(f"{text[:40]!r}: year out of range (1900-2200)")
    return text


def _coerce(name: str, parse: Callable[[str], object]) -> Callable[[object], object]:
    def inner(value: object) -> object:
        if not isinstance(value, str):
            raise StrawberryInputCoercionError(f"{name} cannot represent {value!r}: not a string")
        try:
            return parse(value)
        except (ValueError, OverflowError) as error:
            message = f"{name} cannot represent {value[:40]!r}: {error}"
            raise StrawberryInputCoercionError(message) from None

    return inner


def _date(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def _date_time(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def _parse_date_time(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


_DATE = ScalarDefinition(
    name="Date",
    description="A calendar date, ISO 8601 YYYY-MM-DD (RFC 3339 full-date).",
    specified_by_url="https://scalars.graphql.org/andimarek/local-date.html",
    serialize=_date,
    parse_value=_coerce("Date", dt.date.fromisoformat),
    parse_literal=None,
    origin=dt.date,
)
_DATE_TIME = ScalarDefinition(
    name="DateTime",
    description=(
        "An instant, RFC 3339 date-time with its offset (the hub answers in UTC, +00:00); an "
        "input without an offset is taken as UTC."
    ),
    specified_by_url="https://scalars.graphql.org/andimarek/date-time.html",
    serialize=_date_time,
    parse_value=_coerce("DateTime", _parse_date_time),
    parse_literal=None,
    origin=dt.datetime,
)
_PERIOD = ScalarDefinition(
    name="Period",
    description=(
        "A reporting period: a year (2026), a quarter (2026-Q3), a month (2026-09) or a "
        "half-month (2026-09-H1 is days 1-15, 2026-09-H2 the rest of the month)."
    ),
    specified_by_url=PERIOD_SPEC,
    serialize=period_text,
    parse_value=_coerce("Period", period_text),
    parse_literal=None,
    origin=Period,
)

# For strawberry.Schema(scalar_overrides=...): the Python types these scalars stand for.
SCALAR_OVERRIDES: Final[dict[object, ScalarDefinition]] = {
    dt.date: _DATE,
    dt.datetime: _DATE_TIME,
    Period: _PERIOD,
}
