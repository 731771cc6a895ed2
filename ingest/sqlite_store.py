"""The embedded telemetry store: SQLite in WAL mode, written from one thread, read from another.

Every write goes through a single-thread executor that owns the writing connection, so the event
loop never waits on SQLite and commits are serialized; reads use a second connection in their own
thread, which WAL lets run while a commit is in progress.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from ingest import sql
from ingest.commit import Commit, Op, run
from ingest.errors import TelemetryUnavailable
from ingest.migrations import SCHEMA_VERSION, STEPS, VERSION_TABLE, newer_than_hub
from ingest.model import MetricSpec, SensorInfo
from ingest.rollups import zone
from ingest.sql_store import SQLTelemetryStore
from ingest.store import DEFAULT_TZ, TABLES, Batch, CommitResult, Row, Snapshot

T = TypeVar("T")


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring a database to ``target`` (see ``ingest.migrations``); return the version it was at.

    One ``BEGIN IMMEDIATE`` transaction: a second process opening the same file waits for it,
    then finds nothing left to do. ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(VERSION_TABLE["sqlite"])
        now = int(time.time() * 1000)
        current = conn.execute(sql.SCHEMA_VERSION_NOW).fetchone()[0]
        if current is None:
            # Files from before the version table kept their version in the header only.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.executemany(
                sql.RECORD_STEP,
                [(s.version, s.name, now) for s in STEPS[: min(current, SCHEMA_VERSION)]],
            )
        if current > SCHEMA_VERSION:
            raise TelemetryUnavailable(newer_than_hub(current))
        for step in STEPS[current:target]:
            for statement in step.sqlite:
                conn.execute(statement)
            conn.execute(sql.RECORD_STEP, (step.version, step.name, now))
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


def _execute(conn: sqlite3.Connection, op: Op) -> list[Any]:
    """One statement of a commit's plan, row by row; the rows it returns."""
    statement, rows = op.statement, op.rows
    if isinstance(statement, sql.Insert) and not statement.returning:
        conn.executemany(sql.render(sql.SQLITE, statement), rows)
        return []
    if isinstance(statement, sql.Insert) and statement.conflict == "ON CONFLICT DO NOTHING":
        # What RETURNING would give is the row itself, where one was inserted: its rowcount
        # says so at half the cost of a RETURNING statement.
        query = sql.SQLITE.insert(statement, returning=False)
        picks = [statement.columns.index(c) for c in statement.returning]
        return [tuple(row[i] for i in picks) for row in rows if conn.execute(query, row).rowcount]
    query = sql.render(sql.SQLITE, statement)
    return [out for row in rows for out in conn.execute(query, row)]


class SQLiteTelemetryStore(SQLTelemetryStore):
    """SQLite adapter of the telemetry store; open it with ``await SQLiteTelemetryStore.open``."""

    dialect = sql.SQLITE

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
        for sensor_id, kind, project in conn.execute(sql.SENSORS):
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
        now = int(time.time() * 1000)
        known = dict(self._sensors)
        plan = Commit(self.dialect, self.metrics, self._tz, self._sensors, now).plan(batch)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = run(plan, lambda op: _execute(conn, op))
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

    # -- reads -----------------------------------------------------------------------------

    async def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        def run() -> list[Any]:
            assert self._rconn is not None
            return self._rconn.execute(query, params).fetchall()

        return await self._read(run)

    async def purge(self, before: dt.datetime) -> int:
        cutoff = int(before.timestamp() * 1000)

        def run() -> int:
            assert self._wconn is not None
            with self._wconn:
                self._wconn.execute("BEGIN IMMEDIATE")
                return sum(self._wconn.execute(q, (cutoff,)).rowcount for q in sql.PURGE)

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
            version = conn.execute(sql.SCHEMA_VERSION_NOW).fetchone()[0]
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
        statements = {table: self.dialect.insert(ins) for table, ins in sql.LOAD.items()}

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
                    for sensor_id, kind, project in conn.execute(sql.SENSORS)
                }
            return seen

        return await self._write(run)


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
        query = sql.dump(table)
        cursor: sqlite3.Cursor = await self._call(lambda: self._conn.execute(query))
        while True:
            rows: list[Row] = await self._call(lambda: cursor.fetchmany(chunk))
            if not rows:
                return
            yield rows
