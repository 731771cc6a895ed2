"""The investment barometer (投资晴雨表): how hot each leading indicator runs against its past.

- **Percentile.** An indicator's current value is the latest one whose period ends on or
  before the barometer's period ends. Its percentile is where it ranks in the indicator's
  history in that region, the current value included: with ``B`` earlier-or-equal-period
  values strictly below it and ``E`` values equal to it (itself included) among ``n``,
  ``percentile = 100 × (B + (E − 1) / 2) / (n − 1)``. The lowest value on record is 0, the
  highest 100, the median 50; tied values share the middle of the ranks they span, so a flat
  history reads 50. Fewer than ``min_history`` values (itself included) give no percentile:
  a rank among three values says little.
- **Polarity.** For an indicator where a higher value means a cooler investment climate
  (say months of unsold housing), the heat percentile is ``100 − percentile``.
- **Heat level** by configurable bands on the heat percentile: below ``cool_from`` cold, below
  ``normal_from`` cool, below ``warm_from`` normal, below ``hot_from`` warm, else hot.
- **Composite**: the weighted mean of the heat percentiles of the indicators that have one,
  weights renormalised over them; ``coverage`` is the share of the total weight that took part.
  No indicator with a percentile, no composite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from graph_schema.periods import Period


class Heat(StrEnum):
    COLD = "cold"
    COOL = "cool"
    NORMAL = "normal"
    WARM = "warm"
    HOT = "hot"


@dataclass(frozen=True, slots=True)
class HeatBands:
    """Lower bounds (percentiles, 0–100) of the cool, normal, warm and hot bands."""

    cool_from: float = 20.0
    normal_from: float = 40.0
    warm_from: float = 60.0
    hot_from: float = 80.0

    def __post_init__(self) -> None:
        bounds = (self.cool_from, self.normal_from, self.warm_from, self.hot_from)
        if not all(0 <= b <= 100 for b in bounds) or list(bounds) != sorted(bounds):
            raise ValueError(f"heat bands must rise within 0..100, got {bounds}")

    def level(self, heat_percentile: float) -> Heat:
        if heat_percentile < self.cool_from:
            return Heat.COLD
        if heat_percentile < self.normal_from:
            return Heat.COOL
        if heat_percentile < self.warm_from:
            return Heat.NORMAL
        if heat_percentile < self.hot_from:
            return Heat.WARM
        return Heat.HOT


@dataclass(frozen=True, slots=True)
class Observation:
    period: Period
    value: float


@dataclass(frozen=True, slots=True)
class Gauge:
    """How one indicator enters the barometer: its weight and whether higher means hotter."""

    weight: float
    higher_is_hotter: bool = True


def percentile_rank(values: Sequence[float], current: float) -> float:
    """Mid-rank percentile of ``current`` among ``values`` (which include it), 0 to 100."""
    n = len(values)
    if n < 2:
        raise ValueError("a percentile needs at least two values")
    below = sum(1 for v in values if v < current)
    equal = sum(1 for v in values if v == current)
    if equal == 0:
        raise ValueError("values must include the current value")
    return 100.0 * (below + (equal - 1) / 2) / (n - 1)


@dataclass(frozen=True, slots=True)
class IndicatorHeat:
    indicator: str
    weight: float
    higher_is_hotter: bool
    period: Period | None  # of the current value
    value: float | None
    history: int  # values up to and including the current one
    percentile: float | None
    heat_percentile: float | None
    heat: Heat | None


@dataclass(frozen=True, slots=True)
class Reading:
    """The barometer of one region as of the end of one period."""

    end: dt.date
    composite: float | None
    heat: Heat | None
    coverage: float
    indicators: tuple[IndicatorHeat, ...]


def indicator_heat(
    indicator: str,
    gauge: Gauge,
    series: Sequence[Observation],
    end: dt.date,
    bands: HeatBands,
    *,
    min_history: int,
    window: int = 0,
) -> IndicatorHeat:
    """One indicator's percentile and heat as of ``end``; ``window`` > 0 keeps only that many
    latest values as the history."""
    past = sorted((o for o in series if o.period.end <= end), key=lambda o: o.period)
    if window > 0:
        past = past[-window:]
    if not past:
        return IndicatorHeat(
            indicator, gauge.weight, gauge.higher_is_hotter, None, None, 0, None, None, None
        )
    current = past[-1]
    percentile = heat_percentile = None
    heat = None
    if len(past) >= max(min_history, 2):
        percentile = percentile_rank([o.value for o in past], current.value)
        heat_percentile = percentile if gauge.higher_is_hotter else 100.0 - percentile
        heat = bands.level(heat_percentile)
    return IndicatorHeat(
        indicator,
        gauge.weight,
        gauge.higher_is_hotter,
        current.period,
        current.value,
        len(past),
        percentile,
        heat_percentile,
        heat,
    )


def reading(
    gauges: Mapping[str, Gauge],
    series: Mapping[str, Sequence[Observation]],
    end: dt.date,
    bands: HeatBands,
    *,
    min_history: int,
    window: int = 0,
) -> Reading:
    """The barometer as of ``end`` over the ``gauges`` (indicator → weight and polarity)."""
    heats = tuple(
        indicator_heat(
            name,
            gauge,
            series.get(name, ()),
            end,
            bands,
            min_history=min_history,
            window=window,
        )
        for name, gauge in sorted(gauges.items())
    )
    total = sum(g.weight for g in gauges.values())
    used = [h for h in heats if h.heat_percentile is not None and h.weight > 0]
    weight = sum(h.weight for h in used)
    if weight <= 0:
        return Reading(end, None, None, 0.0, heats)
    composite = sum(h.weight * h.heat_percentile for h in used if h.heat_percentile is not None)
    composite /= weight
    return Reading(end, composite, bands.level(composite), weight / total, heats)
