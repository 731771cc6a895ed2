"""The write path: decode, validate against the sensor registry, commit, publish; dead letters.

``Pipeline.process`` takes raw messages (MQTT or imported rows), commits everything usable and
every dead letter in one transaction, then publishes what was new on the live bus. Callers
acknowledge their messages only after it returns. Bad input never raises: it becomes a dead letter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ingest.bus import Event, LiveBus, ReadingEvent, RollupEvent
from ingest.model import (
    Attendance,
    Counters,
    DeadLetter,
    Message,
    Observation,
    Problem,
    Reading,
    Reason,
    SensorInfo,
)
from ingest.payloads import (
    Decoder,
    PayloadLimits,
    dead_letter_payload,
    decode_guarded,
    route,
    topic_kinds,
)
from ingest.sensors import SensorRegistry
from ingest.store import Batch, CommitResult, TelemetryStore


@dataclass(slots=True)
class ReplayResult:
    replayed: list[int] = field(default_factory=list)
    still_failing: list[tuple[int, Problem]] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0


CommitHook = Callable[[CommitResult, int], None]
# (messages in the batch, seconds the store took, whether it committed): for metrics.
BatchHook = Callable[[int, float, bool], None]


class Pipeline:
    """Everything between a message source and the telemetry store."""

    def __init__(
        self,
        store: TelemetryStore,
        sensors: SensorRegistry,
        decoders: Mapping[str, Decoder],
        *,
        bus: LiveBus | None = None,
        counters: Counters | None = None,
        on_commit: CommitHook | None = None,
        limits: PayloadLimits | None = None,
    ) -> None:
        self.store = store
        self.sensors = sensors
        self.decoders = dict(decoders)
        self.topic_kinds = topic_kinds(self.decoders)
        self.bus = bus
        self.counters = counters or Counters()
        self.on_commit = on_commit
        self.on_batch: BatchHook | None = None
        self.limits = limits or PayloadLimits()

    async def process(self, messages: Sequence[Message], *, live: bool = True) -> CommitResult:
        """Decode, validate and commit one batch; return what was stored. With ``live=False``
        (a backfill of history) nothing goes out on the live bus."""
        return await self._commit(await self.prepare(messages), live=live)

    async def prepare(self, messages: Sequence[Message]) -> Batch:
        """Decode and validate one batch without writing it: a source may prepare the next
        batch while the previous one commits, as long as it commits them in order."""
        batch, _ = await self._prepare(messages, fresh=False)
        self.counters.received += len(messages)
        self.counters.dead_lettered += len(batch.dead)
        for _, problem in batch.dead:
            by = self.counters.by_reason
            by[problem.code] = by.get(problem.code, 0) + 1
        return batch

    async def commit(self, batch: Batch) -> CommitResult:
        """Commit a prepared batch in one transaction and publish what was new."""
        return await self._commit(batch)

    async def commit_observations(
        self,
        observations: Sequence[Observation],
        sensors: Mapping[str, SensorInfo],
        *,
        live: bool = True,
    ) -> CommitResult:
        """Commit observations a connector already validated against ``sensors``; with
        ``live=False`` (a backfill of history) nothing goes out on the live bus."""
        batch = Batch(sensors=dict(sensors))
        for obs in observations:
            (batch.readings if isinstance(obs, Reading) else batch.attendance).append(obs)  # type: ignore[arg-type]
        return await self._commit(batch, live=live)

    async def replay(
        self, *, ids: Sequence[int] | None = None, code: Reason | None = None, limit: int = 1000
    ) -> ReplayResult:
        """Run pending dead letters through the pipeline again, e.g. once a sensor is registered.

        A letter whose observations are now all valid is marked replayed in the same transaction
        that stores them, so replaying twice (or concurrently with redelivery) stores them once.
        """
        letters = await self.store.dead_letters(ids=ids, code=code, pending=True, limit=limit)
        return await self.replay_letters(letters)

    async def replay_letters(self, letters: Sequence[DeadLetter]) -> ReplayResult:
        messages = [
            Message(d.source, d.payload, int(d.arrived_at.timestamp() * 1000)) for d in letters
        ]
        batch, problems = await self._prepare(messages, fresh=True)
        batch.dead = []
        result = ReplayResult()
        for letter, problem in zip(letters, problems, strict=True):
            if problem is None:
                batch.replayed.append(letter.id)
                result.replayed.append(letter.id)
            else:
                batch.still_failing.append((letter.id, problem))
                result.still_failing.append((letter.id, problem))
        committed = await self._commit(batch)
        self.counters.replayed += len(result.replayed)
        result.stored = len(committed.stored) + len(committed.attendance_stored)
        result.duplicates = committed.duplicates + committed.attendance_duplicates
        return result

    async def _prepare(
        self, messages: Sequence[Message], *, fresh: bool
    ) -> tuple[Batch, list[Problem | None]]:
        now = int(time.time() * 1000)
        decoded: list[tuple[list[Observation], list[Problem], Decoder | None]] = []
        wanted: set[str] = set()
        for message in messages:
            target = route(message.source, self.topic_kinds)
            decoder = self.decoders.get(target.decoder) if target else None
            if target is None or decoder is None:
                problem = Problem(Reason.BAD_TOPIC, f"no decoder for {message.source!r}")
                decoded.append(([], [problem], None))
                continue
            observations, problems = decode_guarded(
                decoder, message.payload, target.sensor_id, now, self.limits
            )
            decoded.append((observations, problems, decoder))
            wanted.update(o.sensor_id for o in observations)
            if target.sensor_id is not None:
                wanted.add(target.sensor_id)
        known = await self.sensors.resolve(wanted, fresh=fresh) if wanted else {}
        batch = Batch()
        outcome: list[Problem | None] = []
        for message, (observations, problems, decoder) in zip(messages, decoded, strict=True):
            kind = decoder.kind if decoder is not None else None
            target = route(message.source, self.topic_kinds)
            if target is not None and target.sensor_id is not None and kind is not None:
                refused = _sensor_problem(known.get(target.sensor_id), target.sensor_id, kind)
                if refused is not None:
                    observations, problems = [], [refused, *problems]
            for obs in observations:
                info = known.get(obs.sensor_id)
                refused = _sensor_problem(info, obs.sensor_id, kind)
                if refused is not None:
                    problems.append(refused)
                    continue
                assert info is not None
                batch.sensors[info.id] = info
                if isinstance(obs, Reading):
                    batch.readings.append(obs)
                elif obs.project_code is None and info.project_code is not None:
                    batch.attendance.append(
                        Attendance(
                            obs.sensor_id, obs.ts_ms, obs.worker, obs.direction, info.project_code
                        )
                    )
                else:
                    batch.attendance.append(obs)
            if problems:
                payload, merged = dead_letter_payload(
                    decoder, message.payload, problems, self.limits
                )
                kept = Message(message.source, payload, message.arrived_ms)
                batch.dead.append((kept, merged))
                outcome.append(merged)
            else:
                outcome.append(None)
        return batch, outcome

    async def _commit(self, batch: Batch, *, live: bool = True) -> CommitResult:
        started = time.perf_counter()
        committed_ok = False
        try:
            result = await self.store.commit(batch)
            committed_ok = True
        finally:
            if self.on_batch is not None:
                size = len(batch.readings) + len(batch.attendance) + len(batch.dead)
                self.on_batch(size, time.perf_counter() - started, committed_ok)
        committed = int(time.time() * 1000)
        c = self.counters
        c.readings += len(batch.readings) + len(batch.attendance)
        c.stored += len(result.stored) + len(result.attendance_stored)
        c.duplicate += result.duplicates + result.attendance_duplicates
        c.conflicts += result.conflicts
        c.batches += 1
        c.last_commit_ms = committed
        if live and self.bus is not None and self.bus.active:
            self.bus.publish(_events(result, batch.sensors))
            c.bus_dropped = self.bus.dropped
        if self.on_commit is not None:
            self.on_commit(result, committed)
        return result


def _sensor_problem(info: SensorInfo | None, sensor_id: str, kind: str | None) -> Problem | None:
    if info is None:
        return Problem(Reason.UNKNOWN_SENSOR, f"sensor {sensor_id!r} is not registered")
    if kind is not None and info.kind != kind:
        return Problem(
            Reason.KIND_MISMATCH, f"sensor {sensor_id!r} is a {info.kind} sensor, not {kind}"
        )
    return None


def _events(result: CommitResult, sensors: Mapping[str, SensorInfo]) -> list[Event]:
    events: list[Event] = []
    for r in result.stored:
        info = sensors.get(r.sensor_id)
        kind, project = (info.kind, info.project_code) if info else ("", None)
        events.append(ReadingEvent(kind, r.sensor_id, project, r.metric, r.ts_ms, r.value, r.unit))
    for a in result.attendance_stored:
        events.append(
            ReadingEvent(
                "labor", a.sensor_id, a.project_code, "attendance", a.ts_ms,
                1.0 if a.direction == "in" else 0.0, "event",
            )
        )  # fmt: skip
    for d in result.rollups:
        events.append(
            RollupEvent(d.kind, d.sensor_id, d.project_code, d.metric, d.day, d.value, d.samples)
        )
    for h in result.headcounts:
        events.append(RollupEvent("labor", None, h.project_code, "headcount", h.day, h.workers, 1))
    return events
