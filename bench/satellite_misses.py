"""Why construction is missed within 60 days (issue 23): a diagnosis of every construction
parcel not ``CONFIRMED`` within 60 days of its onset, on seen seeds only.

``python -m bench.satellite_misses SEED [SEED ...]`` (``BENCH_SATELLITE_LANDSAT=0``: Sentinel-2
alone, as the bench). Per miss, measured on the series the bench makes (not guessed):

- *clear looks*: clear passes (``is_clear``) from the onset to 60 days after it;
- *clear window*: the same parcel generated again with no overcast from the onset to 60 days
  after it (every other draw, and every day outside the window, unchanged: the generator draws
  per parcel and day). Confirmed within 60 days then: clouds are what it lacked;
- *rule relaxed*: the actual series with one waiting rule cut to ``persist_days`` (the uniform
  wait, the mild-patchiness wait, the subsoil wait) or off (the flood wait after a water look).
  Confirmed within 60 days then: that rule waited;
- the site's truth from the generator: full or partial clearing, days of clearing, a stall
  before day 60.

Each miss gets one class, in this order: *no usable look* (at most one clear look in the 60
days: no rule that waits for a second can confirm), *a rule waited* (a relaxation alone
confirms), *clouds* (the clear window confirms, no relaxation does), *never flagged* (no
``DETECTED`` step within 60 days even with the clear window: the signal is too weak; split by
stall, partial or slow clearing), *other* (flagged, not confirmed, neither cure works alone).

``python -m bench.satellite_misses --every N SEED [SEED ...]`` (Sentinel-2 alone): how many of
the misses a cloud-free look every N days from the onset would confirm in time (the pass
nearest each N-th day generated with no overcast). An upper bound on what a cloud-independent
source with that revisit could add: it counts each such look as a full optical one.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from unittest import mock

from bench.satellite_accuracy import (
    END,
    LANDSAT,
    PARCELS,
    START,
    _merged,
    _observations,
    first_confirmed,
    series_for,
)
from connectors.sentinel import landsat_scenes, scenes
from connectors.sentinel.scenes import SyntheticParcel, _params, acquisitions, synthetic_parcels
from vision.change import ChangeParams, ChangeState, SpectralObservation, detect, is_clear

WINDOW = 60
_original_overcast = scenes._overcast


def _clear_window(parcel: SyntheticParcel, *, landsat: bool = LANDSAT) -> list[SpectralObservation]:
    """The parcel's series with no overcast from its onset to ``WINDOW`` days after (Landsat
    8/9's passes merged in when ``landsat``, as the bench does)."""
    assert parcel.onset is not None
    lo, hi = parcel.onset, parcel.onset + dt.timedelta(days=WINDOW)

    def overcast(day: dt.date) -> float:
        return 0.0 if lo <= day <= hi else _original_overcast(day)

    # The generator draws per parcel and day, so only the window's days change.
    with (
        mock.patch.object(scenes, "_overcast", overcast),
        mock.patch.object(landsat_scenes, "_overcast", overcast),
    ):
        return _merged(parcel) if landsat else _observations(parcel)


def _in_time(series: Sequence[SpectralObservation], onset: dt.date, params: ChangeParams) -> bool:
    day = first_confirmed(series, params)
    return day is not None and onset <= day <= onset + dt.timedelta(days=WINDOW)


def _detected(series: Sequence[SpectralObservation], onset: dt.date, params: ChangeParams) -> bool:
    end = onset + dt.timedelta(days=WINDOW)
    result = detect(series, area_m2=50_000, params=params)
    return any(onset <= s.day <= end and s.state >= ChangeState.DETECTED for s in result.steps)


RELAXED = {
    "uniform wait": {"uniform_wait_days": 10},
    "mild wait": {"mild_persist_days": 10},
    "flood wait": {"flood_wait_days": 0},
    "subsoil wait": {"subsoil_persist_days": 5},
}


def diagnose(seed: int, params: ChangeParams) -> tuple[Counter[str], list[str]]:
    parcels, series = series_for(seed)
    classes: Counter[str] = Counter()
    lines = []
    for p, obs in zip(parcels, series, strict=True):
        if p.kind != "construction" or p.onset is None:
            continue
        if _in_time(obs, p.onset, params):
            continue
        end = p.onset + dt.timedelta(days=WINDOW)
        looks = [o for o in obs if p.onset <= o.day <= end and is_clear(o, params)]
        s2 = sum(o.sensor == "sentinel-2" for o in looks)
        cleared = _clear_window(p)
        cure_clear = _in_time(cleared, p.onset, params)
        cures = [
            name
            for name, change in RELAXED.items()
            if _in_time(obs, p.onset, replace(params, **change))
        ]
        site = _params(p.id, p.seed, "site")
        clearing_days = 3 + 37 * site[0] ** 2
        partial = site[1] >= 0.55
        stalled_at = 30 + 60 * site[4] if site[3] < 0.2 else None
        stall = stalled_at is not None and stalled_at <= WINDOW
        detected = _detected(obs, p.onset, params)
        if len(looks) <= 1:
            cls = "no usable look (≤ 1 clear look in 60 d)"
        elif cures:
            cls = "a rule waited: " + cures[0]
        elif cure_clear:
            cls = "clouds (clear window confirms)"
        elif not _detected(cleared, p.onset, params):
            why = (
                "stall"
                if stall
                else "partial"
                if partial
                else "slow"
                if clearing_days > 20
                else "full, fast"
            )
            cls = f"never flagged ({why} clearing)" if why != "stall" else "never flagged (stall)"
        else:
            cls = "other (flagged, not confirmed)"
        classes[cls] += 1
        day = first_confirmed(obs, params)
        lines.append(
            f"{p.id} {p.land_cover:12s} onset {p.onset} looks {len(looks)} (S2 {s2}) "
            f"detected {'y' if detected else 'n'} confirmed "
            f"{(day - p.onset).days if day and day >= p.onset else '-'} d; clear window "
            f"{'y' if cure_clear else 'n'}; relaxed {','.join(cures) or '-'}; "
            f"clearing {clearing_days:.0f} d {'partial' if partial else 'full'}"
            f"{' stall@' + format(stalled_at, '.0f') if stalled_at is not None else ''} -> {cls}"
        )
    return classes, lines


def _every(parcel: SyntheticParcel, every: int) -> tuple[bool, bool, int, int]:
    """Sentinel-2 alone: whether the site is missed within 60 days, whether it is confirmed in
    time when the pass nearest each ``every``-th day from the onset is free of overcast (a
    cloud-free look every ``every`` days, as a radar's revisit would give, were its look as
    telling as an optical one), and the clear looks in the window before and after."""
    assert parcel.onset is not None
    params = ChangeParams()
    lo, hi = parcel.onset, parcel.onset + dt.timedelta(days=WINDOW)
    passes = [d for d in acquisitions(START, END) if lo <= d <= hi]
    slots = {min(passes, key=lambda d: abs((d - lo).days - k)) for k in range(0, WINDOW + 1, every)}

    def overcast(day: dt.date) -> float:
        return 0.0 if day in slots else _original_overcast(day)

    actual = _observations(parcel)
    looks = sum(lo <= o.day <= hi and is_clear(o, params) for o in actual)
    if _in_time(actual, parcel.onset, params):
        return False, False, looks, looks
    with mock.patch.object(scenes, "_overcast", overcast):
        bounded = _observations(parcel)
    after = sum(lo <= o.day <= hi and is_clear(o, params) for o in bounded)
    return True, _in_time(bounded, parcel.onset, params), looks, after


def every_main(every: int, seeds: Sequence[int]) -> None:
    """``--every N``: the upper bound a cloud-free look every N days puts on the misses."""
    print(f"Sentinel-2 alone; a cloud-free look every {every} days in the 60 after the onset")
    missed_all = cured_all = 0
    workers = max(1, len(os.sched_getaffinity(0)))
    for seed in seeds:
        sites = [
            p
            for p in synthetic_parcels(PARCELS, seed=seed, start=START, end=END)
            if p.kind == "construction"
        ]
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            rows = list(pool.map(_every, sites, [every] * len(sites), chunksize=4))
        missed = [r for r in rows if r[0]]
        cured = sum(r[1] for r in missed)
        print(
            f"seed {seed}: {len(missed)} of {len(sites)} missed, {cured} of them confirmed in "
            f"time with the looks; clear looks in the window of the missed: "
            f"{sum(r[2] for r in missed)} -> {sum(r[3] for r in missed)}"
        )
        missed_all += len(missed)
        cured_all += cured
    print(f"all: {missed_all} missed, {cured_all} confirmed in time with the looks")


def main(argv: Sequence[str]) -> None:
    if argv and argv[0] == "--every":
        every_main(int(argv[1]), [int(a) for a in argv[2:]])
        return
    params = ChangeParams()
    total: Counter[str] = Counter()
    print(
        f"sources: {'Sentinel-2 + Landsat 8/9' if LANDSAT else 'Sentinel-2 alone'}; {START}-{END}"
    )
    for seed in (int(a) for a in argv):
        classes, lines = diagnose(seed, params)
        print(f"seed {seed}: {sum(classes.values())} missed")
        for line in lines:
            print("  " + line)
        total += classes
    print("classes over all seeds:")
    for cls, n in total.most_common():
        print(f"  {n:4d}  {cls}")
    print(f"  {sum(total.values()):4d}  missed in all")


if __name__ == "__main__":
    main(sys.argv[1:])
