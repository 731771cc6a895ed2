"""The satellite side of the hub: the per-parcel series cache the API reads, and, when
``HUB_SATELLITE_ENABLED`` with credentials, a background task that refreshes every watched
parcel on the configured cadence within the account's quotas (``connectors.satellite``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from connectors.satellite import Refresher, RequestBudget, load_targets, plan
from connectors.sentinel.client import SentinelClient, SentinelConfig, SeriesCache
from graph_schema.errors import ConfigurationError, HubError
from graph_schema.store import GraphStore
from hub.settings import SatelliteSettings, Settings
from ingest.pipeline import Pipeline
from vision.change import ChangeParams

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SatelliteView:
    """What the API needs to serve parcels' series: the cache and the detector's thresholds."""

    cache: SeriesCache
    params: ChangeParams


def cache_dir(settings: Settings) -> Path:
    return settings.satellite.cache_dir or settings.data_dir / "satellite"


def change_params(s: SatelliteSettings) -> ChangeParams:
    return ChangeParams(
        min_ndvi_loss=s.min_ndvi_loss,
        min_soil_gain=s.min_soil_gain,
        persist_days=s.persist_days,
        min_valid_share=s.min_valid_share,
        min_area_m2=s.min_area_m2,
    )


def satellite_view(settings: Settings) -> SatelliteView:
    return SatelliteView(SeriesCache(cache_dir(settings)), change_params(settings.satellite))


def sentinel_client(settings: Settings) -> SentinelClient:
    s = settings.satellite
    if not s.client_id or s.client_secret is None:
        raise ConfigurationError(
            "HUB_SATELLITE_ENABLED needs HUB_SATELLITE_CLIENT_ID and HUB_SATELLITE_CLIENT_SECRET"
        )
    return SentinelClient(
        SentinelConfig(
            base_url=s.base_url,
            token_url=s.token_url,
            client_id=s.client_id,
            client_secret=s.client_secret,
            cache_dir=cache_dir(settings),
            collection_url=s.collection_url,
            landsat=s.landsat,
            landsat_url=s.landsat_url,
            resolution_m=s.resolution_m,
            history_days=s.history_days,
            max_attempts=s.max_attempts,
            retry_sleep_s=s.retry_sleep_s,
            timeout_s=s.timeout_s,
        )
    )


async def refresh_forever(
    settings: Settings, graph: GraphStore, pipeline: Pipeline, client: SentinelClient
) -> None:
    """Refresh every watched parcel, then sleep until the next round; log the quota plan."""
    s = settings.satellite
    refresher = Refresher(
        client,
        pipeline,
        params=change_params(s),
        budget=RequestBudget(
            s.requests_per_minute,
            s.requests_per_month,
            units_per_month=s.units_per_month,
            path=cache_dir(settings) / "budget.json",
        ),
        concurrency=s.concurrency,
    )
    while True:
        try:
            targets = await load_targets(graph)
        except HubError as exc:  # the graph is down: try again next round, do not die
            log.warning("satellite refresh: cannot read the watched parcels: %s", exc)
            await asyncio.sleep(min(s.refresh_days * 86400, 600))
            continue
        parcels = sum(len(t.parcels) for t in targets)
        log.info(
            "satellite plan: %s",
            plan(
                parcels,
                refresh_days=s.refresh_days,
                requests_per_minute=s.requests_per_minute,
                requests_per_month=s.requests_per_month,
                requests_per_parcel=client.requests_per_refresh,
            ).describe(),
        )
        report = await refresher.refresh(targets, dt.datetime.now(dt.UTC).date())
        log.info(
            "satellite refresh: %d parcels, %d requests, %d new days, %d readings stored, "
            "%d over quota, %d failed",
            report.parcels, report.requests, report.new_days, report.stored,
            report.skipped_quota, len(report.errors),
        )  # fmt: skip
        await asyncio.sleep(s.refresh_days * 86400)


__all__ = ["SatelliteView", "cache_dir", "refresh_forever", "satellite_view", "sentinel_client"]
