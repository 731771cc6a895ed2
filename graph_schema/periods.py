"""Reporting periods: a year (``2025``), a quarter (``2025-Q2``) or a month (``2025-06``).

Statistics are reported per period and the scoreboard is computed for one; both name it the
same way, and ``parse_period`` turns the name into its first and last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

PERIOD_PATTERN: Final = r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"
_PERIOD_RE: Final = re.compile(PERIOD_PATTERN)


class Granularity(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A named period; orders by start, then longer periods first (a year before its Q1)."""

    start: dt.date
    length: int  # negative days, so that longer periods sort first on equal starts
    label: str
    granularity: Granularity

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=-self.length - 1)


def period_problem(text: str) -> str | None:
    """Why ``text`` is not a period name, or ``None``."""
    if not _PERIOD_RE.match(text):
        return f"{text!r} is not a period: use YYYY, YYYY-Qn or YYYY-MM"
    if not 1900 <= int(text[:4]) <= 2200:
        return f"{text!r}: year out of range"
    return None


def parse_period(text: str) -> Period:
    """The period named ``text``; ``ValueError`` when it names none."""
    problem = period_problem(text)
    if problem is not None:
        raise ValueError(problem)
    year = int(text[:4])
    if len(text) == 4:
        start, end, kind = dt.date(year, 1, 1), dt.date(year, 12, 31), Granularity.YEAR
    elif text[5] == "Q":
        quarter = int(text[6])
        first = 3 * quarter - 2
        start = dt.date(year, first, 1)
        end = dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])
        kind = Granularity.QUARTER
    else:
        month = int(text[5:7])
        start = dt.date(year, month, 1)
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        kind = Granularity.MONTH
    return Period(start, -((end - start).days + 1), text, kind)
