"""Versioned telemetry migrations, on both adapters: concurrent starts apply each step once, and
a store newer than the hub is refused."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ingest.errors import TelemetryUnavailable
from ingest.migrations import SCHEMA_VERSION, STEPS
from ingest.sqlite_store import SQLiteTelemetryStore
from tests.ingest.conftest import Stores
from tests.waiting import finishes

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]

# Waits for the go file, then opens (and so migrates) the store at the URL.
OPENER = """
import asyncio, sys, time
from pathlib import Path
from ingest.connect import open_telemetry_store

url, go = sys.argv[1], Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.001)

async def main() -> None:
    store = await open_telemetry_store(url, {}, data_dir=go.parent)
    await store.close()

asyncio.run(main())
"""


def version_rows(stores: Stores, url: str) -> list[tuple[int, str]]:
    query = "SELECT version, name FROM telemetry_schema ORDER BY version"
    if stores.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()
    with psycopg.connect(url) as pg:
        return [(int(v), str(n)) for v, n in pg.execute(query).fetchall()]


async def test_two_processes_starting_at_once_apply_each_step_once(
    stores: Stores, tmp_path: Path
) -> None:
    url = stores.url("shared")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, url, str(go)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for opener in openers:  # both have imported everything and wait
            assert opener.stdout is not None
            assert opener.stdout.readline().strip() == "ready", opener.stderr
        go.touch()
        results = [opener.communicate(timeout=60) for opener in openers]
    finally:
        for opener in openers:
            if opener.poll() is None:
                opener.kill()
                opener.wait()
    for opener, (_, err) in zip(openers, results, strict=True):
        assert opener.returncode == 0, err
    assert version_rows(stores, url) == [(s.version, s.name) for s in STEPS]
    store = await stores.open("shared")
    assert (await store.counts()).readings == 0


@pytest.mark.timing
async def test_a_store_newer_than_the_hub_is_refused(stores: Stores) -> None:
    store = await stores.open()
    await store.close()
    url = stores.url()
    newer = SCHEMA_VERSION + 1
    if stores.kind == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite://"))
        conn.execute("INSERT INTO telemetry_schema VALUES (?, 'from the future', 0)", (newer,))
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(url) as pg:
            pg.execute("INSERT INTO telemetry_schema VALUES (%s, 'from the future', 0)", (newer,))
    # Refused at once, not retried until some timeout; the ceiling only stops a retry loop.
    with pytest.raises(TelemetryUnavailable, match=f"schema version {newer}, newer than"):
        await finishes(stores.open(), ceiling=120, what="opening a store from the future")


async def test_migrating_to_a_target_stops_there(tmp_path: Path) -> None:
    import sqlite3

    from ingest.sqlite_store import migrate

    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    assert migrate(conn, target=1) == 0
    assert conn.execute("SELECT max(version) FROM telemetry_schema").fetchone()[0] == 1
    assert (
        conn.execute("SELECT name FROM sqlite_master WHERE name = 'attendance'").fetchone() is None
    )
    assert migrate(conn) == 1
    assert migrate(conn) == SCHEMA_VERSION  # nothing left to do
    conn.close()
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", {})
    assert (await store.counts()).attendance == 0
    await store.close()


async def test_many_stores_opening_at_once_apply_each_step_once(stores: Stores) -> None:
    # Separate connections racing in one process: the same locks as separate processes (a
    # PostgreSQL connection is a server process; SQLite locks the file per connection).
    url = stores.url("raced")
    opened = await asyncio.gather(*(stores.open("raced") for _ in range(6)))
    assert len(opened) == 6
    assert version_rows(stores, url) == [(s.version, s.name) for s in STEPS]
