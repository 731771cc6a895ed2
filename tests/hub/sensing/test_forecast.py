"""The forecast recovers a known lag structure from synthetic data and reports its backtest."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hub.promotion.sensing.forecast import NotEnoughData, forecast

T = 110
NOISE = 0.3


def _synthetic(seed: int) -> tuple[list[float | None], dict[str, list[float | None]], float]:
    """y[t] = 5 + 2·a[t−3] − 1.5·b[t−1] + 0.8·c[t−5] + noise; d..h are unrelated noise.
    The target stops one period early: the value it would have there is returned."""
    rng = np.random.default_rng(seed)
    x = {name: rng.normal(0, 1, T) for name in "abcdefgh"}

    def truth(t: int) -> float:
        return float(5 + 2.0 * x["a"][t - 3] - 1.5 * x["b"][t - 1] + 0.8 * x["c"][t - 5])

    y: list[float | None] = [None] * 5 + [truth(t) + rng.normal(0, NOISE) for t in range(5, T)]
    return y[:-1], {k: [float(v) for v in vs] for k, vs in x.items()}, truth(T - 1)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_known_lags_and_coefficients_are_recovered(seed: int) -> None:
    y, x, expected = _synthetic(seed)
    found = forecast(y, x, max_lag=6, min_train=24)
    # Each true indicator at its true lag; a noise indicator may slip in on a small backtest
    # gain (5 noise series x 7 options are tried), but only with a negligible coefficient.
    assert {k: found.lags[k] for k in "abc"} == {"a": 3, "b": 1, "c": 5}
    assert {k: found.coefficients[k] for k in "abc"} == {
        "a": pytest.approx(2.0, abs=0.15),
        "b": pytest.approx(-1.5, abs=0.15),
        "c": pytest.approx(0.8, abs=0.15),
    }
    assert all(abs(b) < 0.15 for k, b in found.coefficients.items() if k not in "abc")
    assert found.intercept == pytest.approx(5.0, abs=0.15)
    # The forecast is of the period after the last target value, on the same grid.
    assert found.index == T - 1
    assert found.value == pytest.approx(expected, abs=4 * NOISE)
    assert found.low < found.value < found.high
    # Backtest: one-step-ahead over every origin after 24 training rows.
    # Rows are t = 6..108 (the first max_lag periods have no lags): 103 rows, 79 points.
    assert found.observations == 103
    assert found.backtest.points == 103 - 24 == found.naive.points
    assert NOISE * 0.7 < found.backtest.rmse < NOISE * 1.6
    assert found.backtest.mae <= found.backtest.rmse
    assert found.naive.rmse > 5 * found.backtest.rmse  # the leading indicators carry it
    assert found.excluded == {}


def test_no_indicator_means_the_running_mean() -> None:
    y: list[float | None] = [float(v) for v in [1, 3] * 20]
    found = forecast(y, {}, max_lag=1, min_train=10)
    assert found.lags == {} and found.coefficients == {}
    # rows t = 1..39; mean of 39 values (20 threes, 19 ones) = 79/39
    assert found.value == pytest.approx(79 / 39)
    assert found.backtest.points == 39 - 10
    assert found.backtest.rmse == pytest.approx(1.0, abs=0.1)


def test_gappy_indicators_are_left_out_and_short_series_refused() -> None:
    y, x, _ = _synthetic(4)
    x["gappy"] = [None if t == 50 else 1.0 for t in range(T)]
    x["short"] = [1.0] * 40
    found = forecast(y, x)
    assert set(found.excluded) == {"gappy", "short"}
    assert "gappy" not in found.lags
    with pytest.raises(NotEnoughData, match="need 30"):
        forecast(y[:30], x)
    with pytest.raises(NotEnoughData, match="no values"):
        forecast([None, None], x)


def test_noise_only_indicators_do_not_beat_the_mean_by_much() -> None:
    rng = np.random.default_rng(9)
    y: list[float | None] = [float(v) for v in rng.normal(3, 1, 80)]
    x: dict[str, list[float | None]] = {k: [float(v) for v in rng.normal(0, 1, 80)] for k in "pqr"}
    found = forecast(y, x)
    assert all(abs(b) < 0.5 for b in found.coefficients.values())
    assert math.isfinite(found.value) and abs(found.value - 3) < 1
