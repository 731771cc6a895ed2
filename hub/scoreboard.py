"""The city scoreboard: landing and investment completion per city over a project list.

For a project list, a period and an as-of date (default: the period's last day, ``end``):

- **Landing rate** (落地率). *Due*: the list's projects in the city whose ``planned_start``
  falls within the period, from its first day to ``end`` (``cumulative``: any time up to
  ``end``). *Landed*: the due ones with an ``actual_start`` on or before ``end`` (an early
  start counts). Rate = landed / due; none when nothing is due. Every project in the hub
  carries a national project code, so every one counts as coded (赋码).
- **Completion rate** (投资完成率), on the annual-plan basis: Σ ``year_completed_investment``
  / Σ ``annual_plan_investment`` over the list's projects in the city; none when nothing is
  planned. The amounts are the current plan year's as the projects carry them, whatever the
  period. *Schedule share* (序时进度) is the part of the plan year elapsed at ``end`` (days
  up to and including it over days in its year); the completion warning compares rate ÷
  schedule share with the thresholds.
- A city's projects are those located in it or in its counties. Warnings: red below the red
  threshold, yellow below the yellow one, else green; none without a rate. Ranks: 1 is the
  highest rate; equal rates share a rank; cities without a rate have none.

The figures are aggregates of ``reads`` statements over filters from
``graph_schema.scoreboard``, the same filters the drill-down lists use.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph_schema import statements as st
from graph_schema.errors import InvalidInput, NotFound
from graph_schema.model import SPECS
from graph_schema.periods import Period, parse_period
from graph_schema.scoreboard import (
    BUILT_IN,
    CITIES,
    CITIES_WITHIN,
    Figure,
    aggregate_by_city,
    figure_filters,
    list_filters,
)
from graph_schema.store import GraphStore, Row
from hub.amounts import to_the_yuan
from hub.settings import ScoreboardSettings


class WarningLevel(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


_SEVERITY = {WarningLevel.GREEN: 0, WarningLevel.YELLOW: 1, WarningLevel.RED: 2}


class RankBy(StrEnum):
    LANDING = "landing"
    COMPLETION = "completion"


@dataclass(frozen=True, slots=True)
class Window:
    """What the scoreboard is computed over: a list, the period and the effective end."""

    list_id: str
    period: Period
    end: dt.date  # the as-of date: the period's end, or earlier
    cumulative: bool
    within: str | None

    @property
    def start(self) -> dt.date:
        return self.period.start

    def filters(self, figure: Figure, city: str | None = None) -> dict[str, Any]:
        """Filter values of a figure's project set (in one city when given)."""
        out = {
            **list_filters(self.list_id),
            **figure_filters(figure, self.start, self.end, cumulative=self.cumulative),
        }
        region = city or self.within
        if region is not None:
            out["region"] = region
        return out


@dataclass(frozen=True, slots=True)
class Landing:
    due: int
    landed: int
    rate: float | None
    rank: int | None
    warning: WarningLevel | None


@dataclass(frozen=True, slots=True)
class Completion:
    projects: int
    planned: float
    completed: float
    rate: float | None
    schedule_share: float
    rank: int | None
    warning: WarningLevel | None


@dataclass(frozen=True, slots=True)
class CityScore:
    code: str
    name: str
    landing: Landing
    completion: Completion

    @property
    def warning(self) -> WarningLevel | None:
        found = [w for w in (self.landing.warning, self.completion.warning) if w is not None]
        return max(found, key=_SEVERITY.__getitem__) if found else None


@dataclass(frozen=True, slots=True)
class Scoreboard:
    window: Window
    thresholds: ScoreboardSettings
    cities: tuple[CityScore, ...]


def window(
    list_id: str,
    period: str,
    *,
    as_of: dt.date | None = None,
    cumulative: bool = False,
    within: str | None = None,
) -> Window:
    """Check the arguments and fix the dates."""
    try:
        parsed = parse_period(period)
    except ValueError as exc:
        raise InvalidInput(f"period: {exc}") from None
    end = parsed.end
    if as_of is not None:
        if not parsed.start <= as_of <= parsed.end:
            raise InvalidInput(f"asOf: {as_of} is outside period {period}")
        end = as_of
    return Window(list_id, parsed, end, cumulative, within)


def schedule_share(end: dt.date) -> float:
    """The part of ``end``'s year up to and including ``end``."""
    first = dt.date(end.year, 1, 1)
    days = (dt.date(end.year + 1, 1, 1) - first).days
    return ((end - first).days + 1) / days


def warning(rate: float | None, red: float, yellow: float) -> WarningLevel | None:
    if rate is None:
        return None
    if rate < red:
        return WarningLevel.RED
    if rate < yellow:
        return WarningLevel.YELLOW
    return WarningLevel.GREEN


def ranks(rates: Sequence[float | None]) -> list[int | None]:
    """Competition ranks, highest rate first: 0.9, 0.9, 0.5 → 1, 1, 3; none stays none."""
    known = sorted((r for r in rates if r is not None), reverse=True)
    first: dict[float, int] = {}
    for i, rate in enumerate(known, start=1):
        first.setdefault(rate, i)
    return [None if r is None else first[r] for r in rates]


async def list_exists(store: GraphStore, list_id: str) -> bool:
    if list_id in BUILT_IN:
        return True
    rows = await store.run(st.existing_keys(SPECS["project_list"]), {"keys": [list_id]})
    return bool(rows)


async def compute(
    store: GraphStore, win: Window, thresholds: ScoreboardSettings, rank_by: RankBy
) -> Scoreboard:
    """Every city's figures in a fixed number of round trips (four, whatever the cities)."""
    if not await list_exists(store, win.list_id):
        raise NotFound(f"no project list {win.list_id}")
    if win.within is None:
        listing = store.run(CITIES, {"level": "city"})
    else:
        listing = store.run(CITIES_WITHIN, {"level": "city", "within": win.within})
    cities, due, landed, planned = await asyncio.gather(
        listing,
        _by_city(store, win, Figure.DUE),
        _by_city(store, win, Figure.LANDED),
        _by_city(store, win, Figure.PLANNED),
    )
    share = schedule_share(win.end)
    landing_rates: list[float | None] = []
    completion_rates: list[float | None] = []
    for city in cities:
        n_due = _count(due, city["code"])
        landing_rates.append(_count(landed, city["code"]) / n_due if n_due else None)
        plan = _sum(planned, city["code"], "annual_plan_investment")
        done = _sum(planned, city["code"], "year_completed_investment")
        completion_rates.append(done / plan if plan > 0 else None)
    landing_ranks, completion_ranks = ranks(landing_rates), ranks(completion_rates)
    scores = []
    for i, city in enumerate(cities):
        code = city["code"]
        landing = Landing(
            due=_count(due, code),
            landed=_count(landed, code),
            rate=landing_rates[i],
            rank=landing_ranks[i],
            warning=warning(landing_rates[i], thresholds.landing_red, thresholds.landing_yellow),
        )
        rate = completion_rates[i]
        completion = Completion(
            projects=_count(planned, code),
            planned=_sum(planned, code, "annual_plan_investment"),
            completed=_sum(planned, code, "year_completed_investment"),
            rate=rate,
            schedule_share=share,
            rank=completion_ranks[i],
            warning=warning(
                None if rate is None else rate / share,
                thresholds.completion_red,
                thresholds.completion_yellow,
            ),
        )
        scores.append(CityScore(code, city["name"], landing, completion))
    key: Callable[[CityScore], Any]
    if rank_by is RankBy.LANDING:
        key = lambda c: (c.landing.rank is None, c.landing.rank or 0, c.code)  # noqa: E731
    else:
        key = lambda c: (c.completion.rank is None, c.completion.rank or 0, c.code)  # noqa: E731
    return Scoreboard(win, thresholds, tuple(sorted(scores, key=key)))


async def _by_city(store: GraphStore, win: Window, figure: Figure) -> dict[str, Row]:
    values = win.filters(figure)
    names = tuple(sorted(values))
    params = {f"f_{k}": v for k, v in values.items()} | {"g_level": "city"}
    rows = await store.run(aggregate_by_city(names, store.dialect), params)
    return {row["group_key"]: row for row in rows}


def _count(rows: dict[str, Row], code: str) -> int:
    row = rows.get(code)
    return int(row["count"]) if row else 0


def _sum(rows: dict[str, Row], code: str, measure: str) -> float:
    row = rows.get(code)
    return to_the_yuan(float(row.get(f"{measure}_sum") or 0)) if row else 0.0
