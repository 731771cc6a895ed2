"""What a feed declares about itself: ``FeedSpec``, one per connector module, listed in
``connectors.feeds``.

A spec is data, not a registration: each connector module builds its own ``FEED`` and
``connectors.feeds`` lists them, so nothing is filled in at import time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ingest.model import MetricSpec
from ingest.payloads import Decoder
from ingest.store import DEFAULT_TZ, TelemetryStore


class FusionRole(StrEnum):
    """What a feed's readings are to fusion (``hub.monitoring.fusion``)."""

    SITE = "site"  # evidence of work on the site: weighs in the status, ends or extends idle runs
    REMOTE = "remote"  # evidence seen from afar (the satellite): weighs in the status only
    NONE = "none"  # stored and served, but not evidence of activity


class StaleLevel(StrEnum):
    """The severity of the FEED_STALE alert for one of the feed's sensors falling silent
    (values of ``hub.monitoring.alerts.Severity``)."""

    MINOR = "MINOR"  # a silent meter or gate is often a stopped site, which other alerts report
    WARNING = "WARNING"


@dataclass(frozen=True, slots=True)
class DecoderOptions:
    """What the hub's settings say about decoding, passed to every feed's decoder factory."""

    labor_salt: bytes | None = None
    future_tolerance_s: float = 300.0
    max_age_s: float | None = None
    tz: str = DEFAULT_TZ


# (store, project code, first day, last day) -> the project's figure per local day.
DailyDays = Callable[[TelemetryStore, str, dt.date, dt.date], Awaitable[dict[dt.date, float]]]


@dataclass(frozen=True, slots=True)
class DailyTotal:
    """A project's daily figure from this feed, served as a field of ``ProjectMonitoring``
    (a list of ``DailyValue``) named ``field``."""

    field: str
    description: str
    days: DailyDays


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One kind of feed: its topic kind (``hub/v1/<kind>/<sensor_id>``) and everything the
    hub needs to know about it."""

    kind: str
    description: str  # of the GraphQL SensorKind value
    name_zh: str  # in alert texts
    unit: str | None  # of its sensors' readings, when they have one
    metrics: Mapping[str, MetricSpec]  # what the telemetry store keeps and rolls up
    # Decoders by topic kind (the feed's own ``kind``) and by import scheme (``<scheme>:...``).
    decoders: Callable[[DecoderOptions], Mapping[str, Decoder]]
    fusion: FusionRole
    stale: StaleLevel = StaleLevel.WARNING
    total: DailyTotal | None = None
    # GraphQL fields written by hand for this feed (power's ``energy``, labor's ``headcount``).
    fields: tuple[str, ...] = field(default=())
