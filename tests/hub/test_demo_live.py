"""The demo's site simulator: the shapes it promises (hub/demo/live.py), on fixed days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors import feeds
from hub.demo.live import IDLE_SHARE, Site, _bad_messages, _passes
from ingest.model import Message, Reason, SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore

TZ = ZoneInfo("Asia/Shanghai")
WEDNESDAY = dt.date(2025, 3, 5)
pytestmark = pytest.mark.anyio
SATURDAY = dt.date(2025, 3, 8)


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), TZ)


def _busy_site() -> Site:
    for n in range(1000):
        site = Site.of(f"2025-330106-36-01-{n:06d}", "construction")
        if not site.idle:
            return site
    raise AssertionError("no working site")


def test_power_follows_the_working_day_and_the_week() -> None:
    site = _busy_site()
    noon, night = _at(WEDNESDAY, 10), _at(WEDNESDAY, 2)
    assert site.power_kw(noon, TZ, 1.0) == site.peak_kw
    assert site.power_kw(night, TZ, 1.0) == site.peak_kw * 0.15
    assert site.power_kw(_at(SATURDAY, 10), TZ, 1.0) == site.peak_kw * 0.6


def test_completed_sites_keep_the_lights_on_and_idle_sites_stopped() -> None:
    done = Site.of("2025-330106-36-01-DONE01", "completed")
    assert not done.idle
    assert done.power_kw(_at(WEDNESDAY, 10), TZ, 1.0) == done.peak_kw * 0.5
    sites = [Site.of(f"2025-330106-36-01-{n:06d}", "construction") for n in range(2000)]
    idle = [s for s in sites if s.idle]
    assert abs(len(idle) / len(sites) - IDLE_SHARE) < 0.02
    stopped = idle[0]
    now = dt.datetime.now(dt.UTC)
    assert stopped.power_kw(now, TZ, 1.0) == stopped.peak_kw * 0.02
    week_ago = now - dt.timedelta(days=7)
    assert stopped.power_kw(week_ago, TZ, 1.0) > stopped.peak_kw * 0.02
    assert not stopped.working(now, TZ) and stopped.working(week_ago, TZ)


def test_gate_passes_are_arrivals_lunch_and_departures() -> None:
    site = _busy_site()
    passes = _passes(site, WEDNESDAY, TZ)
    assert passes == sorted(passes) and passes == _passes(site, WEDNESDAY, TZ)
    crew = {w for _, w, _ in passes}
    assert crew <= set(site.workers) and len(crew) >= 0.7 * len(site.workers)
    for worker in crew:
        mine = [(at.astimezone(TZ), d) for at, w, d in passes if w == worker]
        first, last = mine[0], mine[-1]
        assert first[1] == "in" and dt.time(6, 30) <= first[0].time() <= dt.time(8, 30)
        assert last[1] == "out" and dt.time(17) <= last[0].time() <= dt.time(19)
        assert [d for _, d in mine] in (["in", "out"], ["in", "out", "in", "out"])
    weekend = {w for _, w, _ in _passes(site, SATURDAY, TZ)}
    assert len(weekend) < len(crew)


async def test_every_malformed_message_becomes_a_dead_letter(tmp_path: Path) -> None:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        sensors = StaticSensors({"pwr-X": SensorInfo("pwr-X", "power", "P1")})
        pipeline = Pipeline(store, sensors, feeds.decoders(labor_salt=b"salt"))
        now = dt.datetime.now(dt.UTC)
        bad = _bad_messages(now, "pwr-X")
        arrived = int(now.timestamp() * 1000)
        result = await pipeline.process([Message(t, p, arrived) for t, p in bad])
        assert result.stored == []
        letters = await store.dead_letters()
        assert [d.code for d in letters] == [
            Reason.UNDECODABLE,
            Reason.UNKNOWN_SENSOR,
            Reason.OUT_OF_RANGE,
            Reason.INVALID,
            Reason.FUTURE,
        ]
    finally:
        await store.close()
