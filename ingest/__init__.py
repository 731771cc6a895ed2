"""The write path for observations: decode, validate, deduplicate, batch, commit, roll up,
publish on the live bus, acknowledge; dead letters; the telemetry store port and its adapter."""

from ingest.bus import Event, EventFilter, LiveBus, ReadingEvent, RollupEvent, Subscription
from ingest.errors import BrokerUnavailable, IngestError, TelemetryUnavailable
from ingest.imports import ImportReport
from ingest.model import (
    Attendance,
    Counters,
    DeadLetter,
    Message,
    MetricSpec,
    Problem,
    Reading,
    Reason,
    Rollup,
    SensorInfo,
)
from ingest.mqtt import MqttConfig, MqttIngest
from ingest.payloads import Decoder, ReadingDecoder
from ingest.pipeline import Pipeline, ReplayResult
from ingest.sensors import GraphSensors, SensorRegistry, StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from ingest.store import (
    Batch,
    Bucket,
    CommitResult,
    DailyRollup,
    Headcount,
    Latest,
    SeriesPoint,
    TableCounts,
    TelemetryStore,
)

__all__ = [
    "Attendance",
    "Batch",
    "BrokerUnavailable",
    "Bucket",
    "CommitResult",
    "Counters",
    "DailyRollup",
    "DeadLetter",
    "Decoder",
    "Event",
    "EventFilter",
    "GraphSensors",
    "Headcount",
    "ImportReport",
    "IngestError",
    "Latest",
    "LiveBus",
    "Message",
    "MetricSpec",
    "MqttConfig",
    "MqttIngest",
    "Pipeline",
    "Problem",
    "Reading",
    "ReadingDecoder",
    "ReadingEvent",
    "Reason",
    "ReplayResult",
    "Rollup",
    "RollupEvent",
    "SQLiteTelemetryStore",
    "SensorInfo",
    "SensorRegistry",
    "SeriesPoint",
    "StaticSensors",
    "Subscription",
    "TableCounts",
    "TelemetryStore",
    "TelemetryUnavailable",
]
