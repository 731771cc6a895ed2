"""From a GDP growth target to the fixed-asset investment growth it needs (投资与GDP关系模型).

The historical relation is the least-squares line ``g = a + b · i`` through the periods in
which a region reported both GDP growth ``g`` and investment growth ``i`` (both in %).
``b`` is the elasticity of GDP growth to investment growth: points of GDP growth per point
of investment growth. The required investment growth for a target ``g*`` is
``i* = (g* − a) / b``.

Uncertainty is the inverse prediction interval (calibration interval, Draper & Smith
§3.2): the investment growths ``i`` at which ``g*`` lies inside the prediction interval of
a new period's GDP growth, ``a + b·i ± t·s·√(1 + 1/n + (i − ī)²/Sxx)``, with ``t`` the
Student quantile at ``n − 2`` degrees of freedom. Solving for ``i`` gives a closed form; it
is bounded only while the slope is clearly non-zero (``c² = t²s²/(b²Sxx) < 1``), otherwise
the relation cannot pin the investment growth down and no interval is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


class NoRelation(ValueError):
    """Too few periods, or no variation in investment growth, to fit the relation."""


@dataclass(frozen=True, slots=True)
class Relation:
    intercept: float  # a
    elasticity: float  # b
    r_squared: float
    residual_sd: float  # s
    observations: int  # n
    mean_investment: float  # ī
    sxx: float  # Σ (i − ī)²


@dataclass(frozen=True, slots=True)
class Derivation:
    relation: Relation
    gdp_target: float
    required_investment: float
    confidence: float
    low: float | None  # None: the interval is unbounded (slope not clearly non-zero)
    high: float | None


def fit(investment: Sequence[float], gdp: Sequence[float]) -> Relation:
    """Least-squares line of GDP growth on investment growth."""
    n = len(investment)
    if n != len(gdp):
        raise ValueError("investment and gdp must pair up")
    if n < 3:
        raise NoRelation(f"{n} periods with both GDP and investment growth; need at least 3")
    mi, mg = sum(investment) / n, sum(gdp) / n
    sxx = sum((i - mi) ** 2 for i in investment)
    if sxx <= 1e-12 * max(1.0, mi * mi) * n:
        raise NoRelation("investment growth never varied; the relation has no slope")
    sxy = sum((i - mi) * (g - mg) for i, g in zip(investment, gdp, strict=True))
    syy = sum((g - mg) ** 2 for g in gdp)
    b = sxy / sxx
    a = mg - b * mi
    sse = sum((g - a - b * i) ** 2 for i, g in zip(investment, gdp, strict=True))
    r2 = 1.0 - sse / syy if syy > 0 else 1.0
    return Relation(a, b, r2, math.sqrt(sse / (n - 2)) if n > 2 else 0.0, n, mi, sxx)


def derive(relation: Relation, gdp_target: float, *, confidence: float = 0.9) -> Derivation:
    """The investment growth ``gdp_target`` needs, with its inverse prediction interval."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1")
    r = relation
    if abs(r.elasticity) < 1e-12:
        raise NoRelation("GDP growth did not move with investment growth (zero slope)")
    x_hat = (gdp_target - r.intercept) / r.elasticity
    if r.observations < 3:
        return Derivation(r, gdp_target, x_hat, confidence, None, None)
    t = t_quantile((1 + confidence) / 2, r.observations - 2)
    c2 = (t * r.residual_sd) ** 2 / (r.elasticity**2 * r.sxx)
    if c2 >= 1:
        return Derivation(r, gdp_target, x_hat, confidence, None, None)
    d = x_hat - r.mean_investment
    half = (t * r.residual_sd / abs(r.elasticity)) * math.sqrt(
        d * d / r.sxx + (1 - c2) * (1 + 1 / r.observations)
    )
    low = r.mean_investment + (d - half) / (1 - c2)
    high = r.mean_investment + (d + half) / (1 - c2)
    return Derivation(r, gdp_target, x_hat, confidence, low, high)


# --- Student's t without scipy ----------------------------------------------------------------


def t_cdf(t: float, df: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    x = df / (df + t * t)
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, x)
    return 1 - tail if t > 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (bisection on the CDF; 1e-10 absolute)."""
    if not 0 < p < 1 or df <= 0:
        raise ValueError("0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    while hi - lo > 1e-10:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _incomplete_beta(b, a, 1 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f / a
