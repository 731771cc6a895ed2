"""Accuracy of the change detector on generated Zhejiang farmland (issue 23), with a simple
year-on-year baseline on the same series in the same run.

Per seed: ``PARCELS`` parcels from ``connectors.sentinel.scenes.synthetic_parcels`` over three
years of 5-day passes (the first year is the history the detector needs; onsets and trap events
fall in the two years after it, at least 60 days before the end). Figures:

- construction: share confirmed within 30 and 60 days of the day work began, median delay of the
  confirmed ones (first ``CONFIRMED`` step; a later un-confirmation does not undo it);
- false alarms: share of parcels without construction that were ever ``CONFIRMED`` after their
  first year, per land cover (stable parcels) and per trap class;
- ms per parcel-year: ``detect`` over the whole three-year series, per parcel-year (the series
  are made beforehand; only the detector is timed).

The baseline: a pass is flagged when its NDVI is 0.2 below the median NDVI of the passes within
±15 days a year earlier and its BSI 0.05 above theirs; two consecutive flagged clear passes
confirm. Rules are chosen on seed 1 and the trap parcels of seeds 2-7; every seed below has
been looked at (the groups say when), so a session adds fresh seeds and looks at them once.
Series are Sentinel-2 passes merged with Landsat 8/9 passes (``LANDSAT``) by day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import multiprocessing
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from connectors.sentinel.landsat_scenes import landsat_acquisitions, landsat_observations
from connectors.sentinel.scenes import (
    SyntheticParcel,
    acquisitions,
    observations,
    synthetic_parcels,
)
from vision.change import ChangeParams, ChangeState, SpectralObservation, detect, is_clear

START = dt.date(2021, 7, 1)
YEARS = 3
END = dt.date(START.year + YEARS, START.month, START.day)
PARCELS = 300
TUNING_SEED = 1
# Seeds 2-7 were reported for the first two detectors, and the third session looked at their
# trap parcels while it chose rules (BENCHMARKS.md says how): they are no longer held out.
HELD_OUT = (2, 3, 4, 5, 6, 7)
# Fresh for the third session, then reported: the fourth session saw their figures before it
# chose its rules (BENCHMARKS.md).
FRESH = (8, 9, 10, 11, 12)
# Fresh seeds of the fourth session (Landsat 8/9 with Sentinel-2): looked at once, at the end,
# then reported; the fifth session saw their figures before it chose its rules.
FRESH_LANDSAT = (13, 14, 15, 16, 17)
# Fresh seeds of the fifth session: looked at once with its first rules, then reported; the
# one fix after them (held passes in the subsoil medians) was found on seen seed 13.
FRESH_FIFTH = (18, 19, 20, 21, 22)
# Fresh for the fifth session's fixed rules: added after the fix, looked at once.
FRESH_FIFTH_FIXED = (23, 24, 25, 26, 27)
# Landsat 8/9 passes merged with Sentinel-2's (BENCH_SATELLITE_LANDSAT=0: Sentinel-2 alone).
LANDSAT = os.environ.get("BENCH_SATELLITE_LANDSAT", "1") != "0"


def baseline_confirmed(
    series: Sequence[SpectralObservation], params: ChangeParams
) -> dt.date | None:
    """Year-on-year: the first day two consecutive clear passes were flagged, or None."""
    clear = [o for o in sorted(series, key=lambda o: o.day) if is_clear(o, params)]
    days = [o.day.toordinal() for o in clear]
    run = 0
    for o in clear:
        centre = o.day.toordinal() - 365
        lo, hi = bisect.bisect_left(days, centre - 15), bisect.bisect_right(days, centre + 15)
        if hi - lo == 0:
            continue
        ref = clear[lo:hi]
        ndvi = statistics.median(r.ndvi for r in ref)
        bsi = statistics.median(r.bsi for r in ref)
        if o.ndvi <= ndvi - 0.2 and o.bsi >= bsi + 0.05:
            run += 1
            if run >= 2:
                return o.day
        else:
            run = 0
    return None


def first_confirmed(series: Sequence[SpectralObservation], params: ChangeParams) -> dt.date | None:
    result = detect(series, area_m2=50_000, params=params)
    return next((s.day for s in result.steps if s.state is ChangeState.CONFIRMED), None)


@dataclass(slots=True)
class Scores:
    built: int = 0
    in30: int = 0
    in60: int = 0
    delays: list[int] | None = None
    false: Counter[str] | None = None
    total: Counter[str] | None = None

    def figures(self, name: str) -> dict[str, float | int | str]:
        assert self.delays is not None and self.false is not None and self.total is not None
        out: dict[str, float | int | str] = {
            f"{name}: construction confirmed ≤ 30 d": _pct(self.in30, self.built),
            f"{name}: construction confirmed ≤ 60 d": _pct(self.in60, self.built),
            f"{name}: median delay, d (confirmed ones)": (
                statistics.median(self.delays) if self.delays else "-"
            ),
        }
        stable = [k for k in self.total if k.startswith("stable ")]
        traps = [k for k in self.total if not k.startswith("stable ")]
        out[f"{name}: false alarms, stable (all covers)"] = _pct(
            sum(self.false[k] for k in stable), sum(self.total[k] for k in stable)
        )
        for key in sorted(stable) + sorted(traps):
            out[f"{name}: false alarms, {key}"] = _pct(self.false[key], self.total[key])
        return out


def _pct(a: int, b: int) -> str:
    return f"{a / b:.1%} ({a}/{b})" if b else "-"


def evaluate(
    parcels: Sequence[SyntheticParcel],
    series: Sequence[Sequence[SpectralObservation]],
    judge: Callable[[Sequence[SpectralObservation], ChangeParams], dt.date | None],
    params: ChangeParams,
) -> Scores:
    scores = Scores(delays=[], false=Counter(), total=Counter())
    assert scores.delays is not None and scores.false is not None and scores.total is not None
    history_end = dt.date(START.year + 1, START.month, START.day)
    for p, obs in zip(parcels, series, strict=True):
        day = judge(obs, params)
        if p.kind == "construction":
            assert p.onset is not None
            scores.built += 1
            if day is not None and day >= p.onset:
                delay = (day - p.onset).days
                scores.delays.append(delay)
                scores.in30 += delay <= 30
                scores.in60 += delay <= 60
            continue
        key = f"stable {p.land_cover}" if p.trap is None else f"trap {p.trap}"
        scores.total[key] += 1
        scores.false[key] += day is not None and day >= history_end
    return scores


def series_for(
    seed: int, count: int = PARCELS, *, landsat: bool = LANDSAT
) -> tuple[list[SyntheticParcel], list[list[SpectralObservation]]]:
    """The seed's parcels and their series, made on every core (the detector is not timed here):
    Sentinel-2's passes, and Landsat 8/9's merged in by day when ``landsat``."""
    parcels = synthetic_parcels(count, seed=seed, start=START, end=END)
    workers = max(1, len(os.sched_getaffinity(0)))
    make = _merged if landsat else _observations
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        series = list(pool.map(make, parcels, chunksize=8))
    return parcels, series


def _observations(parcel: SyntheticParcel) -> list[SpectralObservation]:
    return observations(parcel, acquisitions(START, END))


def _merged(parcel: SyntheticParcel) -> list[SpectralObservation]:
    both = _observations(parcel) + landsat_observations(parcel, landsat_acquisitions(START, END))
    return sorted(both, key=lambda o: o.day)


def run_seed(
    seed: int, params: ChangeParams, count: int = PARCELS, *, landsat: bool = LANDSAT
) -> dict[str, float | int | str]:
    parcels, series = series_for(seed, count, landsat=landsat)
    t0 = time.perf_counter()
    for obs in series:
        detect(obs, area_m2=50_000, params=params)
    per_parcel_year = (time.perf_counter() - t0) / (len(series) * YEARS)
    figures: dict[str, float | int | str] = {
        f"seed {seed}: parcels (construction / other)": (
            f"{sum(p.kind == 'construction' for p in parcels)} / "
            f"{sum(p.kind != 'construction' for p in parcels)}"
        ),
        f"seed {seed}: detector ms per parcel-year": round(per_parcel_year * 1000, 3),
    }
    for name, judge in (
        ("detector", first_confirmed),
        ("year-on-year baseline", baseline_confirmed),
    ):
        figures |= {
            f"seed {seed}: {k}": v
            for k, v in evaluate(parcels, series, judge, params).figures(name).items()
        }
    return figures
