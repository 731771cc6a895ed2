"""The telemetry store's SQL, written once for SQLite and PostgreSQL.

Every statement below is in the subset both databases accept (``ON CONFLICT ... DO UPDATE``
with the target row named by its table, ``RETURNING``, scalar subqueries), with ``?`` for
parameters. ``Dialect`` is the one small table of what differs:

- the placeholder (``?`` or psycopg's ``%s``) and the literal for "true";
- how a list parameter is matched (``IN (?, ?, ...)`` or ``= ANY(%s::text[])``);
- days, stored as ISO text in SQLite and as ``date`` in PostgreSQL;
- how a batch travels: SQLite runs an ``Insert`` or a ``Lookup`` once per row (in-process, a
  row costs microseconds); PostgreSQL sends the whole batch in one statement as typed arrays
  (``unnest``, in binary), so a commit costs a handful of round trips whatever its size.

The schema's DDL is in ``ingest.migrations``, one list of steps in both dialects side by side:
applied steps are history and stay as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ingest.migrations import RESTORE_CONFLICT
from ingest.store import TABLES, LetterFilter


@dataclass(frozen=True, slots=True)
class Insert:
    """Rows into some columns of a table, with what to do on a key already there."""

    table: str
    columns: tuple[str, ...]
    conflict: str
    returning: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lookup:
    """Rows of ``table`` for a list of keys: the key columns, then ``columns``. ``grouped``: one
    row per key, ``columns`` being aggregates."""

    table: str
    keys: tuple[str, ...]
    columns: tuple[str, ...]
    grouped: bool = False


# Array element types in PostgreSQL, by column name (a name has one type in every table).
_BY_TYPE = {str: "text", int: "int8", float: "float8", bytes: "bytea"}
_BY_NAME = {"day": "date", "samples": "int4", "attempts": "int4"}
_TYPED = {(c.name, _BY_NAME.get(c.name, _BY_TYPE[c.type])) for cs in TABLES.values() for c in cs}
ARRAY_TYPES = dict(_TYPED)
assert len(ARRAY_TYPES) == len(_TYPED), "a column name has one type in every table"


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # as in ``ingest.migrations``: "sqlite" or "postgres"
    param: str
    true: str
    # A batch as one statement over typed arrays (PostgreSQL); else one statement per row.
    arrays: bool
    # Days as ISO text (SQLite) or as ``date`` (PostgreSQL).
    days_as_text: bool

    def text(self, query: str) -> str:
        """``query`` with this dialect's placeholders."""
        return query if self.param == "?" else query.replace("?", self.param)

    def insert(self, ins: Insert, *, one_row: bool = False, returning: bool = True) -> str:
        """The statement for one row (``VALUES``), or for a batch of column arrays."""
        names = ", ".join(ins.columns)
        if self.arrays and not one_row:
            arrays = ", ".join(f"%b::{ARRAY_TYPES[c]}[]" for c in ins.columns)
            rows = f"SELECT * FROM unnest({arrays})"
        else:
            rows = f"VALUES ({', '.join('?' * len(ins.columns))})"
        tail = f" RETURNING {', '.join(ins.returning)}" if returning and ins.returning else ""
        return self.text(f"INSERT INTO {ins.table} ({names}) {rows} {ins.conflict}{tail}")

    def lookup(self, lk: Lookup) -> str:
        """The statement for one key (``WHERE``), or for a batch of key arrays (a join)."""
        keys = ", ".join(lk.keys)
        select = f"SELECT {keys}, {', '.join(lk.columns)} FROM {lk.table}"
        if self.arrays:
            arrays = ", ".join(f"%b::{ARRAY_TYPES[k]}[]" for k in lk.keys)
            query = f"{select} JOIN unnest({arrays}) AS k({keys}) USING ({keys})"
        else:
            query = f"{select} WHERE {' AND '.join(f'{k} = ?' for k in lk.keys)}"
        if lk.grouped:
            query += f" GROUP BY {keys} ORDER BY {keys}"
        return self.text(query)

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``."""
        if self.arrays:
            return f"{column} = ANY(?::{ARRAY_TYPES[column.rpartition('.')[2]]}[])", [list(values)]
        return f"{column} IN ({','.join('?' * len(values))})", list(values)

    def day(self, day: dt.date) -> str | dt.date:
        return day.isoformat() if self.days_as_text else day

    def date(self, value: str | dt.date) -> dt.date:
        return dt.date.fromisoformat(value) if isinstance(value, str) else value


SQLITE = Dialect("sqlite", "?", "1", arrays=False, days_as_text=True)
POSTGRES = Dialect("postgres", "%s", "TRUE", arrays=True, days_as_text=False)

# -- schema versions -----------------------------------------------------------------------

SCHEMA_VERSION_NOW = "SELECT max(version) FROM telemetry_schema"
RECORD_STEP = "INSERT INTO telemetry_schema VALUES (?, ?, ?)"

# -- the write path ------------------------------------------------------------------------

SENSORS = "SELECT sensor_id, kind, project_code FROM sensors"
SET_SENSOR = Insert("sensors", ("sensor_id", "kind", "project_code"), RESTORE_CONFLICT["sensors"])
INSERT_READING = Insert(
    "readings",
    ("sensor_id", "ts_ms", "metric", "value", "unit"),
    "ON CONFLICT DO NOTHING",
    returning=("sensor_id", "metric", "ts_ms"),
)
# The stored value of a reading whose key was sent again.
KEPT_READING = Lookup("readings", ("sensor_id", "metric", "ts_ms"), ("value",))
ADD_CONFLICT = Insert(
    "conflicts",
    ("sensor_id", "metric", "ts_ms", "stored_value", "sent_value", "unit", "arrived_ms"),
    "ON CONFLICT (sensor_id, metric, ts_ms, sent_value) DO UPDATE SET "
    "attempts = conflicts.attempts + 1",
)
# The newest point of a sensor's metric, as every commit keeps it.
LAST_POINT = Lookup("latest", ("sensor_id", "metric"), ("ts_ms", "value"))
ADD_DAILY = Insert(
    "daily",
    ("sensor_id", "metric", "day", "value", "samples"),
    "ON CONFLICT (sensor_id, metric, day) DO UPDATE SET value = daily.value + excluded.value, "
    "samples = daily.samples + excluded.samples",
    returning=("sensor_id", "metric", "day", "value", "samples"),
)
SET_DAILY = Insert(
    "daily", ("sensor_id", "metric", "day", "value", "samples"), RESTORE_CONFLICT["daily"]
)
SET_LATEST = Insert(
    "latest",
    ("sensor_id", "metric", "ts_ms", "value", "unit", "seen_ms"),
    "ON CONFLICT (sensor_id, metric) DO UPDATE SET ts_ms = excluded.ts_ms, "
    "value = excluded.value, unit = excluded.unit, seen_ms = excluded.seen_ms",
)
# A reading that lands between two stored ones: the stored times on either side (sensor,
# metric, ts, sensor, metric, ts).
DAYS_AROUND = (
    "SELECT (SELECT max(ts_ms) FROM readings WHERE sensor_id = ? AND metric = ? AND ts_ms < ?), "
    "(SELECT min(ts_ms) FROM readings WHERE sensor_id = ? AND metric = ? AND ts_ms > ?)"
)
_IN_DAY = "FROM readings WHERE sensor_id = ? AND metric = ?"
# The points one day's rollup is recomputed from, with parts 0: the last point at or before the
# day's start, 1: those in the day, 2: the first after it, 3: (samples, 0).
RECOMPUTE_DAY = (
    f"SELECT * FROM (SELECT 0 AS part, ts_ms, value {_IN_DAY} AND ts_ms <= ? "
    "ORDER BY ts_ms DESC LIMIT 1) AS p0 "
    f"UNION ALL SELECT * FROM (SELECT 1, ts_ms, value {_IN_DAY} AND ts_ms > ? AND ts_ms <= ?) "
    "AS p1 "
    f"UNION ALL SELECT * FROM (SELECT 2, ts_ms, value {_IN_DAY} AND ts_ms > ? "
    "ORDER BY ts_ms LIMIT 1) AS p2 "
    f"UNION ALL SELECT 3, count(*), 0 {_IN_DAY} AND ts_ms >= ? AND ts_ms < ? "
    "ORDER BY 1, 2"
)


def recompute_day_params(sensor: str, metric: str, start: int, end: int) -> tuple[Any, ...]:
    s, m = sensor, metric
    return (s, m, start, s, m, start, end, s, m, end, s, m, start, end)


INSERT_ATTENDANCE = Insert(
    "attendance",
    ("sensor_id", "ts_ms", "worker", "direction", "project_code"),
    "ON CONFLICT DO NOTHING",
    returning=("sensor_id", "ts_ms", "worker"),
)
INSERT_HEADCOUNT = Insert(
    "headcount",
    ("project_code", "day", "worker"),
    "ON CONFLICT DO NOTHING",
    returning=("project_code", "day"),
)
HEADCOUNT_OF = Lookup("headcount", ("project_code", "day"), ("count(*)",), grouped=True)
# A gate's newest pass, as the ``attendance`` metric of ``latest`` (1 in, 0 out).
SET_GATE_LATEST = Insert(
    "latest",
    ("sensor_id", "metric", "ts_ms", "value", "unit", "seen_ms"),
    "ON CONFLICT (sensor_id, metric) DO UPDATE SET ts_ms = excluded.ts_ms, "
    "value = excluded.value, seen_ms = excluded.seen_ms WHERE excluded.ts_ms > latest.ts_ms",
)
ADD_DEAD_LETTER = Insert(
    "dead_letters",
    ("source", "payload", "code", "message", "arrived_ms", "digest"),
    "ON CONFLICT (digest) WHERE replayed_ms IS NULL DO UPDATE SET "
    "attempts = dead_letters.attempts + 1, code = excluded.code, message = excluded.message",
    returning=("id",),
)
REPLAYED = (
    "UPDATE dead_letters SET replayed_ms = ?, attempts = attempts + 1 "
    "WHERE id = ? AND replayed_ms IS NULL"
)
STILL_FAILING = (
    "UPDATE dead_letters SET attempts = attempts + 1, code = ?, message = ? WHERE id = ?"
)
PURGE = ("DELETE FROM readings WHERE ts_ms < ?", "DELETE FROM attendance WHERE ts_ms < ?")

# -- reads -----------------------------------------------------------------------------------

Query = tuple[str, list[Any]]


def sensor_filter(
    d: Dialect, sensor_ids: Sequence[str] | None, project_code: str | None, column: str
) -> Query:
    if sensor_ids is not None:
        return d.any_of(column, sensor_ids)
    if project_code is not None:
        return f"{column} IN (SELECT sensor_id FROM sensors WHERE project_code = ?)", [project_code]
    return d.true, []


def series(
    d: Dialect,
    start_ms: int,
    end_ms: int,
    sensor_ids: Sequence[str] | None,
    project_code: str | None,
    metric: str | None,
) -> Query:
    """(sensor, metric, ts_ms, value) rows in [start, end), as ``ingest.buckets`` wants them."""
    where, params = sensor_filter(d, sensor_ids, project_code, "sensor_id")
    query = (
        f"SELECT sensor_id, metric, ts_ms, value FROM readings WHERE {where} "
        "AND ts_ms >= ? AND ts_ms < ?"
    )
    params += [start_ms, end_ms]
    if metric is not None:
        query += " AND metric = ?"
        params.append(metric)
    return d.text(query + " ORDER BY sensor_id, metric, ts_ms"), params


def daily(
    d: Dialect,
    start: dt.date,
    end: dt.date,
    sensor_ids: Sequence[str] | None,
    project_code: str | None,
    metric: str | None,
) -> Query:
    where, params = sensor_filter(d, sensor_ids, project_code, "d.sensor_id")
    query = (
        "SELECT d.sensor_id, s.project_code, s.kind, d.metric, d.day, d.value, d.samples "
        f"FROM daily d LEFT JOIN sensors s USING (sensor_id) WHERE {where} "
        "AND d.day >= ? AND d.day <= ?"
    )
    params += [d.day(start), d.day(end)]
    if metric is not None:
        query += " AND d.metric = ?"
        params.append(metric)
    return d.text(query + " ORDER BY d.sensor_id, d.metric, d.day"), params


def headcount(
    d: Dialect, start: dt.date, end: dt.date, project_codes: Sequence[str] | None
) -> Query:
    query = "SELECT project_code, day, count(*) FROM headcount WHERE day >= ? AND day <= ?"
    params: list[Any] = [d.day(start), d.day(end)]
    if project_codes is not None:
        where, codes = d.any_of("project_code", project_codes)
        query += f" AND {where}"
        params += codes
    return d.text(query + " GROUP BY project_code, day ORDER BY project_code, day"), params


def latest(d: Dialect, sensor_ids: Sequence[str] | None, project_code: str | None) -> Query:
    where, params = sensor_filter(d, sensor_ids, project_code, "l.sensor_id")
    query = (
        "SELECT l.sensor_id, s.project_code, s.kind, l.metric, l.ts_ms, l.value, l.unit, "
        f"l.seen_ms FROM latest l LEFT JOIN sensors s USING (sensor_id) WHERE {where} "
        "ORDER BY l.sensor_id, l.metric"
    )
    return d.text(query), params


def dead_letters(
    d: Dialect,
    code: str | None,
    pending: bool,
    ids: Sequence[int] | None,
    after_id: int,
    limit: int,
    before_id: int | None = None,
    descending: bool = False,
    match: LetterFilter | None = None,
) -> Query:
    query = (
        "SELECT id, source, payload, code, message, arrived_ms, attempts, replayed_ms "
        "FROM dead_letters WHERE id > ?"
    )
    params: list[Any] = [after_id]
    if before_id is not None:
        query += " AND id < ?"
        params.append(before_id)
    if code is not None:
        query += " AND code = ?"
        params.append(code)
    if pending:
        query += " AND replayed_ms IS NULL"
    if ids is not None:
        where, values = d.any_of("id", ids)
        query += f" AND {where}"
        params += values
    if match is not None:
        condition, values = letter_condition(match)
        query += f" AND {condition}"
        params += values
    params.append(limit)
    order = " ORDER BY id DESC LIMIT ?" if descending else " ORDER BY id LIMIT ?"
    return d.text(query + order), params


def letter_condition(match: LetterFilter) -> Query:
    """The SQL condition a ``LetterFilter`` puts on a dead letter, its values as parameters:
    the text follows the filter's shape alone, never its values."""
    parts: list[str] = []
    params: list[Any] = []
    if match.code is not None:
        parts.append("code = ?")
        params.append(match.code.value)
    if match.pending:
        parts.append("replayed_ms IS NULL")
    if match.any_of is not None:
        alternatives = []
        for alt in match.any_of:
            condition, values = letter_condition(alt)
            alternatives.append(condition)
            params += values
        # An OR of no alternative matches nothing, as an empty disjunction.
        parts.append("(" + " OR ".join(alternatives) + ")" if alternatives else "1 = 0")
    if match.none_of is not None:
        condition, values = letter_condition(match.none_of)
        parts.append(f"NOT {condition}")
        params += values
    return "(" + (" AND ".join(parts) if parts else "1 = 1") + ")", params


def conflicts(
    d: Dialect, after_id: int, limit: int, before_id: int | None, descending: bool
) -> Query:
    query = (
        "SELECT id, sensor_id, metric, ts_ms, stored_value, sent_value, unit, arrived_ms, "
        "attempts FROM conflicts WHERE id > ?"
    )
    params: list[Any] = [after_id]
    if before_id is not None:
        query += " AND id < ?"
        params.append(before_id)
    params.append(limit)
    order = " ORDER BY id DESC LIMIT ?" if descending else " ORDER BY id LIMIT ?"
    return d.text(query + order), params


# Served by the partial index on pending letters, whatever the tables' size.
PENDING_DEAD_LETTERS = "SELECT count(*) FROM dead_letters WHERE replayed_ms IS NULL"
COUNTS = (
    "SELECT (SELECT count(*) FROM readings), (SELECT count(*) FROM daily), "
    "(SELECT count(*) FROM attendance), "
    "(SELECT count(*) FROM dead_letters WHERE replayed_ms IS NULL), "
    "(SELECT count(*) FROM dead_letters WHERE replayed_ms IS NOT NULL)"
)

# -- backups ---------------------------------------------------------------------------------


def dump(table: str) -> str:
    """Every row of ``table`` in primary-key order, columns as in ``TABLES``."""
    columns = TABLES[table]
    return (
        f"SELECT {', '.join(c.name for c in columns)} FROM {table} "
        f"ORDER BY {', '.join(c.name for c in columns if c.key)}"
    )


LOAD = {
    table: Insert(table, tuple(c.name for c in columns), RESTORE_CONFLICT[table])
    for table, columns in TABLES.items()
}


@lru_cache(maxsize=128)
def render(d: Dialect, statement: Insert | Lookup | str) -> str:
    """``statement`` in dialect ``d`` (a batch form where ``d`` sends batches as arrays)."""
    if isinstance(statement, Insert):
        return d.insert(statement)
    if isinstance(statement, Lookup):
        return d.lookup(statement)
    return d.text(statement)
