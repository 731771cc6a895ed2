"""What flows through ingest: readings, attendance, sensors, metrics, dead-letter reasons, counters.

Times are timezone-aware ``datetime`` at the edges and integer epoch milliseconds inside the
store, so equality (the idempotency key) never depends on how an offset was spelled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

UTC = dt.UTC


def to_ms(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a UTC offset")
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=UTC)


class Rollup(StrEnum):
    """How raw values of a metric become a daily figure."""

    SUM = "sum"  # interval quantities (kWh in the interval ending at ts)
    COUNTER = "counter"  # cumulative registers: increase between readings, resets and rollovers
    RATE = "rate"  # instantaneous rates (kW): integrated over time between readings
    MEAN = "mean"  # anything else: daily mean


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One measured quantity: its unit, plausible range and daily rollup."""

    name: str
    unit: str
    minimum: float
    maximum: float
    rollup: Rollup
    # RATE: a gap longer than this is an outage, not a constant rate; it adds nothing.
    max_gap_s: float = 3600.0


@dataclass(frozen=True, slots=True)
class SensorInfo:
    """A registered sensor, as the graph knows it."""

    id: str
    kind: str
    project_code: str | None


@dataclass(frozen=True, slots=True)
class Reading:
    sensor_id: str
    ts_ms: int
    metric: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class Attendance:
    """One pass through a site gate. ``worker`` is already an HMAC of the worker's id."""

    sensor_id: str
    ts_ms: int
    worker: str
    direction: str  # "in" | "out"
    project_code: str | None = None  # filled from the sensor registry when missing


Observation = Reading | Attendance


class Reason(StrEnum):
    """Stable dead-letter codes; the message next to each says what exactly was wrong."""

    UNDECODABLE = "UNDECODABLE"  # not JSON, not UTF-8, wrong shape
    BAD_TOPIC = "BAD_TOPIC"  # not hub/v1/<kind>/<sensor_id>
    UNKNOWN_SENSOR = "UNKNOWN_SENSOR"  # no Sensor node with that id
    KIND_MISMATCH = "KIND_MISMATCH"  # topic kind differs from the sensor's kind
    INVALID = "INVALID"  # missing or mistyped field, unknown metric, wrong unit
    FUTURE = "FUTURE"  # timestamp beyond the tolerated clock skew
    EXPIRED = "EXPIRED"  # older than raw-reading retention: cannot be rolled up any more
    OUT_OF_RANGE = "OUT_OF_RANGE"  # value outside the metric's plausible range
    TOO_LARGE = "TOO_LARGE"  # payload bytes or readings per message over the limit
    TOO_DEEP = "TOO_DEEP"  # JSON nested deeper than any reading needs (checked before parsing)


@dataclass(frozen=True, slots=True)
class Problem:
    code: Reason
    message: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message ingest could not (fully) use, kept with its raw payload for replay."""

    id: int
    source: str  # MQTT topic, or "csv:<file>:<line>" for imports
    payload: bytes
    code: Reason
    message: str
    arrived_at: dt.datetime
    attempts: int
    replayed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Conflict:
    """A reading re-sent with another value: the stored value stays, the sent one is kept here.

    ``attempts`` counts how often that same other value arrived (redeliveries)."""

    id: int
    sensor_id: str
    metric: str
    ts: dt.datetime
    stored_value: float
    sent_value: float
    unit: str
    arrived_at: dt.datetime
    attempts: int


@dataclass(frozen=True, slots=True)
class Message:
    """A raw message from any source: MQTT topic and payload, or an imported row."""

    source: str
    payload: bytes
    arrived_ms: int


@dataclass(slots=True)
class Counters:
    """Since start: messages received, readings stored and duplicate, messages dead-lettered."""

    received: int = 0
    readings: int = 0
    stored: int = 0
    duplicate: int = 0
    conflicts: int = 0
    dead_lettered: int = 0
    replayed: int = 0
    batches: int = 0
    acked: int = 0
    bus_dropped: int = 0
    last_commit_ms: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int | dict[str, int]]:
        return {
            "received": self.received,
            "readings": self.readings,
            "stored": self.stored,
            "duplicate": self.duplicate,
            "conflicts": self.conflicts,
            "dead_lettered": self.dead_lettered,
            "replayed": self.replayed,
            "batches": self.batches,
            "acked": self.acked,
            "bus_dropped": self.bus_dropped,
            "by_reason": dict(self.by_reason),
        }
