"""Target derivation against a hand-computed elasticity and interval."""

from __future__ import annotations

import math

import pytest

from hub.promotion.sensing.targets import NoRelation, derive, fit, t_quantile

# Investment growth and GDP growth (%) of seven years.
INVEST = [10.0, 12.0, 8.0, 6.0, 9.0, 11.0, 7.0]
GDP = [7.1, 7.5, 6.5, 5.8, 6.6, 7.4, 6.0]


def test_the_elasticity_matches_the_hand_computation() -> None:
    r = fit(INVEST, GDP)
    # ī = 63/7 = 9, ḡ = 46.9/7 = 6.7
    # Sxx = 1 + 9 + 1 + 9 + 0 + 4 + 4 = 28
    # Sxy = 1×.4 + 3×.8 + (−1)(−.2) + (−3)(−.9) + 0 + 2×.7 + (−2)(−.7) = 8.5
    # b = 8.5 / 28 = 0.303571...; a = 6.7 − 9b = 3.967857...
    assert r.elasticity == pytest.approx(8.5 / 28)
    assert r.intercept == pytest.approx(6.7 - 9 * 8.5 / 28)
    assert r.observations == 7
    assert r.mean_investment == pytest.approx(9.0) and r.sxx == pytest.approx(28)
    # residuals g − a − b·i; SSE = Syy − b·Sxy with Syy = .16+.64+.04+.81+.01+.49+.49 = 2.64
    sse = 2.64 - (8.5 / 28) * 8.5
    assert r.residual_sd == pytest.approx(math.sqrt(sse / 5))
    assert r.r_squared == pytest.approx(1 - sse / 2.64)


def test_required_investment_and_its_inverse_prediction_interval() -> None:
    r = fit(INVEST, GDP)
    d = derive(r, 7.0, confidence=0.9)
    b, a = 8.5 / 28, 6.7 - 9 * 8.5 / 28
    x_hat = (7.0 - a) / b  # 9.988...
    assert d.required_investment == pytest.approx(x_hat)
    # Hand: t(0.95, 5) = 2.015048; s² = SSE/5; c² = t²s²/(b²·Sxx)
    t = 2.015048373
    s2 = (2.64 - b * 8.5) / 5
    c2 = t * t * s2 / (b * b * 28)
    half = t * math.sqrt(s2) / b * math.sqrt((x_hat - 9) ** 2 / 28 + (1 - c2) * (1 + 1 / 7))
    assert d.low == pytest.approx(9 + (x_hat - 9 - half) / (1 - c2))
    assert d.high == pytest.approx(9 + (x_hat - 9 + half) / (1 - c2))
    assert d.low is not None and d.high is not None
    assert d.low < x_hat < d.high
    # At those bounds g* sits exactly on the edge of the prediction interval of GDP growth.
    for edge in (d.low, d.high):
        band = t * math.sqrt(s2 * (1 + 1 / 7 + (edge - 9) ** 2 / 28))
        assert abs(7.0 - (a + b * edge)) == pytest.approx(band)


def test_an_exact_line_gives_a_point_and_a_flat_one_no_interval() -> None:
    exact = fit([10, 12, 8, 6, 9], [7, 7.6, 6.4, 5.8, 6.7])  # g = 4 + 0.3 i
    assert exact.intercept == pytest.approx(4) and exact.elasticity == pytest.approx(0.3)
    d = derive(exact, 7.0)
    assert d.required_investment == pytest.approx(10.0)
    assert d.low == pytest.approx(10.0) and d.high == pytest.approx(10.0)
    noisy = fit([1, 2, 3, 4], [5, 1, 5, 1])  # slope far from significant
    loose = derive(noisy, 3.0)
    assert (loose.low, loose.high) == (None, None)


def test_too_little_or_flat_history_is_refused() -> None:
    with pytest.raises(NoRelation, match="at least 3"):
        fit([1, 2], [1, 2])
    with pytest.raises(NoRelation, match="never varied"):
        fit([5, 5, 5], [1, 2, 3])
    with pytest.raises(NoRelation, match="zero slope"):
        derive(fit([1, 2, 3], [4, 4, 4]), 5)


@pytest.mark.parametrize(
    ("p", "df", "value"),
    [
        (0.975, 10, 2.228138852),
        (0.95, 5, 2.015048373),
        (0.995, 3, 5.840909309),
        (0.05, 20, -1.724718218),
    ],
)
def test_student_quantiles_match_tables(p: float, df: int, value: float) -> None:
    assert t_quantile(p, df) == pytest.approx(value, abs=1e-7)
