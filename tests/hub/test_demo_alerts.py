"""The demo shows what issue 8 promises: idle projects, a stale meter, a mismatch and a
county in red. The simulator's own history (hub/demo/live.py) for a sample of the demo's
sites goes through the real pipeline into a real telemetry store beside the demo graph."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import feeds, labor
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.monitoring import SENSORS_OF_KIND
from hub import fusion
from hub.clock import fixed
from hub.demo.live import HISTORY_LABOR_DAYS, LONG_IDLE_DAYS, _passes, meter_history, plan
from hub.mpi import HalfMonth
from hub.scoreboard import WarningLevel
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from hub.watch import Watch
from ingest.bus import LiveBus
from ingest.model import Attendance, Reading, SensorInfo
from ingest.payloads import parse_time
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore

pytestmark = pytest.mark.anyio
TZ = ZoneInfo("Asia/Shanghai")


async def test_the_demo_has_idle_projects_a_stale_meter_a_mismatch_and_a_red_county(
    demo_store: FalkorDBStore, tmp_path: Path
) -> None:
    rows = await demo_store.run(SENSORS_OF_KIND, {"kinds": ["power", "labor"]})
    sites, silent = plan(rows)
    stopped = next(s for s in sites if s.idle_days == LONG_IDLE_DAYS)
    county = stopped.project_code[5:11]
    idle = [s for s in sites if s.idle and s is not stopped][:5]
    working = [s for s in sites if not s.idle and not s.completed][:15]
    noisy = [s for s in sites if set(s.meters) & silent]
    sample = {s.project_code: s for s in [stopped, *idle, *working, *noisy]}
    # An injected clock: the demo's history and the hub's judgement of it depend on the time of
    # day and the weekday (today in progress, working hours), so fix both: the last Wednesday,
    # 15:00 in Shanghai, before now (all the history is in the past, as in a running demo).
    local = dt.datetime.now(TZ)
    wednesday = local.date() - dt.timedelta(days=(local.weekday() - 2) % 7 or 7)
    now = dt.datetime.combine(wednesday, dt.time(15), TZ).astimezone(dt.UTC)
    observations: list[Reading | Attendance] = []
    for site in sample.values():
        for meter in site.meters:
            for r in meter_history(site, meter, meter in silent, TZ, now):
                observations.append(
                    Reading(meter, parse_time(r["ts"]), r["metric"], r["value"], r["unit"])
                )
        for gate in site.gates:
            for back in range(HISTORY_LABOR_DAYS, -1, -1):
                day = now.astimezone(TZ).date() - dt.timedelta(days=back)
                observations += [
                    Attendance(gate, parse_time(at.isoformat()),
                               labor.hash_worker(w, b"demo"), d, site.project_code)
                    for at, w, d in _passes(site, day, TZ)
                    if at <= now and site.working(at, TZ, now)
                ]  # fmt: skip
    telemetry = await SQLiteTelemetryStore.open(
        tmp_path / "t.db", feeds.metrics(), tz="Asia/Shanghai", synchronous="NORMAL"
    )
    try:
        infos = {
            r["id"]: SensorInfo(r["id"], r["kind"], r["project_code"])
            for r in rows
            if r["project_code"] in sample
        }
        pipe = Pipeline(telemetry, GraphSensors(demo_store), {}, bus=LiveBus())
        await pipe.commit_observations(observations, infos)
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
        today = snap.today
        # The long stop: IDLE for a week and more, still reported under construction.
        assert fusion.idle_run(snap.history[stopped.project_code], today) >= 7
        [mismatch] = snap.mismatches[stopped.project_code]
        assert mismatch.kind is fusion.MismatchKind.NO_ACTIVITY
        # The short stops (three days) are idle, without a mismatch yet.
        for site in idle:
            assert fusion.idle_run(snap.history[site.project_code], today) >= 3
            assert snap.mismatches[site.project_code] == []
        # Working sites were ACTIVE yesterday (today is in progress).
        yesterday = today - dt.timedelta(days=1)
        busy = [snap.history[s.project_code][yesterday].status for s in working]
        assert busy == [fusion.Activity.ACTIVE] * len(working)
        # The silent meters are stale.
        stale = {f.subject for f in await watch.stale_findings(now)}
        assert silent <= stale
        # The stopped site's county is red in the current half-month.
        board = await watch.board(HalfMonth.of(today))
        assert board.regions[county].warning is WarningLevel.RED
    finally:
        await telemetry.close()
