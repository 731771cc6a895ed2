"""The write path for observations: decode, validate, deduplicate, batch, commit, roll up,
publish on the live bus, acknowledge; dead letters; the telemetry store port, its SQLite and
PostgreSQL adapters, their migrations and backups."""

from ingest.backup import dump_telemetry, restore_telemetry
from ingest.bus import Event, EventFilter, LiveBus, ReadingEvent, RollupEvent, Subscription
from ingest.connect import open_telemetry_store
from ingest.errors import BackupInvalid, BrokerUnavailable, IngestError, TelemetryUnavailable
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
from ingest.postgres_store import PostgresTelemetryStore
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
    "BackupInvalid",
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
    "PostgresTelemetryStore",
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
    "dump_telemetry",
    "open_telemetry_store",
    "restore_telemetry",
]
