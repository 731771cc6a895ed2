"""Raw readings aggregated into local-time buckets, the same way for every store adapter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ingest.store import Bucket, SeriesPoint


def bucketed(
    rows: Iterable[tuple[str, str, int, float]], bucket: Bucket, tz: dt.tzinfo
) -> list[SeriesPoint]:
    """(sensor, metric, ts_ms, value) rows ordered by sensor, metric and time, bucketed."""
    out: list[SeriesPoint] = []
    current: tuple[str, str, dt.datetime] | None = None
    count, total, low, high, last = 0, 0.0, 0.0, 0.0, 0.0
    for sensor, metric, ts_ms, value in rows:
        local = dt.datetime.fromtimestamp(ts_ms / 1000, tz)
        if bucket is Bucket.DAY:
            start = dt.datetime.combine(local.date(), dt.time(), tz)
        elif bucket is Bucket.HOUR:
            start = local.replace(minute=0, second=0, microsecond=0)
        else:
            start = local.replace(minute=local.minute // 15 * 15, second=0, microsecond=0)
        key = (sensor, metric, start)
        if key != current:
            if current is not None:
                out.append(SeriesPoint(*current, count, total, low, high, last))
            current, count, total, low, high = key, 0, 0.0, value, value
        count += 1
        total += value
        low, high, last = min(low, value), max(high, value), value
    if current is not None:
        out.append(SeriesPoint(*current, count, total, low, high, last))
    return out
