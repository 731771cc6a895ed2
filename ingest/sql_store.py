"""What the SQLite and PostgreSQL telemetry adapters share: every read, with the SQL of
``ingest.sql`` in the adapter's ``dialect``; an adapter says only how a query runs
(``_fetch``). Commits are shared the same way, in ``ingest.commit``."""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from ingest import sql
from ingest.buckets import bucketed
from ingest.model import (
    Conflict,
    DeadLetter,
    MetricSpec,
    Reason,
    Rollup,
    SensorInfo,
    from_ms,
)
from ingest.rollups import zone
from ingest.store import (
    DEFAULT_TZ,
    Bucket,
    DailyRollup,
    Headcount,
    Latest,
    LetterFilter,
    SeriesPoint,
    TableCounts,
    TelemetryStore,
)


class SQLTelemetryStore(TelemetryStore):
    """A telemetry store on a SQL database; the adapters subclass it."""

    dialect: ClassVar[sql.Dialect]
    metrics: dict[str, MetricSpec]
    _tz: dt.tzinfo
    _sensors: dict[str, SensorInfo]

    @abstractmethod
    async def _fetch(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row ``query`` returns."""

    # -- reads ---------------------------------------------------------------------------------

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
        start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
        query = sql.series(self.dialect, start_ms, end_ms, sensor_ids, project_code, metric)
        return bucketed(await self._fetch(*query), bucket, zone(tz))

    async def daily(
        self,
        *,
        start: dt.date,
        end: dt.date,
        sensor_ids: Sequence[str] | None = None,
        project_code: str | None = None,
        metric: str | None = None,
    ) -> list[DailyRollup]:
        query = sql.daily(self.dialect, start, end, sensor_ids, project_code, metric)
        out = []
        for sensor, project, kind, m, day, value, samples in await self._fetch(*query):
            spec = self.metrics.get(m)
            if spec is not None and spec.rollup is Rollup.MEAN and samples:
                value /= samples
            day = self.dialect.date(day)
            out.append(DailyRollup(sensor, project, kind or "", m, day, value, samples))
        return out

    async def headcount(
        self, *, start: dt.date, end: dt.date, project_codes: Sequence[str] | None = None
    ) -> list[Headcount]:
        query = sql.headcount(self.dialect, start, end, project_codes)
        return [Headcount(p, self.dialect.date(d), n) for p, d, n in await self._fetch(*query)]

    async def latest(
        self, *, sensor_ids: Sequence[str] | None = None, project_code: str | None = None
    ) -> list[Latest]:
        query = sql.latest(self.dialect, sensor_ids, project_code)
        return [
            Latest(s, p, k or "", m, from_ms(ts), v, u, from_ms(seen))
            for s, p, k, m, ts, v, u, seen in await self._fetch(*query)
        ]

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
        value = None if code is None else code.value
        query = sql.dead_letters(
            self.dialect, value, pending, ids, after_id, limit, before_id, descending, match
        )
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
                *query
            )
        ]

    async def conflicts(
        self,
        *,
        after_id: int = 0,
        limit: int = 100,
        before_id: int | None = None,
        descending: bool = False,
    ) -> list[Conflict]:
        rows = await self._fetch(
            *sql.conflicts(self.dialect, after_id, limit, before_id, descending)
        )
        return [
            Conflict(i, s, m, from_ms(ts), kept, sent, unit, from_ms(arrived), attempts)
            for i, s, m, ts, kept, sent, unit, arrived, attempts in rows
        ]

    async def pending_dead_letters(self) -> int:
        [(n,)] = await self._fetch(sql.PENDING_DEAD_LETTERS)
        return int(n)

    async def counts(self) -> TableCounts:
        [row] = await self._fetch(sql.COUNTS)
        return TableCounts(*(int(v) for v in row))
