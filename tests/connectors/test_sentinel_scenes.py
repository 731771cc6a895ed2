"""The loopback renders a parcel's interval at once (``interval_stats``): it must say exactly
what ``scene_stats`` of each day's ``scene`` says, bit for bit, for every kind of parcel and
pass (overcast, thin cloud, clouds with rims and shadows, haze, misregistration, mislabelled
roofs and soil; sites before and after their onset, stalled ones; traps; standing plants;
either side of processing baseline 04.00, harmonized or not)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from connectors.sentinel.scenes import (
    Stats,
    SyntheticParcel,
    acquisitions,
    interval_stats,
    missing,
    scene,
    scene_stats,
    square,
    synthetic_parcels,
)
from vision.spectral import BASELINE_04_00, rasterise


def _exactly(a: Stats, b: Stats) -> bool:
    if (a.samples, a.no_data) != (b.samples, b.no_data) or a.values.keys() != b.values.keys():
        return False
    return all(
        x == y or (math.isnan(x) and math.isnan(y))
        for k in a.values
        for x, y in zip(a.values[k], b.values[k], strict=True)
    )


# Seventeen parcels hold every trap and site kind; seed 19 puts every onset and trap event in
# the window below, and has a site that stalls (weeds come back).
START, END = dt.date(2021, 10, 1), dt.date(2022, 8, 1)  # across baseline 04.00
PARCELS = [
    *synthetic_parcels(17, seed=19, start=dt.date(2021, 1, 1), end=dt.date(2022, 12, 31)),
    SyntheticParcel("plant", square(120.3, 30.1, 3_000), "built"),
    SyntheticParcel(
        "site", square(120.4, 30.1, 9_000), "construction", dt.date(2021, 11, 3), 2, "forest"
    ),
]


@pytest.mark.parametrize("parcel", PARCELS, ids=[f"{p.id}-{p.label}" for p in PARCELS])
def test_a_whole_interval_renders_as_its_days_do(parcel: SyntheticParcel) -> None:
    days = [d for d in acquisitions(START, END) if not missing(parcel, d)]
    assert days[0] < BASELINE_04_00 < days[-1]
    bbox, width, height = parcel.grid()
    inside = rasterise(parcel.geometry, bbox, width, height)
    for harmonized in (True, False) if parcel.id in ("plant", "site") else (True,):
        per_day = [
            scene_stats(scene(parcel, d, bbox, width, height), inside, d, harmonized=harmonized)
            for d in days
        ]
        at_once = interval_stats(parcel, days, bbox, width, height, inside, harmonized=harmonized)
        wrong = [
            (d, a, b) for d, a, b in zip(days, per_day, at_once, strict=True) if not _exactly(a, b)
        ]
        assert not wrong, wrong[:3]
        # Some days show ground and some none: both paths were compared.
        assert any(s.no_data == s.samples for s in at_once)
        assert any(s.no_data < s.samples for s in at_once)
