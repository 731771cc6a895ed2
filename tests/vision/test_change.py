"""Change detection on synthetic parcels: the issue's acceptance rates, and the detector's rules."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.sentinel_scenes import (
    SyntheticParcel,
    acquisitions,
    observations,
    square,
    synthetic_parcels,
)
from vision.change import ChangeParams, ChangeState, SpectralObservation, detect, is_clear

START = dt.date(2021, 7, 1)  # a year of passes across the 2022 processing-baseline change
END = START + dt.timedelta(days=365)
PARAMS = ChangeParams()


def _clear_after(series: list[SpectralObservation], onset: dt.date) -> list[dt.date]:
    return [o.day for o in series if o.day > onset and is_clear(o, PARAMS)]


def test_acceptance_rates_on_120_synthetic_parcels() -> None:
    days = acquisitions(START, END)
    assert len(days) == 73
    parcels = synthetic_parcels(120, seed=7, start=START, end=END)
    built = [p for p in parcels if p.kind == "construction"]
    stable = [p for p in parcels if p.kind != "construction"]
    in_time = 0
    late: list[str] = []
    for p in built:
        series = observations(p, days)
        result = detect(series, area_m2=10_000, params=PARAMS)
        assert p.onset is not None
        clear = _clear_after(series, p.onset)
        # Confirmed no later than the second clear observation after the day work began.
        if result.confirmed is not None and len(clear) >= 2 and result.confirmed <= clear[1]:
            in_time += 1
        else:
            late.append(f"{p.id} onset {p.onset} clear {clear[:3]} -> {result.confirmed}")
    false = [p.id for p in stable if detect(observations(p, days), area_m2=10_000).confirmed]
    hit_rate = in_time / len(built)
    false_rate = len(false) / len(stable)
    print(
        f"confirmed in time {hit_rate:.1%} of {len(built)}; false {false_rate:.1%} of {len(stable)}"
    )
    assert hit_rate >= 0.95, late
    assert false_rate <= 0.05, false


def _obs(day: int, ndvi: float, soil: float, share: float = 1.0) -> SpectralObservation:
    return SpectralObservation(START + dt.timedelta(days=day), ndvi, soil - 0.1, soil, share)


def test_two_consecutive_clear_flags_confirm_and_clouds_do_not_break_the_run() -> None:
    series = [_obs(5 * k, 0.7, -0.2) for k in range(10)]
    series += [_obs(50, 0.2, 0.15), _obs(55, 0.9, 0.9, share=0.1), _obs(60, 0.22, 0.14)]
    result = detect(series, area_m2=20_000)
    assert result.state is ChangeState.CONFIRMED
    assert result.first_detected == START + dt.timedelta(days=50)
    assert result.confirmed == START + dt.timedelta(days=60)
    assert result.score >= 1.0
    assert [s.state for s in result.steps[-3:]] == [
        ChangeState.DETECTED,
        ChangeState.DETECTED,
        ChangeState.CONFIRMED,
    ]


def test_one_flag_followed_by_a_normal_look_resets() -> None:
    series = [_obs(5 * k, 0.7, -0.2) for k in range(10)]
    series += [_obs(50, 0.2, 0.15), _obs(55, 0.7, -0.2)]
    result = detect(series, area_m2=20_000)
    assert result.state is ChangeState.NONE
    assert result.first_detected is None and result.confirmed is None


def test_a_parcel_smaller_than_the_sensor_resolves_is_marked_not_judged() -> None:
    small = SyntheticParcel("tiny", square(120.0, 30.0, 3_000), "construction", START)
    result = detect(observations(small, acquisitions(START, END)), area_m2=3_000)
    assert result.state is ChangeState.TOO_SMALL
    assert result.confirmed is None
    assert {s.state for s in result.steps} == {ChangeState.TOO_SMALL}


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        ChangeParams(ndvi_k=0)
