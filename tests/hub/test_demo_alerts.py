"""The demo always plays its scenarios: idle construction sites, a stale meter, a mismatch,
a county in red and overdue land nodes, at whatever hour it starts and however busy the
machine is. (The satellite-versus-report scenarios: tests/hub/test_satellite.py.)

The simulator's own history messages (``hub.demo.live.history_messages``, what it publishes
over MQTT) for a sample of the demo's sites go through the real decoders and pipeline into a
real telemetry store beside the demo graph; the watch reads them with the same injected clock
the simulator was given. Nothing here waits on time: the moment is pinned.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.statements.monitoring import SENSORS_OF_KIND
from hub.clock import fixed
from hub.demo.dates import AS_OF
from hub.demo.live import LONG_IDLE_DAYS, history_messages, plan, scenarios_first
from hub.monitoring import fusion
from hub.monitoring.alerts import AlertType
from hub.monitoring.mpi import HalfMonth
from hub.monitoring.watch import Watch
from hub.promotion.scoreboard import WarningLevel
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from ingest.model import Message
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")

# Starts just after midnight, mid-morning and just before midnight, on a Sunday, a Tuesday
# and a Wednesday: the scenarios must not depend on the hour or the weekday.
STARTS = [
    dt.datetime.combine(AS_OF, dt.time(0, 5), TZ),
    dt.datetime.combine(AS_OF + dt.timedelta(days=2), dt.time(9, 30), TZ),
    dt.datetime.combine(AS_OF + dt.timedelta(days=3), dt.time(23, 55), TZ),
]


def _spin() -> None:
    while True:
        pass


@pytest.fixture
def cpu_hog() -> Iterator[int]:
    """Every core busy for the test's duration (the acceptance's 'machine loaded')."""
    n = os.cpu_count() or 2
    ctx = multiprocessing.get_context("spawn")
    hogs = [ctx.Process(target=_spin, daemon=True) for _ in range(n)]
    for h in hogs:
        h.start()
    try:
        yield n
    finally:
        for h in hogs:
            h.terminate()
        for h in hogs:
            h.join(10)


async def _scenarios(demo_store: FalkorDBStore, tmp_path: Path, start: dt.datetime) -> None:
    now = start.astimezone(dt.UTC)
    rows = await demo_store.run(SENSORS_OF_KIND, {"kinds": ["power", "labor"]})
    sites, silent = plan(rows, now, TZ)
    stages = {r["project_code"]: r["stage"] for r in rows}
    stopped = next(s for s in sites if s.idle_days == LONG_IDLE_DAYS)
    county = stopped.project_code[5:11]
    idle = [s for s in sites if s.idle and s is not stopped][:5]
    working = [s for s in sites if not s.idle and s.construction][:15]
    noisy = [s for s in sites if set(s.meters) & silent]
    sample = {s.project_code: s for s in [stopped, *idle, *working, *noisy]}
    assert idle and all(stages[s.project_code] == "construction" for s in [stopped, *idle])
    arrived = int(now.timestamp() * 1000)
    messages = [
        Message(topic, json.dumps(body).encode(), arrived)
        for site in sample.values()
        for topic, body in history_messages(site, silent, TZ, now)
    ]
    telemetry = await SQLiteTelemetryStore.open(
        tmp_path / "t.db", feeds.metrics(), tz="Asia/Shanghai", synchronous="NORMAL"
    )
    try:
        pipe = Pipeline(
            telemetry, GraphSensors(demo_store), feeds.decoders(labor_salt=b"demo"), bus=LiveBus()
        )
        for first in range(0, len(messages), 200):
            result = await pipe.process(messages[first : first + 200])
            assert result.stored, "history is stored, not dead-lettered"
        assert await telemetry.dead_letters() == []
        watch = Watch(
            demo_store,
            telemetry,
            fusion_rules=FusionSettings(),
            mpi_settings=MpiSettings(),
            alert_settings=AlertsSettings(),
            inactivity_timeout_s=1800,
            clock=fixed(now),
        )
        snap = await watch.refresh()
        idle_found, mismatched = await watch.project_findings()
        # Idle construction sites: every stopped site, and only sites under construction.
        idle_subjects = {f.subject for f in idle_found}
        assert {s.project_code for s in [stopped, *idle]} <= idle_subjects
        assert all(snap.projects[c].stage == "construction" for c in idle_subjects)
        assert not {s.project_code for s in working} & idle_subjects
        # The short stops (three complete days) are idle without a mismatch yet; the long stop
        # is IDLE for a week and more while still reported under construction.
        for site in idle:
            assert fusion.idle_run(snap.history[site.project_code], snap.today) == 3
        assert fusion.idle_run(snap.history[stopped.project_code], snap.today) == LONG_IDLE_DAYS
        mismatch = {f.subject for f in mismatched}
        assert f"{stopped.project_code}/NO_ACTIVITY" in mismatch
        assert not any(f"{s.project_code}/NO_ACTIVITY" in mismatch for s in idle)
        # The silent meters are stale.
        stale = {f.subject for f in await watch.stale_findings(now)}
        assert silent and silent <= stale
        # The stopped site's county is red in the current half-month.
        board = await watch.board(HalfMonth.of(snap.today))
        assert board.regions[county].warning is WarningLevel.RED
        # Construction sites' satellite changes are evidence, never an alert.
        _, sats = await watch.device_findings(now)
        assert all(snap.projects[str(f.project_code)].stage != "construction" for f in sats)
        assert {f.type for f in idle_found} == {AlertType.PROJECT_IDLE}
        # Overdue land nodes: one alert per project, listing its nodes.
        land_found = await watch.land_findings(now)
        assert land_found and len({f.subject for f in land_found}) == len(land_found)
        assert all(f.details["count"] == len(f.details["nodes"]) >= 1 for f in land_found)
        assert any(f.details["count"] > 1 for f in land_found)
    finally:
        await telemetry.close()


@pytest.mark.parametrize("start", STARTS, ids=lambda s: s.strftime("%a-%H%M"))
async def test_the_demo_plays_its_scenarios_at_any_hour(
    demo_store: FalkorDBStore, tmp_path: Path, start: dt.datetime
) -> None:
    await _scenarios(demo_store, tmp_path, start)


@pytest.mark.timing
async def test_the_demo_plays_its_scenarios_with_every_core_busy(
    demo_store: FalkorDBStore, tmp_path: Path, cpu_hog: int
) -> None:
    assert cpu_hog >= 1
    await _scenarios(demo_store, tmp_path, STARTS[1])


async def test_the_scenarios_history_comes_first(demo_store: FalkorDBStore) -> None:
    """The whole history takes most of an hour on a busy machine: the long stop's, the silent
    meters' and the short stops' sites are published before every other site, so their
    scenarios play within minutes whatever the load."""
    rows = await demo_store.run(SENSORS_OF_KIND, {"kinds": ["power", "labor"]})
    sites, silent = plan(rows, STARTS[1].astimezone(dt.UTC), TZ)
    order = scenarios_first(sites, silent)
    assert sorted(s.project_code for s in order) == [s.project_code for s in sites]
    assert order[0].idle_days == LONG_IDLE_DAYS
    scripted = [bool(s.idle or set(s.meters) & silent) for s in order]
    first_plain = scripted.index(False)
    assert first_plain > 1 + len(silent) and not any(scripted[first_plain:])
    assert {m for s in order[:first_plain] for m in s.meters} >= silent
