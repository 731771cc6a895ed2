"""The embedded telemetry store: SQLite in WAL mode, written from one thread, read from another.

Every write goes through a single-thread executor that owns the writing connection, so the event
loop never waits on SQLite and commits are serialized; reads use a second connection in their own
thread, which WAL lets run while a commit is in progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import sqlite3
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from ingest.buckets import ORDER_FREE, bucketed
from ingest.errors import TelemetryUnavailable
from ingest.migrations import (
    RESTORE_CONFLICT,
    SCHEMA_VERSION,
    STEPS,
    VERSION_TABLE,
    newer_than_hub,
)
from ingest.model import (
    Attendance,
    Conflict,
    DeadLetter,
    MetricSpec,
    Reading,
    Reason,
    Rollup,
    SensorInfo,
    from_ms,
)
from ingest.rollups import (
    Point,
    contributions,
    day_start_ms,
    day_total,
    days_touched,
    local_day,
    zone,
)
from ingest.store import (
    DEFAULT_TZ,
    TABLES,
    Batch,
    Bucket,
    CommitResult,
    DailyRollup,
    Headcount,
    Latest,
    Row,
    SeriesPoint,
    Snapshot,
    TableCounts,
    TelemetryStore,
)

T = TypeVar("T")

_INSERT_READING = (
    "INSERT OR IGNORE INTO readings (sensor_id, ts_ms, metric, value, unit) VALUES (?, ?, ?, ?, ?)"
)
_CONFLICT = (
    "INSERT INTO conflicts (sensor_id, metric, ts_ms, stored_value, sent_value, unit, arrived_ms) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sensor_id, metric, ts_ms, sent_value) "
    "DO UPDATE SET attempts = attempts + 1"
)
_ADD_DAILY = (
    "INSERT INTO daily (sensor_id, metric, day, value, samples) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT DO UPDATE SET value = value + excluded.value, "
    "samples = samples + excluded.samples "
    "RETURNING value, samples"
)
_SET_DAILY = (
    "INSERT INTO daily (sensor_id, metric, day, value, samples) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT DO UPDATE SET value = excluded.value, samples = excluded.samples"
)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring a database to ``target`` (see ``ingest.migrations``); return the version it was at.

    One ``BEGIN IMMEDIATE`` transaction: a second process opening the same file waits for it,
    then finds nothing left to do. ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(VERSION_TABLE["sqlite"])
        now = int(time.time() * 1000)
        current = conn.execute("SELECT max(version) FROM telemetry_schema").fetchone()[0]
        if current is None:
            # Files from before the version table kept their version in the header only.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.executemany(
                "INSERT INTO telemetry_schema VALUES (?, ?, ?)",
                [(s.version, s.name, now) for s in STEPS[: min(current, SCHEMA_VERSION)]],
            )
        if current > SCHEMA_VERSION:
            raise TelemetryUnavailable(newer_than_hub(current))
        for step in STEPS[current:target]:
            for statement in step.sqlite:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO telemetry_schema VALUES (?, ?, ?)", (step.version, step.name, now)
            )
        conn.execute(f"PRAGMA user_version = {max(current, target)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return int(current)


def _connect(path: Path, synchronous: str, timeout_s: float = 30.0) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout_s)
    # Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is
    # locked" at once instead of waiting when other connections are opening the same file
    # (processes starting together on a fresh data dir): try again until the timeout.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            time.sleep(0.005)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


class SQLiteTelemetryStore(TelemetryStore):
    """SQLite adapter of the telemetry store; open it with ``await SQLiteTelemetryStore.open``."""

    def __init__(
        self,
        path: Path,
        metrics: Mapping[str, MetricSpec],
        *,
        tz: str = DEFAULT_TZ,
        synchronous: str = "FULL",
    ) -> None:
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA")
        self.path = path
        self.metrics = dict(metrics)
        self.tz_name = tz
        self._tz = zone(tz)
        self._synchronous = synchronous
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="telemetry-write")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="telemetry-read")
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        # Writer-thread cache of the sensor registry. The previous point of each sensor's metric
        # is never cached: other processes may commit to the same file (shared subscriptions).
        self._sensors: dict[str, SensorInfo] = {}
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: Path,
        metrics: Mapping[str, MetricSpec],
        *,
        tz: str = DEFAULT_TZ,
        synchronous: str = "FULL",
    ) -> SQLiteTelemetryStore:
        store = cls(path, metrics, tz=tz, synchronous=synchronous)
        await store._write(store._open_writer)
        await store._read(store._open_reader)
        return store

    def describe(self) -> str:
        return f"sqlite://{self.path}"

    # -- threads ---------------------------------------------------------------------------

    async def _write(self, func: Callable[[], T]) -> T:
        if self._closed:
            raise TelemetryUnavailable("telemetry store is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._writer, func)
        except sqlite3.Error as exc:
            raise TelemetryUnavailable(f"telemetry store: {exc}") from exc

    async def _read(self, func: Callable[[], T]) -> T:
        if self._closed:
            raise TelemetryUnavailable("telemetry store is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._reader, func)
        except sqlite3.Error as exc:
            raise TelemetryUnavailable(f"telemetry store: {exc}") from exc

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(self.path, self._synchronous)
        migrate(conn)
        self._wconn = conn
        for sensor_id, kind, project in conn.execute("SELECT * FROM sensors"):
            self._sensors[sensor_id] = SensorInfo(sensor_id, kind, project)

    def _open_reader(self) -> None:
        self._rconn = _connect(self.path, self._synchronous)
        self._rconn.execute("PRAGMA query_only = 1")

    async def close(self) -> None:
        if self._closed:
            return
        await asyncio.get_running_loop().run_in_executor(self._writer, self._close_writer)
        await asyncio.get_running_loop().run_in_executor(self._reader, self._close_reader)
        self._closed = True
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)

    def _close_writer(self) -> None:
        if self._wconn is not None:
            self._wconn.close()

    def _close_reader(self) -> None:
        if self._rconn is not None:
            self._rconn.close()

    # -- commit ----------------------------------------------------------------------------

    async def commit(self, batch: Batch) -> CommitResult:
        return await self._write(lambda: self._commit(batch))

    def _commit(self, batch: Batch) -> CommitResult:
        conn = self._wconn
        assert conn is not None
        result = CommitResult()
        now = int(time.time() * 1000)
        known = dict(self._sensors)
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._write_sensors(conn, batch.sensors)
            self._write_readings(conn, batch.readings, result, now)
            self._write_attendance(conn, batch.attendance, result, now)
            self._write_dead_letters(conn, batch, result)
            conn.execute("COMMIT")
        except BaseException:
            # SQLite rolls back by itself on some errors (a full disk: SQLITE_FULL); a second
            # ROLLBACK would fail and hide the real error.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # The cache may hold sensors of the rolled-back batch: rebuild it.
            self._sensors = known
            raise
        return result

    def _write_sensors(self, conn: sqlite3.Connection, sensors: Mapping[str, SensorInfo]) -> None:
        changed = [s for s in sensors.values() if self._sensors.get(s.id) != s]
        if changed:
            conn.executemany(
                "INSERT OR REPLACE INTO sensors VALUES (?, ?, ?)",
                [(s.id, s.kind, s.project_code) for s in changed],
            )
            self._sensors.update((s.id, s) for s in changed)

    def _write_readings(
        self, conn: sqlite3.Connection, readings: list[Reading], result: CommitResult, now: int
    ) -> None:
        execute = conn.execute
        stored = result.stored
        for r in readings:
            if execute(_INSERT_READING, (r.sensor_id, r.ts_ms, r.metric, r.value, r.unit)).rowcount:
                stored.append(r)
                continue
            kept = execute(
                "SELECT value FROM readings WHERE sensor_id = ? AND metric = ? AND ts_ms = ?",
                (r.sensor_id, r.metric, r.ts_ms),
            ).fetchone()[0]
            if kept == r.value:
                result.duplicates += 1
            else:
                result.conflicts += 1
                execute(_CONFLICT, (r.sensor_id, r.metric, r.ts_ms, kept, r.value, r.unit, now))
        if not stored:
            return
        tz = self._tz
        deltas: dict[tuple[str, str, dt.date], list[float]] = defaultdict(lambda: [0.0, 0])
        dirty: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
        units: dict[tuple[str, str], str] = {}
        touched: set[tuple[str, str]] = set()
        # Newest point per key as of this transaction: read from ``latest`` once, then folded.
        last: dict[tuple[str, str], Point | None] = {}
        for r in sorted(stored, key=lambda r: (r.sensor_id, r.metric, r.ts_ms)):
            key = (r.sensor_id, r.metric)
            spec = self.metrics.get(r.metric)
            if key in last:
                previous = last[key]
            else:
                previous = last[key] = self._last_point(conn, key)
            point = (r.ts_ms, r.value)
            deltas[(r.sensor_id, r.metric, local_day(r.ts_ms, tz))][1] += 1
            if spec is None:
                pass
            elif previous is None or r.ts_ms > previous[0] or spec.rollup in ORDER_FREE:
                for day, amount in contributions(spec, previous, point, tz):
                    deltas[(r.sensor_id, r.metric, day)][0] += amount
            else:
                dirty[key] |= self._days_around(conn, key, r.ts_ms)
            if previous is None or r.ts_ms > previous[0]:
                last[key] = point
                units[key] = r.unit
                touched.add(key)
        changed: dict[tuple[str, str, dt.date], tuple[float, int]] = {}
        for (sensor, metric, day), (amount, samples) in deltas.items():
            row = execute(_ADD_DAILY, (sensor, metric, day.isoformat(), amount, samples)).fetchone()
            changed[(sensor, metric, day)] = (row[0], row[1])
        for (sensor, metric), days in dirty.items():
            for day in days:
                changed[(sensor, metric, day)] = self._recompute_day(conn, sensor, metric, day)
        for key in touched:
            newest = last[key]
            assert newest is not None
            ts_ms, value = newest
            execute(
                "INSERT OR REPLACE INTO latest VALUES (?, ?, ?, ?, ?, ?)",
                (*key, ts_ms, value, units[key], now),
            )
        result.rollups.extend(
            self._rollup(sensor, metric, day, value, samples)
            for (sensor, metric, day), (value, samples) in changed.items()
        )

    def _last_point(self, conn: sqlite3.Connection, key: tuple[str, str]) -> Point | None:
        # The newest point committed by any writer, read inside this write transaction (BEGIN
        # IMMEDIATE holds the file's write lock, so no other process commits in between):
        # ``latest``, which every commit keeps current. A process-local cache would miss the
        # other workers' commits and integrate demand and registers over overlapping pairs.
        row = conn.execute(
            "SELECT ts_ms, value FROM latest WHERE sensor_id = ? AND metric = ?", key
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def _days_around(self, conn: sqlite3.Connection, key: tuple[str, str], ts: int) -> set[dt.date]:
        # A reading that lands between two stored ones changes the pairs on either side.
        before = conn.execute(
            "SELECT max(ts_ms) FROM readings WHERE sensor_id = ? AND metric = ? AND ts_ms < ?",
            (*key, ts),
        ).fetchone()[0]
        after = conn.execute(
            "SELECT min(ts_ms) FROM readings WHERE sensor_id = ? AND metric = ? AND ts_ms > ?",
            (*key, ts),
        ).fetchone()[0]
        return days_touched(before, ts, after, self._tz)

    def _recompute_day(
        self, conn: sqlite3.Connection, sensor: str, metric: str, day: dt.date
    ) -> tuple[float, int]:
        spec = self.metrics[metric]
        start = day_start_ms(day, self._tz)
        end = day_start_ms(day + dt.timedelta(days=1), self._tz)
        where = "sensor_id = ? AND metric = ?"
        prev = conn.execute(
            f"SELECT ts_ms, value FROM readings WHERE {where} AND ts_ms <= ? "
            "ORDER BY ts_ms DESC LIMIT 1",
            (sensor, metric, start),
        ).fetchone()
        inside = conn.execute(
            f"SELECT ts_ms, value FROM readings WHERE {where} AND ts_ms > ? AND ts_ms <= ? "
            "ORDER BY ts_ms",
            (sensor, metric, start, end),
        ).fetchall()
        nxt = conn.execute(
            f"SELECT ts_ms, value FROM readings WHERE {where} AND ts_ms > ? ORDER BY ts_ms LIMIT 1",
            (sensor, metric, end),
        ).fetchone()
        samples = conn.execute(
            f"SELECT count(*) FROM readings WHERE {where} AND ts_ms >= ? AND ts_ms < ?",
            (sensor, metric, start, end),
        ).fetchone()[0]
        points: list[Point] = [(t, v) for t, v in inside]
        if nxt is not None:
            points.append((nxt[0], nxt[1]))
        previous: Point | None = None if prev is None else (prev[0], prev[1])
        total = day_total(spec, day, previous, points, self._tz)
        conn.execute(_SET_DAILY, (sensor, metric, day.isoformat(), total, samples))
        return total, samples

    def _rollup(
        self, sensor: str, metric: str, day: dt.date, value: float, samples: int
    ) -> DailyRollup:
        info = self._sensors.get(sensor)
        spec = self.metrics.get(metric)
        if spec is not None and spec.rollup is Rollup.MEAN and samples:
            value = value / samples
        return DailyRollup(
            sensor,
            info.project_code if info else None,
            info.kind if info else "",
            metric,
            day,
            value,
            samples,
        )

    def _write_attendance(
        self, conn: sqlite3.Connection, events: list[Attendance], result: CommitResult, now: int
    ) -> None:
        days: set[tuple[str, str]] = set()
        newest: dict[str, Attendance] = {}
        for a in events:
            project = a.project_code or self._project_of(a.sensor_id)
            inserted = conn.execute(
                "INSERT OR IGNORE INTO attendance VALUES (?, ?, ?, ?, ?)",
                (a.sensor_id, a.ts_ms, a.worker, a.direction, project),
            ).rowcount
            if not inserted:
                result.attendance_duplicates += 1
                continue
            result.attendance_stored.append(a)
            if a.sensor_id not in newest or newest[a.sensor_id].ts_ms < a.ts_ms:
                newest[a.sensor_id] = a
            if project is not None:
                day = local_day(a.ts_ms, self._tz).isoformat()
                if conn.execute(
                    "INSERT OR IGNORE INTO headcount VALUES (?, ?, ?)", (project, day, a.worker)
                ).rowcount:
                    days.add((project, day))
        for project, day in sorted(days):
            workers = conn.execute(
                "SELECT count(*) FROM headcount WHERE project_code = ? AND day = ?", (project, day)
            ).fetchone()[0]
            result.headcounts.append(Headcount(project, dt.date.fromisoformat(day), workers))
        for sensor, a in newest.items():
            conn.execute(
                "INSERT INTO latest VALUES (?, 'attendance', ?, ?, 'event', ?) "
                "ON CONFLICT DO UPDATE SET ts_ms = excluded.ts_ms, value = excluded.value, "
                "seen_ms = excluded.seen_ms WHERE excluded.ts_ms > latest.ts_ms",
                (sensor, a.ts_ms, 1.0 if a.direction == "in" else 0.0, now),
            )

    def _project_of(self, sensor_id: str) -> str | None:
        info = self._sensors.get(sensor_id)
        return info.project_code if info else None

    def _write_dead_letters(
        self, conn: sqlite3.Connection, batch: Batch, result: CommitResult
    ) -> None:
        for message, problem in batch.dead:
            digest = hashlib.sha256(message.source.encode() + b"\0" + message.payload).hexdigest()
            row = conn.execute(
                "INSERT INTO dead_letters (source, payload, code, message, arrived_ms, digest) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (digest) WHERE replayed_ms IS NULL "
                "DO UPDATE SET attempts = attempts + 1, code = excluded.code, "
                "message = excluded.message RETURNING id",
                (
                    message.source,
                    message.payload,
                    problem.code,
                    problem.message,
                    message.arrived_ms,
                    digest,
                ),
            ).fetchone()
            result.dead_letter_ids.append(row[0])
        now = int(time.time() * 1000)
        if batch.replayed:
            conn.executemany(
                "UPDATE dead_letters SET replayed_ms = ?, attempts = attempts + 1 "
                "WHERE id = ? AND replayed_ms IS NULL",
                [(now, i) for i in batch.replayed],
            )
        if batch.still_failing:
            conn.executemany(
                "UPDATE dead_letters SET attempts = attempts + 1, code = ?, message = ? "
                "WHERE id = ?",
                [(p.code, p.message, i) for i, p in batch.still_failing],
            )

    # -- reads -----------------------------------------------------------------------------

    def _sensor_filter(
        self, sensor_ids: Sequence[str] | None, project_code: str | None, column: str = "sensor_id"
    ) -> tuple[str, list[Any]]:
        if sensor_ids is not None:
            return f"{column} IN ({','.join('?' * len(sensor_ids))})", list(sensor_ids)
        if project_code is not None:
            return f"{column} IN (SELECT sensor_id FROM sensors WHERE project_code = ?)", [
                project_code
            ]
        return "1", []

    async def series(
        self,
        *,
        start: dt.datetime,
        end: dt.datetime,
        bucket: Bucket,
        sensor_ids: Sequence[str] | None = None,
        project_code: str | None = None,
        metric: str | None = None,
        tz: str = DEFAULT_TZ,
    ) -> list[SeriesPoint]:
        where, params = self._sensor_filter(sensor_ids, project_code)
        sql = (
            f"SELECT sensor_id, metric, ts_ms, value FROM readings WHERE {where} "
            "AND ts_ms >= ? AND ts_ms < ?"
        )
        params += [int(start.timestamp() * 1000), int(end.timestamp() * 1000)]
        if metric is not None:
            sql += " AND metric = ?"
            params.append(metric)
        sql += " ORDER BY sensor_id, metric, ts_ms"

        def run() -> list[SeriesPoint]:
            assert self._rconn is not None
            return bucketed(self._rconn.execute(sql, params), bucket, zone(tz))

        return await self._read(run)

    async def daily(
        self,
        *,
        start: dt.date,
        end: dt.date,
        sensor_ids: Sequence[str] | None = None,
        project_code: str | None = None,
        metric: str | None = None,
    ) -> list[DailyRollup]:
        where, params = self._sensor_filter(sensor_ids, project_code, "d.sensor_id")
        sql = (
            "SELECT d.sensor_id, s.project_code, s.kind, d.metric, d.day, d.value, d.samples "
            f"FROM daily d LEFT JOIN sensors s USING (sensor_id) WHERE {where} "
            "AND d.day >= ? AND d.day <= ?"
        )
        params += [start.isoformat(), end.isoformat()]
        if metric is not None:
            sql += " AND d.metric = ?"
            params.append(metric)
        sql += " ORDER BY d.sensor_id, d.metric, d.day"

        def run() -> list[DailyRollup]:
            assert self._rconn is not None
            out = []
            for sensor, project, kind, m, day, value, samples in self._rconn.execute(sql, params):
                spec = self.metrics.get(m)
                if spec is not None and spec.rollup is Rollup.MEAN and samples:
                    value /= samples
                out.append(
                    DailyRollup(
                        sensor, project, kind or "", m, dt.date.fromisoformat(day), value, samples
                    )
                )
            return out

        return await self._read(run)

    async def headcount(
        self, *, start: dt.date, end: dt.date, project_codes: Sequence[str] | None = None
    ) -> list[Headcount]:
        sql = "SELECT project_code, day, count(*) FROM headcount WHERE day >= ? AND day <= ?"
        params: list[Any] = [start.isoformat(), end.isoformat()]
        if project_codes is not None:
            sql += f" AND project_code IN ({','.join('?' * len(project_codes))})"
            params += list(project_codes)
        sql += " GROUP BY project_code, day ORDER BY project_code, day"

        def run() -> list[Headcount]:
            assert self._rconn is not None
            return [
                Headcount(p, dt.date.fromisoformat(d), n)
                for p, d, n in self._rconn.execute(sql, params)
            ]

        return await self._read(run)

    async def latest(
        self, *, sensor_ids: Sequence[str] | None = None, project_code: str | None = None
    ) -> list[Latest]:
        where, params = self._sensor_filter(sensor_ids, project_code, "l.sensor_id")
        sql = (
            "SELECT l.sensor_id, s.project_code, s.kind, l.metric, l.ts_ms, l.value, l.unit, "
            f"l.seen_ms FROM latest l LEFT JOIN sensors s USING (sensor_id) WHERE {where} "
            "ORDER BY l.sensor_id, l.metric"
        )

        def run() -> list[Latest]:
            assert self._rconn is not None
            return [
                Latest(s, p, k or "", m, from_ms(ts), v, u, from_ms(seen))
                for s, p, k, m, ts, v, u, seen in self._rconn.execute(sql, params)
            ]

        return await self._read(run)

    async def dead_letters(
        self,
        *,
        code: Reason | None = None,
        pending: bool = True,
        ids: Sequence[int] | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[DeadLetter]:
        sql = (
            "SELECT id, source, payload, code, message, arrived_ms, attempts, replayed_ms "
            "FROM dead_letters WHERE id > ?"
        )
        params: list[Any] = [after_id]
        if code is not None:
            sql += " AND code = ?"
            params.append(code)
        if pending:
            sql += " AND replayed_ms IS NULL"
        if ids is not None:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            params += list(ids)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)

        def run() -> list[DeadLetter]:
            assert self._rconn is not None
            return [
                DeadLetter(
                    i,
                    source,
                    bytes(payload),
                    Reason(c),
                    message,
                    from_ms(arrived),
                    attempts,
                    None if replayed is None else from_ms(replayed),
                )
                for i, source, payload, c, message, arrived, attempts, replayed in (
                    self._rconn.execute(sql, params)
                )
            ]

        return await self._read(run)

    async def purge(self, before: dt.datetime) -> int:
        cutoff = int(before.timestamp() * 1000)

        def run() -> int:
            assert self._wconn is not None
            with self._wconn:
                self._wconn.execute("BEGIN IMMEDIATE")
                n = self._wconn.execute("DELETE FROM readings WHERE ts_ms < ?", (cutoff,)).rowcount
                n += self._wconn.execute(
                    "DELETE FROM attendance WHERE ts_ms < ?", (cutoff,)
                ).rowcount
            return n

        return await self._write(run)

    # -- backups ---------------------------------------------------------------------------

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        # Its own connection and thread: one read transaction in WAL mode sees the moment of its
        # first read while commits go on, and API reads on the reader connection stay fresh.
        if self._closed:
            raise TelemetryUnavailable("telemetry store is closed")
        executor = ThreadPoolExecutor(1, thread_name_prefix="telemetry-snapshot")
        loop = asyncio.get_running_loop()

        async def call(func: Callable[[], T]) -> T:
            try:
                return await loop.run_in_executor(executor, func)
            except sqlite3.Error as exc:
                raise TelemetryUnavailable(f"telemetry store: {exc}") from exc

        def begin() -> tuple[sqlite3.Connection, int]:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            conn.execute("BEGIN")
            version = conn.execute("SELECT max(version) FROM telemetry_schema").fetchone()[0]
            return conn, int(version)

        try:
            conn, version = await call(begin)
            try:
                yield _SQLiteSnapshot(conn, version, call)
            finally:
                await call(conn.close)
        finally:
            executor.shutdown(wait=True)

    async def load(self, chunks: Iterable[tuple[str, Sequence[Row]]]) -> dict[str, int]:
        statements = {
            table: f"INSERT INTO {table} ({', '.join(c.name for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) {RESTORE_CONFLICT[table]}"
            for table, columns in TABLES.items()
        }

        def run() -> dict[str, int]:
            conn = self._wconn
            assert conn is not None
            seen = dict.fromkeys(TABLES, 0)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table, rows in chunks:
                    conn.executemany(statements[table], rows)
                    seen[table] += len(rows)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            finally:
                self._sensors = {
                    sensor_id: SensorInfo(sensor_id, kind, project)
                    for sensor_id, kind, project in conn.execute("SELECT * FROM sensors")
                }
            return seen

        return await self._write(run)

    async def conflicts(self, *, after_id: int = 0, limit: int = 100) -> list[Conflict]:
        sql = (
            "SELECT id, sensor_id, metric, ts_ms, stored_value, sent_value, unit, arrived_ms, "
            "attempts FROM conflicts WHERE id > ? ORDER BY id LIMIT ?"
        )

        def run() -> list[Conflict]:
            assert self._rconn is not None
            return [
                Conflict(i, s, m, from_ms(ts), kept, sent, unit, from_ms(arrived), attempts)
                for i, s, m, ts, kept, sent, unit, arrived, attempts in self._rconn.execute(
                    sql, (after_id, limit)
                )
            ]

        return await self._read(run)

    async def pending_dead_letters(self) -> int:
        def run() -> int:
            assert self._rconn is not None
            # Served by the partial index on pending letters, whatever the tables' size.
            sql = "SELECT count(*) FROM dead_letters WHERE replayed_ms IS NULL"
            return int(self._rconn.execute(sql).fetchone()[0])

        return await self._read(run)

    async def counts(self) -> TableCounts:
        def run() -> TableCounts:
            assert self._rconn is not None
            one = self._rconn.execute
            return TableCounts(
                readings=one("SELECT count(*) FROM readings").fetchone()[0],
                daily=one("SELECT count(*) FROM daily").fetchone()[0],
                attendance=one("SELECT count(*) FROM attendance").fetchone()[0],
                dead_letters_pending=one(
                    "SELECT count(*) FROM dead_letters WHERE replayed_ms IS NULL"
                ).fetchone()[0],
                dead_letters_replayed=one(
                    "SELECT count(*) FROM dead_letters WHERE replayed_ms IS NOT NULL"
                ).fetchone()[0],
            )

        return await self._read(run)


class _SQLiteSnapshot(Snapshot):
    def __init__(
        self,
        conn: sqlite3.Connection,
        version: int,
        call: Callable[[Callable[[], Any]], Awaitable[Any]],
    ) -> None:
        self._conn = conn
        self._call = call
        self.schema_version = version

    async def rows(self, table: str, *, chunk: int = 5000) -> AsyncIterator[list[Row]]:
        columns = TABLES[table]
        sql = (
            f"SELECT {', '.join(c.name for c in columns)} FROM {table} "
            f"ORDER BY {', '.join(c.name for c in columns if c.key)}"
        )
        cursor: sqlite3.Cursor = await self._call(lambda: self._conn.execute(sql))
        while True:
            rows: list[Row] = await self._call(lambda: cursor.fetchmany(chunk))
            if not rows:
                return
            yield rows
