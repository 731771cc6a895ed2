"""Water meters: interval volume or register readings; daily m³ per meter and per project.

Meters publish on ``hub/v1/water/<meter_id>`` with one of two metrics (unit ``m3``):

- ``volume_m3``: water drawn in the interval that ends at ``ts`` (summed per day);
- ``register_m3``: the cumulative register; the increase between readings counts, with resets
  and rollovers handled as for power registers (``ingest.rollups.counter_increase``).

Days are local days in the store's zone. A meter's daily m³ comes from its interval volume
when it reports one that day, else from its register; a project's is the sum over its meters,
served as ``ProjectMonitoring.water``.

Water is not evidence of activity in fusion: a site draws water for its camp, curing and dust
suppression whether or not work goes on, so it is stored and served, and weighs nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from connectors.spec import DailyTotal, DecoderOptions, FeedSpec, FusionRole, StaleLevel
from ingest.model import MetricSpec, Rollup
from ingest.payloads import Decoder, ReadingDecoder
from ingest.rollups import pick_daily
from ingest.store import TelemetryStore

KIND = "water"
UNIT = "m3"
METRICS: dict[str, MetricSpec] = {
    "volume_m3": MetricSpec("volume_m3", UNIT, 0.0, 100_000.0, Rollup.SUM),
    "register_m3": MetricSpec("register_m3", UNIT, 0.0, 1e9, Rollup.COUNTER),
}
# Which metric a meter's daily m³ is taken from when it reports both.
PREFERENCE = ("volume_m3", "register_m3")


def decoder(*, future_tolerance_s: float = 300.0, max_age_s: float | None = None) -> ReadingDecoder:
    """The MQTT payload decoder for ``hub/v1/water/<meter_id>``."""
    return ReadingDecoder(KIND, METRICS, future_tolerance_s=future_tolerance_s, max_age_s=max_age_s)


async def project_daily(
    store: TelemetryStore, project_code: str, start: dt.date, end: dt.date
) -> dict[dt.date, float]:
    """The project's m³ per local day over [start, end], summed over its meters (days with
    data only)."""
    rollups = await store.daily(start=start, end=end, project_code=project_code)
    days: dict[dt.date, float] = defaultdict(float)
    for (_, day), m3 in pick_daily((r for r in rollups if r.kind == KIND), PREFERENCE).items():
        days[day] += m3
    return dict(days)


def _decoders(o: DecoderOptions) -> dict[str, Decoder]:
    return {KIND: decoder(future_tolerance_s=o.future_tolerance_s, max_age_s=o.max_age_s)}


FEED = FeedSpec(
    KIND,
    "Water meter (m³).",
    "用水",
    UNIT,
    METRICS,
    _decoders,
    FusionRole.NONE,
    StaleLevel.MINOR,
    total=DailyTotal(
        "water",
        "Water drawn, m³ per local day, summed over the project's water meters (days with "
        "data only).",
        project_daily,
    ),
)
