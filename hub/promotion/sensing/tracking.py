"""Tracking key indicators against their yearly targets (指标跟踪), with red/yellow/green.

A target is set per indicator, region and year, on one of two bases:

- ``LEVEL``: a rate or level to reach, e.g. investment growth of 6%. The actual is the latest
  value reported in the year; attainment = actual ÷ target (target ÷ actual where lower is
  better). Rates carry no schedule, so the warning reads attainment directly.
- ``TOTAL``: an amount for the whole year, e.g. 1,200 亿元 of investment. The actual is the
  sum of the year's values reported so far; attainment = actual ÷ target; the schedule share
  (序时进度) is the part of the year elapsed at the end of the latest reported period (days,
  as in the city scoreboard), and the warning reads attainment ÷ schedule share. Where lower
  is better (a cap), it reads schedule share ÷ attainment instead: using the cap faster than
  the year passes is behind.

Warnings: below ``red`` red, below ``yellow`` yellow, else green. When a ratio has no meaning
(a target of zero or below, or a non-positive actual against a lower-is-better target), the
warning is green if the target is met and red if not. Nothing reported yet: no warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from hub.promotion.sensing.barometer import Observation


class Basis(StrEnum):
    LEVEL = "level"
    TOTAL = "total"


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Thresholds:
    red: float = 0.8
    yellow: float = 0.95

    def __post_init__(self) -> None:
        if not 0 <= self.red <= self.yellow:
            raise ValueError("0 ≤ red ≤ yellow")

    def light(self, ratio: float) -> Light:
        if ratio < self.red:
            return Light.RED
        if ratio < self.yellow:
            return Light.YELLOW
        return Light.GREEN


@dataclass(frozen=True, slots=True)
class Progress:
    actual: float | None
    reported: int  # values of the year taken into account
    through: dt.date | None  # end of the latest reported period
    attainment: float | None  # actual ÷ target (or target ÷ actual where lower is better)
    schedule_share: float | None  # TOTAL only
    ratio: float | None  # what the warning reads
    met: bool | None
    warning: Light | None


def schedule_share(day: dt.date) -> float:
    """Share of ``day``'s year elapsed at its end (序时进度)."""
    first = dt.date(day.year, 1, 1)
    days = (dt.date(day.year + 1, 1, 1) - first).days
    return ((day - first).days + 1) / days


def progress(
    target: float,
    basis: Basis,
    year: int,
    observations: Sequence[Observation],
    thresholds: Thresholds,
    *,
    higher_is_better: bool = True,
    as_of: dt.date | None = None,
) -> Progress:
    """Progress in ``year`` from the indicator's values (those of other years, or ending after
    ``as_of``, are ignored)."""
    seen = sorted(
        (
            o
            for o in observations
            if o.period.start.year == year
            and o.period.end.year == year
            and (as_of is None or o.period.end <= as_of)
        ),
        key=lambda o: o.period,
    )
    if not seen:
        return Progress(None, 0, None, None, None, None, None, None)
    through = max(o.period.end for o in seen)
    actual = sum(o.value for o in seen) if basis is Basis.TOTAL else seen[-1].value
    met = actual >= target if higher_is_better else actual <= target
    share = schedule_share(through) if basis is Basis.TOTAL else None
    attainment: float | None = None
    if higher_is_better and target > 0:
        attainment = actual / target
    elif not higher_is_better and actual > 0 and target > 0:
        attainment = target / actual
    ratio: float | None = None
    if attainment is not None:
        if share is None:
            ratio = attainment
        elif higher_is_better:
            ratio = attainment / share
        elif actual > 0:
            ratio = share / (actual / target)
    # Without a meaningful ratio, only whether the target is met can be said.
    warning = (Light.GREEN if met else Light.RED) if ratio is None else thresholds.light(ratio)
    return Progress(actual, len(seen), through, attainment, share, ratio, met, warning)
