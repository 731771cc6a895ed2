"""Construction on a parcel from its spectral series: vegetation lost to bare soil or built-up
surface, confirmed by a second clear look. Pure functions; no I/O.

Per clear observation (valid-pixel share at least ``min_valid_share``) the parcel's baseline is
its own history before that observation: the *level* is the median of the last ``level_window``
clear, unflagged observations carried to the day along their Theil-Sen slope (bounded, and not
carried more than ``max_horizon_days`` past the data), so seasons are followed; the *spread* is
the MAD of the successive differences of the last ``spread_window`` ones (scaled to a standard
deviation; a trend shifts all differences alike, so the median takes it out), floored at
``mad_floor`` and widened by ``drift_per_day`` for every day since the last clear look. An
observation is flagged when

- NDVI fell below the level by ``ndvi_k`` spreads and by at least ``min_ndvi_drop``, and
- BSI or NDBI rose above its level by ``soil_k`` spreads.

The first flagged observation *detects* a change; ``confirm_after`` consecutive flagged clear
observations *confirm* it (clouded passes neither confirm nor break the run, an unflagged clear
one resets it). Flagged observations never enter the baseline, and a confirmed change freezes
it. A parcel smaller than the sensor resolves (B11 is 20 m: about 0.5 ha) is marked
``TOO_SMALL`` and not judged at all: a guess would be noise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

_MAD_TO_SIGMA = 1.4826


class ChangeState(IntEnum):
    """The contract's ``change_state`` values."""

    TOO_SMALL = -1  # smaller than the sensor can resolve: not judged
    NONE = 0
    DETECTED = 1
    CONFIRMED = 2


@dataclass(frozen=True, slots=True)
class SpectralObservation:
    """One pass over a parcel: mean indices over its valid pixels and the valid share."""

    day: dt.date
    ndvi: float
    ndbi: float
    bsi: float
    valid_share: float


@dataclass(frozen=True, slots=True)
class ChangeParams:
    """Thresholds of the detector (``HUB_SATELLITE_*`` settings carry the same names)."""

    ndvi_k: float = 3.0
    soil_k: float = 3.0
    min_ndvi_drop: float = 0.12
    mad_floor: float = 0.025
    level_window: int = 6
    spread_window: int = 12
    min_history: int = 5
    max_slope_per_day: float = 0.004
    max_horizon_days: int = 30
    drift_per_day: float = 0.0005
    confirm_after: int = 2
    min_valid_share: float = 0.6
    min_area_m2: float = 5_000.0

    def __post_init__(self) -> None:
        if self.ndvi_k <= 0 or self.soil_k <= 0 or self.mad_floor <= 0:
            raise ValueError("ndvi_k, soil_k and mad_floor must be positive")
        if self.confirm_after < 1 or self.level_window < 1 or self.spread_window < 3:
            raise ValueError("confirm_after and level_window ≥ 1, spread_window ≥ 3")
        if self.min_history < max(2, self.level_window // 2):
            raise ValueError("min_history must cover at least half the level window")
        if not 0.0 < self.min_valid_share <= 1.0:
            raise ValueError("min_valid_share must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class ChangeStep:
    """The detector's view after one observation."""

    day: dt.date
    clear: bool
    score: float  # ≥ 0; ≥ 1 means both thresholds were crossed; clouded: the last clear one
    state: ChangeState


@dataclass(frozen=True, slots=True)
class ChangeResult:
    state: ChangeState
    score: float  # the latest clear observation's score
    first_detected: dt.date | None
    confirmed: dt.date | None
    steps: tuple[ChangeStep, ...]


def is_clear(obs: SpectralObservation, params: ChangeParams) -> bool:
    return obs.valid_share >= params.min_valid_share and all(
        math.isfinite(v) for v in (obs.ndvi, obs.ndbi, obs.bsi)
    )


def detect(
    series: Sequence[SpectralObservation],
    *,
    area_m2: float,
    params: ChangeParams = ChangeParams(),
) -> ChangeResult:
    """Run the detector over a parcel's observations (any order; one per day)."""
    ordered = sorted(series, key=lambda o: o.day)
    if area_m2 < params.min_area_m2:
        steps = tuple(
            ChangeStep(o.day, is_clear(o, params), 0.0, ChangeState.TOO_SMALL) for o in ordered
        )
        return ChangeResult(ChangeState.TOO_SMALL, 0.0, None, None, steps)
    history: list[SpectralObservation] = []
    out: list[ChangeStep] = []
    state = ChangeState.NONE
    run = 0
    first: dt.date | None = None
    confirmed: dt.date | None = None
    score = 0.0
    frozen: _Baseline | None = None
    for obs in ordered:
        if not is_clear(obs, params):
            out.append(ChangeStep(obs.day, False, score, state))  # the last clear look's
            continue
        base = frozen or (
            _baseline(history, obs.day, params) if len(history) >= params.min_history else None
        )
        if base is None:
            history.append(obs)
            out.append(ChangeStep(obs.day, True, 0.0, state))
            continue
        score, flagged = base.judge(obs, params)
        if state is ChangeState.CONFIRMED:
            out.append(ChangeStep(obs.day, True, score, state))
            continue
        if flagged:
            run += 1
            if run == 1:
                first = obs.day
                state = ChangeState.DETECTED
            if run >= params.confirm_after:
                state = ChangeState.CONFIRMED
                confirmed = obs.day
                frozen = base
        else:
            run = 0
            first = None
            state = ChangeState.NONE
            history.append(obs)
        out.append(ChangeStep(obs.day, True, score, state))
    return ChangeResult(state, score, first, confirmed, tuple(out))


@dataclass(frozen=True, slots=True)
class _Baseline:
    ndvi: float
    ndbi: float
    bsi: float
    s_ndvi: float
    s_ndbi: float
    s_bsi: float

    def judge(self, obs: SpectralObservation, params: ChangeParams) -> tuple[float, bool]:
        drop = self.ndvi - obs.ndvi
        z_ndvi = drop / self.s_ndvi
        z_soil = max((obs.bsi - self.bsi) / self.s_bsi, (obs.ndbi - self.ndbi) / self.s_ndbi)
        score = max(0.0, min(z_ndvi / params.ndvi_k, z_soil / params.soil_k))
        flagged = (
            z_ndvi >= params.ndvi_k and drop >= params.min_ndvi_drop and z_soil >= params.soil_k
        )
        return score, flagged


def _baseline(
    history: Sequence[SpectralObservation], day: dt.date, params: ChangeParams
) -> _Baseline:
    recent = history[-params.level_window :]
    t = [(o.day - day).days for o in recent]
    window = history[-params.spread_window :]
    gap = -t[-1]

    def fit(values: list[float], spread: list[float]) -> tuple[float, float]:
        # The level: the recent history carried to ``day`` along its Theil-Sen slope, so a
        # seasonal rise or fall is followed rather than read as change.
        slopes = [
            (values[j] - values[i]) / (t[j] - t[i])
            for i in range(len(t))
            for j in range(i + 1, len(t))
            if t[j] != t[i]
        ]
        # Bounded: no season moves an index faster, and a line is not carried far past its
        # data (a change that slipped into the history would otherwise drag the level along).
        limit = params.max_slope_per_day
        slope = min(max(_median(slopes), -limit), limit) if slopes else 0.0
        reach = max(t[-1], -params.max_horizon_days)
        level = _median([v + slope * (reach - ti) for v, ti in zip(values, t, strict=True)])
        # The spread: MAD of successive differences (a trend shifts them all alike; the
        # median takes it out), over √2 since a difference carries two draws' noise.
        diffs = [b - a for a, b in itertools.pairwise(spread)]
        centre = _median(diffs) if diffs else 0.0
        mad = _median([abs(d - centre) for d in diffs]) if diffs else 0.0
        noise = max(_MAD_TO_SIGMA * mad / math.sqrt(2.0), params.mad_floor)
        # A line carried across a long cloudy gap is less certain the farther it goes.
        return level, math.hypot(noise, params.drift_per_day * gap)

    ndvi, s_ndvi = fit([o.ndvi for o in recent], [o.ndvi for o in window])
    ndbi, s_ndbi = fit([o.ndbi for o in recent], [o.ndbi for o in window])
    bsi, s_bsi = fit([o.bsi for o in recent], [o.bsi for o in window])
    return _Baseline(ndvi, ndbi, bsi, s_ndvi, s_ndbi, s_bsi)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


__all__ = [
    "ChangeParams",
    "ChangeResult",
    "ChangeState",
    "ChangeStep",
    "SpectralObservation",
    "detect",
    "is_clear",
]
