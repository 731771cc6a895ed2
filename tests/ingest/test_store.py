"""The telemetry store port, run against every adapter (SQLite and PostgreSQL): idempotency,
rollups in Shanghai days, buckets, latest, headcount, dead letters, retention, restarts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ingest.errors import TelemetryUnavailable
from ingest.model import Attendance, Message, Problem, Reading, Reason, SensorInfo, to_ms
from ingest.retention import purge_once
from ingest.store import Batch, Bucket, LetterFilter, TelemetryStore
from tests.ingest.conftest import Stores

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


async def test_a_redelivered_reading_is_stored_once(telemetry_store: TelemetryStore) -> None:
    first = await telemetry_store.commit(batch(kwh(at(2025, 3, 1, 8, 15), 2.0)))
    again = await telemetry_store.commit(
        batch(kwh(at(2025, 3, 1, 8, 15), 2.0), kwh(at(2025, 3, 1, 8, 30), 3.0))
    )
    assert (len(first.stored), first.duplicates) == (1, 0)
    assert (len(again.stored), again.duplicates) == (1, 1)
    assert (await telemetry_store.counts()).readings == 2
    [day] = await telemetry_store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert (day.value, day.samples) == (5.0, 2)  # the duplicate added nothing


async def test_a_resend_with_another_value_is_a_conflict_not_a_duplicate(
    telemetry_store: TelemetryStore,
) -> None:
    ts = at(2025, 3, 1, 8, 15)
    await telemetry_store.commit(batch(kwh(ts, 10.0)))
    clash = await telemetry_store.commit(batch(kwh(ts, 99.0), kwh(ts, 10.0)))
    again = await telemetry_store.commit(batch(kwh(ts, 99.0)))  # the same clash redelivered
    other = await telemetry_store.commit(batch(kwh(ts, 42.5)))
    assert (len(clash.stored), clash.duplicates, clash.conflicts) == (0, 1, 1)
    assert (again.duplicates, again.conflicts) == (0, 1)
    assert (other.duplicates, other.conflicts) == (0, 1)
    conflicts = await telemetry_store.conflicts()
    assert [
        (c.sensor_id, c.metric, c.stored_value, c.sent_value, c.attempts) for c in conflicts
    ] == [
        (METER.id, "energy_kwh", 10.0, 99.0, 2),
        (METER.id, "energy_kwh", 10.0, 42.5, 1),
    ]
    assert all(to_ms(c.ts) == ts and c.unit == "kWh" for c in conflicts)
    assert [c.sent_value for c in await telemetry_store.conflicts(after_id=conflicts[0].id)] == [
        42.5
    ]
    # Newest first, and below a cursor (the API's backward pages and DESC sort).
    newest = await telemetry_store.conflicts(descending=True)
    assert [c.id for c in newest] == [c.id for c in conflicts][::-1]
    below = await telemetry_store.conflicts(before_id=conflicts[1].id, descending=True, limit=1)
    assert [c.id for c in below] == [conflicts[0].id]
    # The first value stays, and the rollup counts it once.
    [day] = await telemetry_store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert (day.value, day.samples) == (10.0, 1)


async def test_interval_energy_at_midnight_belongs_to_the_day_it_closes(
    telemetry_store: TelemetryStore,
) -> None:
    await telemetry_store.commit(
        batch(
            kwh(at(2025, 3, 1, 23, 45), 1.0),
            kwh(at(2025, 3, 2, 0, 0), 2.0),  # closes 23:45-24:00 of 1 March
            kwh(at(2025, 3, 2, 0, 15), 4.0),
        )
    )
    rows = await telemetry_store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2))
    assert {(r.day, r.value) for r in rows} == {
        (dt.date(2025, 3, 1), 3.0),
        (dt.date(2025, 3, 2), 4.0),
    }
    assert all(r.project_code == METER.project_code and r.kind == "power" for r in rows)


async def test_register_rollup_is_the_same_in_order_or_out_of_order(stores: Stores) -> None:
    points = [
        register(at(2025, 3, 1, 22), 1000.0),
        register(at(2025, 3, 2, 2), 1040.0),  # 40 kWh over 4 h, split 2 h / 2 h across midnight
        register(at(2025, 3, 2, 10), 1100.0),
        register(at(2025, 3, 3, 10), 30.0),  # reset: 30 kWh over 24 h, 14 h of them on 2 March
    ]
    results = {}
    for name, order in (("ordered", points), ("shuffled", [points[2], points[0], points[3]])):
        store = await stores.open(name)
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


async def test_rollups_continue_across_a_restart(stores: Stores) -> None:
    store = await stores.open()
    await store.commit(batch(register(at(2025, 3, 1, 8), 500.0)))
    await store.close()
    store = await stores.open()
    try:
        result = await store.commit(batch(register(at(2025, 3, 1, 9), 512.5)))
        assert [(r.day, r.value) for r in result.rollups] == [(dt.date(2025, 3, 1), 12.5)]
    finally:
        await store.close()


async def test_series_buckets_are_local_time(telemetry_store: TelemetryStore) -> None:
    # 23:50 and 00:10 Shanghai are the same UTC day (15:50, 16:10) but two Shanghai days.
    await telemetry_store.commit(
        batch(
            kwh(at(2025, 3, 1, 23, 50), 1.0),
            kwh(at(2025, 3, 2, 0, 10), 2.0),
            kwh(at(2025, 3, 2, 0, 20), 4.0),
        )
    )
    start, end = dt.datetime(2025, 3, 1, tzinfo=SH), dt.datetime(2025, 3, 3, tzinfo=SH)
    days = await telemetry_store.series(
        start=start, end=end, bucket=Bucket.DAY, sensor_ids=[METER.id]
    )
    assert [(p.start.date(), p.total) for p in days] == [
        (dt.date(2025, 3, 1), 1.0),
        (dt.date(2025, 3, 2), 6.0),
    ]
    quarter = await telemetry_store.series(
        start=start, end=end, bucket=Bucket.MIN15, project_code=METER.project_code
    )
    assert [(p.start.hour, p.start.minute, p.count) for p in quarter] == [
        (23, 45, 1),
        (0, 0, 1),
        (0, 15, 1),
    ]
    utc_days = await telemetry_store.series(
        start=start, end=end, bucket=Bucket.DAY, sensor_ids=[METER.id], tz="UTC"
    )
    assert [p.total for p in utc_days] == [7.0]
    hours = await telemetry_store.series(
        start=start, end=end, bucket=Bucket.HOUR, sensor_ids=[METER.id]
    )
    assert [(p.start.hour, p.count, p.maximum, p.last) for p in hours] == [
        (23, 1, 1.0, 1.0),
        (0, 2, 4.0, 4.0),
    ]


async def test_retention_deletes_raw_readings_and_keeps_rollups(
    telemetry_store: TelemetryStore,
) -> None:
    await telemetry_store.commit(batch(kwh(at(2025, 1, 1, 12), 5.0), kwh(at(2025, 3, 1, 12), 7.0)))
    deleted = await telemetry_store.purge(dt.datetime(2025, 2, 1, tzinfo=SH))
    assert deleted == 1
    assert (await telemetry_store.counts()).readings == 1
    rows = await telemetry_store.daily(start=dt.date(2025, 1, 1), end=dt.date(2025, 3, 31))
    assert [(r.day, r.value) for r in rows] == [
        (dt.date(2025, 1, 1), 5.0),
        (dt.date(2025, 3, 1), 7.0),
    ]


async def test_latest_and_headcount(telemetry_store: TelemetryStore) -> None:
    gate = SensorInfo("lab-T1", "labor", METER.project_code)
    events = [
        Attendance(gate.id, at(2025, 3, 1, 7, 55), "a" * 64, "in"),
        Attendance(gate.id, at(2025, 3, 1, 8, 1), "b" * 64, "in"),
        Attendance(gate.id, at(2025, 3, 1, 17, 30), "a" * 64, "out"),
    ]
    result = await telemetry_store.commit(
        Batch(
            readings=[kwh(at(2025, 3, 1, 9), 1.0), kwh(at(2025, 3, 1, 8), 3.0)],
            attendance=events,
            sensors={METER.id: METER, gate.id: gate},
        )
    )
    assert [h.workers for h in result.headcounts] == [2]
    counts = await telemetry_store.headcount(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1))
    assert [(h.project_code, h.workers) for h in counts] == [(METER.project_code, 2)]
    latest = {
        (row.sensor_id, row.metric): row
        for row in await telemetry_store.latest(project_code=METER.project_code)
    }
    assert latest[(METER.id, "energy_kwh")].value == 1.0  # the newer one, not the last sent
    assert latest[(gate.id, "attendance")].ts == dt.datetime(2025, 3, 1, 17, 30, tzinfo=SH)


async def test_dead_letters_are_kept_listed_and_marked_replayed(
    telemetry_store: TelemetryStore,
) -> None:
    message = Message("hub/v1/power/x", b"{oops", at(2025, 3, 1, 9))
    result = await telemetry_store.commit(
        Batch(dead=[(message, Problem(Reason.UNDECODABLE, "bad"))])
    )
    [letter] = await telemetry_store.dead_letters()
    assert letter.id == result.dead_letter_ids[0]
    assert (letter.payload, letter.code, letter.attempts) == (b"{oops", Reason.UNDECODABLE, 1)
    assert letter.arrived_at == dt.datetime(2025, 3, 1, 9, tzinfo=SH)
    await telemetry_store.commit(Batch(replayed=[letter.id]))
    assert await telemetry_store.dead_letters() == []
    [done] = await telemetry_store.dead_letters(pending=False)
    assert done.replayed_at is not None and done.attempts == 2


async def test_retention_by_age_keeps_recent_readings(telemetry_store: TelemetryStore) -> None:
    now = dt.datetime.now(dt.UTC)
    old, recent = now - dt.timedelta(days=40), now - dt.timedelta(days=2)
    gate = SensorInfo("lab-T1", "labor", METER.project_code)
    await telemetry_store.commit(
        Batch(
            readings=[kwh(to_ms(old), 1.0), kwh(to_ms(recent), 2.0)],
            attendance=[Attendance(gate.id, to_ms(old), "c" * 64, "in")],
            sensors={METER.id: METER, gate.id: gate},
        )
    )
    assert await purge_once(telemetry_store, 0) == 0  # 0 keeps everything
    assert await purge_once(telemetry_store, 30) == 2  # one reading, one gate pass
    counts = await telemetry_store.counts()
    assert (counts.readings, counts.attendance, counts.daily) == (1, 0, 2)


async def test_a_reading_twice_in_one_batch_is_stored_once(
    telemetry_store: TelemetryStore,
) -> None:
    ts = at(2025, 3, 1, 10)
    result = await telemetry_store.commit(batch(kwh(ts, 2.0), kwh(ts, 2.0), kwh(ts + 1, 1.0)))
    assert (len(result.stored), result.duplicates) == (2, 1)
    [day] = result.rollups
    assert (day.value, day.samples) == (3.0, 2)


async def test_a_late_reading_recomputes_every_day_between_its_neighbours(
    telemetry_store: TelemetryStore,
) -> None:
    # Register 1,000 on 1 March 12:00 and 1,480 on 3 March 12:00: 480 kWh over 48 h, spread
    # 120 / 240 / 120. A late reading of 1,100 on 2 March 00:00 moves the split to 100 on
    # 1 March and 380 over the remaining 36 h (2 March: 24 h of them, 3 March: 12 h): all
    # three days change.
    await telemetry_store.commit(
        batch(register(at(2025, 3, 1, 12), 1000.0), register(at(2025, 3, 3, 12), 1480.0))
    )
    before = await telemetry_store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3))
    assert [round(r.value, 6) for r in before] == [120.0, 240.0, 120.0]
    result = await telemetry_store.commit(batch(register(at(2025, 3, 2), 1100.0)))
    assert {r.day: round(r.value, 6) for r in result.rollups} == {
        dt.date(2025, 3, 1): 100.0,
        dt.date(2025, 3, 2): round(380 * 24 / 36, 6),
        dt.date(2025, 3, 3): round(380 * 12 / 36, 6),
    }
    after = await telemetry_store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 3))
    assert [(r.day, round(r.value, 6), r.samples) for r in after] == [
        (dt.date(2025, 3, 1), 100.0, 1),
        (dt.date(2025, 3, 2), round(380 * 24 / 36, 6), 1),
        (dt.date(2025, 3, 3), round(380 * 12 / 36, 6), 1),
    ]
    [latest] = await telemetry_store.latest(sensor_ids=[METER.id])
    assert (latest.value, latest.ts) == (1480.0, dt.datetime(2025, 3, 3, 12, tzinfo=SH))


async def test_rates_integrate_and_means_average(telemetry_store: TelemetryStore) -> None:
    camera = SensorInfo("cam-T1", "camera", METER.project_code)
    await telemetry_store.commit(
        Batch(
            readings=[
                Reading(METER.id, at(2025, 3, 1, 23, 30), "demand_kw", 40.0, "kW"),
                Reading(METER.id, at(2025, 3, 2, 0, 30), "demand_kw", 60.0, "kW"),  # 60 kWh
                Reading(camera.id, at(2025, 3, 1, 9), "persons", 4.0, "person"),
                Reading(camera.id, at(2025, 3, 1, 10), "persons", 8.0, "person"),
            ],
            sensors={METER.id: METER, camera.id: camera},
        )
    )
    rows = await telemetry_store.daily(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 2))
    assert [(r.sensor_id, r.metric, r.day, r.value, r.samples) for r in rows] == [
        ("cam-T1", "persons", dt.date(2025, 3, 1), 6.0, 2),
        (METER.id, "demand_kw", dt.date(2025, 3, 1), 30.0, 1),
        (METER.id, "demand_kw", dt.date(2025, 3, 2), 30.0, 1),
    ]
    persons = await telemetry_store.daily(
        start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 1), metric="persons"
    )
    assert [(r.kind, r.project_code) for r in persons] == [("camera", METER.project_code)]


async def test_the_same_bad_message_is_one_letter_seen_again(
    telemetry_store: TelemetryStore,
) -> None:
    bad = Message("hub/v1/power/x", b"{oops", at(2025, 3, 1, 9))
    other = Message("hub/v1/power/y", b"[]", at(2025, 3, 1, 9))
    undecodable = Problem(Reason.UNDECODABLE, "not JSON")
    first = await telemetry_store.commit(Batch(dead=[(bad, undecodable), (other, undecodable)]))
    again = await telemetry_store.commit(Batch(dead=[(bad, Problem(Reason.INVALID, "still"))]))
    assert again.dead_letter_ids == first.dead_letter_ids[:1]
    assert await telemetry_store.pending_dead_letters() == 2
    [letter] = await telemetry_store.dead_letters(code=Reason.INVALID)
    assert (letter.attempts, letter.message, letter.source) == (2, "still", bad.source)
    assert await telemetry_store.dead_letters(code=Reason.FUTURE) == []
    by_id = await telemetry_store.dead_letters(ids=[first.dead_letter_ids[1]])
    assert [d.payload for d in by_id] == [b"[]"]
    paged = await telemetry_store.dead_letters(after_id=first.dead_letter_ids[0], limit=5)
    assert [d.id for d in paged] == first.dead_letter_ids[1:]
    newest = await telemetry_store.dead_letters(descending=True, limit=5)
    assert [d.id for d in newest] == first.dead_letter_ids[::-1]
    below = await telemetry_store.dead_letters(before_id=first.dead_letter_ids[1], limit=5)
    assert [d.id for d in below] == first.dead_letter_ids[:1]
    assert len(await telemetry_store.dead_letters(limit=1)) == 1
    await telemetry_store.commit(
        Batch(still_failing=[(letter.id, Problem(Reason.UNKNOWN_SENSOR, "no such sensor"))])
    )
    [letter] = await telemetry_store.dead_letters(ids=[letter.id])
    assert (letter.code, letter.attempts) == (Reason.UNKNOWN_SENSOR, 3)
    await telemetry_store.commit(Batch(replayed=[letter.id]))
    counts = await telemetry_store.counts()
    assert (counts.dead_letters_pending, counts.dead_letters_replayed) == (1, 1)
    # Once replayed, the same message arriving again is a new letter.
    third = await telemetry_store.commit(Batch(dead=[(bad, undecodable)]))
    assert third.dead_letter_ids[0] > first.dead_letter_ids[1]
    assert await telemetry_store.pending_dead_letters() == 2


async def test_a_closed_store_refuses_calls(stores: Stores) -> None:
    store = await stores.open()
    await store.close()
    await store.close()  # twice is fine
    with pytest.raises(TelemetryUnavailable, match="closed"):
        await store.commit(batch(kwh(at(2025, 3, 1), 1.0)))
    with pytest.raises(TelemetryUnavailable, match="closed"):
        await store.counts()


async def test_dead_letters_match_or_and_not(telemetry_store: TelemetryStore) -> None:
    # Five letters of three reasons, the first replayed: a LetterFilter's OR and NOT select
    # as set algebra over them, the same text shape for any values.
    reasons = [Reason.UNDECODABLE, Reason.UNDECODABLE, Reason.INVALID, Reason.FUTURE, Reason.FUTURE]
    dead = [
        (Message(f"hub/v1/power/m{n}", b"{}", at(2025, 3, 1, 9)), Problem(reason, "test"))
        for n, reason in enumerate(reasons)
    ]
    ids = (await telemetry_store.commit(Batch(dead=dead))).dead_letter_ids
    await telemetry_store.commit(Batch(replayed=ids[:1]))

    async def found(match: LetterFilter) -> list[int]:
        rows = await telemetry_store.dead_letters(pending=False, match=match, limit=100)
        return [d.id for d in rows]

    undecodable = LetterFilter(code=Reason.UNDECODABLE)
    future = LetterFilter(code=Reason.FUTURE)
    assert await found(LetterFilter(any_of=(undecodable, future))) == [ids[i] for i in (0, 1, 3, 4)]
    assert await found(LetterFilter(none_of=undecodable)) == ids[2:]
    assert await found(LetterFilter(pending=True, none_of=undecodable)) == ids[2:]
    assert await found(LetterFilter(none_of=LetterFilter(pending=True))) == ids[:1]
    nested = LetterFilter(
        any_of=(LetterFilter(none_of=LetterFilter(any_of=(undecodable, future))),)
    )
    assert await found(nested) == [ids[2]]
    assert await found(LetterFilter(any_of=())) == []
    assert await found(LetterFilter()) == ids
    # Still paged: below a cursor, newest first.
    rows = await telemetry_store.dead_letters(
        pending=False, match=LetterFilter(none_of=undecodable), descending=True, limit=2
    )
    assert [d.id for d in rows] == [ids[4], ids[3]]
