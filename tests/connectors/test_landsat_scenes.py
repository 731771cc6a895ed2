"""Landsat 8/9 passes of the generated parcels: their own orbits, the day's weather shared with
Sentinel-2, CFMask's flags, and no free lunch (fewer, coarser pixels)."""

from __future__ import annotations

import datetime as dt
import itertools

from connectors.sentinel.landsat_scenes import (
    L9_FIRST,
    LANDSAT_REPEAT_DAYS,
    QA_MASKED,
    SENSOR,
    landsat_acquisitions,
    landsat_observations,
    landsat_pass,
)
from connectors.sentinel.scenes import (
    acquisitions,
    observations,
    scene,
    synthetic_parcels,
)
from vision.spectral import clear_mask

START, END = dt.date(2021, 7, 1), dt.date(2023, 7, 1)


def test_two_satellites_sixteen_days_each_eight_apart_landsat_9_from_its_first_data() -> None:
    days = landsat_acquisitions(START, END)
    by_name: dict[str, list[dt.date]] = {}
    for day, name in days:
        by_name.setdefault(name, []).append(day)
    assert set(by_name) == {"landsat-8", "landsat-9"}
    for name, own in by_name.items():
        gaps = {(b - a).days for a, b in itertools.pairwise(own)}
        assert gaps == {LANDSAT_REPEAT_DAYS}, name
    assert min(by_name["landsat-9"]) >= L9_FIRST
    assert min(by_name["landsat-8"]) < L9_FIRST
    l8 = set(by_name["landsat-8"])
    assert all((d - dt.timedelta(days=8)) in l8 for d in by_name["landsat-9"])
    # Fewer looks than Sentinel-2's 5-day calendar, most of them on other days.
    s2 = set(acquisitions(START, END))
    assert len(days) < 0.7 * len(s2)
    assert sum(d in s2 for d, _ in days) < 0.3 * len(days)


def test_a_landsat_pass_on_an_overcast_sentinel_2_day_is_overcast_too() -> None:
    parcels = synthetic_parcels(12, seed=3, start=START, end=END)
    s2 = set(acquisitions(START, END))
    shared = [d for d, _ in landsat_acquisitions(START, END) if d in s2]
    assert len(shared) > 5
    checked = 0
    for parcel in parcels:
        bbox, width, height = parcel.grid()
        for day in shared:
            sc = scene(parcel, day, bbox, width, height)
            got = landsat_pass(parcel, day)
            if got is None or clear_mask(sc.scl, sc.data_mask).any():
                continue
            if (sc.scl == sc.scl.flat[0]).all() and sc.scl.flat[0] in (8, 9):
                _, qa = got
                assert ((qa & QA_MASKED) != 0).all(), (parcel.id, day)
                checked += 1
    assert checked > 10


def test_observations_are_marked_coarser_and_about_as_often_usable() -> None:
    parcel = synthetic_parcels(4, seed=2, start=START, end=END)[1]
    ls = landsat_observations(parcel, landsat_acquisitions(START, END))
    s2 = observations(parcel, acquisitions(START, END))
    assert ls and all(o.sensor == SENSOR for o in ls)
    assert all(o.sensor == "sentinel-2" for o in s2)
    usable_ls = sum(o.valid_share >= 0.4 for o in ls) / len(ls)
    usable_s2 = sum(o.valid_share >= 0.4 for o in s2) / len(s2)
    assert abs(usable_ls - usable_s2) < 0.15, (usable_ls, usable_s2)
    # Deterministic in (parcel, seed, day).
    again = landsat_observations(parcel, landsat_acquisitions(START, END))
    assert [(o.day, o.ndvi) for o in again][:20] == [(o.day, o.ndvi) for o in ls][:20]
