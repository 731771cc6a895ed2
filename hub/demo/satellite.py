"""Satellite for ``hub demo`` without the internet: a loopback Sentinel Hub serves synthetic
Sentinel-2 histories of the demo's own parcels, and the real client refreshes every watched
parcel from it through the same refresher, pipeline and quotas a real account would use.

What each parcel looks like follows its project: under construction, vegetation cleared on a
day 20–150 days ago (seeded by the project code) and then built on; completed, an existing
plant; otherwise (planning, preparation, suspended), fields that follow the seasons. Two
projects contradict their reports on purpose (``contradicted``): one reported not started and
one reported suspended are being built on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging

from pydantic import SecretStr

from connectors.satellite import (
    Refresher,
    RefreshReport,
    RequestBudget,
    Target,
    load_targets,
)
from connectors.sentinel.client import SentinelClient, SentinelConfig
from connectors.sentinel.loopback import loopback_process
from connectors.sentinel.scenes import SyntheticParcel
from graph_schema.model import ProjectStage
from graph_schema.statements.monitoring import SENSORS_OF_KIND
from graph_schema.store import GraphStore
from hub.monitoring.satellite import cache_dir, change_params
from hub.settings import Settings
from hub.telemetry import Telemetry

log = logging.getLogger(__name__)


def _onset(project_code: str, today: dt.date) -> dt.date:
    digest = hashlib.blake2b(project_code.encode(), digest_size=4).digest()
    return today - dt.timedelta(days=20 + int.from_bytes(digest, "big") % 130)


def contradicted(targets: list[Target], stages: dict[str, str]) -> dict[str, str]:
    """The demo's satellite-versus-report scenarios, by project: the first project (by code)
    reported not started (planning or preparation) and the first reported suspended whose
    parcels show construction all the same (VERIFICATION_MISMATCH SATELLITE_CONSTRUCTION,
    SATELLITE_CHANGE WHILE_SUSPENDED)."""
    codes = sorted({t.project_code for t in targets if t.project_code and t.parcels})
    out: dict[str, str] = {}
    for wanted in ((ProjectStage.PLANNING, ProjectStage.PREPARATION), (ProjectStage.SUSPENDED,)):
        found = next((c for c in codes if stages.get(c) in wanted), None)
        if found is not None:
            out[found] = stages[found]
    return out


def scenes_for(
    targets: list[Target], stages: dict[str, str], today: dt.date
) -> list[SyntheticParcel]:
    building = contradicted(targets, stages)
    out = []
    for t in targets:
        stage = stages.get(t.project_code or "")
        for p in t.parcels:
            built_on = stage == ProjectStage.CONSTRUCTION or t.project_code in building
            if t.project_code and built_on:
                out.append(
                    SyntheticParcel(p.id, p.geometry, "construction", _onset(t.project_code, today))
                )
            elif stage == ProjectStage.COMPLETED:
                out.append(SyntheticParcel(p.id, p.geometry, "built"))
            else:
                out.append(SyntheticParcel(p.id, p.geometry, "vegetated"))
    return out


async def simulate_satellite(settings: Settings, graph: GraphStore, telemetry: Telemetry) -> None:
    """Refresh the demo's parcels from the loopback once a day until cancelled."""
    await _simulate(settings, graph, telemetry, once=False)


async def refresh_satellite_once(
    settings: Settings, graph: GraphStore, telemetry: Telemetry
) -> RefreshReport | None:
    """Refresh the demo's parcels from the loopback one time and return the report (None
    without parcels): an explicit trigger, so a test waits for the refresh itself, not for
    its readings to show up in time."""
    return await _simulate(settings, graph, telemetry, once=True)


async def _simulate(
    settings: Settings, graph: GraphStore, telemetry: Telemetry, *, once: bool
) -> RefreshReport | None:
    targets = await load_targets(graph)
    if not targets:
        log.warning("demo satellite: no satellite sensors with parcels in the graph")
        return None
    rows = await graph.run(SENSORS_OF_KIND, {"kinds": ["satellite"]})
    stages = {row["project_code"]: row["stage"] for row in rows}
    s = settings.satellite
    while True:
        today = dt.datetime.now(dt.UTC).date()
        # The stand-in renders scenes in a process of its own, so the hub's event loop (live
        # readings, the API) keeps its interpreter while a refresh runs; one per day's round.
        async with loopback_process(scenes_for(targets, stages, today), today=today) as sh:
            client = SentinelClient(
                SentinelConfig(
                    base_url=sh.base_url,
                    token_url=sh.token_url,
                    client_id=sh.client_id,
                    client_secret=SecretStr(sh.client_secret),
                    cache_dir=cache_dir(settings),
                    # Demo sites were cleared up to 150 days ago; the detector compares with
                    # the same weeks a year before, so the demo fetches that far back.
                    history_days=max(s.history_days, 150 + 400),
                    retry_sleep_s=0.5,
                    landsat=s.landsat,
                )
            )
            refresher = Refresher(
                client,
                telemetry.pipeline,
                params=change_params(s),
                budget=RequestBudget(s.requests_per_minute, s.requests_per_month),
                concurrency=s.concurrency,
            )
            report = await refresher.refresh(targets, today)
        log.info(
            "demo satellite: %d parcels refreshed from the loopback Sentinel Hub, "
            "%d readings stored",
            report.parcels, report.stored,
        )  # fmt: skip
        if once:
            return report
        await asyncio.sleep(86400)
