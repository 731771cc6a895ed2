"""What only the SQLite adapter has: WAL mode, and files made before versioned migrations."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from connectors import feeds
from ingest.migrations import SCHEMA_VERSION, STEPS
from ingest.model import Reading
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import Batch

pytestmark = pytest.mark.anyio

# Made by the SQLite store as it was before ``telemetry_schema`` (PRAGMA user_version 2).
LEGACY_DUMP = Path(__file__).parent / "fixtures" / "telemetry-v2.sql"


async def test_the_store_runs_in_wal_mode(tmp_path: Path) -> None:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        conn = sqlite3.connect(store.path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    finally:
        await store.close()


def legacy_file(path: Path, version: int) -> Path:
    """A file as the SQLite store made it at ``version`` (1 lacks the labor tables)."""
    script = LEGACY_DUMP.read_text(encoding="utf-8")
    if version == 1:
        script = "\n".join(
            line
            for line in script.splitlines()
            if "attendance" not in line and "headcount" not in line
        )
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    return path


def schema_rows(path: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT version, name FROM telemetry_schema ORDER BY 1").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("version", [1, 2])
async def test_a_file_from_before_versioned_migrations_upgrades_and_keeps_its_data(
    tmp_path: Path, version: int
) -> None:
    path = legacy_file(tmp_path / "old.db", version)
    store = await SQLiteTelemetryStore.open(path, feeds.metrics())
    try:
        counts = await store.counts()
        assert (counts.readings, counts.daily) == (12, 2)
        assert (counts.dead_letters_pending, counts.dead_letters_replayed) == (1, 1)
        assert counts.attendance == (2 if version == 2 else 0)
        day = dt.date(2025, 3, 1)
        rollups = {r.metric: r.value for r in await store.daily(start=day, end=day)}
        assert rollups == {"energy_kwh": 10.0, "register_kwh": 210.0}
        [letter] = await store.dead_letters()
        assert (letter.id, letter.payload) == (1, b"{oops")
        # Rollups go on from the last register reading the old file holds (1,210 at 21:00).
        ts = int(dt.datetime(2025, 3, 1, 23, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp())
        result = await store.commit(
            Batch(readings=[Reading("pwr-L1", ts * 1000, "register_kwh", 1220.0, "kWh")])
        )
        assert [(r.day, r.value, r.project_code) for r in result.rollups] == [
            (day, 220.0, "2024-330102-04-01-00001X")
        ]
    finally:
        await store.close()
    assert schema_rows(path) == [(s.version, s.name) for s in STEPS]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    # Opening again changes nothing.
    store = await SQLiteTelemetryStore.open(path, feeds.metrics())
    await store.close()
    assert schema_rows(path) == [(s.version, s.name) for s in STEPS]
