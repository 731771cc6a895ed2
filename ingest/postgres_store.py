"""The telemetry store on a PostgreSQL server (TimescaleDB when the server has it).

psycopg 3 with a ``psycopg_pool`` pool of async connections. A commit is one transaction of a
handful of statements whatever the batch size: every table is written with one
``INSERT ... SELECT FROM unnest(<arrays>)`` (the arrays travel in binary), so a batch of 5,000
readings costs the same round trips as one.

Several ingest workers may commit to one database (shared MQTT subscriptions). Rollups of a
sensor's metric depend on the reading before each new one, so commits that hold readings take a
transaction-level advisory lock and read the previous points from ``latest`` inside it, never
from a process-local cache: the rollups stay exact whichever worker a reading reached. Commits
without readings (attendance, dead letters) only use atomic upserts and do not wait for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from ingest import sql
from ingest.commit import Commit, Op, run_async
from ingest.errors import TelemetryUnavailable
from ingest.migrations import SCHEMA_VERSION, STEPS, VERSION_TABLE, newer_than_hub
from ingest.model import MetricSpec, SensorInfo
from ingest.rollups import zone as tz_zone
from ingest.sql_store import SQLTelemetryStore
from ingest.store import DEFAULT_TZ, TABLES, Batch, CommitResult, Row, Snapshot

log = logging.getLogger(__name__)

# Advisory lock keys (database-wide, 64-bit): "telemetry migrations" and "telemetry rollups".
MIGRATION_LOCK = 0x54454C454D_0001
ROLLUP_LOCK = 0x54454C454D_0002
# TimescaleDB chunks of raw readings: one week of epoch milliseconds.
CHUNK_MS = 7 * 86_400_000

# Tables whose restore updates rows: one statement must not name a key twice.
_LOAD_UPDATES = frozenset({"sensors", "latest", "daily"})


def _safe_url(conninfo: str) -> str:
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


async def migrate(conn: AsyncConnection[Any], target: int = SCHEMA_VERSION) -> int:
    """Bring the database to ``target`` (see ``ingest.migrations``); return the version it was at.

    One transaction under an advisory lock: a second process opening the same database waits,
    then finds nothing left to do. ``conn`` must be in autocommit mode.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        await conn.execute(VERSION_TABLE["postgres"])
        row = await (await conn.execute(sql.SCHEMA_VERSION_NOW)).fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise TelemetryUnavailable(newer_than_hub(current))
        now = int(time.time() * 1000)
        for step in STEPS[current:target]:
            for statement in step.postgres:
                await conn.execute(statement)
            if step.version == 1:
                await _hypertable(conn)
            await conn.execute(sql.POSTGRES.text(sql.RECORD_STEP), (step.version, step.name, now))
    return current


async def _hypertable(conn: AsyncConnection[Any]) -> bool:
    """Make ``readings`` a TimescaleDB hypertable if the server has the extension; else keep the
    plain table (its indexes serve the same queries)."""
    row = await (
        await conn.execute(
            "SELECT installed_version FROM pg_available_extensions WHERE name = 'timescaledb'"
        )
    ).fetchone()
    if row is None:
        return False
    try:
        async with conn.transaction():  # a savepoint: a refusal leaves the plain table
            if row[0] is None:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            # A literal bigint: the argument is polymorphic, and must match ts_ms's type.
            await conn.execute(
                "SELECT create_hypertable('readings', 'ts_ms', "
                f"chunk_time_interval => {CHUNK_MS:d}::bigint, create_default_indexes => false)"
            )
    except psycopg.Error as exc:
        log.warning("TimescaleDB is available but refused: %s; readings stay a plain table", exc)
        return False
    return True


async def _is_hypertable(conn: AsyncConnection[Any]) -> bool:
    cur = await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    if await cur.fetchone() is None:
        return False
    cur = await conn.execute(
        "SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'readings'"
    )
    return await cur.fetchone() is not None


class PostgresTelemetryStore(SQLTelemetryStore):
    """PostgreSQL adapter of the telemetry store; open it with ``await ...open(url, metrics)``.

    ``url`` is a libpq URL or conninfo (``postgresql://user@host:5432/db``); a password may come
    from the URL, ``PGPASSWORD`` or ``~/.pgpass``. The tables go in the connection's
    ``search_path`` (``public`` unless ``?options=-csearch_path%3D...`` says otherwise).
    """

    dialect = sql.POSTGRES

    def __init__(
        self,
        url: str,
        metrics: Mapping[str, MetricSpec],
        *,
        tz: str = DEFAULT_TZ,
        pool_size: int = 8,
        connect_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.metrics = dict(metrics)
        self.tz_name = tz
        self._tz = tz_zone(tz)
        self._connect_timeout_s = connect_timeout_s
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max(2, pool_size),
            open=False,
            kwargs={"autocommit": True},
            timeout=connect_timeout_s,
            name="telemetry",
        )
        # Commits from this process run one at a time, as in the SQLite adapter.
        self._commit_lock = asyncio.Lock()
        self._sensors: dict[str, SensorInfo] = {}
        self.hypertable = False
        self._closed = False

    @classmethod
    async def open(
        cls,
        url: str,
        metrics: Mapping[str, MetricSpec],
        *,
        tz: str = DEFAULT_TZ,
        pool_size: int = 8,
        connect_timeout_s: float = 10.0,
    ) -> PostgresTelemetryStore:
        store = cls(url, metrics, tz=tz, pool_size=pool_size, connect_timeout_s=connect_timeout_s)
        try:
            await store._pool.open(wait=True, timeout=connect_timeout_s)
        except psycopg.Error as exc:
            await store._pool.close()
            raise TelemetryUnavailable(
                f"telemetry store {store.describe()}: cannot connect: {exc}"
            ) from exc
        try:
            async with store._pool.connection() as conn:
                await migrate(conn)
                await store._load_sensors(conn)
                store.hypertable = await _is_hypertable(conn)
        except psycopg.Error as exc:
            await store._pool.close()
            raise TelemetryUnavailable(f"telemetry store {store.describe()}: {exc}") from exc
        except BaseException:
            await store._pool.close()
            raise
        return store

    async def _load_sensors(self, conn: AsyncConnection[Any]) -> None:
        cur = await conn.execute(sql.SENSORS)
        self._sensors = {s: SensorInfo(s, k, p) async for s, k, p in cur}

    def describe(self) -> str:
        kind = " (TimescaleDB hypertable)" if self.hypertable else ""
        return _safe_url(self.url) + kind

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        if self._closed:
            raise TelemetryUnavailable("telemetry store is closed")
        try:
            async with self._pool.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise TelemetryUnavailable(f"telemetry store: {exc}") from exc

    async def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._connection() as conn:
            cur = await conn.execute(query, params)
            return await cur.fetchall()

    async def close(self) -> None:
        if self._closed:
            return
        async with self._commit_lock:  # let a commit in progress finish
            self._closed = True
            await self._pool.close()

    # -- commit ----------------------------------------------------------------------------

    async def commit(self, batch: Batch) -> CommitResult:
        async with self._commit_lock, self._connection() as conn:
            known = dict(self._sensors)
            try:
                async with conn.transaction():
                    now = int(time.time() * 1000)
                    if batch.readings:
                        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (ROLLUP_LOCK,))
                    plan = Commit(self.dialect, self.metrics, self._tz, self._sensors, now)
                    return await run_async(plan.plan(batch), lambda op: _execute(conn, op))
            except BaseException:
                self._sensors = known
                raise

    async def purge(self, before: dt.datetime) -> int:
        cutoff = int(before.timestamp() * 1000)
        async with self._connection() as conn, conn.transaction():
            n = 0
            for query in sql.PURGE:
                n += (await conn.execute(self.dialect.text(query), (cutoff,))).rowcount
        return n

    # -- backups ---------------------------------------------------------------------------

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = await (await conn.execute(sql.SCHEMA_VERSION_NOW)).fetchone()
            assert row is not None
            yield _PostgresSnapshot(conn, int(row[0]))

    async def load(self, chunks: Iterable[tuple[str, Sequence[Row]]]) -> dict[str, int]:
        seen = dict.fromkeys(TABLES, 0)
        async with self._commit_lock, self._connection() as conn:
            try:
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(%s)", (ROLLUP_LOCK,))
                    for table, rows in chunks:
                        if not rows:
                            continue
                        if table in _LOAD_UPDATES:
                            keys = [i for i, c in enumerate(TABLES[table]) if c.key]
                            # The last row of a key wins, as it would row by row.
                            rows = list({tuple(r[i] for i in keys): r for r in rows}.values())
                        await conn.execute(
                            sql.render(self.dialect, sql.LOAD[table]), _columns(table, rows)
                        )
                        seen[table] += len(rows)
                    # Restored letters and conflicts keep their ids; new ones come after them.
                    for table in ("dead_letters", "conflicts"):
                        await conn.execute(
                            pgsql.SQL(
                                "SELECT setval(pg_get_serial_sequence({}, 'id'), "
                                "coalesce(max(id), 0) + 1, false) FROM {}"
                            ).format(pgsql.Literal(table), pgsql.Identifier(table))
                        )
            finally:
                await self._load_sensors(conn)
        return seen


async def _execute(conn: AsyncConnection[Any], op: Op) -> list[Any]:
    """One statement of a commit's plan: a batch as typed arrays, or a statement a row."""
    statement, rows = op.statement, op.rows
    if not rows:
        return []
    if op.one_row:
        assert isinstance(statement, sql.Insert)
        return await _insert_each(conn, statement, rows)
    query = sql.render(sql.POSTGRES, statement)
    if isinstance(statement, str):
        out = []
        for row in rows:
            cur = await conn.execute(query, row)
            if cur.description is not None:
                out.extend(await cur.fetchall())
        return out
    cur = await conn.execute(query, [list(c) for c in zip(*rows, strict=True)])
    return await cur.fetchall() if cur.description is not None else []


async def _insert_each(
    conn: AsyncConnection[Any], statement: sql.Insert, rows: Sequence[tuple[Any, ...]]
) -> list[Any]:
    """One ``INSERT ... VALUES`` a row, pipelined; the rows they all return."""
    query = sql.POSTGRES.insert(statement, one_row=True)
    out: list[Any] = []
    async with conn.cursor() as cur:
        await cur.executemany(query, rows, returning=bool(statement.returning))
        while statement.returning:
            out.extend(await cur.fetchall())
            if not cur.nextset():
                break
    return out


def _columns(table: str, rows: Sequence[Row]) -> list[list[Any]]:
    """Rows to one list per column, days as ``date`` (the arrays are typed)."""
    out: list[list[Any]] = [list(col) for col in zip(*rows, strict=True)]
    for i, column in enumerate(TABLES[table]):
        if column.name == "day":
            out[i] = [dt.date.fromisoformat(str(d)) for d in out[i]]
    return out


class _PostgresSnapshot(Snapshot):
    def __init__(self, conn: AsyncConnection[Any], version: int) -> None:
        self._conn = conn
        self.schema_version = version

    async def rows(self, table: str, *, chunk: int = 5000) -> AsyncIterator[list[Row]]:
        columns = TABLES[table]
        query = sql.dump(table)
        days = [i for i, c in enumerate(columns) if c.name == "day"]
        try:
            async with self._conn.cursor(name=f"dump_{table}") as cur:
                await cur.execute(query)
                while rows := await cur.fetchmany(chunk):
                    if days:
                        rows = [
                            tuple(v.isoformat() if i in days else v for i, v in enumerate(r))
                            for r in rows
                        ]
                    yield [tuple(r) for r in rows]
        except psycopg.Error as exc:
            raise TelemetryUnavailable(f"telemetry store: {exc}") from exc
