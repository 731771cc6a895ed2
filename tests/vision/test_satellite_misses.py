"""The miss diagnosis's counterfactual (``bench.satellite_misses``): a construction parcel
regenerated with no overcast in the 60 days after its onset differs from the bench's series
in those days only, and shows the ground on every pass there."""

from __future__ import annotations

import datetime as dt

from bench.satellite_accuracy import END, START, _observations
from bench.satellite_misses import WINDOW, _clear_window
from connectors.sentinel import scenes
from connectors.sentinel.scenes import synthetic_parcels
from vision.change import ChangeParams, SpectralObservation, is_clear


def test_the_clear_window_changes_the_sixty_days_after_onset_only() -> None:
    parcels = synthetic_parcels(10, seed=1, start=START, end=END)
    site = next(p for p in parcels if p.kind == "construction")
    assert site.onset is not None
    lo, hi = site.onset, site.onset + dt.timedelta(days=WINDOW)
    actual = _observations(site)
    cleared = _clear_window(site, landsat=False)
    assert scenes._overcast(dt.date(2023, 6, 20)) == 0.78  # put back after the run

    def outside(series: list[SpectralObservation]) -> list[str]:
        return [repr(o) for o in series if not lo <= o.day <= hi]  # NaN == NaN as text

    assert outside(cleared) == outside(actual)
    params = ChangeParams()
    inside_actual = [o for o in actual if lo <= o.day <= hi]
    inside_cleared = [o for o in cleared if lo <= o.day <= hi]
    assert [o.day for o in inside_cleared] == [o.day for o in inside_actual]
    overcast = [o for o in inside_actual if o.valid_share == 0.0]
    assert overcast, "the window had no overcast pass: pick another parcel"
    by_day = {o.day: o for o in inside_cleared}
    assert all(by_day[o.day].valid_share > 0.0 for o in overcast)
    assert sum(is_clear(o, params) for o in inside_cleared) > sum(
        is_clear(o, params) for o in inside_actual
    )
