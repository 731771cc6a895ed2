"""The feeds the hub knows, in one table: each kind with its decoders, unit, metrics, GraphQL
field and role in fusion (``connectors.spec.FeedSpec``).

Everything else reads this table: the telemetry store's metrics and rollups (``metrics()``),
the pipeline's decoders and so the topic kinds it accepts (``decoders(...)``), the GraphQL
``SensorKind`` enum and the daily totals of ``ProjectMonitoring``, fusion's weights and site
evidence, the watch's stale-sensor severities and the alert texts' feed names. Adding a feed
is one module (with its ``FEED``) plus a line here.
"""

from __future__ import annotations

from typing import Final

from connectors import camera, labor, power, satellite, water
from connectors.spec import DecoderOptions, FeedSpec, FusionRole
from ingest.model import MetricSpec
from ingest.payloads import Decoder
from ingest.store import DEFAULT_TZ

FEEDS: Final[tuple[FeedSpec, ...]] = (
    power.FEED,
    labor.FEED,
    camera.FEED,
    satellite.FEED,
    water.FEED,
)
BY_KIND: Final = {f.kind: f for f in FEEDS}
KINDS: Final = tuple(BY_KIND)


def fusion_kinds(*roles: FusionRole) -> tuple[str, ...]:
    """The kinds whose readings play one of ``roles`` in fusion, in table order."""
    return tuple(f.kind for f in FEEDS if f.fusion in roles)


def metrics() -> dict[str, MetricSpec]:
    out: dict[str, MetricSpec] = {}
    for f in FEEDS:
        clash = out.keys() & f.metrics.keys()
        if clash:  # a metric name is the telemetry store's key for its rollup rule
            raise ValueError(f"{f.kind} declares metrics another feed has: {sorted(clash)}")
        out |= f.metrics
    return out


def decoders(
    *,
    labor_salt: bytes | None,
    future_tolerance_s: float = 300.0,
    max_age_s: float | None = None,
    tz: str = DEFAULT_TZ,
) -> dict[str, Decoder]:
    """Decoders by topic kind (``hub/v1/<kind>/...``) and by import scheme (``<scheme>:...``).

    Without a labor salt, labor messages are refused (``labor.LaborOff``) rather than stored
    with unhashed or unhashable worker ids."""
    options = DecoderOptions(labor_salt, future_tolerance_s, max_age_s, tz)
    out: dict[str, Decoder] = {}
    for f in FEEDS:
        out |= f.decoders(options)
    return out
