"""Indicator tracking: progress against targets and the schedule, and the warning lights."""

from __future__ import annotations

import datetime as dt

import pytest

from graph_schema.periods import parse_period
from hub.promotion.sensing.barometer import Observation
from hub.promotion.sensing.tracking import Basis, Light, Thresholds, progress, schedule_share

T = Thresholds(red=0.8, yellow=0.95)


def _obs(*pairs: tuple[str, float]) -> list[Observation]:
    return [Observation(parse_period(p), v) for p, v in pairs]


def test_schedule_share_counts_days() -> None:
    assert schedule_share(dt.date(2026, 6, 30)) == pytest.approx(181 / 365)
    assert schedule_share(dt.date(2024, 12, 31)) == 1.0


def test_a_total_compares_the_year_to_date_sum_with_the_schedule() -> None:
    months = _obs(("2025-12", 500), ("2026-01", 80), ("2026-02", 70), ("2026-03", 100))
    p = progress(1200, Basis.TOTAL, 2026, months, T)
    # 250 of 1200 by 31 March: attainment 0.2083; schedule 90/365 = 0.2466; ratio 0.845 → yellow
    assert p.actual == 250 and p.reported == 3 and p.through == dt.date(2026, 3, 31)
    assert p.attainment == pytest.approx(250 / 1200)
    assert p.schedule_share == pytest.approx(90 / 365)
    assert p.ratio == pytest.approx((250 / 1200) / (90 / 365))
    assert p.warning is Light.YELLOW and p.met is False
    # As of February: 150 by 28 Feb → 0.125 / (59/365) = 0.773 → red
    feb = progress(1200, Basis.TOTAL, 2026, months, T, as_of=dt.date(2026, 2, 28))
    assert feb.ratio == pytest.approx(0.125 / (59 / 365)) and feb.warning is Light.RED


def test_a_level_reads_the_latest_value_without_schedule() -> None:
    growth = _obs(("2026-01", 3.0), ("2026-02", 5.8), ("2026-Q1", 99.0))
    monthly = [o for o in growth if o.period.label != "2026-Q1"]
    p = progress(6.0, Basis.LEVEL, 2026, monthly, T)
    assert (p.actual, p.schedule_share) == (5.8, None)
    assert p.ratio == pytest.approx(5.8 / 6) and p.warning is Light.GREEN  # 0.967
    low = progress(6.0, Basis.LEVEL, 2026, monthly[:1], T)
    assert low.warning is Light.RED  # 0.5


def test_lower_is_better_and_meaningless_ratios() -> None:
    stock = _obs(("2026-06", 15.0))
    cap = progress(12.0, Basis.LEVEL, 2026, stock, T, higher_is_better=False)
    assert cap.attainment == pytest.approx(0.8) and cap.warning is Light.YELLOW  # 12 / 15
    negative = progress(5.0, Basis.LEVEL, 2026, _obs(("2026-06", -2.0)), T)
    assert negative.ratio == pytest.approx(-0.4) and negative.warning is Light.RED
    zero_target = progress(0.0, Basis.LEVEL, 2026, _obs(("2026-06", 1.0)), T)
    assert (zero_target.ratio, zero_target.met, zero_target.warning) == (None, True, Light.GREEN)
    nothing = progress(6.0, Basis.LEVEL, 2026, [], T)
    assert (nothing.actual, nothing.warning) == (None, None)
