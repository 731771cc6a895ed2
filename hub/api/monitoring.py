"""Monitoring in GraphQL: a project's series, daily rollups and sensor status; dead letters and
their replay; ingest counters; and the live ``monitoringFeed`` subscription.

Readings come from the telemetry store (``Context.telemetry``); which sensors exist and which
project each watches comes from the graph. A sensor is ONLINE while its newest reading is younger
than its inactivity timeout (the sensor's ``staleAfterS``, else
``HUB_TELEMETRY_INACTIVITY_TIMEOUT_S``), STALE after that, and NO_DATA when ingest has never
stored a reading from it. A camera reports while it has no picture, so its newest
``camera_health`` decides among ONLINE, OFFLINE (no picture) and DEGRADED (a picture that
cannot be trusted). The newest reading's own timestamp decides, not when it was delivered:
a gateway flushing an hour-old backlog does not make a dead meter look alive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from connectors import labor, power
from connectors.feeds import FEEDS
from connectors.spec import DailyTotal
from graph_schema.errors import InvalidInput
from graph_schema.statements.monitoring import PROJECTS_IN_REGION, SENSORS_OF_PROJECTS
from hub.api import lists
from hub.api.access import MONITORING_READERS, WRITERS, allow
from hub.api.alerts import link, project_link, sensor_link
from hub.api.context import Context
from hub.api.enums import SensorKind, SortDirection
from hub.api.inputs import _DIRECTION, _NOT, _OR
from hub.api.logic import check, combined
from hub.api.paging import decode_global_id, key_of, window
from hub.api.relay import _W, After, Before, Edge, Node, NodeLookup, PageInfo
from hub.roles import Role
from ingest.bus import Event, EventFilter, ReadingEvent
from ingest.errors import TelemetryUnavailable
from ingest.model import Conflict, Reason
from ingest.rollups import zone
from ingest.store import Bucket, Latest, LetterFilter

if TYPE_CHECKING:
    from hub.api.entities.sensor import Sensor
    from hub.telemetry import Telemetry

Ctx = Info[Context, None]
SensorRef = Annotated["Sensor", strawberry.lazy("hub.api.entities.sensor")]

# Dead letters keep raw payloads: monitoring staff and operators read them, others do not.
DEAD_LETTER_READERS = frozenset({Role.MONITOR, Role.OPERATOR, Role.ADMIN})
MAX_WINDOW_DAYS = 400
MAX_BUCKETS = 20_000  # per sensor and metric: 15-minute buckets over about 200 days
BASELINE_DAYS = 90
MAX_DEAD_LETTERS_PAGE = 500
_NO_PICTURE = frozenset({1, 8})  # camera_health: offline, damaged


def telemetry_of(info: Ctx) -> Telemetry:
    telemetry = info.context.telemetry
    if telemetry is None:
        raise TelemetryUnavailable("the telemetry store is not open")
    return telemetry


# --- sensor status ---------------------------------------------------------------------------


@strawberry.enum(description="Whether a sensor is reporting.")
class SensorStatus(Enum):
    ONLINE = strawberry.enum_value("online", description="Newest reading within its timeout.")
    STALE = strawberry.enum_value("stale", description="Silent for longer than its timeout.")
    NO_DATA = strawberry.enum_value("no_data", description="No reading stored yet.")
    OFFLINE = strawberry.enum_value(
        "offline",
        description="Cameras: reporting, and its newest health says no picture (offline, or a "
        "damaged file or stream).",
    )
    DEGRADED = strawberry.enum_value(
        "degraded",
        description="Cameras: reporting, and its newest health says the picture cannot be "
        "trusted (frozen, dark, overexposed, blurred, tampered or moved).",
    )


@strawberry.type(description="A sensor's newest reading of one metric.")
class LatestReading:
    metric: str = strawberry.field(description="e.g. energy_kwh, or attendance for gates.")
    value: float = strawberry.field(description="The value (attendance: 1 in, 0 out).")
    unit: str = strawberry.field(description="Its unit.")
    at: dt.datetime = strawberry.field(description="When it was measured (UTC).")
    received_at: dt.datetime = strawberry.field(description="When ingest last committed it.")

    @classmethod
    def of(cls, latest: Latest) -> LatestReading:
        return cls(
            metric=latest.metric,
            value=latest.value,
            unit=latest.unit,
            at=latest.ts,
            received_at=latest.seen_at,
        )


def _latest_loader(info: Ctx) -> DataLoader[str, list[Latest]]:
    loader: DataLoader[str, list[Latest]] | None = info.context.extra.get("latest")
    if loader is None:
        store = telemetry_of(info).store

        async def load(ids: list[str]) -> list[list[Latest]]:
            rows = await store.latest(sensor_ids=ids)
            grouped: dict[str, list[Latest]] = defaultdict(list)
            for row in rows:
                grouped[row.sensor_id].append(row)
            return [grouped.get(i, []) for i in ids]

        loader = DataLoader(load)
        info.context.extra["latest"] = loader
    return loader


async def latest_of(info: Ctx, sensor_id: str) -> list[Latest]:
    """The newest reading per metric of one sensor (batched over the request)."""
    return await _latest_loader(info).load(sensor_id)


def status_of(
    latest: Sequence[Latest], telemetry: Telemetry, stale_after_s: float | None
) -> SensorStatus:
    if not latest:
        return SensorStatus.NO_DATA
    newest = max(row.ts for row in latest)
    timeout = stale_after_s or telemetry.inactivity_timeout_s
    age = dt.datetime.now(dt.UTC) - newest
    if age.total_seconds() > timeout:
        return SensorStatus.STALE
    # A camera keeps reporting while it has no picture: its health decides (issue 24).
    health = next((round(r.value) for r in latest if r.metric == "camera_health"), 0)
    if health in _NO_PICTURE:
        return SensorStatus.OFFLINE
    return SensorStatus.DEGRADED if health else SensorStatus.ONLINE


# --- a project's monitoring ------------------------------------------------------------------


@strawberry.enum(description="Width of a series bucket, in the telemetry time zone.")
class SeriesBucket(Enum):
    MINUTES_15 = strawberry.enum_value(Bucket.MIN15.value, description="15 minutes.")
    HOUR = strawberry.enum_value(Bucket.HOUR.value, description="One hour.")
    DAY = strawberry.enum_value(Bucket.DAY.value, description="One local day.")


_BUCKET_SECONDS = {SeriesBucket.MINUTES_15: 900, SeriesBucket.HOUR: 3600, SeriesBucket.DAY: 86400}


@strawberry.type(description="Raw readings of one sensor and metric over one bucket.")
class SeriesPoint:
    sensor_id: str = strawberry.field(description="The sensor.")
    metric: str = strawberry.field(description="The metric, e.g. energy_kwh or demand_kw.")
    start: dt.datetime = strawberry.field(description="Bucket start (local time, with offset).")
    count: int = strawberry.field(description="Readings in the bucket.")
    sum: float = strawberry.field(description="Sum of the values (interval kWh: energy).")
    mean: float = strawberry.field(description="Mean of the values.")
    min: float = strawberry.field(description="Smallest value.")
    max: float = strawberry.field(description="Largest value.")
    last: float = strawberry.field(description="The bucket's last value (registers: reading).")
    sensor = sensor_link("sensor_id")


@strawberry.type(description="One local day's figure.")
class DailyValue:
    day: dt.date = strawberry.field(description="Local day (telemetry time zone).")
    value: float = strawberry.field(description="The figure for that day.")


@strawberry.type(description="One sensor's metric rolled up over one local day.")
class SensorDay:
    sensor_id: str = strawberry.field(description="The sensor.")
    kind: SensorKind = strawberry.field(description="What the sensor reports.")
    metric: str = strawberry.field(description="The metric.")
    day: dt.date = strawberry.field(description="Local day.")
    value: float = strawberry.field(
        description="Energy in kWh for energy, register and demand metrics; mean otherwise."
    )
    samples: int = strawberry.field(description="Readings that went into it.")
    sensor = sensor_link("sensor_id")


@strawberry.type(description="A meter's daily energy.")
class MeterEnergy:
    sensor_id: str = strawberry.field(description="The meter.")
    days: list[DailyValue] = strawberry.field(description="kWh per local day.")
    sensor = sensor_link("sensor_id", "The meter (null when it was removed).")


@strawberry.type(description="A project's electricity use: the grid's evidence of work on site.")
class ProjectEnergy:
    days: list[DailyValue] = strawberry.field(
        description="kWh per local day, summed over the project's meters (days with data only)."
    )
    meters: list[MeterEnergy] = strawberry.field(description="The same per meter.")
    baseline_kwh: float | None = strawberry.field(
        description=f"The project's own baseline: median kWh of its active days (over 1 kWh) "
        f"in the {BASELINE_DAYS} days up to the window's end; null without active days."
    )


def _daily_total(total: DailyTotal) -> Any:
    async def resolve(root: Any, info: Ctx) -> list[DailyValue]:
        start, end = root._days()
        days = await total.days(telemetry_of(info).store, root.project_code, start, end)
        return [DailyValue(day=d, value=v) for d, v in sorted(days.items())]

    return strawberry.field(resolver=resolve, description=total.description)


# One field per feed that declares a daily total (``connectors.feeds``), e.g. ``water``.
FeedTotals = strawberry.type(
    type("FeedTotals", (), {f.total.field: _daily_total(f.total) for f in FEEDS if f.total}),
    description="Daily totals of the feeds that declare one.",
)


@strawberry.type(description="A project's monitoring data over a time window.")
class ProjectMonitoring(FeedTotals):  # type: ignore[misc, valid-type]
    project_code: str = strawberry.field(description="The project's code.")
    project = project_link("project_code")
    start: dt.datetime = strawberry.field(name="from", description="Window start (inclusive).")
    end: dt.datetime = strawberry.field(name="to", description="Window end (exclusive).")
    bucket: SeriesBucket = strawberry.field(description="Bucket width of series.")
    timezone: str = strawberry.field(description="Zone of buckets and local days.")

    @strawberry.field(description="The project's sensors with their status and newest readings.")
    async def sensors(self, info: Ctx) -> list[SensorRef]:
        rows = await info.context.loaders.rows(SENSORS_OF_PROJECTS, {}).load(self.project_code)
        surface = lists.surface_of(info)
        return [surface.node_of("sensor", row["props"]) for row in rows]

    @strawberry.field(description="Raw readings bucketed (power meters; camera and satellite "
                      "observations as they land).")  # fmt: skip
    async def series(
        self,
        info: Ctx,
        metric: Annotated[
            str | None, strawberry.argument(description="Only this metric, e.g. energy_kwh.")
        ] = None,
        sensor_ids: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these sensors (their ids or global ids)."),
        ] = None,
    ) -> list[SeriesPoint]:
        store = telemetry_of(info).store
        if sensor_ids is not None:
            sensor_ids = [key_of(i, "Sensor") for i in sensor_ids]
        points = await store.series(
            start=self.start,
            end=self.end,
            bucket=Bucket(str(self.bucket.value)),
            sensor_ids=sensor_ids,
            project_code=None if sensor_ids is not None else self.project_code,
            metric=metric,
            tz=self.timezone,
        )
        return [
            SeriesPoint(
                sensor_id=p.sensor_id,
                metric=p.metric,
                start=p.start,
                count=p.count,
                sum=p.total,
                mean=p.mean,
                min=p.minimum,
                max=p.maximum,
                last=p.last,
            )
            for p in points
        ]

    def _days(self) -> tuple[dt.date, dt.date]:
        tz = zone(self.timezone)
        last = self.end - dt.timedelta(microseconds=1)
        return self.start.astimezone(tz).date(), last.astimezone(tz).date()

    @strawberry.field(description="Daily rollups of every sensor of the project in the window.")
    async def daily(self, info: Ctx) -> list[SensorDay]:
        start, end = self._days()
        rows = await telemetry_of(info).store.daily(
            start=start, end=end, project_code=self.project_code
        )
        return [
            SensorDay(
                sensor_id=r.sensor_id,
                kind=SensorKind(r.kind),
                metric=r.metric,
                day=r.day,
                value=r.value,
                samples=r.samples,
            )
            for r in rows
            if r.kind in _KINDS
        ]

    @strawberry.field(description="Daily kWh of the project and of each meter, and its baseline.")
    async def energy(self, info: Ctx) -> ProjectEnergy:
        start, end = self._days()
        since = min(start, end - dt.timedelta(days=BASELINE_DAYS - 1))
        found = await power.project_energy(telemetry_of(info).store, self.project_code, since, end)
        return ProjectEnergy(
            days=[DailyValue(day=d, value=v) for d, v in sorted(found.days.items()) if d >= start],
            meters=[
                MeterEnergy(
                    sensor_id=meter,
                    days=[
                        DailyValue(day=d, value=v) for d, v in sorted(days.items()) if d >= start
                    ],
                )
                for meter, days in sorted(found.meters.items())
            ],
            baseline_kwh=found.baseline,
        )

    @strawberry.field(description="Distinct workers through the project's gates per local day.")
    async def headcount(self, info: Ctx) -> list[DailyValue]:
        start, end = self._days()
        found = await labor.headcount(telemetry_of(info).store, [self.project_code], start, end)
        return [DailyValue(day=d, value=n) for d, n in sorted(found[0].days.items())]


_KINDS = frozenset(str(k.value) for k in SensorKind)


def project_monitoring(
    info: Ctx,
    project_code: str,
    start: dt.datetime | None,
    end: dt.datetime | None,
    bucket: SeriesBucket,
) -> ProjectMonitoring:
    """Check the window (default: the last 7 days) and build the lazily resolved object."""
    telemetry = telemetry_of(info)
    end = end or dt.datetime.now(dt.UTC)
    start = start or end - dt.timedelta(days=7)
    for name, moment in (("from", start), ("to", end)):
        if moment.tzinfo is None:
            raise InvalidInput(f"{name}: give a UTC offset, e.g. 2026-03-01T00:00:00+08:00")
    if start >= end:
        raise InvalidInput("from must be before to")
    span = (end - start).total_seconds()
    if span > MAX_WINDOW_DAYS * 86400:
        raise InvalidInput(f"the window may span at most {MAX_WINDOW_DAYS} days")
    if span / _BUCKET_SECONDS[bucket] > MAX_BUCKETS:
        raise InvalidInput(
            f"{bucket.name} buckets over this window make more than {MAX_BUCKETS} points per "
            "sensor; choose a wider bucket or a shorter window"
        )
    return ProjectMonitoring(
        project_code=project_code,
        start=start,
        end=end,
        bucket=bucket,
        timezone=telemetry.timezone,
    )


# --- dead letters, replay, counters ----------------------------------------------------------


@strawberry.enum(description="Why a message became a dead letter (ingest's stable codes).")
class DeadLetterCode(Enum):
    UNDECODABLE = strawberry.enum_value(
        Reason.UNDECODABLE.value, description="Not JSON, not UTF-8, or the wrong shape."
    )
    BAD_TOPIC = strawberry.enum_value(
        Reason.BAD_TOPIC.value, description="The topic is not hub/v1/<kind>/<sensor_id>."
    )
    UNKNOWN_SENSOR = strawberry.enum_value(
        Reason.UNKNOWN_SENSOR.value, description="No Sensor with that id is registered."
    )
    KIND_MISMATCH = strawberry.enum_value(
        Reason.KIND_MISMATCH.value, description="The topic's kind differs from the sensor's."
    )
    INVALID = strawberry.enum_value(
        Reason.INVALID.value,
        description="A field missing or mistyped, an unknown metric, a wrong unit, a time "
        "without offset, or labor while no salt is set.",
    )
    FUTURE = strawberry.enum_value(
        Reason.FUTURE.value, description="Timestamped beyond the tolerated clock skew."
    )
    EXPIRED = strawberry.enum_value(
        Reason.EXPIRED.value, description="Older than raw-reading retention."
    )
    OUT_OF_RANGE = strawberry.enum_value(
        Reason.OUT_OF_RANGE.value, description="Outside the metric's plausible range."
    )


def _reason(code: DeadLetterCode | None) -> Reason | None:
    return Reason(str(code.value)) if code is not None else None


@strawberry.type(description="A message ingest could not use, kept with its raw payload.")
class DeadLetter(Node):
    letter_id: int = strawberry.field(description="Sequence number, its business key (replay by "
                                      "it; id is the global id).")  # fmt: skip
    source: str = strawberry.field(description="MQTT topic, or import file and line.")
    payload: str = strawberry.field(
        description="The payload as received (UTF-8, invalid bytes replaced; labor payloads "
        "with worker ids hashed and personal fields dropped)."
    )
    code: DeadLetterCode = strawberry.field(description="Stable reason code.")
    message: str = strawberry.field(description="What exactly was wrong.")
    arrived_at: dt.datetime = strawberry.field(description="When it first arrived.")
    attempts: int = strawberry.field(description="Deliveries and replays so far.")
    replayed_at: dt.datetime | None = strawberry.field(description="When a replay stored it.")

    def node_key(self) -> str:
        return str(self.letter_id)


_END_CURSOR = "Use pageInfo.endCursor."
_HAS_NEXT = "Use pageInfo.hasNextPage."


@strawberry.type(
    description="A page of dead letters, oldest first unless sorted otherwise (Relay cursor "
    "connection)."
)
class DeadLetterPage:
    edges: list[Edge[DeadLetter]] = strawberry.field(description="The letters with cursors.")
    nodes: list[DeadLetter] = strawberry.field(description="The letters.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    end_cursor: str | None = strawberry.field(
        description="Pass as after for the next page.", deprecation_reason=_END_CURSOR
    )
    has_next_page: bool = strawberry.field(
        description="More letters follow.", deprecation_reason=_HAS_NEXT
    )


@strawberry.type(
    description="A reading sent again with another value for the same sensor, metric and time: "
    "the first value stays stored (raw readings are immutable), this one is kept for review."
)
class ReadingConflict(Node):
    conflict_id: int = strawberry.field(description="Sequence number, its business key (id is the "
                                        "global id).")  # fmt: skip
    sensor_id: str = strawberry.field(description="The sensor.")
    metric: str = strawberry.field(description="The metric.")
    ts: dt.datetime = strawberry.field(description="The reading's timestamp.")
    stored_value: float = strawberry.field(description="The value stored first, which stays.")
    sent_value: float = strawberry.field(description="The other value that was sent.")
    unit: str = strawberry.field(description="Unit of both values.")
    arrived_at: dt.datetime = strawberry.field(description="When the other value first came.")
    attempts: int = strawberry.field(description="How often that other value arrived.")

    def node_key(self) -> str:
        return str(self.conflict_id)

    @strawberry.field(description="The sensor (null when it was removed).")
    async def sensor(self, info: Ctx) -> SensorRef | None:
        return cast("SensorRef | None", await link(info, "sensor", self.sensor_id))

    @classmethod
    def of(cls, c: Conflict) -> ReadingConflict:
        return cls(
            conflict_id=c.id,
            sensor_id=c.sensor_id,
            metric=c.metric,
            ts=c.ts,
            stored_value=c.stored_value,
            sent_value=c.sent_value,
            unit=c.unit,
            arrived_at=c.arrived_at,
            attempts=c.attempts,
        )


@strawberry.type(
    description="A page of reading conflicts, oldest first unless sorted otherwise (Relay "
    "cursor connection)."
)
class ReadingConflictPage:
    edges: list[Edge[ReadingConflict]] = strawberry.field(description="The conflicts with cursors.")
    nodes: list[ReadingConflict] = strawberry.field(description="The conflicts.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    end_cursor: str | None = strawberry.field(
        description="Pass as after for the next page.", deprecation_reason=_END_CURSOR
    )
    has_next_page: bool = strawberry.field(
        description="More conflicts follow.", deprecation_reason=_HAS_NEXT
    )


@strawberry.enum(description="What dead letters and reading conflicts sort on.")
class SequenceSortField(Enum):
    ARRIVAL = strawberry.enum_value(
        "arrival", description="Arrival order (the sequence number, letterId or conflictId)."
    )


@strawberry.input(description="One sort key for dead letters or reading conflicts.")
class SequenceSort:
    field: SequenceSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.input(description="Which dead letters; fields combine with AND, none means all.")
class DeadLetterWhere:
    code: DeadLetterCode | None = strawberry.field(default=None, description="Only this reason.")
    pending: bool | None = strawberry.field(
        default=None,
        description="true: only letters not replayed yet; false or omitted: every letter.",
    )
    or_: list[DeadLetterWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: DeadLetterWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


def _letters(where: DeadLetterWhere) -> LetterFilter:
    """The store's filter of a where, its OR and NOT included."""
    return LetterFilter(
        code=_reason(where.code),
        pending=where.pending is True,
        any_of=tuple(map(_letters, where.or_)) if where.or_ is not None else None,
        none_of=_letters(where.not_) if where.not_ is not None else None,
    )


SequenceSortArg = Annotated[
    list[SequenceSort] | None,
    strawberry.argument(description="One sort key (default: arrival, oldest first)."),
]
PageFirst = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page size going forward (default 20, at most {MAX_DEAD_LETTERS_PAGE})."
    ),
]
PageLast = Annotated[
    int | None,
    strawberry.argument(description=f"Page size going backward (at most {MAX_DEAD_LETTERS_PAGE})."),
]


@dataclass(frozen=True, slots=True)
class _Slice[T]:
    rows: list[T]
    has_next: bool
    has_previous: bool


async def _by_sequence[T](
    fetch: Callable[..., Awaitable[list[T]]],
    sort: list[SequenceSort] | None,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> _Slice[T]:
    """A page of a list kept in arrival order (ids ascending): ``fetch(after_id, before_id,
    descending, limit)`` reads the store; a cursor is the row's id."""
    if sort is not None and len(sort) > 1:
        raise InvalidInput("sort: one key")
    descending = bool(sort) and sort[0].direction is SortDirection.DESC  # type: ignore[index]
    win = window(first, after, last, before, MAX_DEAD_LETTERS_PAGE)
    at: int | None = None
    if win.cursor is not None:
        if not win.cursor.isdigit() or len(win.cursor) > 18:
            raise InvalidInput(
                f"{'before' if win.backward else 'after'}: not a cursor from this list"
            )
        at = int(win.cursor)
    down = descending != win.backward  # the store's order: reversed going backward
    rows: list[T] = []
    if win.size > 0:
        rows = await fetch(
            after_id=0 if down or at is None else at,
            before_id=at if down else None,
            descending=down,
            limit=win.size + 1,
        )
    more = len(rows) > win.size
    rows = rows[: win.size]
    if win.backward:
        rows.reverse()
    return _Slice(
        rows,
        has_next=more if not win.backward else at is not None,
        has_previous=more if win.backward else at is not None,
    )


def _page_info(cursors: list[str], part: _Slice[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=part.has_next,
        has_previous_page=part.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


@strawberry.type(description="A dead letter that failed again on replay.")
class ReplayFailure:
    id: int = strawberry.field(name="letterId", description="The letter.")
    code: DeadLetterCode = strawberry.field(description="Why it still fails.")
    message: str = strawberry.field(description="What is still wrong.")


@strawberry.type(description="What a replay did.")
class ReplayOutcome:
    replayed: list[int] = strawberry.field(description="Letters now stored and closed.")
    still_failing: list[ReplayFailure] = strawberry.field(description="Letters still pending.")
    stored: int = strawberry.field(description="Readings and events newly stored.")
    duplicates: int = strawberry.field(description="Readings that were already stored.")


@strawberry.type(description="Ingest counters since the hub started, and the broker link.")
class IngestStatus:
    broker_connected: bool = strawberry.field(description="The MQTT subscriber is connected.")
    received: int = strawberry.field(description="Messages received.")
    readings: int = strawberry.field(description="Readings and events decoded.")
    stored: int = strawberry.field(description="Readings and events newly stored.")
    duplicates: int = strawberry.field(description="Redelivered readings stored once already.")
    conflicts: int = strawberry.field(
        description="Re-sends of a stored reading with another value (see readingConflicts)."
    )
    dead_lettered: int = strawberry.field(description="Messages sent to the dead letters.")
    replayed: int = strawberry.field(description="Dead letters stored by a replay.")
    batches: int = strawberry.field(description="Commits.")
    acknowledged: int = strawberry.field(description="MQTT messages acknowledged after commit.")
    last_commit_at: dt.datetime | None = strawberry.field(description="When the last commit was.")
    live_subscribers: int = strawberry.field(description="Open live-feed subscriptions.")
    live_dropped: int = strawberry.field(
        description="Events dropped because a slow subscriber's queue was full."
    )
    pending_dead_letters: int = strawberry.field(description="Dead letters not yet replayed.")
    labor_enabled: bool = strawberry.field(description="A labor salt is set, so gates ingest.")
    ingest_error: str | None = strawberry.field(
        description="Why ingest is holding back, e.g. the telemetry store is full or down: "
        "nothing is acknowledged meanwhile, so the broker keeps the messages. Null when it flows."
    )


def _sequence(key: str, name: str) -> int:
    if not key.isdigit() or len(key) > 18:
        raise InvalidInput(f"{name}: {key[:40]!r} is not a sequence number")
    return int(key)


async def _letter_of(info: Ctx, key: str) -> DeadLetter | None:
    number = _sequence(key, "id")
    found = await telemetry_of(info).store.dead_letters(pending=False, ids=[number], limit=1)
    return _letter(found[0]) if found else None


async def _conflict_of(info: Ctx, key: str) -> ReadingConflict | None:
    number = _sequence(key, "id")
    found = await telemetry_of(info).store.conflicts(after_id=number - 1, limit=1)
    return ReadingConflict.of(found[0]) if found and found[0].id == number else None


def _letter(d: Any) -> DeadLetter:
    return DeadLetter(
        letter_id=d.id,
        source=d.source,
        payload=d.payload.decode("utf-8", errors="replace"),
        code=DeadLetterCode(d.code.value),
        message=d.message,
        arrived_at=d.arrived_at,
        attempts=d.attempts,
        replayed_at=d.replayed_at,
    )


@strawberry.type
class MonitoringQuery:
    @strawberry.field(
        description="Dead letters in arrival order (monitor, operator and admin roles).",
        permission_classes=[allow(DEAD_LETTER_READERS)],
    )
    async def dead_letters(
        self,
        info: Ctx,
        where: Annotated[DeadLetterWhere | None, strawberry.argument(description=_W)] = None,
        sort: SequenceSortArg = None,
        first: PageFirst = None,
        after: After = None,
        last: PageLast = None,
        before: Before = None,
        code: Annotated[
            DeadLetterCode | None,
            strawberry.argument(
                description="Only this reason.", deprecation_reason="Use where.code."
            ),
        ] = None,
        pending: Annotated[
            bool | None,
            strawberry.argument(
                description="Only letters not replayed yet (default true without where).",
                deprecation_reason="Use where.pending.",
            ),
        ] = None,
    ) -> DeadLetterPage | None:
        if where is not None and (code is not None or pending is not None):
            raise InvalidInput("give where or the deprecated code and pending, not both")
        if where is None:
            where = DeadLetterWhere(code=code, pending=True if pending is None else pending)
        check(where)
        store = telemetry_of(info).store
        match = _letters(where) if combined(where) else None

        async def fetch(**bounds: Any) -> list[Any]:
            return await store.dead_letters(
                code=_reason(where.code), pending=where.pending is True, match=match, **bounds
            )

        part = await _by_sequence(fetch, sort, first, after, last, before)
        nodes = [_letter(d) for d in part.rows]
        cursors = [str(d.letter_id) for d in nodes]
        return DeadLetterPage(
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=_page_info(cursors, part),
            end_cursor=cursors[-1] if cursors else None,
            has_next_page=part.has_next,
        )

    @strawberry.field(
        description="Readings sent again with a different value, oldest first unless sorted "
        "otherwise, beside the dead letters (monitor, operator and admin roles).",
        permission_classes=[allow(DEAD_LETTER_READERS)],
    )
    async def reading_conflicts(
        self,
        info: Ctx,
        sort: SequenceSortArg = None,
        first: PageFirst = None,
        after: After = None,
        last: PageLast = None,
        before: Before = None,
    ) -> ReadingConflictPage | None:
        store = telemetry_of(info).store
        part = await _by_sequence(store.conflicts, sort, first, after, last, before)
        nodes = [ReadingConflict.of(c) for c in part.rows]
        cursors = [str(c.conflict_id) for c in nodes]
        return ReadingConflictPage(
            edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
            nodes=nodes,
            page_info=_page_info(cursors, part),
            end_cursor=cursors[-1] if cursors else None,
            has_next_page=part.has_next,
        )

    @strawberry.field(
        description="Ingest counters and broker link (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def ingest_status(self, info: Ctx) -> IngestStatus | None:
        telemetry = telemetry_of(info)
        c = telemetry.pipeline.counters
        connected = telemetry.connected
        error = telemetry.ingest.error if telemetry.ingest is not None else None
        if telemetry.ingest is None and telemetry.ingest_elsewhere is not None:
            # A worker of `hub serve --workers`: the hub's ingest runs in its supervisor.
            elsewhere = telemetry.ingest_elsewhere()
            if elsewhere is not None:
                c, connected, error = elsewhere.plus(c), elsewhere.connected, elsewhere.error
        pending = await telemetry.store.pending_dead_letters()
        return IngestStatus(
            broker_connected=connected,
            received=c.received,
            readings=c.readings,
            stored=c.stored,
            duplicates=c.duplicate,
            conflicts=c.conflicts,
            dead_lettered=c.dead_lettered,
            replayed=c.replayed,
            batches=c.batches,
            acknowledged=c.acked,
            last_commit_at=(
                dt.datetime.fromtimestamp(c.last_commit_ms / 1000, dt.UTC)
                if c.last_commit_ms
                else None
            ),
            live_subscribers=telemetry.bus.subscribers,
            live_dropped=telemetry.bus.dropped,
            pending_dead_letters=pending,
            labor_enabled=telemetry.labor_enabled,
            ingest_error=error,
        )


@strawberry.type
class MonitoringMutation:
    @strawberry.mutation(
        description="Run pending dead letters through ingest again, e.g. after registering "
        "their sensor; letters that now pass are stored exactly once and closed "
        "(operator and admin).",
        permission_classes=[allow(WRITERS)],
    )
    async def replay_dead_letters(
        self,
        info: Ctx,
        letter_ids: Annotated[
            list[str] | None,
            strawberry.argument(
                description="These letters (at most 1000): their ids (global ids) or letterIds."
            ),
        ] = None,
        ids: Annotated[
            list[int] | None,
            strawberry.argument(
                description="These letters (at most 1000), by letterId.",
                deprecation_reason="Use letterIds (global ids, or letterIds as text).",
            ),
        ] = None,
        code: Annotated[
            DeadLetterCode | None,
            strawberry.argument(description="Or every pending one of this reason."),
        ] = None,
    ) -> ReplayOutcome:
        if letter_ids is not None:
            if ids is not None:
                raise InvalidInput("give letterIds or the deprecated ids, not both")
            if len(letter_ids) > 1000:
                raise InvalidInput("letterIds: at most 1000")
            ids = [_sequence(key_of(i, "DeadLetter"), "letterIds") for i in letter_ids]
        if ids is None and code is None:
            raise InvalidInput("give letterIds or code")
        if ids is not None and len(ids) > 1000:
            raise InvalidInput("ids: at most 1000")
        result = await telemetry_of(info).pipeline.replay(ids=ids, code=_reason(code), limit=1000)
        return ReplayOutcome(
            replayed=result.replayed,
            still_failing=[
                ReplayFailure(id=i, code=DeadLetterCode(p.code.value), message=p.message)
                for i, p in result.still_failing
            ],
            stored=result.stored,
            duplicates=result.duplicates,
        )


# --- the live feed ---------------------------------------------------------------------------


@strawberry.type(description="A reading that was just stored (never a duplicate).")
class FeedReading:
    kind: SensorKind = strawberry.field(description="What the sensor reports.")
    # Nullable only so that both members of MonitoringEvent can select sensorId without an
    # alias (GraphQL forbids one field name with two types in a union selection).
    sensor_id: str | None = strawberry.field(description="The sensor (always set on readings).")
    project_code: str | None = strawberry.field(description="The project it watches (its code).")
    sensor = sensor_link("sensor_id")
    project = project_link("project_code", "The project it watches.")
    metric: str = strawberry.field(description="e.g. energy_kwh; attendance for gate passes.")
    at: dt.datetime = strawberry.field(description="When it was measured (UTC).")
    value: float = strawberry.field(description="The value (attendance: 1 in, 0 out).")
    unit: str = strawberry.field(description="Its unit.")


@strawberry.type(description="A daily rollup that changed with the last commit.")
class FeedRollup:
    kind: SensorKind = strawberry.field(description="Feed kind.")
    sensor_id: str | None = strawberry.field(description="The sensor; null for project figures.")
    project_code: str | None = strawberry.field(description="The project's code.")
    sensor = sensor_link("sensor_id", "The sensor; null for project figures.")
    project = project_link("project_code")
    metric: str = strawberry.field(description="The metric; headcount for a project's workers.")
    day: dt.date = strawberry.field(description="Local day.")
    value: float = strawberry.field(description="The day's figure so far.")
    samples: int = strawberry.field(description="Readings behind it.")


MonitoringEvent = Annotated[
    FeedReading | FeedRollup,
    strawberry.union("MonitoringEvent", description="One event of the live monitoring feed."),
]


def _feed_event(event: Event) -> FeedReading | FeedRollup:
    kind = SensorKind(event.kind)
    if isinstance(event, ReadingEvent):
        return FeedReading(
            kind=kind,
            sensor_id=event.sensor_id,
            project_code=event.project_code,
            metric=event.metric,
            at=event.ts,
            value=event.value,
            unit=event.unit,
        )
    return FeedRollup(
        kind=kind,
        sensor_id=event.sensor_id,
        project_code=event.project_code,
        metric=event.metric,
        day=event.day,
        value=event.value,
        samples=event.samples,
    )


def project_code_of(value: str) -> str:
    """A project's code from its code or its global id."""
    try:
        type_name, key = decode_global_id(value)
    except InvalidInput:
        return value  # not a global id: a project code
    if type_name != "Project":
        raise InvalidInput(f"{value[:80]!r} is the id of a {type_name}, not of a Project")
    return key


@strawberry.type
class MonitoringSubscription:
    @strawberry.subscription(
        description="Readings and rollup changes as ingest commits them, over "
        "graphql-transport-ws. Filters combine with AND; none means everything. A slow client "
        "loses its oldest events beyond HUB_TELEMETRY_LIVE_QUEUE, never slows ingest.",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def monitoring_feed(
        self,
        info: Ctx,
        project_codes: Annotated[
            list[str] | None,
            strawberry.argument(description="Only these projects: their codes or global ids."),
        ] = None,
        project_ids: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Project codes or Project global ids.",
                deprecation_reason="Use projectCodes (the same values).",
            ),
        ] = None,
        region: Annotated[
            str | None,
            strawberry.argument(
                description="Projects in this region and its sub-regions (its code or global id)."
            ),
        ] = None,
        kinds: Annotated[
            list[SensorKind] | None, strawberry.argument(description="Only these feeds.")
        ] = None,
    ) -> AsyncGenerator[MonitoringEvent, None]:
        telemetry = telemetry_of(info)
        codes: set[str] | None = None
        if project_ids is not None and project_codes is not None:
            raise InvalidInput("give projectCodes or the deprecated projectIds, not both")
        projects = project_codes if project_codes is not None else project_ids
        if projects is not None:
            if len(projects) > 10_000:
                raise InvalidInput("projectCodes: at most 10000")
            codes = {project_code_of(p) for p in projects}
        if region is not None:
            region = key_of(region, "Region")
            rows = await info.context.store.run(PROJECTS_IN_REGION, {"region": region})
            in_region = {row["code"] for row in rows}
            codes = in_region if codes is None else codes & in_region
        event_filter = EventFilter(
            project_codes=frozenset(codes) if codes is not None else None,
            kinds=frozenset(str(k.value) for k in kinds) if kinds is not None else None,
        )
        async with telemetry.bus.subscribe(event_filter, maxsize=telemetry.live_queue) as sub:
            async for event in sub:
                if event.kind in _KINDS:
                    yield _feed_event(event)


# node(id:) finds dead letters and conflicts by their global ids (hub.api.schema collects NODES).
NODES: Final = (
    NodeLookup("DeadLetter", _letter_of, DEAD_LETTER_READERS),
    NodeLookup("ReadingConflict", _conflict_of, DEAD_LETTER_READERS),
)
