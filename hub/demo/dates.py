"""The demo's fixed clock: everything is as seen on 2026-11-15, never on the real clock's day."""

from __future__ import annotations

import datetime as dt
import random
from typing import Final

AS_OF: Final = dt.date(2026, 11, 15)
YEAR_START: Final = dt.date(AS_OF.year, 1, 1)
# 序时进度: the share of the year's plan that should be done by AS_OF (319 of 365 days).
YEAR_FRACTION: Final = ((AS_OF - YEAR_START).days + 1) / (
    (dt.date(AS_OF.year + 1, 1, 1) - YEAR_START).days
)


def between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A uniformly drawn day from ``first`` to ``last``, both included."""
    if last <= first:
        return first
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def shift(day: dt.date, days: int) -> dt.date:
    return day + dt.timedelta(days=days)


def clamp(day: dt.date, first: dt.date, last: dt.date) -> dt.date:
    return max(first, min(day, last))
