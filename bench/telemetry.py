"""Telemetry store commit throughput, SQLite against PostgreSQL, in one run
(``python -m bench telemetry``).

Both stores are durable as configured for production: SQLite in WAL mode with
``synchronous=FULL``; PostgreSQL 15 from the Debian packages, a fresh cluster in a temporary
directory (``tests.postgres.PostgresServer(durable=True)``: fsync, synchronous_commit and
full_page_writes at their defaults, i.e. on), reached over TCP on 127.0.0.1. The workload is what
``bench ingest``'s worker commits: 1,000 registered power meters, each reading
``energy_kwh`` every 15 minutes, in time order, committed through ``TelemetryStore.commit`` in
batches of 5,000 readings (the worker's largest batch) and of 100 (a lightly loaded worker).
Every reading is new, so each commit also updates daily rollups and ``latest``. Readings are
generated before the clock starts; a phase's rate is readings committed over the wall time of
its commits. After the phases, every store's contents are dumped with ``dump_telemetry`` and
restored with ``restore_telemetry`` into a fresh store of the same adapter, timed.

CPU of this process and of the PostgreSQL server's processes, and the share of the machine used
by anything else, are read from /proc as in ``bench/ingest.py``. Run alone under a lock:
``flock /tmp/bench.lock python -m bench telemetry``.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.ingest import TICK, _machine_ticks, _proc_ticks
from bench.quick import check
from bench.registry import Figures, benchmark
from connectors import feeds
from ingest.backup import dump_telemetry, restore_telemetry
from ingest.model import Reading, SensorInfo
from ingest.postgres_store import PostgresTelemetryStore
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import Batch, TelemetryStore

ROOT = Path(__file__).resolve().parents[1]
METERS = 1000
START_MS = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp() * 1000)
STEP_MS = 15 * 60 * 1000
PHASES = (("batches of 5,000", 5000, 200_000), ("batches of 100", 100, 20_000))
QUICK_PHASES = (("batches of 5,000", 5000, 10_000), ("batches of 100", 100, 1_000))


def _batches(sensors: dict[str, SensorInfo], first_step: int, size: int, total: int) -> list[Batch]:
    # Every meter's reading of one 15-minute step, then the next step: batches in time order.
    readings = [
        Reading(f"pwr-b{m}", START_MS + (first_step + i // METERS) * STEP_MS, "energy_kwh",
                0.25 + m % 7 * 0.01, "kWh")
        for i in range(total)
        for m in (i % METERS,)
    ]  # fmt: skip
    return [Batch(readings=readings[i : i + size], sensors=sensors) for i in range(0, total, size)]


def _server_pids(data: Path) -> list[int]:
    postmaster = int((data / "postmaster.pid").read_text().splitlines()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == postmaster:
            pids.append(int(stat.parent.name))
    return pids


async def _phases(
    name: str,
    store: TelemetryStore,
    server: list[int],
    figures: Figures,
    phases: tuple[tuple[str, int, int], ...] = PHASES,
) -> dict[str, float]:
    sensors = {f"pwr-b{m}": SensorInfo(f"pwr-b{m}", "power", f"P{m % 50}") for m in range(METERS)}
    rates: dict[str, float] = {}
    first_step = 0
    for phase, size, total in phases:
        batches = _batches(sensors, first_step, size, total)
        first_step += total // METERS + 1
        me0, machine0 = _proc_ticks(os.getpid()), _machine_ticks()
        srv0 = sum(_proc_ticks(p) for p in server)
        t0 = time.perf_counter()
        stored = 0
        for batch in batches:
            stored += len((await store.commit(batch)).stored)
        span = time.perf_counter() - t0
        me = (_proc_ticks(os.getpid()) - me0) / TICK / span
        srv = (sum(_proc_ticks(p) for p in server) - srv0) / TICK / span
        machine = (_machine_ticks() - machine0) / TICK / span
        check(stored == sum(len(b.readings) for b in batches), f"{name}: every reading is new")
        rates[phase] = stored / span
        figures[f"{name}, {phase}: readings committed/s"] = round(stored / span)
        figures[f"{name}, {phase}: commits/s"] = round(len(batches) / span, 1)
        figures[f"{name}, {phase}: readings, commits"] = f"{stored:,}, {len(batches):,}"
        figures[f"{name}, {phase}: CPU this process (cores)"] = round(me, 2)
        if server:
            figures[f"{name}, {phase}: CPU PostgreSQL server (cores)"] = round(srv, 2)
        other = max(0.0, machine - me - srv) / len(os.sched_getaffinity(0))
        figures[f"{name}, {phase}: CPU other processes (share of machine)"] = f"{other:.1%}"
    return rates


async def _backup(
    name: str, store: TelemetryStore, fresh: TelemetryStore, directory: Path, figures: Figures
) -> None:
    t0 = time.perf_counter()
    counts = await dump_telemetry(store, directory)
    t1 = time.perf_counter()
    await restore_telemetry(fresh, directory)
    t2 = time.perf_counter()
    rows = sum(counts.values())
    check((await fresh.counts()) == (await store.counts()), f"{name}: restored as dumped")
    figures[f"{name}: backup rows"] = rows
    figures[f"{name}: dump rows/s"] = round(rows / (t1 - t0))
    figures[f"{name}: restore rows/s (checks, then one transaction)"] = round(rows / (t2 - t1))


@benchmark("telemetry", "TelemetryStore.commit: SQLite (FULL) against PostgreSQL (fsync on)")
async def telemetry(quick: bool = False) -> Figures:
    phases = QUICK_PHASES if quick else PHASES
    sys.path.insert(0, str(ROOT))
    from tests.postgres import PostgresServer

    figures: Figures = {}
    metrics = feeds.metrics()
    with tempfile.TemporaryDirectory(prefix="bench-telemetry-") as tmp:
        sqlite = await SQLiteTelemetryStore.open(Path(tmp) / "t.db", metrics, synchronous="FULL")
        try:
            lite = await _phases("SQLite", sqlite, [], figures, phases)
            restored = await SQLiteTelemetryStore.open(Path(tmp) / "r.db", metrics)
            try:
                await _backup("SQLite", sqlite, restored, Path(tmp) / "sqlite-backup", figures)
            finally:
                await restored.close()
        finally:
            await sqlite.close()
        server = PostgresServer(durable=True)
        server.start()
        try:
            import psycopg

            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench")
                conn.execute("CREATE DATABASE restored")
            pg = await PostgresTelemetryStore.open(server.database_url("bench"), metrics)
            try:
                postgres = await _phases(
                    "PostgreSQL", pg, _server_pids(server.data), figures, phases
                )
                fresh = await PostgresTelemetryStore.open(server.database_url("restored"), metrics)
                try:
                    await _backup("PostgreSQL", pg, fresh, Path(tmp) / "pg-backup", figures)
                finally:
                    await fresh.close()
            finally:
                await pg.close()
        finally:
            server.stop()
    for phase, _, _ in phases:
        figures[f"{phase}: PostgreSQL / SQLite"] = round(postgres[phase] / lite[phase], 2)
    return figures
