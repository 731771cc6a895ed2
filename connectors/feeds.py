"""The feeds ingest knows, in one table: each feed's metrics and decoders.

``hub`` (and the stand-alone worker) build the telemetry store with ``metrics()`` and the
pipeline with ``decoders(...)``, so adding a feed is one module plus a line here.
"""

from __future__ import annotations

from connectors import camera, labor, power, satellite
from ingest.model import MetricSpec
from ingest.payloads import Decoder
from ingest.store import DEFAULT_TZ


def metrics() -> dict[str, MetricSpec]:
    return dict(power.METRICS) | satellite.METRICS | camera.METRICS


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
    attendance: Decoder = (
        labor.AttendanceDecoder(
            labor_salt, tz=tz, future_tolerance_s=future_tolerance_s, max_age_s=max_age_s
        )
        if labor_salt
        else labor.LaborOff()
    )
    return {
        power.KIND: power.decoder(future_tolerance_s=future_tolerance_s, max_age_s=max_age_s),
        power.CSV_SCHEME: power.CsvRowDecoder(
            future_tolerance_s=future_tolerance_s, max_age_s=max_age_s
        ),
        labor.KIND: attendance,
        labor.EXPORT_SCHEME: attendance,
        satellite.KIND: satellite.decoder(
            future_tolerance_s=future_tolerance_s, max_age_s=max_age_s
        ),
        camera.KIND: camera.decoder(future_tolerance_s=future_tolerance_s, max_age_s=max_age_s),
    }
