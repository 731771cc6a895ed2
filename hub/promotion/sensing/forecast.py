"""Next-period fixed-asset investment growth from lagged leading indicators.

The model is a ridge regression ``y[t] = a + Σ_j b_j · x_j[t − lag_j]``: each leading
indicator enters at one lag, its own lead time (1 to ``max_lag`` periods), or not at all.
Several lags of one indicator are nearly collinear, and the barometer's premise is that an
indicator leads by a characteristic time, so one lag each keeps the model readable and its
lag structure a finding. The penalty is on standardised coefficients (each feature's
training variance weights its square), so indicators in % and in 亿元 are treated alike; the
intercept is not penalised.

**Choosing lags and penalty by rolling-origin backtest.** Rows are the periods with a target
value and ``max_lag`` periods before them, the same for every candidate model so their errors
compare. For each origin ``k`` from ``min_train`` on, the model is fitted on rows before
``k`` only (its means, variances and coefficients) and predicts row ``k``: one-step-ahead
errors over ``m − min_train`` points. A model's score is the RMSE of those errors at its best
penalty on the grid ``ALPHAS`` (times the training size). Lags are chosen by coordinate
search: starting from no indicator, each indicator in turn takes the option (left out, or
lag 1..``max_lag``) that lowers the score by more than ``tolerance`` (relative), until a pass
changes nothing. The chosen model is refitted on every row and forecasts the period after the
last target value. Its backtest errors (MAE, RMSE, points) are reported with it, next to a
no-change forecast's over the same points. They were also used to choose the model, so they
flatter it somewhat; the no-change benchmark keeps that honest.

Fitting at every origin is done at once: running sums of ``z``, ``y``, ``zzᵀ`` and ``zy``
give every training window's centred cross-products, and one batched solve covers all origins
and penalties.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# Penalty per training row on standardised coefficients: from nearly OLS to strong shrinkage.
ALPHAS: Final = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


class NotEnoughData(ValueError):
    """The series are too short (or too gappy) to fit and backtest the model."""


@dataclass(frozen=True, slots=True)
class Errors:
    """One-step-ahead backtest errors."""

    mae: float
    rmse: float
    points: int


@dataclass(frozen=True, slots=True)
class Forecast:
    index: int  # position of the forecast period on the caller's grid
    value: float
    low: float  # prediction interval from the backtest RMSE
    high: float
    confidence: float
    intercept: float
    alpha: float
    lags: Mapping[str, int]  # indicator → lag, for the indicators in the model
    coefficients: Mapping[str, float]  # in the indicator's own units per unit of target
    backtest: Errors
    naive: Errors  # the no-change forecast over the same points
    observations: int  # rows the final model was fitted on
    excluded: Mapping[str, str]  # indicators that could not take part, and why


@dataclass(frozen=True, slots=True)
class _Score:
    rmse: float
    mae: float
    alpha: float


def forecast(
    target: Sequence[float | None],
    predictors: Mapping[str, Sequence[float | None]],
    *,
    max_lag: int = 6,
    min_train: int = 24,
    min_points: int = 6,
    tolerance: float = 0.01,
    confidence: float = 0.9,
    max_passes: int = 4,
) -> Forecast:
    """Fit, backtest and forecast; every series is on the same regular grid of periods
    (``None`` where not reported), the target's last value being the latest period known."""
    if max_lag < 1 or min_train < 3 or min_points < 1:
        raise ValueError("max_lag ≥ 1, min_train ≥ 3 and min_points ≥ 1")
    y = _array(target)
    known = np.flatnonzero(np.isfinite(y))
    if known.size == 0:
        raise NotEnoughData("the target has no values")
    nxt = int(known[-1]) + 1  # the period to forecast
    rows = known[known >= max_lag]
    if rows.size < min_train + min_points:
        raise NotEnoughData(
            f"{rows.size} target values after the first {max_lag} periods; "
            f"need {min_train + min_points} ({min_train} to train, {min_points} to backtest)"
        )
    # An indicator takes part only if every lag of it is known for every row and the forecast.
    needed = np.concatenate([rows, [nxt]])
    features: dict[str, Array] = {}
    excluded: dict[str, str] = {}
    for name, values in sorted(predictors.items()):
        x = _array(values)
        lo, hi = int(needed.min()) - max_lag, int(needed.max()) - 1
        if hi >= x.size or not np.isfinite(x[lo : hi + 1]).all():
            excluded[name] = f"not reported in every period from index {lo} to {hi}"
            continue
        # column ℓ-1: x[t − ℓ] for each row t (and the forecast period last)
        features[name] = np.stack([x[needed - lag] for lag in range(1, max_lag + 1)], axis=1)
    ys = y[rows]

    def design(lags: Mapping[str, int]) -> Array:
        cols = [features[name][:, lag - 1] for name, lag in sorted(lags.items())]
        return np.stack(cols, axis=1) if cols else np.empty((needed.size, 0))

    def score(lags: Mapping[str, int]) -> _Score:
        return _backtest(design(lags)[:-1], ys, min_train)

    lags: dict[str, int] = {}
    best = score(lags)
    for _ in range(max_passes):
        changed = False
        for name in features:
            for option in (None, *range(1, max_lag + 1)):
                if lags.get(name) == option:
                    continue
                trial = {k: v for k, v in lags.items() if k != name}
                if option is not None:
                    trial[name] = option
                found = score(trial)
                if found.rmse < best.rmse * (1 - tolerance):
                    lags, best, changed = trial, found, True
        if not changed:
            break
    z = design(lags)
    intercept, beta = _fit(z[:-1], ys, best.alpha)
    value = float(intercept + z[-1] @ beta)
    points = rows.size - min_train
    naive = ys[min_train:] - ys[min_train - 1 : -1]
    q = NormalDist().inv_cdf((1 + confidence) / 2)
    return Forecast(
        index=nxt,
        value=value,
        low=value - q * best.rmse,
        high=value + q * best.rmse,
        confidence=confidence,
        intercept=float(intercept),
        alpha=best.alpha,
        lags=dict(sorted(lags.items())),
        coefficients={name: float(b) for name, b in zip(sorted(lags), beta, strict=True)},
        backtest=Errors(best.mae, best.rmse, points),
        naive=Errors(
            float(np.mean(np.abs(naive))), float(math.sqrt(np.mean(naive**2))), naive.size
        ),
        observations=rows.size,
        excluded=excluded,
    )


def _array(values: Sequence[float | None]) -> Array:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _penalised(
    n: Array, zz: Array, zy: Array, mz: Array, my: Array, alphas: Array
) -> tuple[Array, Array]:
    """Coefficients for each training window (leading axis) and alpha: (windows, alphas, p)."""
    p = mz.shape[-1]
    szz = zz - n[:, None, None] * mz[:, :, None] * mz[:, None, :]
    szy = zy - n[:, None] * mz * my[:, None]
    var = np.einsum("kii->ki", szz) / n[:, None]
    # A feature constant in its window has no cross-products; any positive penalty zeroes it.
    var = np.where(var > 1e-12, var, 1.0)
    pen = alphas[None, :, None] * n[:, None, None] * var[:, None, :]  # (k, a, p)
    lhs = szz[:, None, :, :] + pen[..., None] * np.eye(p)[None, None]
    beta = np.linalg.solve(lhs, np.broadcast_to(szy[:, None, :], pen.shape)[..., None])[..., 0]
    return beta, var


def _backtest(z: Array, y: Array, min_train: int) -> _Score:
    m, p = z.shape
    alphas = np.array(ALPHAS)
    origins = np.arange(min_train, m)
    n = origins.astype(np.float64)
    csum_y = np.concatenate([[0.0], np.cumsum(y)])
    my = csum_y[origins] / n
    if p == 0:
        err = y[origins] - my
        return _Score(float(math.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))), ALPHAS[0])
    zero = np.zeros((1, p))
    csum_z = np.concatenate([zero, np.cumsum(z, axis=0)])
    csum_zz = np.concatenate(
        [np.zeros((1, p, p)), np.cumsum(z[:, :, None] * z[:, None, :], axis=0)]
    )
    csum_zy = np.concatenate([zero, np.cumsum(z * y[:, None], axis=0)])
    mz = csum_z[origins] / n[:, None]
    beta, _ = _penalised(n, csum_zz[origins], csum_zy[origins], mz, my, alphas)
    pred = my[:, None] + np.einsum("kap,kp->ka", beta, z[origins] - mz)
    err = y[origins][:, None] - pred  # (origins, alphas)
    rmse = np.sqrt(np.mean(err**2, axis=0))
    best = int(np.argmin(rmse))
    return _Score(float(rmse[best]), float(np.mean(np.abs(err[:, best]))), ALPHAS[best])


def _fit(z: Array, y: Array, alpha: float) -> tuple[float, Array]:
    """Intercept and coefficients (original units) on every row."""
    m, p = z.shape
    my = float(np.mean(y))
    if p == 0:
        return my, np.zeros(0)
    mz = z.mean(axis=0)
    beta, _ = _penalised(
        np.array([float(m)]),
        (z.T @ z)[None],
        (z.T @ y)[None],
        mz[None],
        np.array([my]),
        np.array([alpha]),
    )
    b = beta[0, 0]
    return my - float(mz @ b), b
