"""Retention: raw readings older than the configured age are deleted; rollups stay."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from ingest.errors import TelemetryUnavailable
from ingest.store import TelemetryStore

log = logging.getLogger(__name__)


async def purge_once(store: TelemetryStore, days: int) -> int:
    """Delete raw rows older than ``days`` (0: keep everything); return how many went."""
    if days <= 0:
        return 0
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return await store.purge(cutoff)


async def keep(store: TelemetryStore, days: int, *, every_s: float = 3600.0) -> None:
    """Run ``purge_once`` now and then every ``every_s`` until cancelled."""
    while True:
        try:
            deleted = await purge_once(store, days)
            if deleted:
                log.info("retention: deleted %d raw rows older than %d days", deleted, days)
        except TelemetryUnavailable as exc:
            log.warning("retention: %s", exc)
        await asyncio.sleep(every_s)
