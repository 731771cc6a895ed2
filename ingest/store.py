"""The ``TelemetryStore`` port: raw readings, daily rollups, attendance and dead letters."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum

from ingest.model import (
    Attendance,
    Conflict,
    DeadLetter,
    Message,
    Problem,
    Reading,
    Reason,
    SensorInfo,
)

DEFAULT_TZ = "Asia/Shanghai"


class Bucket(StrEnum):
    MIN15 = "15m"
    HOUR = "1h"
    DAY = "1d"


@dataclass(frozen=True, slots=True)
class LetterFilter:
    """Which dead letters: of a reason (``code``), only those not replayed yet (``pending``),
    with alternatives of which one must hold as well (``any_of``; empty: none matches) and one
    that must not (``none_of``)."""

    code: Reason | None = None
    pending: bool = False
    any_of: tuple[LetterFilter, ...] | None = None
    none_of: LetterFilter | None = None


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Raw readings of one sensor and metric aggregated over one bucket (start in local time)."""

    sensor_id: str
    metric: str
    start: dt.datetime
    count: int
    total: float
    minimum: float
    maximum: float
    last: float

    @property
    def mean(self) -> float:
        return self.total / self.count


@dataclass(frozen=True, slots=True)
class DailyRollup:
    """A sensor's metric over one local day. For MEAN metrics ``value`` is the mean."""

    sensor_id: str
    project_code: str | None
    kind: str
    metric: str
    day: dt.date
    value: float
    samples: int


@dataclass(frozen=True, slots=True)
class Headcount:
    """Distinct workers seen at a project's gates on one local day."""

    project_code: str
    day: dt.date
    workers: int


@dataclass(frozen=True, slots=True)
class Latest:
    """A sensor's newest reading of a metric and when ingest last heard from it."""

    sensor_id: str
    project_code: str | None
    kind: str
    metric: str
    ts: dt.datetime
    value: float
    unit: str
    seen_at: dt.datetime


@dataclass(slots=True)
class Batch:
    """Everything one commit writes, all or nothing.

    ``replayed`` are dead-letter ids whose observations are in this batch: they are marked
    replayed in the same transaction, so a replay stores its readings exactly once.
    ``still_failing`` are dead letters that were retried and failed again.
    """

    readings: list[Reading] = field(default_factory=list)
    attendance: list[Attendance] = field(default_factory=list)
    sensors: dict[str, SensorInfo] = field(default_factory=dict)
    dead: list[tuple[Message, Problem]] = field(default_factory=list)
    replayed: list[int] = field(default_factory=list)
    still_failing: list[tuple[int, Problem]] = field(default_factory=list)


@dataclass(slots=True)
class CommitResult:
    stored: list[Reading] = field(default_factory=list)
    # Exact re-sends (same value); a re-send with another value is a conflict, not a duplicate.
    duplicates: int = 0
    conflicts: int = 0
    attendance_stored: list[Attendance] = field(default_factory=list)
    attendance_duplicates: int = 0
    rollups: list[DailyRollup] = field(default_factory=list)
    headcounts: list[Headcount] = field(default_factory=list)
    dead_letter_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TableCounts:
    readings: int
    daily: int
    attendance: int
    dead_letters_pending: int
    dead_letters_replayed: int


# A row as backups see it: columns in the order of ``TABLES``; values are str, int, float, None,
# bytes (``dead_letters.payload`` only) and ISO dates as str (``day``).
Row = tuple[str | int | float | bytes | None, ...]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: type  # str, int, float or bytes; ``day`` columns are str holding an ISO date
    nullable: bool = False
    key: bool = False  # part of the table's primary key


def _cols(*spec: str) -> tuple[Column, ...]:
    # "name:type[?][*]": ? nullable, * primary key
    types: dict[str, type] = {"str": str, "int": int, "float": float, "bytes": bytes}
    out = []
    for item in spec:
        name, kind = item.split(":")
        base = kind.rstrip("?*")
        out.append(Column(name, types[base], "?" in kind, "*" in kind))
    return tuple(out)


# Every table a backup holds, in the order a restore loads them.
TABLES: dict[str, tuple[Column, ...]] = {
    "sensors": _cols("sensor_id:str*", "kind:str", "project_code:str?"),
    "readings": _cols("sensor_id:str*", "metric:str*", "ts_ms:int*", "value:float", "unit:str"),
    "latest": _cols(
        "sensor_id:str*", "metric:str*", "ts_ms:int", "value:float", "unit:str", "seen_ms:int"
    ),
    "daily": _cols("sensor_id:str*", "metric:str*", "day:str*", "value:float", "samples:int"),
    "attendance": _cols(
        "sensor_id:str*", "ts_ms:int*", "worker:str*", "direction:str", "project_code:str?"
    ),
    "headcount": _cols("project_code:str*", "day:str*", "worker:str*"),
    "dead_letters": _cols(
        "id:int*",
        "source:str",
        "payload:bytes",
        "code:str",
        "message:str",
        "arrived_ms:int",
        "attempts:int",
        "replayed_ms:int?",
        "digest:str",
    ),
    "conflicts": _cols(
        "id:int*",
        "sensor_id:str",
        "metric:str",
        "ts_ms:int",
        "stored_value:float",
        "sent_value:float",
        "unit:str",
        "arrived_ms:int",
        "attempts:int",
    ),
}


class Snapshot(ABC):
    """One consistent, read-only view of every table (a backup reads all of them from it)."""

    schema_version: int

    @abstractmethod
    def rows(self, table: str, *, chunk: int = 5000) -> AsyncIterator[list[Row]]:
        """The table's rows in primary-key order, ``chunk`` at a time."""


class TelemetryStore(ABC):
    """Where ingest commits observations and where the API reads series and rollups.

    ``commit`` is one transaction: readings are idempotent on (sensor, timestamp, metric) and
    attendance on (gate, timestamp, worker), so a redelivered message is stored once and counted
    as a duplicate. Rollups are kept in the zone given at construction (Asia/Shanghai by default).
    Calls never block the event loop.
    """

    @abstractmethod
    async def commit(self, batch: Batch) -> CommitResult:
        """Write a batch durably; return what was new."""

    @abstractmethod
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
        """Raw readings in [start, end) bucketed in local time of ``tz``."""

    @abstractmethod
    async def daily(
        self,
        *,
        start: dt.date,
        end: dt.date,
        sensor_ids: Sequence[str] | None = None,
        project_code: str | None = None,
        metric: str | None = None,
    ) -> list[DailyRollup]:
        """Daily rollups for local days in [start, end]."""

    @abstractmethod
    async def headcount(
        self, *, start: dt.date, end: dt.date, project_codes: Sequence[str] | None = None
    ) -> list[Headcount]:
        """Distinct workers per project and local day in [start, end]."""

    @abstractmethod
    async def latest(
        self, *, sensor_ids: Sequence[str] | None = None, project_code: str | None = None
    ) -> list[Latest]:
        """Newest reading per sensor and metric, with the last time each sensor was heard."""

    @abstractmethod
    async def dead_letters(
        self,
        *,
        code: Reason | None = None,
        pending: bool = True,
        ids: Sequence[int] | None = None,
        after_id: int = 0,
        limit: int = 100,
        before_id: int | None = None,
        descending: bool = False,
        match: LetterFilter | None = None,
    ) -> list[DeadLetter]:
        """Dead letters in id order (``descending``: newest first) with ids between
        ``after_id`` and ``before_id`` (both exclusive); ``pending`` only those not replayed
        yet; ``match`` those it selects too."""

    @abstractmethod
    async def conflicts(
        self,
        *,
        after_id: int = 0,
        limit: int = 100,
        before_id: int | None = None,
        descending: bool = False,
    ) -> list[Conflict]:
        """Conflicting re-sends in id order (``descending``: newest first) with ids between
        ``after_id`` and ``before_id`` (exclusive): a reading's key sent again with another
        value."""

    @abstractmethod
    async def pending_dead_letters(self) -> int:
        """How many dead letters wait for a replay (cheap: for status screens that poll)."""

    @abstractmethod
    async def purge(self, before: dt.datetime) -> int:
        """Delete raw readings and attendance older than ``before``; rollups stay."""

    @abstractmethod
    async def counts(self) -> TableCounts:
        """Rows per table, for health checks and tests."""

    @abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]:
        """A read transaction over every table that sees one moment (for backups)."""

    @abstractmethod
    async def load(self, chunks: Iterable[tuple[str, Sequence[Row]]]) -> dict[str, int]:
        """Write backup rows in one transaction, all or nothing; return rows seen per table.

        Idempotent: raw rows (readings, attendance, headcount) already present are kept;
        sensors and daily rollups take the backup's values; ``latest`` keeps the newer reading;
        a dead letter whose id, or whose digest among pending letters, exists is skipped.
        ``chunks`` is consumed inside the transaction, so an error raised while reading it
        rolls everything back.
        """

    @abstractmethod
    async def close(self) -> None:
        """Finish pending work and release the database."""

    @abstractmethod
    def describe(self) -> str:
        """Where the store is, for logs."""
