"""Pure arithmetic for daily rollups: local days, counters with resets and rollovers, rates.

A rollup is additive over consecutive pairs of readings of one sensor and metric: the pair
(previous, current) contributes amounts to one or more local days. The store adds contributions
as in-order readings arrive and recomputes a day from raw readings when one arrives out of
order, so both paths use exactly these functions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ingest.model import MetricSpec, Reading, Rollup

if TYPE_CHECKING:
    from ingest.store import DailyRollup

# Rollups whose daily figure does not depend on the order readings arrive in.
ORDER_FREE = frozenset({Rollup.SUM, Rollup.MEAN})

Point = tuple[int, float]  # (ts_ms, value)
DAY_MS = 86_400_000


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(ts_ms: int, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ms / 1000, tz).date()


def day_start_ms(day: dt.date, tz: dt.tzinfo) -> int:
    return int(dt.datetime.combine(day, dt.time(), tz).timestamp() * 1000)


def split_by_day(
    start_ms: int, end_ms: int, amount: float, tz: dt.tzinfo
) -> list[tuple[dt.date, float]]:
    """Spread ``amount`` over (start, end] in proportion to the time in each local day."""
    first, last = local_day(start_ms, tz), local_day(end_ms - 1, tz)
    if first == last or end_ms <= start_ms:
        return [(last, amount)]
    out: list[tuple[dt.date, float]] = []
    span = end_ms - start_ms
    cursor, day = start_ms, first
    while day <= last:
        boundary = min(day_start_ms(day + dt.timedelta(days=1), tz), end_ms)
        out.append((day, amount * (boundary - cursor) / span))
        cursor, day = boundary, day + dt.timedelta(days=1)
    return out


def counter_increase(previous: float, current: float) -> float:
    """Energy between two register readings, allowing for resets and rollovers.

    A register that goes down either rolled over (it was near its power-of-ten limit, e.g.
    99,990 then 15 on a 5-digit register: 25) or was reset or replaced (counted from zero).
    A drop within rounding noise is no change at all.
    """
    if current >= previous:
        return current - previous
    if previous - current <= max(0.01, previous * 1e-6):
        return 0.0
    limit = 10.0 ** len(str(int(previous)))
    if previous >= 0.9 * limit and current < 0.1 * limit:
        return limit - previous + current
    return current


def contributions(
    spec: MetricSpec, previous: Point | None, current: Point, tz: dt.tzinfo
) -> list[tuple[dt.date, float]]:
    """What the pair (previous, current) adds to each local day's rollup of ``spec``."""
    ts, value = current
    if spec.rollup is Rollup.SUM:
        # An interval reading is stamped at the interval's end: 00:00 closes the previous day.
        return [(local_day(ts - 1, tz), value)]
    if spec.rollup is Rollup.MEAN:
        return [(local_day(ts, tz), value)]
    if previous is None or previous[0] >= ts:
        return []
    if spec.rollup is Rollup.COUNTER:
        return split_by_day(previous[0], ts, counter_increase(previous[1], value), tz)
    # RATE: a demand reading is the mean rate over the interval it closes.
    if (ts - previous[0]) / 1000 > spec.max_gap_s:
        return []
    return split_by_day(previous[0], ts, value * (ts - previous[0]) / 3_600_000, tz)


def days_touched(before: int | None, ts: int, after: int | None, tz: dt.tzinfo) -> set[dt.date]:
    """Local days whose rollup changes when a reading at ``ts`` lands between two stored ones.

    It changes the pair (before, ts) and the pair (ts, after), which may span several days.
    """
    first = local_day(before if before is not None else ts, tz)
    last = local_day((after if after is not None else ts) - 1, tz)
    days, day = set(), first
    while day <= max(first, last):
        days.add(day)
        day += dt.timedelta(days=1)
    return days


def day_total(
    spec: MetricSpec,
    day: dt.date,
    previous: Point | None,
    points: list[Point],
    tz: dt.tzinfo,
) -> float:
    """One local day's rollup recomputed from raw points: the last one at or before the day's
    start (``previous``), then in time order those after it up to the first after the day."""
    total = 0.0
    for point in points:
        for d, amount in contributions(spec, previous, point, tz):
            if d == day:
                total += amount
        previous = point
    return total


def daily(
    spec: MetricSpec, points: list[Point], tz: dt.tzinfo, previous: Point | None = None
) -> dict[dt.date, float]:
    """Daily rollup of one sensor's readings in time order (``previous`` precedes them all).

    MEAN returns daily sums; divide by the day's sample count for the mean.
    """
    out: dict[dt.date, float] = {}
    for point in points:
        for day, amount in contributions(spec, previous, point, tz):
            out[day] = out.get(day, 0.0) + amount
        previous = point
    return out


def median(values: list[float]) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def pick_daily(
    rollups: Iterable[DailyRollup], preference: Sequence[str]
) -> dict[tuple[str, dt.date], float]:
    """(sensor, day) → value from stored rollups, taking each sensor-day's most preferred
    metric of ``preference`` (a meter reporting interval and register figures counts once)."""
    best: dict[tuple[str, dt.date], tuple[int, float]] = {}
    for d in rollups:
        if d.metric not in preference:
            continue
        rank = preference.index(d.metric)
        key = (d.sensor_id, d.day)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, d.value)
    return {key: value for key, (_, value) in best.items()}


Key = tuple[str, str]  # (sensor_id, metric)


@dataclass(slots=True)
class Fold:
    """What a commit's new readings change.

    ``amounts``: per (sensor, metric, day), [amount, samples] to add to the day's rollup.
    ``late``: (key, ts) of readings that landed before the newest stored point of an
    order-dependent metric: the days around them are recomputed from raw readings instead.
    ``newest``: per key whose newest point moved forward, that point and its unit.
    """

    amounts: dict[tuple[str, str, dt.date], list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0])
    )
    late: list[tuple[Key, int]] = field(default_factory=list)
    newest: dict[Key, tuple[Point, str]] = field(default_factory=dict)


def fold(
    readings: Iterable[Reading],
    previous: Mapping[Key, Point],
    metrics: Mapping[str, MetricSpec],
    tz: dt.tzinfo,
) -> Fold:
    """Fold newly stored ``readings`` into rollup changes, given the newest point per key before
    them (``previous``, from ``latest``)."""
    out = Fold()
    last = dict(previous)
    for r in sorted(readings, key=lambda r: (r.sensor_id, r.metric, r.ts_ms)):
        key = (r.sensor_id, r.metric)
        spec = metrics.get(r.metric)
        before = last.get(key)
        point = (r.ts_ms, r.value)
        out.amounts[(r.sensor_id, r.metric, local_day(r.ts_ms, tz))][1] += 1
        in_order = before is None or r.ts_ms > before[0]
        if spec is None:
            pass
        elif in_order or spec.rollup in ORDER_FREE:
            for day, amount in contributions(spec, before, point, tz):
                out.amounts[(r.sensor_id, r.metric, day)][0] += amount
        else:
            out.late.append((key, r.ts_ms))
        if in_order:
            last[key] = point
            out.newest[key] = (point, r.unit)
    return out
