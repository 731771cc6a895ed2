"""What only the PostgreSQL adapter has: several writers on one database, connection errors,
collations, and how it names itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from connectors import feeds
from graph_schema.errors import ConfigurationError
from ingest.backup import dump_telemetry
from ingest.connect import open_telemetry_store
from ingest.errors import TelemetryUnavailable
from ingest.model import Reading, SensorInfo, to_ms
from ingest.postgres_store import PostgresTelemetryStore
from ingest.rollups import daily
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import Batch, TelemetryStore
from tests.broker import free_port
from tests.ingest.conftest import Stores

pytestmark = pytest.mark.anyio

SH = ZoneInfo("Asia/Shanghai")
METERS = [SensorInfo(f"pwr-W{i}", "power", "2024-330102-04-01-00001X") for i in range(3)]


async def test_workers_committing_the_same_meters_at_once_keep_rollups_exact(
    postgres_stores: Stores,
) -> None:
    # Register readings every 20 minutes over three days, dealt at random to four stores (four
    # ingest workers on one database) and committed concurrently in small shuffled batches.
    start = dt.datetime(2025, 3, 1, tzinfo=SH)
    rng = random.Random(7)
    points = {
        m.id: [(to_ms(start + dt.timedelta(minutes=20 * i)), 100.0 + i * rng.uniform(0.5, 2.0))
               for i in range(216)]
        for m in METERS
    }  # fmt: skip
    readings = [
        Reading(s, ts, "register_kwh", v, "kWh") for s, ps in points.items() for ts, v in ps
    ]
    rng.shuffle(readings)
    workers = [await postgres_stores.open("shared") for _ in range(4)]
    batches: list[list[Batch]] = [[] for _ in workers]
    for i in range(0, len(readings), 6):
        chunk = readings[i : i + 6]
        batches[rng.randrange(len(workers))].append(
            Batch(readings=chunk, sensors={m.id: m for m in METERS})
        )

    async def work(store: TelemetryStore, mine: list[Batch]) -> int:
        stored = 0
        for batch in mine:
            stored += len((await store.commit(batch)).stored)
        return stored

    done = await asyncio.gather(*(work(w, b) for w, b in zip(workers, batches, strict=True)))
    assert sum(done) == len(readings) and min(done) > 0
    spec = feeds.metrics()["register_kwh"]
    rows = await workers[0].daily(start=dt.date(2025, 2, 28), end=dt.date(2025, 3, 5))
    for meter in METERS:
        expected = daily(spec, points[meter.id], SH)
        got = {r.day: r.value for r in rows if r.sensor_id == meter.id}
        assert got.keys() == expected.keys()
        for day, value in expected.items():
            assert got[day] == pytest.approx(value, rel=1e-9), (meter.id, day)
        [latest] = await workers[1].latest(sensor_ids=[meter.id])
        assert latest.value == points[meter.id][-1][1]


async def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://hub:s3cret@127.0.0.1:{free_port()}/hub"
    with pytest.raises(TelemetryUnavailable, match="cannot connect") as caught:
        await PostgresTelemetryStore.open(url, feeds.metrics(), connect_timeout_s=1.0)
    assert "s3cret" not in str(caught.value)
    assert caught.value.code == "UNAVAILABLE"


async def test_urls_choose_the_adapter(postgres_stores: Stores, tmp_path: Path) -> None:
    store = await open_telemetry_store(
        postgres_stores.url(), feeds.metrics(), data_dir=tmp_path, tz="UTC"
    )
    try:
        assert isinstance(store, PostgresTelemetryStore)
        assert store.describe().startswith("postgresql://hub@127.0.0.1:")
        assert not store.hypertable  # Debian's PostgreSQL has no TimescaleDB
    finally:
        await store.close()
    with pytest.raises(ConfigurationError, match="unknown scheme mysql://"):
        await open_telemetry_store("mysql://x", {}, data_dir=tmp_path)


def test_describe_never_shows_the_password() -> None:
    store = PostgresTelemetryStore("postgresql://ops:pa55@db.example:5433/telemetry", {})
    assert store.describe() == "postgresql://ops@db.example:5433/telemetry"


async def test_text_sorts_by_bytes_as_in_sqlite_whatever_the_database_collation(
    postgres_url: str, tmp_path: Path
) -> None:
    # A database whose default collation is linguistic (ICU en-US): "pwr-a1" < "pwr-B1" there,
    # while SQLite (and the C collation) put "pwr-B1" first. Lists and backups must not differ.
    database = f"hub_icu_{os.getpid()}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' TEMPLATE template0"
            ).format(sql.Identifier(database))
        )
        [(linguistic,)] = conn.execute(
            "SELECT 'pwr-a1' < 'pwr-B1' COLLATE \"en-US-x-icu\""
        ).fetchall()
    assert linguistic  # the premise
    meters = {i: SensorInfo(i, "power", "P") for i in ("pwr-b2", "pwr-a1", "pwr-B1")}
    batch = Batch(
        readings=[Reading(i, to_ms(dt.datetime(2025, 3, 1, tzinfo=SH)), "energy_kwh", 1.0, "kWh")
                  for i in meters],
        sensors=meters,
    )  # fmt: skip
    stores = [
        await PostgresTelemetryStore.open(
            make_conninfo(postgres_url, dbname=database), feeds.metrics()
        ),
        await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics()),
    ]
    try:
        orders = []
        for store in stores:
            await store.commit(batch)
            orders.append([row.sensor_id for row in await store.latest()])
            await dump_telemetry(store, tmp_path / type(store).__name__)
        assert orders[0] == orders[1] == ["pwr-B1", "pwr-a1", "pwr-b2"]
        files = [(tmp_path / type(s).__name__ / "readings.jsonl").read_bytes() for s in stores]
        assert files[0] == files[1]
    finally:
        for store in stores:
            await store.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database)))
