"""One commit of a batch, written once for both SQL adapters as a plan of statements.

``Commit.plan`` is a generator: it yields each ``Op`` (a statement of ``ingest.sql`` and its
rows of parameters) and is sent back the rows the statement returned. The adapter runs the plan
inside its transaction (``run`` on SQLite's writer thread, ``run_async`` on a PostgreSQL
connection) and says only how an ``Op`` reaches its database: row by row, or one statement per
batch of typed arrays (see ``ingest.sql.Dialect``). The plan itself does no I/O, so idempotency,
conflicts, rollups, headcounts and dead letters are the same code on both databases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingest import sql
from ingest.model import Attendance, MetricSpec, Reading, Rollup, SensorInfo
from ingest.rollups import Point, day_start_ms, day_total, days_touched, fold, local_day
from ingest.store import Batch, CommitResult, DailyRollup, Headcount

DayKey = tuple[str, str, dt.date]  # (sensor_id, metric, day)


@dataclass(frozen=True, slots=True)
class Op:
    statement: sql.Insert | sql.Lookup | str
    rows: Sequence[tuple[Any, ...]]
    # One statement per row on every database: a dead letter seen twice in a batch counts twice.
    one_row: bool = False


type Plan[T] = Generator[Op, list[Any], T]


def run[T](plan: Plan[T], execute: Callable[[Op], list[Any]]) -> T:
    """Run ``plan``, each ``Op`` through ``execute``; return what it returns."""
    try:
        op = next(plan)
        while True:
            op = plan.send(execute(op))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async[T](plan: Plan[T], execute: Callable[[Op], Awaitable[list[Any]]]) -> T:
    try:
        op = next(plan)
        while True:
            op = plan.send(await execute(op))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class Commit:
    """The statements of one batch's commit, against the adapter's sensor cache (updated with
    the batch's sensors; the adapter restores it when the transaction fails)."""

    def __init__(
        self,
        dialect: sql.Dialect,
        metrics: Mapping[str, MetricSpec],
        tz: dt.tzinfo,
        sensors: dict[str, SensorInfo],
        now: int,
    ) -> None:
        self.dialect = dialect
        self.metrics = metrics
        self.tz = tz
        self.sensors = sensors
        self.now = now
        self.result = CommitResult()

    def plan(self, batch: Batch) -> Plan[CommitResult]:
        yield from self._sensors(batch.sensors)
        if batch.readings:
            yield from self._readings(batch.readings)
        if batch.attendance:
            yield from self._attendance(batch.attendance)
        yield from self._dead_letters(batch)
        return self.result

    def _sensors(self, sensors: Mapping[str, SensorInfo]) -> Plan[None]:
        changed = [s for s in sensors.values() if self.sensors.get(s.id) != s]
        if changed:
            yield Op(sql.SET_SENSOR, [(s.id, s.kind, s.project_code) for s in changed])
            self.sensors.update((s.id, s) for s in changed)

    # -- readings --------------------------------------------------------------------------

    def _readings(self, readings: list[Reading]) -> Plan[None]:
        rows = [(r.sensor_id, r.ts_ms, r.metric, r.value, r.unit) for r in readings]
        new = set(map(tuple, (yield Op(sql.INSERT_READING, rows))))
        stored = self.result.stored
        again: list[Reading] = []
        for r in readings:  # in batch order; a key twice in one batch was stored once
            key = (r.sensor_id, r.metric, r.ts_ms)
            if key in new:
                new.discard(key)
                stored.append(r)
            else:
                again.append(r)
        if again:
            yield from self._resends(again)
        if stored:
            yield from self._roll_up(stored)

    def _resends(self, again: list[Reading]) -> Plan[None]:
        """Readings whose key was stored already: exact duplicates, or conflicts (another
        value), which are kept beside the stored reading."""
        keys = [(r.sensor_id, r.metric, r.ts_ms) for r in again]
        kept = {(s, m, t): v for s, m, t, v in (yield Op(sql.KEPT_READING, keys))}
        conflicts = []
        for r in again:
            value = kept[(r.sensor_id, r.metric, r.ts_ms)]
            if value == r.value:
                self.result.duplicates += 1
                continue
            self.result.conflicts += 1
            conflicts.append((r.sensor_id, r.metric, r.ts_ms, value, r.value, r.unit, self.now))
        if conflicts and self.dialect.arrays:
            # One row per distinct sent value: one statement may not update a row twice.
            conflicts = list({(c[0], c[1], c[2], c[4]): c for c in conflicts}.values())
        if conflicts:
            yield Op(sql.ADD_CONFLICT, conflicts)

    def _roll_up(self, stored: list[Reading]) -> Plan[None]:
        # The newest point of each key as committed by any writer, read inside this write
        # transaction, which holds the lock every commit with readings takes (SQLite: BEGIN
        # IMMEDIATE; PostgreSQL: an advisory lock): a process-local cache would miss the other
        # workers' commits and integrate demand and registers over overlapping pairs.
        keys = sorted({(r.sensor_id, r.metric) for r in stored})
        last = {(s, m): (t, v) for s, m, t, v in (yield Op(sql.LAST_POINT, keys))}
        folded = fold(stored, last, self.metrics, self.tz)
        day = self.dialect.day
        amounts = [(s, m, day(d), a, int(n)) for (s, m, d), (a, n) in folded.amounts.items()]
        changed: dict[DayKey, tuple[float, int]] = {
            (s, m, self.dialect.date(d)): (v, n)
            for s, m, d, v, n in (yield Op(sql.ADD_DAILY, amounts))
        }
        if folded.late:
            yield from self._recompute(folded.late, changed)
        if folded.newest:
            latest = [(*k, ts, v, unit, self.now) for k, ((ts, v), unit) in folded.newest.items()]
            yield Op(sql.SET_LATEST, latest)
        self.result.rollups.extend(
            self._rollup(sensor, metric, day, value, samples)
            for (sensor, metric, day), (value, samples) in changed.items()
        )

    def _recompute(
        self, late: list[tuple[tuple[str, str], int]], changed: dict[DayKey, tuple[float, int]]
    ) -> Plan[None]:
        """Days whose pairs of readings a late reading changed, recomputed from raw readings."""
        around = [(*key, ts, *key, ts) for key, ts in late]
        dirty: dict[tuple[str, str], set[dt.date]] = {}
        for (key, ts), (before, after) in zip(
            late, (yield Op(sql.DAYS_AROUND, around)), strict=True
        ):
            dirty.setdefault(key, set()).update(days_touched(before, ts, after, self.tz))
        for (sensor, metric), days in dirty.items():
            for d in sorted(days):
                changed[(sensor, metric, d)] = yield from self._recompute_day(sensor, metric, d)

    def _recompute_day(self, sensor: str, metric: str, day: dt.date) -> Plan[tuple[float, int]]:
        start = day_start_ms(day, self.tz)
        end = day_start_ms(day + dt.timedelta(days=1), self.tz)
        params = sql.recompute_day_params(sensor, metric, start, end)
        previous: Point | None = None
        points: list[Point] = []
        samples = 0
        for part, ts, value in (yield Op(sql.RECOMPUTE_DAY, [params])):
            if part == 0:
                previous = (ts, value)
            elif part in (1, 2):
                points.append((ts, value))
            else:
                samples = int(ts)
        total = day_total(self.metrics[metric], day, previous, points, self.tz)
        yield Op(sql.SET_DAILY, [(sensor, metric, self.dialect.day(day), total, samples)])
        return total, samples

    def _rollup(
        self, sensor: str, metric: str, day: dt.date, value: float, samples: int
    ) -> DailyRollup:
        info = self.sensors.get(sensor)
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

    # -- attendance ------------------------------------------------------------------------

    def _attendance(self, events: list[Attendance]) -> Plan[None]:
        projects = [a.project_code or self._project_of(a.sensor_id) for a in events]
        rows = [
            (a.sensor_id, a.ts_ms, a.worker, a.direction, p)
            for a, p in zip(events, projects, strict=True)
        ]
        new = set(map(tuple, (yield Op(sql.INSERT_ATTENDANCE, rows))))
        newest: dict[str, Attendance] = {}
        seen: list[tuple[str, str | dt.date, str]] = []
        for a, project in zip(events, projects, strict=True):
            key = (a.sensor_id, a.ts_ms, a.worker)
            if key not in new:
                self.result.attendance_duplicates += 1
                continue
            new.discard(key)
            self.result.attendance_stored.append(a)
            if a.sensor_id not in newest or newest[a.sensor_id].ts_ms < a.ts_ms:
                newest[a.sensor_id] = a
            if project is not None:
                seen.append((project, self.dialect.day(local_day(a.ts_ms, self.tz)), a.worker))
        if seen:
            yield from self._headcounts(seen)
        if newest:
            gates = [
                (g, "attendance", a.ts_ms, 1.0 if a.direction == "in" else 0.0, "event", self.now)
                for g, a in sorted(newest.items())
            ]
            yield Op(sql.SET_GATE_LATEST, gates)

    def _headcounts(self, seen: list[tuple[str, str | dt.date, str]]) -> Plan[None]:
        """Workers seen on a project's day, and that day's headcount where one was new."""
        days = sorted({(p, d) for p, d in (yield Op(sql.INSERT_HEADCOUNT, seen))})
        if days:
            self.result.headcounts.extend(
                Headcount(p, self.dialect.date(d), n)
                for p, d, n in (yield Op(sql.HEADCOUNT_OF, days))
            )

    def _project_of(self, sensor_id: str) -> str | None:
        info = self.sensors.get(sensor_id)
        return info.project_code if info else None

    # -- dead letters ----------------------------------------------------------------------

    def _dead_letters(self, batch: Batch) -> Plan[None]:
        if batch.dead:
            letters = [
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
            ids = yield Op(sql.ADD_DEAD_LETTER, letters, one_row=True)
            self.result.dead_letter_ids.extend(int(i) for (i,) in ids)
        now = int(time.time() * 1000)
        if batch.replayed:
            yield Op(sql.REPLAYED, [(now, i) for i in batch.replayed])
        if batch.still_failing:
            failing = [(p.code.value, p.message, i) for i, p in batch.still_failing]
            yield Op(sql.STILL_FAILING, failing)
