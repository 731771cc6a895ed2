"""Percentiles and heat on hand-made series; every expected number is worked out in a comment."""

from __future__ import annotations

import datetime as dt

import pytest

from graph_schema.periods import parse_period
from hub.promotion.sensing.barometer import (
    Gauge,
    Heat,
    HeatBands,
    Observation,
    indicator_heat,
    percentile_rank,
    reading,
)

BANDS = HeatBands()  # cold < 20 ≤ cool < 40 ≤ normal < 60 ≤ warm < 80 ≤ hot


def _monthly(values: list[float], start: int = 1) -> list[Observation]:
    return [Observation(parse_period(f"2025-{start + i:02d}"), v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "current", "expected"),
    [
        ([1, 2, 3, 4, 5], 5, 100.0),  # 4 below of 4 others
        ([1, 2, 3, 4, 5], 1, 0.0),
        ([1, 2, 3, 4, 5], 3, 50.0),  # 2 below / 4
        ([5, 1, 4, 2, 3], 4, 75.0),  # order does not matter: 3 below / 4
        ([1, 2, 2, 2, 5], 2, 50.0),  # 1 below, 3 equal: (1 + 2/2) / 4
        ([2, 2, 3], 2, 25.0),  # 0 below, 2 equal: (0 + 1/2) / 2
        ([7, 7, 7, 7], 7, 50.0),  # a flat history reads the middle
    ],
)
def test_percentile_is_the_mid_rank_within_the_history(
    values: list[float], current: float, expected: float
) -> None:
    assert percentile_rank(values, current) == pytest.approx(expected)


def test_percentile_needs_two_values_including_the_current_one() -> None:
    with pytest.raises(ValueError, match="two"):
        percentile_rank([3], 3)
    with pytest.raises(ValueError, match="include"):
        percentile_rank([1, 2], 3)


@pytest.mark.parametrize(
    ("p", "heat"),
    [
        (0, Heat.COLD),
        (19.99, Heat.COLD),
        (20, Heat.COOL),
        (39.9, Heat.COOL),
        (40, Heat.NORMAL),
        (60, Heat.WARM),
        (79.9, Heat.WARM),
        (80, Heat.HOT),
        (100, Heat.HOT),
    ],
)
def test_heat_bands_are_lower_bounds(p: float, heat: Heat) -> None:
    assert BANDS.level(p) is heat


def test_bands_must_rise() -> None:
    with pytest.raises(ValueError, match="rise"):
        HeatBands(cool_from=50, normal_from=40)


def test_an_indicator_reads_its_latest_value_up_to_the_period_end() -> None:
    series = _monthly([4, 8, 6, 2, 10, 9])  # Jan..Jun 2025
    june = indicator_heat("x", Gauge(1), series, dt.date(2025, 6, 30), BANDS, min_history=3)
    # 9 among [4, 8, 6, 2, 10, 9]: 4 below (4, 8, 6, 2) of 5 others → 80 → hot
    assert (june.value, june.history, june.percentile, june.heat) == (9, 6, 80.0, Heat.HOT)
    assert june.period == parse_period("2025-06")
    april = indicator_heat("x", Gauge(1), series, dt.date(2025, 4, 30), BANDS, min_history=3)
    # 2 among [4, 8, 6, 2]: nothing below → 0 → cold
    assert (april.value, april.percentile, april.heat) == (2, 0.0, Heat.COLD)
    # A mid-month date still reads April: May has not ended.
    mid_may = indicator_heat("x", Gauge(1), series, dt.date(2025, 5, 15), BANDS, min_history=3)
    assert mid_may.value == 2
    # Too short a history gives the value but no percentile.
    feb = indicator_heat("x", Gauge(1), series, dt.date(2025, 2, 28), BANDS, min_history=3)
    assert (feb.value, feb.history, feb.percentile, feb.heat) == (8, 2, None, None)
    # Before any value: nothing.
    none = indicator_heat("x", Gauge(1), series, dt.date(2024, 12, 31), BANDS, min_history=3)
    assert (none.value, none.history, none.percentile) == (None, 0, None)
    # A window keeps only the latest values: 9 among [2, 10, 9] → 1 below / 2 → 50.
    window = indicator_heat(
        "x", Gauge(1), series, dt.date(2025, 6, 30), BANDS, min_history=3, window=3
    )
    assert (window.history, window.percentile, window.heat) == (3, 50.0, Heat.NORMAL)


def test_polarity_inverts_the_heat_not_the_percentile() -> None:
    # Months of unsold housing: a record high is the coldest reading.
    series = _monthly([10, 12, 14, 16, 18])
    heat = indicator_heat(
        "stock",
        Gauge(1, higher_is_hotter=False),
        series,
        dt.date(2025, 5, 31),
        BANDS,
        min_history=3,
    )
    assert (heat.percentile, heat.heat_percentile, heat.heat) == (100.0, 0.0, Heat.COLD)


def test_the_composite_weights_heat_and_renormalises_over_indicators_with_a_percentile() -> None:
    end = dt.date(2025, 5, 31)
    series = {
        "loans": _monthly([1, 2, 3, 4, 5]),  # 5: 100
        "land": _monthly([5, 4, 3, 2, 1]),  # 1: 0
        "stock": _monthly([3, 1, 2, 5, 4]),  # 4: 3 below / 4 = 75, lower is hotter → 25
        "new": _monthly([1, 2], start=4),  # too short: no percentile
    }
    gauges = {
        "loans": Gauge(2),
        "land": Gauge(1),
        "stock": Gauge(1, higher_is_hotter=False),
        "new": Gauge(4),
    }
    found = reading(gauges, series, end, BANDS, min_history=3)
    # (2×100 + 1×0 + 1×25) / (2 + 1 + 1) = 56.25 → normal; 4 of 8 weight took part
    assert found.composite == pytest.approx(56.25)
    assert found.heat is Heat.NORMAL
    assert found.coverage == pytest.approx(0.5)
    assert [h.indicator for h in found.indicators] == ["land", "loans", "new", "stock"]
    assert {h.indicator: h.heat for h in found.indicators} == {
        "land": Heat.COLD,
        "loans": Heat.HOT,
        "new": None,
        "stock": Heat.COOL,
    }
    empty = reading(gauges, {}, end, BANDS, min_history=3)
    assert (empty.composite, empty.heat, empty.coverage) == (None, None, 0.0)
