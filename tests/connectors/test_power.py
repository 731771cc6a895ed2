"""Power: register resets and rollovers, demand to energy, Shanghai days, baselines, CSV import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import feeds, power
from ingest.model import Reading, Reason, SensorInfo, to_ms
from ingest.pipeline import Pipeline
from ingest.rollups import counter_increase
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore

SH = ZoneInfo("Asia/Shanghai")
D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def at(day: dt.date, hour: int, minute: int = 0) -> int:
    return to_ms(dt.datetime.combine(day, dt.time(hour, minute), SH))


def r(ts: int, metric: str, value: float) -> Reading:
    return Reading("m1", ts, metric, value, power.METRICS[metric].unit)


@pytest.mark.parametrize(
    ("previous", "current", "kwh"),
    [
        (100.0, 112.5, 12.5),
        (99_990.0, 15.0, 25.0),  # 5-digit register rolled over
        (999_950.0, 20.0, 70.0),  # 6-digit register rolled over
        (5_000.0, 12.0, 12.0),  # reset or new meter: counted from zero
        (5_000.0, 4_999.999, 0.0),  # rounding noise is not a reset
    ],
)
def test_counter_increase(previous: float, current: float, kwh: float) -> None:
    assert counter_increase(previous, current) == pytest.approx(kwh)


def test_demand_is_integrated_over_its_interval_and_split_at_shanghai_midnight() -> None:
    readings = [
        r(at(D1, 23, 30), "demand_kw", 80.0),
        r(at(D1, 23, 45), "demand_kw", 100.0),  # 100 kW for 15 min = 25 kWh on 1 March
        r(at(D2, 0, 15), "demand_kw", 60.0),  # 60 kW for 30 min = 30 kWh, half on each day
        r(at(D2, 6, 0), "demand_kw", 500.0),  # after a 5 h 45 min gap: an outage, adds nothing
    ]
    assert power.meter_daily_kwh(readings) == {D1: pytest.approx(40.0), D2: pytest.approx(15.0)}


def test_shanghai_days_are_not_utc_days() -> None:
    # 07:30 Shanghai on 2 March is 23:30 UTC on 1 March.
    readings = [r(at(D2, 7, 30), "energy_kwh", 3.0), r(at(D2, 8, 30), "energy_kwh", 4.0)]
    assert power.meter_daily_kwh(readings) == {D2: 7.0}
    assert power.meter_daily_kwh(readings, tz="UTC") == {D1: 3.0, D2: 4.0}


def test_interval_energy_is_preferred_over_register_and_demand() -> None:
    readings = [
        r(at(D1, 8), "register_kwh", 100.0),
        r(at(D1, 9), "register_kwh", 150.0),
        r(at(D1, 9), "energy_kwh", 48.0),
        r(at(D2, 9), "register_kwh", 170.0),
    ]
    daily = power.meter_daily_kwh(readings)
    assert daily[D1] == 48.0
    # 20 kWh between 09:00 on 1 and 2 March: 9 of those 24 hours fall on 2 March.
    assert daily[D2] == pytest.approx(7.5)


def test_baseline_is_the_median_of_active_days() -> None:
    days = {dt.date(2025, 3, d): v for d, v in enumerate([0.0, 100.0, 0.2, 300.0, 200.0, 50.0], 1)}
    assert power.baseline(days) == 150.0  # idle days (0, 0.2 kWh) are not part of it
    assert power.baseline({D1: 0.0}) is None


CSV = """\ufeff表号,抄表时间,类型,示数,单位,倍率
m1,2025-03-01 00:00,register,1000,kWh,1
m1,2025-03-01 12:00,register,1010,kWh,1
m1,2025-03-02T00:00:00+08:00,register,1030,kWh,1
m2,2025-03-01 10:00,interval,2.5,kWh,40
m2,2025-03-01 10:15,interval,abc,kWh,1
m2,2025-03-01 10:30,demand,50,MW,1
m9,2025-03-01 10:30,interval,1,kWh,1
m2,not a time,interval,1,kWh,1
"""


@pytest.mark.anyio
async def test_csv_import_stores_good_rows_and_reports_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "utility-2025-03.csv"
    path.write_text(CSV, encoding="utf-8")
    project = "2024-330102-04-01-00001X"
    sensors = StaticSensors({m: SensorInfo(m, "power", project) for m in ("m1", "m2")})
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        pipeline = Pipeline(store, sensors, feeds.decoders(labor_salt=b"s"))
        report = await power.import_csv(pipeline, path)
        assert (report.rows, report.stored, report.duplicates) == (8, 4, 0)
        assert [(src.rsplit(":", 1)[1], code) for src, code, _ in report.rejected] == [
            ("6", Reason.INVALID),
            ("7", Reason.INVALID),
            ("8", Reason.UNKNOWN_SENSOR),
            ("9", Reason.INVALID),
        ]
        again = await power.import_csv(pipeline, path)
        assert (again.stored, again.duplicates) == (0, 4)
        letters = await store.dead_letters()
        assert len(letters) == 4 and {d.attempts for d in letters} == {2}  # seen twice, kept once

        energy = await power.project_energy(store, project, D1, D2)
        assert energy.meters["m2"] == {D1: 100.0}  # 2.5 kWh × CT ratio 40
        assert energy.meters["m1"][D1] == pytest.approx(30.0)
        assert energy.days[D1] == pytest.approx(130.0)
        assert energy.baseline == pytest.approx(130.0)

        # The unknown meter's row is a dead letter that replays once the meter exists.
        sensors.add(SensorInfo("m9", "power", project))
        replay = await pipeline.replay(code=Reason.UNKNOWN_SENSOR)
        assert (len(replay.replayed), replay.stored) == (1, 1)
    finally:
        await store.close()
