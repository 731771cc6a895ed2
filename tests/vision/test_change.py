"""The change detector with seasonal memory: traps of real farmland that must not confirm, a site
that stalls and regrows, insufficient history, and the rules on hand-made series."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from bench.satellite_accuracy import baseline_confirmed
from connectors.sentinel.scenes import (
    SyntheticParcel,
    acquisitions,
    observations,
    square,
)
from vision.change import ChangeParams, ChangeState, SpectralObservation, detect

START = dt.date(2021, 7, 1)  # two years of passes across the 2022 processing-baseline change
END = dt.date(2023, 7, 1)
DAYS = acquisitions(START, END)
PARAMS = ChangeParams()
# The hold and the third widening of the window, off by default (vision/change.py says why).
HOLD = dataclasses.replace(PARAMS, hold_ndvi=0.2, max_widening=3)


def _parcel(n: int, cover: str, trap: str, event: dt.date) -> SyntheticParcel:
    geometry = square(120.3 + 0.02 * n, 30.1, 40_000)
    return SyntheticParcel(f"trap-{n}", geometry, "vegetated", None, 5, cover, trap, event)


def _confirmations(series: list[SpectralObservation]) -> list[dt.date]:
    result = detect(series, area_m2=40_000, params=PARAMS)
    return [s.day for s in result.steps if s.state is ChangeState.CONFIRMED]


@pytest.mark.parametrize(
    ("n", "cover", "trap", "event"),
    [
        (1, "rice", "harvest", dt.date(2022, 7, 1)),  # rice cut weeks off last year's date
        (2, "grass", "flood_silt", dt.date(2022, 8, 10)),  # a typhoon flood leaves silt
        (3, "wheat_maize", "drought", dt.date(2022, 7, 10)),  # a 2022-like summer drought
    ],
)
def test_harvest_flood_and_drought_do_not_confirm(
    n: int, cover: str, trap: str, event: dt.date
) -> None:
    series = observations(_parcel(n, cover, trap, event), DAYS)
    assert len(series) > 100
    # The event is visible: NDVI a year on differs from the year before by over 0.2 at some
    # clear pass, which is what fools a year-on-year comparison.
    clear = {o.day: o for o in series if o.valid_share >= PARAMS.min_valid_share}
    drops = [
        abs(clear[d - dt.timedelta(days=365)].ndvi - o.ndvi)
        for d, o in clear.items()
        if d - dt.timedelta(days=365) in clear and event <= d <= event + dt.timedelta(days=120)
    ]
    assert drops and max(drops) > 0.2, drops
    assert _confirmations(series) == []


def test_the_year_on_year_baseline_is_fooled_by_a_harvest_off_its_date() -> None:
    # The trap is real: the simple comparison confirms "construction" on this harvest.
    series = observations(_parcel(1, "rice", "harvest", dt.date(2022, 7, 1)), DAYS)
    assert baseline_confirmed(series, PARAMS) is not None
    assert _confirmations(series) == []


def _seasonal(day: dt.date) -> float:
    """A grass-like NDVI: 0.45 in winter, 0.8 in summer."""
    return 0.625 + 0.175 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 205) / 365.25)


def _obs(
    day: dt.date, ndvi: float, bsi: float | None = None, share: float = 1.0
) -> SpectralObservation:
    soil = -0.5 * ndvi + 0.2 if bsi is None else bsi
    return SpectralObservation(day, ndvi, soil - 0.05, soil, share)


def _history(until: dt.date) -> list[SpectralObservation]:
    return [_obs(d, _seasonal(d)) for d in acquisitions(START, until)]


def test_a_stalled_site_that_regrows_is_unconfirmed() -> None:
    onset = dt.date(2022, 9, 1)
    series = _history(onset)
    bare_until = onset + dt.timedelta(days=90)
    for d in acquisitions(onset, END):
        if d < bare_until:
            series.append(_obs(d, 0.12, 0.18))  # cleared, then work stops
        else:  # weeds come back over the winter and spring
            grown = min(1.0, (d - bare_until).days / 120)
            series.append(_obs(d, 0.12 + grown * (_seasonal(d) - 0.12)))
    result = detect(series, area_m2=40_000, params=PARAMS)
    confirmed = [s.day for s in result.steps if s.state is ChangeState.CONFIRMED]
    assert confirmed and onset < confirmed[0] <= onset + dt.timedelta(days=30)
    assert result.state is ChangeState.NONE
    assert result.recovered is not None and result.recovered > bare_until
    assert result.confirmed is None and result.confidence == 0.0


def test_confirmation_needs_persistence_and_clouds_do_not_break_the_run() -> None:
    onset = dt.date(2022, 9, 1)
    series = _history(onset)
    days = acquisitions(onset, onset + dt.timedelta(days=60))
    for n, d in enumerate(days):
        series.append(_obs(d, 0.9, 0.9, share=0.1) if n % 2 else _obs(d, 0.1, 0.2))
    result = detect(series, area_m2=40_000, params=PARAMS)
    assert result.state is ChangeState.CONFIRMED
    assert result.first_detected == days[0]
    assert result.confirmed is not None
    assert (result.confirmed - days[0]).days >= PARAMS.persist_days
    assert len(result.evidence) >= PARAMS.min_evidence and result.evidence[0] == days[0]
    assert 0.0 < result.confidence <= 1.0
    states = [s.state for s in result.steps if s.day >= onset]
    assert states[0] is ChangeState.DETECTED and states[-1] is ChangeState.CONFIRMED


def test_one_flagged_pass_followed_by_a_normal_one_resets() -> None:
    onset = dt.date(2022, 9, 1)
    series = _history(onset)
    series += [_obs(onset, 0.1, 0.2), _obs(onset + dt.timedelta(days=5), _seasonal(onset))]
    result = detect(series, area_m2=40_000, params=PARAMS)
    assert result.state is ChangeState.NONE
    assert result.first_detected is None and result.evidence == ()


def test_flooding_lowers_ndvi_but_is_not_flagged() -> None:
    onset = dt.date(2022, 9, 1)
    series = _history(onset)
    # Paddy water: NDVI near zero, and BSI falls, not rises.
    series += [_obs(d, 0.02, -0.25) for d in acquisitions(onset, onset + dt.timedelta(days=60))]
    result = detect(series, area_m2=40_000, params=PARAMS)
    assert result.state is ChangeState.NONE
    assert all(s.score < 1.0 for s in result.steps)


def test_less_than_a_year_of_history_is_insufficient_not_a_guess() -> None:
    series = [_obs(d, _seasonal(d)) for d in acquisitions(START, START + dt.timedelta(days=200))]
    series += [
        _obs(d, 0.1, 0.2)
        for d in acquisitions(START + dt.timedelta(days=200), START + dt.timedelta(days=300))
    ]
    result = detect(series, area_m2=40_000, params=PARAMS)
    assert result.state is ChangeState.INSUFFICIENT_HISTORY
    assert {s.state for s in result.steps} == {ChangeState.INSUFFICIENT_HISTORY}
    # A year later the same series is judged.
    longer = series + [_obs(d, 0.1, 0.2) for d in acquisitions(START + dt.timedelta(days=300), END)]
    assert (
        detect(longer, area_m2=40_000, params=PARAMS).state is not ChangeState.INSUFFICIENT_HISTORY
    )


def test_a_parcel_smaller_than_the_sensor_resolves_is_marked_not_judged() -> None:
    small = SyntheticParcel("tiny", square(120.0, 30.0, 3_000), "construction", START)
    result = detect(observations(small, DAYS[:20]), area_m2=3_000)
    assert result.state is ChangeState.TOO_SMALL
    assert result.confirmed is None
    assert {s.state for s in result.steps} == {ChangeState.TOO_SMALL}


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ChangeParams(min_ndvi_loss=0)
    with pytest.raises(ValueError, match="window_days"):
        ChangeParams(window_days=0)


def _textured(day: dt.date, ndvi: float, bsi: float, sd: float) -> SpectralObservation:
    return SpectralObservation(day, ndvi, bsi - 0.05, bsi, 1.0, sd, sd, sd)


@pytest.mark.parametrize(("sd", "confirms"), [(0.03, False), (0.09, True)])
def test_a_uniform_bare_field_is_ploughing_until_it_lasts_and_a_patchy_one_a_site(
    sd: float, confirms: bool
) -> None:
    # The same means after the onset (NDVI 0.19: ploughed topsoil, not graded subsoil); only the
    # within-parcel spread differs. Uniform, as ploughing leaves a field, it must outlast the
    # ploughing season; patchy, as dust nets and huts leave a site, it confirms in weeks.
    onset = dt.date(2022, 9, 1)
    series = [_textured(d, _seasonal(d), -0.5 * _seasonal(d) + 0.2, 0.03) for d in _days(onset)]
    sown = onset + dt.timedelta(days=50)
    for d in acquisitions(onset, END):
        if d < sown:
            series.append(_textured(d, 0.19, 0.16, sd))
        else:  # uniform: the next crop comes up; patchy: the site stays as it is
            grown = min(1.0, (d - sown).days / 40) if not confirms else 0.0
            ndvi = 0.19 + grown * (_seasonal(d) - 0.19)
            series.append(_textured(d, ndvi, -0.5 * ndvi + 0.255, sd))
    result = detect(series, area_m2=40_000, params=PARAMS)
    confirmed = [s.day for s in result.steps if s.state is ChangeState.CONFIRMED]
    detected = [s.day for s in result.steps if s.state is ChangeState.DETECTED]
    assert detected and detected[0] == acquisitions(onset, END)[0]  # both are noticed at once
    if confirms:
        assert confirmed and (confirmed[0] - onset).days <= 30
    else:
        assert confirmed == [] and result.state is ChangeState.NONE


def _days(until: dt.date) -> list[dt.date]:
    return acquisitions(START, until)


@pytest.mark.parametrize(("sd", "confirms"), [(0.03, False), (0.12, True)])
def test_one_patchy_pass_before_weeks_of_clouds_confirms_alone_a_uniform_one_does_not(
    sd: float, confirms: bool
) -> None:
    # As in the plum rains: one clear look at the cleared parcel, then only clouds. A patchy one
    # (nets, huts) confirms on a clouded pass once the gap has lasted; a uniform bare one (a
    # ploughed field looks the same) waits for more evidence.
    onset = dt.date(2022, 9, 1)
    series = [_textured(d, _seasonal(d), -0.5 * _seasonal(d) + 0.2, 0.03) for d in _days(onset)]
    later = acquisitions(onset, onset + dt.timedelta(days=45))
    series.append(_textured(later[0], 0.2, 0.16, sd))
    series += [_obs(d, 0.9, 0.9, share=0.1) for d in later[1:]]
    result = detect(series, area_m2=40_000, params=PARAMS)
    confirmed = [s for s in result.steps if s.state is ChangeState.CONFIRMED]
    if confirms:
        assert confirmed and not confirmed[0].clear
        assert (confirmed[0].day - later[0]).days >= PARAMS.lone_gap_days
        assert result.evidence == (later[0],)
    else:
        assert confirmed == [] and result.state is ChangeState.DETECTED


def _two_sensors(
    days: int, *, bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
) -> list[SpectralObservation]:
    """A stable green parcel seen by Sentinel-2 every 5 days and Landsat every 8, the latter
    reading ``bias`` (NDVI, BSI, NDBI) off Sentinel-2."""
    start = dt.date(2021, 1, 1)
    out = []
    for k in range(days):
        day = start + dt.timedelta(days=k)
        wobble = 0.01 * math.sin(k / 7)
        if k % 5 == 0:
            out.append(SpectralObservation(day, 0.7 + wobble, -0.2, -0.1, 1.0))
        if k % 8 == 3:
            n, b, u = bias
            out.append(
                SpectralObservation(
                    day, 0.7 + wobble + n, -0.2 + u, -0.1 + b, 1.0, sensor="landsat"
                )
            )
    return out


def test_a_second_sensors_bias_does_not_alarm() -> None:
    # Landsat reads 0.2 less NDVI and more soil than Sentinel-2 over the same green field.
    series = _two_sensors(900, bias=(-0.2, 0.08, 0.08))
    result = detect(series, area_m2=40_000, params=PARAMS)
    assert all(
        s.state in (ChangeState.INSUFFICIENT_HISTORY, ChangeState.NONE) for s in result.steps
    )
    assert sum(o.sensor == "landsat" for o in series) > 100


def _site_after(series: list[SpectralObservation], onset: dt.date) -> list[SpectralObservation]:
    """Sentinel-2 passes from ``onset`` show graded subsoil; Landsat's are left out."""
    out = [o for o in series if o.day < onset]
    for k in range(0, 40, 5):
        out.append(SpectralObservation(onset + dt.timedelta(days=k), 0.1, 0.1, 0.15, 1.0))
    return out


def test_a_coarser_look_showing_part_of_the_loss_does_not_break_a_run() -> None:
    onset = dt.date(2022, 6, 30)
    series = _site_after(_two_sensors(545), onset)
    alone = detect(series, area_m2=40_000, params=PARAMS).confirmed
    assert alone == onset + dt.timedelta(days=10)
    # A blurred Landsat pass between: greener than the bare subsoil, no soil gained to speak of.
    blurred = SpectralObservation(onset + dt.timedelta(days=7), 0.16, -0.2, -0.07, 1.0)
    with_landsat = [*series, dataclasses.replace(blurred, sensor="landsat")]
    assert detect(with_landsat, area_m2=40_000, params=PARAMS).confirmed == alone
    # The same look from Sentinel-2's 10 m pixels is a contradiction: the run starts again.
    with_s2 = [*series, blurred]
    assert detect(with_s2, area_m2=40_000, params=PARAMS).confirmed != alone
    # And a Landsat pass as green as the field was breaks the run too.
    green = SpectralObservation(
        onset + dt.timedelta(days=7), 0.7, -0.2, -0.1, 1.0, sensor="landsat"
    )
    assert detect([*series, green], area_m2=40_000, params=PARAMS).confirmed != alone


def _ploughed_each_october(day: dt.date) -> SpectralObservation:
    """History: the grass-like season, but bare (ploughed, NDVI 0.19) from 10 October to
    10 November, as a field ploughed for winter sowing."""
    if dt.date(day.year, 10, 10) <= day <= dt.date(day.year, 11, 10):
        return _textured(day, 0.19, 0.16, 0.03)
    return _textured(day, _seasonal(day), -0.5 * _seasonal(day) + 0.2, 0.03)


def test_a_bare_pass_where_past_years_were_bare_too_holds_a_run() -> None:
    # A site cleared on 20 September runs into the window where past years were ploughed: its
    # passes there look like the window (not flagged) but do not refute it either.
    onset = dt.date(2022, 9, 20)
    series = [_ploughed_each_october(d) for d in _days(onset)]
    series += [_textured(d, 0.19, 0.16, 0.055) for d in acquisitions(onset, END)]
    result = detect(series, area_m2=40_000, params=HOLD)
    unflagged = [s.day for s in result.steps if s.clear and s.score < 1.0 and s.day >= onset]
    assert unflagged and unflagged[0] < dt.date(2022, 10, 15)  # the window's passes
    assert result.first_detected == acquisitions(onset, END)[0]
    assert result.confirmed is not None and result.confirmed <= dt.date(2022, 11, 25)
    # Without the rule the first unflagged pass breaks the run, and it starts again after the
    # window, a month later.
    broken = detect(series, area_m2=40_000, params=PARAMS)
    assert broken.first_detected is not None and broken.first_detected > dt.date(2022, 11, 10)
    assert broken.confirmed is not None and broken.confirmed > dt.date(2022, 12, 10)


def test_held_passes_count_in_how_bare_a_run_is() -> None:
    # A field ploughed off its calendar, into the window where past years were ploughed: two
    # hazy looks read as bare as subsoil and are flagged, the looks between are ploughed topsoil
    # (held, not flagged). Two subsoil-like looks do not make a site when most of the run is
    # topsoil; the crop comes back and nothing is confirmed.
    onset = dt.date(2022, 10, 1)
    series = [_ploughed_each_october(d) for d in _days(onset)]
    days = acquisitions(onset, END)
    for n, d in enumerate(days):
        if d > dt.date(2022, 11, 20):
            grown = min(1.0, (d - dt.date(2022, 11, 20)).days / 40)
            ndvi = 0.19 + grown * (_seasonal(d) - 0.19)
            series.append(_textured(d, ndvi, -0.5 * ndvi + 0.255, 0.03))
        elif n in (0, 6):
            series.append(_textured(d, 0.12, 0.20, 0.03))
        else:
            series.append(_textured(d, 0.185, 0.15, 0.03))
    result = detect(series, area_m2=40_000, params=HOLD)
    steps = [s for s in result.steps if s.day >= onset]
    assert steps[0].state is ChangeState.DETECTED  # the first subsoil-like look
    assert ChangeState.CONFIRMED not in {s.state for s in steps}


@pytest.mark.parametrize(
    ("sd", "days"),
    [(0.03, None), (0.055, PARAMS.mild_persist_days), (0.09, PARAMS.fast_persist_days)],
)
def test_a_mildly_patchy_bare_field_confirms_after_the_shortest_ploughing_spell(
    sd: float, days: int | None
) -> None:
    # The same bare means (ploughed-topsoil NDVI 0.19) for 60 days; the spread rises 0.025 over
    # the field's floor (mildly patchy: pads, spoil and haul roads side by side) or 0.06 (nets
    # and huts), or not at all (a ploughed field).
    onset = dt.date(2022, 9, 1)
    series = [_textured(d, _seasonal(d), -0.5 * _seasonal(d) + 0.2, 0.03) for d in _days(onset)]
    series += [_textured(d, 0.19, 0.16, sd) for d in acquisitions(onset, onset + dt.timedelta(60))]
    result = detect(series, area_m2=40_000, params=PARAMS)
    if days is None:
        assert result.state is ChangeState.DETECTED
    else:
        assert result.confirmed is not None and result.first_detected is not None
        assert days <= (result.confirmed - result.first_detected).days < days + 5


def test_a_window_clouded_a_year_earlier_is_widened_before_giving_up() -> None:
    # The year before, clouds hid the parcel from mid-August to late October: a pass on
    # 20 September has no prior-year pass within 30 days, but has some within 45.
    onset = dt.date(2022, 9, 20)
    hidden = (dt.date(2021, 8, 15), dt.date(2021, 10, 25))
    series = [
        _obs(d, 0.9, 0.9, share=0.1) if hidden[0] <= d <= hidden[1] else _obs(d, _seasonal(d))
        for d in _days(onset)
    ]
    series += [_obs(d, 0.1, 0.2) for d in acquisitions(onset, onset + dt.timedelta(days=20))]
    first = acquisitions(onset, END)[0]
    widened = detect(series, area_m2=40_000, params=HOLD)
    assert widened.first_detected == first
    narrow = detect(series, area_m2=40_000, params=PARAMS)
    assert narrow.first_detected != first
