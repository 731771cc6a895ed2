"""Telemetry backups: consistent snapshots, restores across adapters both ways, idempotent
restores, and corrupt backups refused with a stable reason before anything is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingest.backup import MANIFEST, dump_telemetry, restore_telemetry
from ingest.errors import BackupInvalid
from ingest.model import Attendance, Message, Problem, Reading, Reason, SensorInfo, to_ms
from ingest.store import TABLES, Batch, Bucket, Row, TelemetryStore
from tests.ingest.conftest import Stores

pytestmark = pytest.mark.anyio

SH = ZoneInfo("Asia/Shanghai")
PROJECT = "2024-330102-04-01-00001X"
METER = SensorInfo("pwr-B1", "power", PROJECT)
GATE = SensorInfo("lab-B1", "labor", PROJECT)
CAMERA = SensorInfo("cam-B1", "camera", None)
SENSORS = {s.id: s for s in (METER, GATE, CAMERA)}


def at(day: int, hour: int = 0, minute: int = 0) -> int:
    return to_ms(dt.datetime(2025, 3, day, hour, minute, tzinfo=SH))


async def fill(store: TelemetryStore) -> None:
    """A bit of everything: in-order and late registers over three days, interval energy,
    a camera mean, gate passes and dead letters pending and replayed."""
    registers = [Reading(METER.id, at(d, h), "register_kwh", 1000.0 + 7.5 * (24 * d + h), "kWh")
                 for d in (1, 2, 3) for h in (0, 6, 12, 18)]  # fmt: skip
    await store.commit(Batch(readings=registers[::2], sensors=SENSORS))
    await store.commit(Batch(readings=registers[1::2], sensors=SENSORS))  # late ones
    await store.commit(
        Batch(
            readings=[
                *(
                    Reading(METER.id, at(2, 8, 15 * i), "energy_kwh", 0.25 * i, "kWh")
                    for i in range(1, 4)
                ),
                Reading(CAMERA.id, at(2, 9), "persons", 3.0, "person"),
                Reading(CAMERA.id, at(2, 10), "persons", 5.0, "person"),
            ],
            attendance=[
                Attendance(GATE.id, at(2, 7, 50), "a" * 64, "in"),
                Attendance(GATE.id, at(2, 8, 2), "b" * 64, "in"),
                Attendance(GATE.id, at(2, 17, 30), "a" * 64, "out"),
            ],
            sensors=SENSORS,
        )
    )
    letters = [
        ("hub/v1/power/x", b"{oops\xff", Reason.UNDECODABLE, "bad"),
        ("csv:m.csv:7", "ünïcode,1".encode(), Reason.INVALID, "ü"),
        ("hub/v1/power/y", b"{}", Reason.UNKNOWN_SENSOR, "no y"),
    ]
    dead = await store.commit(
        Batch(dead=[(Message(s, p, at(2, 9)), Problem(r, m)) for s, p, r, m in letters])
    )
    await store.commit(Batch(replayed=[dead.dead_letter_ids[2]]))
    # A conflicting re-send of the first interval reading.
    await store.commit(
        Batch(readings=[Reading(METER.id, at(2, 8, 15), "energy_kwh", 9.5, "kWh")], sensors=SENSORS)
    )


async def state(store: TelemetryStore) -> dict[str, Any]:
    """Everything the port can say about the data, through its queries."""
    start, end = dt.datetime(2025, 2, 28, tzinfo=SH), dt.datetime(2025, 3, 5, tzinfo=SH)
    return {
        "quarters": await store.series(start=start, end=end, bucket=Bucket.MIN15),
        "days": await store.series(start=start, end=end, bucket=Bucket.DAY, tz="UTC"),
        "daily": await store.daily(start=dt.date(2025, 2, 28), end=dt.date(2025, 3, 5)),
        "project": await store.daily(
            start=dt.date(2025, 2, 28), end=dt.date(2025, 3, 5), project_code=PROJECT
        ),
        "headcount": await store.headcount(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 5)),
        "latest": await store.latest(),
        "letters": await store.dead_letters(pending=False, limit=1000),
        "pending": await store.pending_dead_letters(),
        "conflicts": await store.conflicts(),
        "counts": await store.counts(),
    }


def table_files(directory: Path) -> dict[str, bytes]:
    return {t: (directory / f"{t}.jsonl").read_bytes() for t in TABLES}


@pytest.fixture
async def adapters(tmp_path: Path, postgres_url: str) -> AsyncIterator[dict[str, Stores]]:
    both = {
        "sqlite": Stores("sqlite", tmp_path, None),
        "postgres": Stores("postgres", tmp_path, postgres_url),
    }
    yield both
    for factory in both.values():
        await factory.close()


@pytest.mark.parametrize(("source", "target"), [("sqlite", "postgres"), ("postgres", "sqlite")])
async def test_a_backup_restores_into_the_other_adapter_and_again_changes_nothing(
    adapters: dict[str, Stores], tmp_path: Path, source: str, target: str
) -> None:
    original = await adapters[source].open("source")
    await fill(original)
    counts = await dump_telemetry(original, tmp_path / "a")
    assert counts == {
        "sensors": 3, "readings": 17, "latest": 4, "daily": 5, "attendance": 3,
        "headcount": 2, "dead_letters": 3, "conflicts": 1,
    }  # fmt: skip
    manifest = json.loads((tmp_path / "a" / MANIFEST).read_text())
    assert manifest["schema_version"] == 3
    assert {t: e["rows"] for t, e in manifest["tables"].items()} == counts

    restored = await adapters[target].open("target")
    assert await restore_telemetry(restored, tmp_path / "a") == counts
    expected = await state(original)
    assert expected["daily"] and expected["headcount"] and expected["letters"]  # not vacuous
    assert expected["conflicts"]
    assert await state(restored) == expected
    await dump_telemetry(restored, tmp_path / "b")
    assert table_files(tmp_path / "b") == table_files(tmp_path / "a")

    assert await restore_telemetry(restored, tmp_path / "a") == counts  # again: no change
    assert await state(restored) == expected

    # The restored store goes on: rollups continue from restored points, new letters get
    # new ids, and a pending letter seen again is the restored one.
    result = await restored.commit(
        Batch(
            readings=[Reading(METER.id, at(3, 21), "register_kwh", 1000.0 + 7.5 * 93, "kWh")],
            dead=[
                (Message("hub/v1/power/x", b"{oops\xff", at(3, 9)), Problem(Reason.INVALID, "!")),
                (Message("hub/v1/power/z", b"1", at(3, 9)), Problem(Reason.INVALID, "new")),
            ],
            sensors=SENSORS,
        )
    )
    # 3 March had four 6-hour steps of 45 kWh from 00:00 to 18:00 (135); 18:00 to 21:00 adds 22.5.
    assert [(r.day, r.value) for r in result.rollups] == [(dt.date(2025, 3, 3), 157.5)]
    first_letter = expected["letters"][0]
    assert result.dead_letter_ids[0] == first_letter.id
    assert result.dead_letter_ids[1] > max(d.id for d in expected["letters"])


async def test_a_snapshot_does_not_see_commits_made_after_it_began(
    telemetry_store: TelemetryStore,
) -> None:
    await fill(telemetry_store)
    async with telemetry_store.snapshot() as snapshot:
        readings = [row async for chunk in snapshot.rows("readings", chunk=4) for row in chunk]
        await telemetry_store.commit(
            Batch(
                readings=[Reading(METER.id, at(4, 6), "register_kwh", 5000.0, "kWh")],
                sensors=SENSORS,
            )
        )
        daily = [row async for chunk in snapshot.rows("daily") for row in chunk]
        latest = [row async for chunk in snapshot.rows("latest") for row in chunk]
    assert len(readings) == 17 and len(daily) == 5
    [register_latest] = [r for r in latest if r[1] == "register_kwh"]
    assert register_latest[2] == at(3, 18)
    # Rows come in key order (sensor, metric, time), with days as ISO strings.
    keys = [(str(r[0]), str(r[1]), int(str(r[2]))) for r in readings]
    assert keys == sorted(keys)
    assert {r[2] for r in daily} == {"2025-03-01", "2025-03-02", "2025-03-03"}
    assert (await telemetry_store.counts()).readings == 18


async def test_a_restore_merges_into_a_store_that_has_data(stores: Stores, tmp_path: Path) -> None:
    source = await stores.open("source")
    await fill(source)
    await dump_telemetry(source, tmp_path / "backup")
    target = await stores.open("target")
    other = SensorInfo("pwr-B2", "power", PROJECT)
    await target.commit(
        Batch(
            readings=[Reading(other.id, at(2, 8), "energy_kwh", 9.0, "kWh")],
            dead=[(Message("hub/v1/power/y", b"{}", at(1, 1)), Problem(Reason.FUTURE, "mine"))],
            sensors={other.id: other},
        )
    )
    await restore_telemetry(target, tmp_path / "backup")
    counts = await target.counts()
    # The target's own letter holds id 1: the backup's letter 1 is skipped, 2 and 3 arrive.
    assert (counts.readings, counts.dead_letters_pending, counts.dead_letters_replayed) == (
        18,
        2,
        1,
    )
    mine = await target.daily(
        start=dt.date(2025, 3, 2), end=dt.date(2025, 3, 2), sensor_ids=[other.id]
    )
    assert [(r.value, r.project_code) for r in mine] == [(9.0, PROJECT)]


def _rows(n: int) -> Iterator[tuple[str, list[Row]]]:
    yield "sensors", [("pwr-R", "power", None)]
    yield "readings", [("pwr-R", "energy_kwh", i, 1.0, "kWh") for i in range(n)]
    raise BackupInvalid("CHECKSUM_MISMATCH", "a file changed while it was loaded")


async def test_a_load_that_fails_half_way_leaves_nothing(telemetry_store: TelemetryStore) -> None:
    with pytest.raises(BackupInvalid, match="CHECKSUM_MISMATCH"):
        await telemetry_store.load(_rows(100))
    counts = await telemetry_store.counts()
    assert counts.readings == 0
    assert await telemetry_store.latest() == []
    # The store is usable afterwards, and knows no sensor from the rolled-back load.
    result = await telemetry_store.commit(
        Batch(readings=[Reading("pwr-R", at(1, 1), "energy_kwh", 1.0, "kWh")])
    )
    assert [r.project_code for r in result.rollups] == [None]


@pytest.fixture
async def sqlite_stores(tmp_path: Path) -> AsyncIterator[Stores]:
    # The checks run before any store is touched, so one adapter is enough here; a load that
    # fails inside the store's transaction is tested on both above.
    factory = Stores("sqlite", tmp_path, None)
    yield factory
    await factory.close()


@pytest.fixture
async def backup(tmp_path: Path, sqlite_stores: Stores) -> Path:
    """A good backup to damage."""
    store = await sqlite_stores.open("made")
    await fill(store)
    await dump_telemetry(store, tmp_path / "backup")
    return tmp_path / "backup"


def _damage(directory: Path, how: str) -> None:
    manifest_path = directory / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    readings = directory / "readings.jsonl"
    if how == "no manifest":
        manifest_path.unlink()
    elif how == "manifest not JSON":
        manifest_path.write_text('{"format": ')
    elif how == "newer schema":
        manifest["schema_version"] = 99
        manifest_path.write_text(json.dumps(manifest))
    elif how == "file missing":
        readings.unlink()
    elif how == "byte flipped":
        data = bytearray(readings.read_bytes())
        data[40] ^= 0x01
        readings.write_bytes(bytes(data))
    elif how == "truncated":
        readings.write_bytes(readings.read_bytes()[:-30])
    else:  # rows changed and the checksum recomputed: the rows themselves must be checked
        lines = readings.read_text().splitlines(keepends=True)
        if how == "wrong type":
            row = json.loads(lines[3])
            row["ts_ms"] = "yesterday"
            lines[3] = json.dumps(row) + "\n"
        elif how == "row dropped":
            del lines[5]
        elif how == "truncated, checksum redone":
            lines[-1] = lines[-1][:-30]
        readings.write_text("".join(lines))
        manifest["tables"]["readings"]["sha256"] = hashlib.sha256(readings.read_bytes()).hexdigest()
        manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("how", "reason", "says"),
    [
        ("no manifest", "MISSING_MANIFEST", "manifest.json does not exist"),
        ("manifest not JSON", "BAD_MANIFEST", "not JSON"),
        ("newer schema", "SCHEMA_TOO_NEW", "version 99"),
        ("file missing", "MISSING_FILE", "readings.jsonl"),
        ("byte flipped", "CHECKSUM_MISMATCH", "readings.jsonl"),
        ("truncated", "CHECKSUM_MISMATCH", "readings.jsonl: SHA-256 differs"),
        ("truncated, checksum redone", "BAD_ROW", "readings.jsonl:17: not a JSON line"),
        ("wrong type", "BAD_ROW", "readings.jsonl:4: ts_ms is not an integer"),
        ("row dropped", "COUNT_MISMATCH", "16 rows, the manifest says 17"),
    ],
)
async def test_a_damaged_backup_is_refused_and_nothing_is_loaded(
    backup: Path, sqlite_stores: Stores, how: str, reason: str, says: str
) -> None:
    _damage(backup, how)
    target = await sqlite_stores.open("target")
    with pytest.raises(BackupInvalid, match=says) as caught:
        await restore_telemetry(target, backup)
    assert caught.value.reason == reason and caught.value.code == "BAD_USER_INPUT"
    counts = await target.counts()
    assert (counts.readings, counts.daily, counts.dead_letters_pending) == (0, 0, 0)
    assert await target.latest() == []
