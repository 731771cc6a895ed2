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
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

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
from ingest.rollups import Point, contributions, day_start_ms, day_total, days_touched, local_day
from ingest.rollups import zone as tz_zone
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

log = logging.getLogger(__name__)

# Advisory lock keys (database-wide, 64-bit): "telemetry migrations" and "telemetry rollups".
MIGRATION_LOCK = 0x54454C454D_0001
ROLLUP_LOCK = 0x54454C454D_0002
# TimescaleDB chunks of raw readings: one week of epoch milliseconds.
CHUNK_MS = 7 * 86_400_000

_PG_TYPES: dict[str, dict[str, str]] = {
    "sensors": {"sensor_id": "text", "kind": "text", "project_code": "text"},
    "readings": {
        "sensor_id": "text",
        "metric": "text",
        "ts_ms": "int8",
        "value": "float8",
        "unit": "text",
    },
    "latest": {
        "sensor_id": "text",
        "metric": "text",
        "ts_ms": "int8",
        "value": "float8",
        "unit": "text",
        "seen_ms": "int8",
    },
    "daily": {
        "sensor_id": "text",
        "metric": "text",
        "day": "date",
        "value": "float8",
        "samples": "int4",
    },
    "attendance": {
        "sensor_id": "text",
        "ts_ms": "int8",
        "worker": "text",
        "direction": "text",
        "project_code": "text",
    },
    "headcount": {"project_code": "text", "day": "date", "worker": "text"},
    "dead_letters": {
        "id": "int8",
        "source": "text",
        "payload": "bytea",
        "code": "text",
        "message": "text",
        "arrived_ms": "int8",
        "attempts": "int4",
        "replayed_ms": "int8",
        "digest": "text",
    },
    "conflicts": {
        "id": "int8",
        "sensor_id": "text",
        "metric": "text",
        "ts_ms": "int8",
        "stored_value": "float8",
        "sent_value": "float8",
        "unit": "text",
        "arrived_ms": "int8",
        "attempts": "int4",
    },
}
assert {t: tuple(c) for t, c in _PG_TYPES.items()} == {
    t: tuple(c.name for c in cols) for t, cols in TABLES.items()
}


def _insert(table: str, columns: Sequence[str], tail: str = "") -> sql.Composed:
    """``INSERT INTO table (cols) SELECT * FROM unnest(%b::type[], ...) tail``."""
    types = _PG_TYPES[table]
    return sql.SQL("INSERT INTO {} ({}) SELECT * FROM unnest({}) {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(types[c])) for c in columns),
        sql.SQL(tail),
    )


_INSERT_READINGS = _insert(
    "readings",
    ("sensor_id", "ts_ms", "metric", "value", "unit"),
    "ON CONFLICT DO NOTHING RETURNING sensor_id, metric, ts_ms",
)
_ADD_CONFLICTS = _insert(
    "conflicts",
    ("sensor_id", "metric", "ts_ms", "stored_value", "sent_value", "unit", "arrived_ms"),
    "ON CONFLICT (sensor_id, metric, ts_ms, sent_value) DO UPDATE SET "
    "attempts = conflicts.attempts + 1",
)
_ADD_DAILY = _insert(
    "daily",
    ("sensor_id", "metric", "day", "value", "samples"),
    "ON CONFLICT (sensor_id, metric, day) DO UPDATE SET value = daily.value + excluded.value, "
    "samples = daily.samples + excluded.samples "
    "RETURNING sensor_id, metric, day, value, samples",
)
_SET_LATEST = _insert(
    "latest",
    ("sensor_id", "metric", "ts_ms", "value", "unit", "seen_ms"),
    "ON CONFLICT (sensor_id, metric) DO UPDATE SET ts_ms = excluded.ts_ms, "
    "value = excluded.value, unit = excluded.unit, seen_ms = excluded.seen_ms",
)
_SET_SENSORS = _insert(
    "sensors",
    ("sensor_id", "kind", "project_code"),
    "ON CONFLICT (sensor_id) DO UPDATE SET kind = excluded.kind, "
    "project_code = excluded.project_code",
)
_INSERT_ATTENDANCE = _insert(
    "attendance",
    ("sensor_id", "ts_ms", "worker", "direction", "project_code"),
    "ON CONFLICT DO NOTHING RETURNING sensor_id, ts_ms, worker",
)
_INSERT_HEADCOUNT = _insert(
    "headcount",
    ("project_code", "day", "worker"),
    "ON CONFLICT DO NOTHING RETURNING project_code, day",
)
_SET_GATE_LATEST = _insert(
    "latest",
    ("sensor_id", "metric", "ts_ms", "value", "unit", "seen_ms"),
    "ON CONFLICT (sensor_id, metric) DO UPDATE SET ts_ms = excluded.ts_ms, "
    "value = excluded.value, seen_ms = excluded.seen_ms WHERE excluded.ts_ms > latest.ts_ms",
)
_LOAD = {
    table: _insert(table, tuple(c.name for c in cols), RESTORE_CONFLICT[table])
    for table, cols in TABLES.items()
}
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
        row = await (await conn.execute("SELECT max(version) FROM telemetry_schema")).fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise TelemetryUnavailable(newer_than_hub(current))
        now = int(time.time() * 1000)
        for step in STEPS[current:target]:
            for statement in step.postgres:
                await conn.execute(statement)
            if step.version == 1:
                await _hypertable(conn)
            await conn.execute(
                "INSERT INTO telemetry_schema VALUES (%s, %s, %s)", (step.version, step.name, now)
            )
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


class PostgresTelemetryStore(TelemetryStore):
    """PostgreSQL adapter of the telemetry store; open it with ``await ...open(url, metrics)``.

    ``url`` is a libpq URL or conninfo (``postgresql://user@host:5432/db``); a password may come
    from the URL, ``PGPASSWORD`` or ``~/.pgpass``. The tables go in the connection's
    ``search_path`` (``public`` unless ``?options=-csearch_path%3D...`` says otherwise).
    """

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
        cur = await conn.execute("SELECT sensor_id, kind, project_code FROM sensors")
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

    async def _fetch(self, query: Any, params: Sequence[Any] | None = None) -> list[Any]:
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
                    result = CommitResult()
                    now = int(time.time() * 1000)
                    if batch.readings:
                        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (ROLLUP_LOCK,))
                    await self._write_sensors(conn, batch.sensors)
                    await self._write_readings(conn, batch.readings, result, now)
                    await self._write_attendance(conn, batch.attendance, result, now)
                    await self._write_dead_letters(conn, batch, result)
            except BaseException:
                self._sensors = known
                raise
            return result

    async def _write_sensors(
        self, conn: AsyncConnection[Any], sensors: Mapping[str, SensorInfo]
    ) -> None:
        changed = [s for s in sensors.values() if self._sensors.get(s.id) != s]
        if changed:
            await conn.execute(
                _SET_SENSORS,
                (
                    [s.id for s in changed],
                    [s.kind for s in changed],
                    [s.project_code for s in changed],
                ),
            )
            self._sensors.update((s.id, s) for s in changed)

    async def _write_readings(
        self, conn: AsyncConnection[Any], readings: list[Reading], result: CommitResult, now: int
    ) -> None:
        if not readings:
            return
        cur = await conn.execute(
            _INSERT_READINGS,
            (
                [r.sensor_id for r in readings],
                [r.ts_ms for r in readings],
                [r.metric for r in readings],
                [r.value for r in readings],
                [r.unit for r in readings],
            ),
        )
        new = {(s, m, ts) for s, m, ts in await cur.fetchall()}
        stored = result.stored
        again: list[Reading] = []
        for r in readings:  # in batch order; a key twice in one batch was stored once
            key = (r.sensor_id, r.metric, r.ts_ms)
            if key in new:
                new.discard(key)
                stored.append(r)
            else:
                again.append(r)
        if again:
            await self._sort_resends(conn, again, result, now)
        if not stored:
            return
        keys = sorted({(r.sensor_id, r.metric) for r in stored})
        cur = await conn.execute(
            "SELECT l.sensor_id, l.metric, l.ts_ms, l.value FROM latest l "
            "JOIN unnest(%b::text[], %b::text[]) AS k(sensor_id, metric) "
            "USING (sensor_id, metric)",
            ([k[0] for k in keys], [k[1] for k in keys]),
        )
        last: dict[tuple[str, str], Point] = {(s, m): (t, v) for s, m, t, v in await cur.fetchall()}
        tz = self._tz
        deltas: dict[tuple[str, str, dt.date], list[float]] = defaultdict(lambda: [0.0, 0])
        dirty: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
        units: dict[tuple[str, str], str] = {}
        for r in sorted(stored, key=lambda r: (r.sensor_id, r.metric, r.ts_ms)):
            key2 = (r.sensor_id, r.metric)
            spec = self.metrics.get(r.metric)
            previous = last.get(key2)
            point = (r.ts_ms, r.value)
            deltas[(r.sensor_id, r.metric, local_day(r.ts_ms, tz))][1] += 1
            if spec is None:
                pass
            elif previous is None or r.ts_ms > previous[0] or spec.rollup in ORDER_FREE:
                for day, amount in contributions(spec, previous, point, tz):
                    deltas[(r.sensor_id, r.metric, day)][0] += amount
            else:
                dirty[key2] |= await self._days_around(conn, key2, r.ts_ms)
            if previous is None or r.ts_ms > previous[0]:
                last[key2] = point
                units[key2] = r.unit
        changed: dict[tuple[str, str, dt.date], tuple[float, int]] = {}
        items = list(deltas.items())
        cur = await conn.execute(
            _ADD_DAILY,
            (
                [k[0] for k, _ in items],
                [k[1] for k, _ in items],
                [k[2] for k, _ in items],
                [v[0] for _, v in items],
                [int(v[1]) for _, v in items],
            ),
        )
        for sensor, metric, day, value, samples in await cur.fetchall():
            changed[(sensor, metric, day)] = (value, samples)
        for (sensor, metric), days in dirty.items():
            for day in sorted(days):
                changed[(sensor, metric, day)] = await self._recompute_day(
                    conn, sensor, metric, day
                )
        if units:
            touched = sorted(units)
            await conn.execute(
                _SET_LATEST,
                (
                    [k[0] for k in touched],
                    [k[1] for k in touched],
                    [last[k][0] for k in touched],
                    [last[k][1] for k in touched],
                    [units[k] for k in touched],
                    [now] * len(touched),
                ),
            )
        result.rollups.extend(
            self._rollup(sensor, metric, day, value, samples)
            for (sensor, metric, day), (value, samples) in changed.items()
        )

    async def _sort_resends(
        self, conn: AsyncConnection[Any], again: list[Reading], result: CommitResult, now: int
    ) -> None:
        """Readings whose key was stored already: exact duplicates, or conflicts (another
        value), which are kept beside the stored reading."""
        cur = await conn.execute(
            "SELECT r.sensor_id, r.metric, r.ts_ms, r.value FROM readings r "
            "JOIN unnest(%b::text[], %b::text[], %b::int8[]) AS k(sensor_id, metric, ts_ms) "
            "USING (sensor_id, metric, ts_ms)",
            (
                [r.sensor_id for r in again],
                [r.metric for r in again],
                [r.ts_ms for r in again],
            ),
        )
        kept = {(s, m, t): v for s, m, t, v in await cur.fetchall()}
        # One row per distinct sent value (one statement may not update a row twice).
        conflicts: dict[tuple[str, str, int, float], tuple[float, str]] = {}
        for r in again:
            value = kept[(r.sensor_id, r.metric, r.ts_ms)]
            if value == r.value:
                result.duplicates += 1
                continue
            result.conflicts += 1
            conflicts[(r.sensor_id, r.metric, r.ts_ms, r.value)] = (value, r.unit)
        if conflicts:
            rows = list(conflicts.items())
            await conn.execute(
                _ADD_CONFLICTS,
                (
                    [k[0] for k, _ in rows],
                    [k[1] for k, _ in rows],
                    [k[2] for k, _ in rows],
                    [v[0] for _, v in rows],
                    [k[3] for k, _ in rows],
                    [v[1] for _, v in rows],
                    [now] * len(rows),
                ),
            )

    async def _days_around(
        self, conn: AsyncConnection[Any], key: tuple[str, str], ts: int
    ) -> set[dt.date]:
        cur = await conn.execute(
            "SELECT (SELECT max(ts_ms) FROM readings WHERE sensor_id = %(s)s AND metric = %(m)s "
            "AND ts_ms < %(t)s), (SELECT min(ts_ms) FROM readings WHERE sensor_id = %(s)s "
            "AND metric = %(m)s AND ts_ms > %(t)s)",
            {"s": key[0], "m": key[1], "t": ts},
        )
        row = await cur.fetchone()
        assert row is not None
        return days_touched(row[0], ts, row[1], self._tz)

    async def _recompute_day(
        self, conn: AsyncConnection[Any], sensor: str, metric: str, day: dt.date
    ) -> tuple[float, int]:
        spec = self.metrics[metric]
        p = {
            "s": sensor,
            "m": metric,
            "a": day_start_ms(day, self._tz),
            "b": day_start_ms(day + dt.timedelta(days=1), self._tz),
        }
        where = "sensor_id = %(s)s AND metric = %(m)s"
        cur = await conn.execute(
            f"(SELECT 0 AS part, ts_ms, value FROM readings WHERE {where} AND ts_ms <= %(a)s "
            "ORDER BY ts_ms DESC LIMIT 1) "
            f"UNION ALL (SELECT 1, ts_ms, value FROM readings WHERE {where} AND ts_ms > %(a)s "
            "AND ts_ms <= %(b)s ORDER BY ts_ms) "
            f"UNION ALL (SELECT 2, ts_ms, value FROM readings WHERE {where} AND ts_ms > %(b)s "
            "ORDER BY ts_ms LIMIT 1) "
            f"UNION ALL (SELECT 3, count(*), 0 FROM readings WHERE {where} AND ts_ms >= %(a)s "
            "AND ts_ms < %(b)s) ORDER BY 1, 2",
            p,
        )
        previous: Point | None = None
        points: list[Point] = []
        samples = 0
        for part, ts, value in await cur.fetchall():
            if part == 0:
                previous = (ts, value)
            elif part in (1, 2):
                points.append((ts, value))
            else:
                samples = int(ts)
        total = day_total(spec, day, previous, points, self._tz)
        await conn.execute(
            "INSERT INTO daily (sensor_id, metric, day, value, samples) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sensor_id, metric, day) "
            "DO UPDATE SET value = excluded.value, samples = excluded.samples",
            (sensor, metric, day, total, samples),
        )
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

    async def _write_attendance(
        self,
        conn: AsyncConnection[Any],
        events: list[Attendance],
        result: CommitResult,
        now: int,
    ) -> None:
        if not events:
            return
        projects = [a.project_code or self._project_of(a.sensor_id) for a in events]
        cur = await conn.execute(
            _INSERT_ATTENDANCE,
            (
                [a.sensor_id for a in events],
                [a.ts_ms for a in events],
                [a.worker for a in events],
                [a.direction for a in events],
                projects,
            ),
        )
        new = {(s, ts, w) for s, ts, w in await cur.fetchall()}
        newest: dict[str, Attendance] = {}
        seen: list[tuple[str, dt.date, str]] = []
        for a, project in zip(events, projects, strict=True):
            key = (a.sensor_id, a.ts_ms, a.worker)
            if key not in new:
                result.attendance_duplicates += 1
                continue
            new.discard(key)
            result.attendance_stored.append(a)
            if a.sensor_id not in newest or newest[a.sensor_id].ts_ms < a.ts_ms:
                newest[a.sensor_id] = a
            if project is not None:
                seen.append((project, local_day(a.ts_ms, self._tz), a.worker))
        if seen:
            cur = await conn.execute(
                _INSERT_HEADCOUNT,
                ([s[0] for s in seen], [s[1] for s in seen], [s[2] for s in seen]),
            )
            days = sorted({(p, d) for p, d in await cur.fetchall()})
            if days:
                cur = await conn.execute(
                    "SELECT h.project_code, h.day, count(*) FROM headcount h "
                    "JOIN unnest(%b::text[], %b::date[]) AS k(project_code, day) "
                    "USING (project_code, day) GROUP BY 1, 2 ORDER BY 1, 2",
                    ([d[0] for d in days], [d[1] for d in days]),
                )
                result.headcounts.extend(Headcount(p, d, n) for p, d, n in await cur.fetchall())
        if newest:
            gates = sorted(newest)
            await conn.execute(
                _SET_GATE_LATEST,
                (
                    gates,
                    ["attendance"] * len(gates),
                    [newest[g].ts_ms for g in gates],
                    [1.0 if newest[g].direction == "in" else 0.0 for g in gates],
                    ["event"] * len(gates),
                    [now] * len(gates),
                ),
            )

    def _project_of(self, sensor_id: str) -> str | None:
        info = self._sensors.get(sensor_id)
        return info.project_code if info else None

    async def _write_dead_letters(
        self, conn: AsyncConnection[Any], batch: Batch, result: CommitResult
    ) -> None:
        if batch.dead:
            params = [
                (
                    message.source,
                    message.payload,
                    problem.code.value,
                    problem.message,
                    message.arrived_ms,
                    hashlib.sha256(message.source.encode() + b"\0" + message.payload).hexdigest(),
                )
                for message, problem in batch.dead
            ]
            async with conn.cursor() as cur:
                # One statement per letter: a letter seen twice in one batch counts twice.
                await cur.executemany(
                    "INSERT INTO dead_letters (source, payload, code, message, arrived_ms, "
                    "digest) VALUES (%s, %b, %s, %s, %s, %s) "
                    "ON CONFLICT (digest) WHERE replayed_ms IS NULL DO UPDATE SET "
                    "attempts = dead_letters.attempts + 1, code = excluded.code, "
                    "message = excluded.message RETURNING id",
                    params,
                    returning=True,
                )
                while True:
                    row = await cur.fetchone()
                    assert row is not None
                    result.dead_letter_ids.append(int(row[0]))
                    if not cur.nextset():
                        break
        now = int(time.time() * 1000)
        async with conn.cursor() as cur:
            if batch.replayed:
                await cur.executemany(
                    "UPDATE dead_letters SET replayed_ms = %s, attempts = attempts + 1 "
                    "WHERE id = %s AND replayed_ms IS NULL",
                    [(now, i) for i in batch.replayed],
                )
            if batch.still_failing:
                await cur.executemany(
                    "UPDATE dead_letters SET attempts = attempts + 1, code = %s, message = %s "
                    "WHERE id = %s",
                    [(p.code.value, p.message, i) for i, p in batch.still_failing],
                )

    # -- reads -----------------------------------------------------------------------------

    @staticmethod
    def _sensor_filter(
        sensor_ids: Sequence[str] | None, project_code: str | None, column: str = "sensor_id"
    ) -> tuple[str, list[Any]]:
        if sensor_ids is not None:
            return f"{column} = ANY(%s::text[])", [list(sensor_ids)]
        if project_code is not None:
            return f"{column} IN (SELECT sensor_id FROM sensors WHERE project_code = %s)", [
                project_code
            ]
        return "TRUE", []

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
        query = (
            f"SELECT sensor_id, metric, ts_ms, value FROM readings WHERE {where} "
            "AND ts_ms >= %s AND ts_ms < %s"
        )
        params += [int(start.timestamp() * 1000), int(end.timestamp() * 1000)]
        if metric is not None:
            query += " AND metric = %s"
            params.append(metric)
        query += " ORDER BY sensor_id, metric, ts_ms"
        rows = await self._fetch(query, params)
        return bucketed(rows, bucket, tz_zone(tz))

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
        query = (
            "SELECT d.sensor_id, s.project_code, s.kind, d.metric, d.day, d.value, d.samples "
            f"FROM daily d LEFT JOIN sensors s USING (sensor_id) WHERE {where} "
            "AND d.day >= %s AND d.day <= %s"
        )
        params += [start, end]
        if metric is not None:
            query += " AND d.metric = %s"
            params.append(metric)
        query += " ORDER BY d.sensor_id, d.metric, d.day"
        out = []
        for sensor, project, kind, m, day, value, samples in await self._fetch(query, params):
            spec = self.metrics.get(m)
            if spec is not None and spec.rollup is Rollup.MEAN and samples:
                value /= samples
            out.append(DailyRollup(sensor, project, kind or "", m, day, value, samples))
        return out

    async def headcount(
        self, *, start: dt.date, end: dt.date, project_codes: Sequence[str] | None = None
    ) -> list[Headcount]:
        query = "SELECT project_code, day, count(*) FROM headcount WHERE day >= %s AND day <= %s"
        params: list[Any] = [start, end]
        if project_codes is not None:
            query += " AND project_code = ANY(%s::text[])"
            params.append(list(project_codes))
        query += " GROUP BY project_code, day ORDER BY project_code, day"
        return [Headcount(p, d, n) for p, d, n in await self._fetch(query, params)]

    async def latest(
        self, *, sensor_ids: Sequence[str] | None = None, project_code: str | None = None
    ) -> list[Latest]:
        where, params = self._sensor_filter(sensor_ids, project_code, "l.sensor_id")
        query = (
            "SELECT l.sensor_id, s.project_code, s.kind, l.metric, l.ts_ms, l.value, l.unit, "
            f"l.seen_ms FROM latest l LEFT JOIN sensors s USING (sensor_id) WHERE {where} "
            "ORDER BY l.sensor_id, l.metric"
        )
        return [
            Latest(s, p, k or "", m, from_ms(ts), v, u, from_ms(seen))
            for s, p, k, m, ts, v, u, seen in await self._fetch(query, params)
        ]

    async def dead_letters(
        self,
        *,
        code: Reason | None = None,
        pending: bool = True,
        ids: Sequence[int] | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[DeadLetter]:
        query = (
            "SELECT id, source, payload, code, message, arrived_ms, attempts, replayed_ms "
            "FROM dead_letters WHERE id > %s"
        )
        params: list[Any] = [after_id]
        if code is not None:
            query += " AND code = %s"
            params.append(code.value)
        if pending:
            query += " AND replayed_ms IS NULL"
        if ids is not None:
            query += " AND id = ANY(%s::int8[])"
            params.append(list(ids))
        query += " ORDER BY id LIMIT %s"
        params.append(limit)
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
            for i, source, payload, c, message, arrived, attempts, replayed in await self._fetch(
                query, params
            )
        ]

    async def purge(self, before: dt.datetime) -> int:
        cutoff = int(before.timestamp() * 1000)
        async with self._connection() as conn, conn.transaction():
            n = (await conn.execute("DELETE FROM readings WHERE ts_ms < %s", (cutoff,))).rowcount
            n += (await conn.execute("DELETE FROM attendance WHERE ts_ms < %s", (cutoff,))).rowcount
        return n

    async def conflicts(self, *, after_id: int = 0, limit: int = 100) -> list[Conflict]:
        rows = await self._fetch(
            "SELECT id, sensor_id, metric, ts_ms, stored_value, sent_value, unit, arrived_ms, "
            "attempts FROM conflicts WHERE id > %s ORDER BY id LIMIT %s",
            (after_id, limit),
        )
        return [
            Conflict(i, s, m, from_ms(ts), kept, sent, unit, from_ms(arrived), attempts)
            for i, s, m, ts, kept, sent, unit, arrived, attempts in rows
        ]

    async def pending_dead_letters(self) -> int:
        [(n,)] = await self._fetch("SELECT count(*) FROM dead_letters WHERE replayed_ms IS NULL")
        return int(n)

    async def counts(self) -> TableCounts:
        [row] = await self._fetch(
            "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM daily), "
            "(SELECT count(*) FROM attendance), "
            "(SELECT count(*) FROM dead_letters WHERE replayed_ms IS NULL), "
            "(SELECT count(*) FROM dead_letters WHERE replayed_ms IS NOT NULL)"
        )
        return TableCounts(*(int(v) for v in row))

    # -- backups ---------------------------------------------------------------------------

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Snapshot]:
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            row = await (await conn.execute("SELECT max(version) FROM telemetry_schema")).fetchone()
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
                        await conn.execute(_LOAD[table], _columns(table, rows))
                        seen[table] += len(rows)
                    # Restored letters and conflicts keep their ids; new ones come after them.
                    for table in ("dead_letters", "conflicts"):
                        await conn.execute(
                            sql.SQL(
                                "SELECT setval(pg_get_serial_sequence({}, 'id'), "
                                "coalesce(max(id), 0) + 1, false) FROM {}"
                            ).format(sql.Literal(table), sql.Identifier(table))
                        )
            finally:
                await self._load_sensors(conn)
        return seen


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
        query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
            sql.Identifier(table),
            sql.SQL(", ").join(sql.Identifier(c.name) for c in columns if c.key),
        )
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
