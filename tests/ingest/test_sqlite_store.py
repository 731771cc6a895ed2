"""The SQLite telemetry store: idempotency, rollups in Shanghai days, buckets, retention, schema."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import feeds
from ingest.errors import TelemetryUnavailable
from ingest.model import Attendance, Message, Problem, Reading, Reason, SensorInfo, to_ms
from ingest.retention import purge_once
from ingest.sqlite_store import SCHEMA_VERSION, SQLiteTelemetryStore, migrate
from ingest.store import Batch, Bucket

pytestmark = pytest.mark.anyio

SH = ZoneInfo("Asia/Shanghai")
METER = SensorInfo("pwr-T1", "power", "2024-330102-04-01-00001X")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return to_ms(dt.datetime(year, month, day, hour, minute, tzinfo=SH))


def kwh(ts: int, value: float, sensor: str = METER.id) -> Reading:
    return Reading(sensor, ts, "energy_kwh", value, "kWh")


def register(ts: int, value: float) -> Reading:
    return Reading(METER.id, ts, "register_kwh", value, "kWh")


def batch(*readings: Reading) -> Batch:
    return Batch(readings=list(readings), sensors={METER.id: METER})


async def test_a_redelivered_reading_is_stored_once(telemetry: SQLiteTelemetryStore) -> None:
    first = await telemetry.commit(batch(kwh(at(2025, 3, 1, 8, 15), 2.0)))
    again = await telemetry.commit(
        batch(kwh(at(2025, 3, 1, 8, 15), 2.0), kwh(at(2025, 3, 1, 8, 30), 3.0))
    )
    assert (len(first.stored), first.duplicates) == (1, 0)
    assert (len(again.stored), again.duplicates) == (1, 1)
    assert (await telemetry.counts()).readings == 2
    [day] = await telemetry.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert (day.value, day.samples) == (5.0, 2)  # the duplicate added nothing


async def test_interval_energy_at_midnight_belongs_to_the_day_it_closes(
    telemetry: SQLiteTelemetryStore,
) -> None:
    await telemetry.commit(
        batch(
            kwh(at(2025, 3, 1, 23, 45), 1.0),
            kwh(at(2025, 3, 2, 0, 0), 2.0),  # closes 23:45-24:00 of 1 March
            kwh(at(2025, 3, 2, 0, 15), 4.0),
        )
    )
    rows = await telemetry.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2))
    assert {(r.day, r.value) for r in rows} == {
        (dt.date(2025, 3, 1), 3.0),
        (dt.date(2025, 3, 2), 4.0),
    }
    assert all(r.project_code == METER.project_code and r.kind == "power" for r in rows)


async def test_register_rollup_is_the_same_in_order_or_out_of_order(tmp_path: Path) -> None:
    points = [
        register(at(2025, 3, 1, 22), 1000.0),
        register(at(2025, 3, 2, 2), 1040.0),  # 40 kWh over 4 h, split 2 h / 2 h across midnight
        register(at(2025, 3, 2, 10), 1100.0),
        register(at(2025, 3, 3, 10), 30.0),  # reset: 30 kWh over 24 h, 14 h of them on 2 March
    ]
    results = {}
    for name, order in (("ordered", points), ("shuffled", [points[2], points[0], points[3]])):
        store = await SQLiteTelemetryStore.open(tmp_path / f"{name}.db", feeds.metrics())
        try:
            for reading in order:
                await store.commit(batch(reading))
            if name == "shuffled":
                await store.commit(batch(points[1]))  # the missing one, late
            rows = await store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3))
            results[name] = {r.day: round(r.value, 6) for r in rows}
        finally:
            await store.close()
    assert results["ordered"] == {
        dt.date(2025, 3, 1): 20.0,
        dt.date(2025, 3, 2): 20.0 + 60.0 + 17.5,
        dt.date(2025, 3, 3): 12.5,
    }
    assert results["shuffled"] == results["ordered"]


async def test_rollups_continue_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    store = await SQLiteTelemetryStore.open(path, feeds.metrics())
    await store.commit(batch(register(at(2025, 3, 1, 8), 500.0)))
    await store.close()
    store = await SQLiteTelemetryStore.open(path, feeds.metrics())
    try:
        result = await store.commit(batch(register(at(2025, 3, 1, 9), 512.5)))
        assert [(r.day, r.value) for r in result.rollups] == [(dt.date(2025, 3, 1), 12.5)]
    finally:
        await store.close()


async def test_series_buckets_are_local_time(telemetry: SQLiteTelemetryStore) -> None:
    # 23:50 and 00:10 Shanghai are the same UTC day (15:50, 16:10) but two Shanghai days.
    await telemetry.commit(
        batch(
            kwh(at(2025, 3, 1, 23, 50), 1.0),
            kwh(at(2025, 3, 2, 0, 10), 2.0),
            kwh(at(2025, 3, 2, 0, 20), 4.0),
        )
    )
    start, end = dt.datetime(2025, 3, 1, tzinfo=SH), dt.datetime(2025, 3, 3, tzinfo=SH)
    days = await telemetry.series(start=start, end=end, bucket=Bucket.DAY, sensor_ids=[METER.id])
    assert [(p.start.date(), p.total) for p in days] == [
        (dt.date(2025, 3, 1), 1.0),
        (dt.date(2025, 3, 2), 6.0),
    ]
    quarter = await telemetry.series(
        start=start, end=end, bucket=Bucket.MIN15, project_code=METER.project_code
    )
    assert [(p.start.hour, p.start.minute, p.count) for p in quarter] == [
        (23, 45, 1),
        (0, 0, 1),
        (0, 15, 1),
    ]
    utc_days = await telemetry.series(
        start=start, end=end, bucket=Bucket.DAY, sensor_ids=[METER.id], tz="UTC"
    )
    assert [p.total for p in utc_days] == [7.0]
    hours = await telemetry.series(start=start, end=end, bucket=Bucket.HOUR, sensor_ids=[METER.id])
    assert [(p.start.hour, p.count, p.maximum, p.last) for p in hours] == [
        (23, 1, 1.0, 1.0),
        (0, 2, 4.0, 4.0),
    ]


async def test_retention_deletes_raw_readings_and_keeps_rollups(
    telemetry: SQLiteTelemetryStore,
) -> None:
    await telemetry.commit(batch(kwh(at(2025, 1, 1, 12), 5.0), kwh(at(2025, 3, 1, 12), 7.0)))
    deleted = await telemetry.purge(dt.datetime(2025, 2, 1, tzinfo=SH))
    assert deleted == 1
    assert (await telemetry.counts()).readings == 1
    rows = await telemetry.daily(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    assert [(r.day, r.value) for r in rows] == [
        (dt.date(2025, 1, 1), 5.0),
        (dt.date(2025, 3, 1), 7.0),
    ]


async def test_latest_and_headcount(telemetry: SQLiteTelemetryStore) -> None:
    gate = SensorInfo("lab-T1", "labor", METER.project_code)
    events = [
        Attendance(gate.id, at(2025, 3, 1, 7, 55), "a" * 64, "in"),
        Attendance(gate.id, at(2025, 3, 1, 8, 1), "b" * 64, "in"),
        Attendance(gate.id, at(2025, 3, 1, 17, 30), "a" * 64, "out"),
    ]
    result = await telemetry.commit(
        Batch(
            readings=[kwh(at(2025, 3, 1, 9), 1.0), kwh(at(2025, 3, 1, 8), 3.0)],
            attendance=events,
            sensors={METER.id: METER, gate.id: gate},
        )
    )
    assert [h.workers for h in result.headcounts] == [2]
    counts = await telemetry.headcount(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert [(h.project_code, h.workers) for h in counts] == [(METER.project_code, 2)]
    latest = {
        (row.sensor_id, row.metric): row
        for row in await telemetry.latest(project_code=METER.project_code)
    }
    assert latest[(METER.id, "energy_kwh")].value == 1.0  # the newer one, not the last sent
    assert latest[(gate.id, "attendance")].ts == dt.datetime(2025, 3, 1, 17, 30, tzinfo=SH)


async def test_dead_letters_are_kept_listed_and_marked_replayed(
    telemetry: SQLiteTelemetryStore,
) -> None:
    message = Message("hub/v1/power/x", b"{oops", at(2025, 3, 1, 9))
    result = await telemetry.commit(Batch(dead=[(message, Problem(Reason.UNDECODABLE, "bad"))]))
    [letter] = await telemetry.dead_letters()
    assert letter.id == result.dead_letter_ids[0]
    assert (letter.payload, letter.code, letter.attempts) == (b"{oops", Reason.UNDECODABLE, 1)
    assert letter.arrived_at == dt.datetime(2025, 3, 1, 9, tzinfo=SH)
    await telemetry.commit(Batch(replayed=[letter.id]))
    assert await telemetry.dead_letters() == []
    [done] = await telemetry.dead_letters(pending=False)
    assert done.replayed_at is not None and done.attempts == 2


def test_migrations_upgrade_an_older_file_and_refuse_a_newer_one(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, target=1) == 0
    conn.execute("INSERT INTO readings VALUES ('m', 1, 'energy_kwh', 1.0, 'kWh')")
    assert migrate(conn) == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert conn.execute("SELECT count(*) FROM readings").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM attendance").fetchone()[0] == 0
    assert migrate(conn) == SCHEMA_VERSION  # nothing left to do
    conn.execute("PRAGMA user_version = 99")
    with pytest.raises(TelemetryUnavailable, match="newer"):
        migrate(conn)
    conn.close()


async def test_the_store_runs_in_wal_mode(telemetry: SQLiteTelemetryStore) -> None:
    conn = sqlite3.connect(telemetry.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_retention_by_age_keeps_recent_readings(telemetry: SQLiteTelemetryStore) -> None:
    now = dt.datetime.now(dt.UTC)
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=2)
    await telemetry.commit(batch(kwh(to_ms(old), 1.0), kwh(to_ms(recent), 2.0)))
    assert await purge_once(telemetry, 0) == 0  # 0 keeps everything
    assert await purge_once(telemetry, 30) == 1
    assert (await telemetry.counts()).readings == 1
