"""The satellite feed: loopback Sentinel Hub → real client → detector → pipeline → SQLite store;
quota plans; the MQTT decoder for ``hub/v1/satellite/<id>``."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors import feeds, satellite
from connectors.satellite import Parcel, Refresher, RequestBudget, Target, _bounded, plan
from connectors.sentinel.client import SentinelClient, SentinelConfig
from connectors.sentinel.loopback import LoopbackSentinelHub
from connectors.sentinel.scenes import (
    SyntheticParcel,
    acquisitions,
    missing,
    square,
    synthetic_parcels,
)
from graph_schema.geometry import area_m2
from ingest.model import Message, SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from vision.change import ChangeParams, ChangeState

pytestmark = pytest.mark.anyio
START = dt.date(2024, 1, 1)
TODAY = dt.date(2025, 12, 20)
SYN = synthetic_parcels(3, seed=11, start=START, end=TODAY)
BUILD = next(p for p in SYN if p.kind == "construction")
STABLE = next(p for p in SYN if p.kind == "vegetated")
TINY = SyntheticParcel("tiny", square(120.5, 30.5, 2_500), "construction", dt.date(2025, 6, 1))


@pytest.fixture
def sh() -> Iterator[LoopbackSentinelHub]:
    with LoopbackSentinelHub([*SYN, TINY], today=TODAY, retry_after_ms=100) as server:
        yield server


def _targets() -> list[Target]:
    def parcel(p: SyntheticParcel) -> Parcel:
        return Parcel(p.id, p.geometry, area_m2(p.geometry))

    return [
        Target("sat-build", "P-BUILD", (parcel(BUILD),)),
        Target("sat-stable", "P-STABLE", (parcel(STABLE),)),
        Target("sat-tiny", "P-TINY", (parcel(TINY),)),
    ]


def _client(sh: LoopbackSentinelHub, cache: Path) -> SentinelClient:
    config = SentinelConfig(
        sh.base_url, sh.token_url, sh.client_id, SecretStr(sh.client_secret), cache,
        history_days=730, retry_sleep_s=0.05,
    )  # fmt: skip
    return SentinelClient(config)


async def test_a_refresh_stores_series_and_change_state_through_ingest(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        pipeline = Pipeline(store, StaticSensors({}), feeds.decoders(labor_salt=None))
        refresher = Refresher(
            _client(sh, tmp_path / "cache"),
            pipeline,
            params=ChangeParams(),
            budget=RequestBudget(per_minute=6000, per_month=10_000),
        )
        report = await refresher.refresh(_targets(), TODAY)
        assert report.errors == {} and report.requests == 3 and report.stored > 0
        latest = {(x.sensor_id, x.metric): x.value for x in await store.latest()}
        assert latest[("sat-build", "change_state")] == ChangeState.CONFIRMED
        assert latest[("sat-build", "change_score")] >= 1.0
        assert latest[("sat-stable", "change_state")] == ChangeState.NONE
        assert latest[("sat-tiny", "change_state")] == ChangeState.TOO_SMALL
        assert 0.0 <= latest[("sat-stable", "valid_share")] <= 1.0
        assert {m for s, m in latest if s == "sat-build"} == set(satellite.METRICS)

        # The rollups the API serves are there, in the project's name.
        days = await store.daily(start=START, end=TODAY, project_code="P-BUILD", metric="ndvi")
        assert len(days) > 20 and all(d.kind == "satellite" for d in days)

        # A second refresh the same day asks nothing and stores nothing.
        asked = len(sh.bodies("statistics"))
        again = await refresher.refresh(_targets(), TODAY)
        assert len(sh.bodies("statistics")) == asked and again.stored == 0

        # Ten days later: one request per parcel for the new days only.
        sh.today = later = TODAY + dt.timedelta(days=10)
        newer = await refresher.refresh(_targets(), later)
        assert len(sh.bodies("statistics")) == asked + 3
        passes = acquisitions(TODAY + dt.timedelta(days=1), later + dt.timedelta(days=1))
        expected = sum(not missing(p, d) for p in (BUILD, STABLE, TINY) for d in passes)
        assert newer.new_days == expected and expected >= 4 and newer.stored > 0
    finally:
        await store.close()


async def test_targets_refreshed_at_once_store_what_one_at_a_time_does(
    sh: LoopbackSentinelHub, tmp_path: Path
) -> None:
    got = {}
    for concurrency in (1, 3):
        store = await SQLiteTelemetryStore.open(tmp_path / f"{concurrency}.db", feeds.metrics())
        try:
            pipeline = Pipeline(store, StaticSensors({}), feeds.decoders(labor_salt=None))
            refresher = Refresher(
                _client(sh, tmp_path / f"cache-{concurrency}"),
                pipeline,
                params=ChangeParams(),
                budget=RequestBudget(per_minute=6000, per_month=10_000),
                concurrency=concurrency,
            )
            report = await refresher.refresh(_targets(), TODAY)
            assert report.errors == {} and report.requests == 3
            latest = sorted((x.sensor_id, x.metric, x.ts, x.value) for x in await store.latest())
            got[concurrency] = (report.stored, report.new_days, latest)
        finally:
            await store.close()
    # The report adds up every target's readings (none lost to another target's commit).
    assert got[3] == got[1] and got[1][0] > 0


async def test_the_monthly_quota_stops_requests(sh: LoopbackSentinelHub, tmp_path: Path) -> None:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        pipeline = Pipeline(store, StaticSensors({}), feeds.decoders(labor_salt=None))
        refresher = Refresher(
            _client(sh, tmp_path / "cache"),
            pipeline,
            params=ChangeParams(),
            budget=RequestBudget(per_minute=6000, per_month=2),
        )
        report = await refresher.refresh(_targets(), TODAY)
        assert report.requests == 2 and report.skipped_quota == 1
    finally:
        await store.close()


def test_the_plan_says_how_many_parcels_a_quota_covers() -> None:
    cdse = plan(1500, refresh_days=5, requests_per_minute=300, requests_per_month=10_000)
    assert cdse.parcels_covered == 1642  # 10,000 / (30.44 / 5)
    assert cdse.fits and cdse.requests_per_month_needed == 9132
    assert cdse.minutes_per_round == 5.0
    too_many = plan(3000, refresh_days=5, requests_per_minute=300, requests_per_month=10_000)
    assert not too_many.fits and too_many.fastest_cadence_days == pytest.approx(9.13, abs=0.01)
    assert "does NOT fit" in too_many.describe()


async def test_satellite_mqtt_payloads_decode_and_bad_ones_are_dead_letters(
    tmp_path: Path,
) -> None:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        sensors = StaticSensors({"sat-1": SensorInfo("sat-1", "satellite", "P1")})
        pipeline = Pipeline(store, sensors, feeds.decoders(labor_salt=None))
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        good = [
            {"ts": now, "metric": "ndvi", "value": 0.42, "unit": "index"},
            {"ts": now, "metric": "change_state", "value": 2, "unit": "state"},
        ]
        bad = [{"ts": now, "metric": "ndvi", "value": 1.7, "unit": "index"}]
        result = await pipeline.process(
            [
                Message("hub/v1/satellite/sat-1", json.dumps(good).encode(), 0),
                Message("hub/v1/satellite/sat-1", json.dumps(bad).encode(), 0),
            ]
        )
        assert len(result.stored) == 2
        (letter,) = await store.dead_letters()
        assert letter.code == "OUT_OF_RANGE"
    finally:
        await store.close()


async def test_the_budget_counts_requests_and_units_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    budget = RequestBudget(6000, 3, units_per_month=1.0, path=path)
    assert await budget.take(TODAY) and await budget.take(TODAY)
    budget.charge(TODAY, 0.4)
    again = RequestBudget(6000, 3, units_per_month=1.0, path=path)  # the hub restarted
    assert again.spent == 2 and again.units == pytest.approx(0.4)
    assert await again.take(TODAY) and not await again.take(TODAY)  # 3 requests a month
    later = RequestBudget(6000, 3, units_per_month=0.3, path=path)
    assert later.left(TODAY) == 0  # the units ran out first
    next_month = TODAY + dt.timedelta(days=15)
    assert later.left(next_month) == 3 and await later.take(next_month)
    path.write_text("{not json", encoding="utf-8")
    assert RequestBudget(6000, 3, path=path).spent == 0  # damaged: counted from zero, no crash


async def test_a_refresh_cancelled_while_full_leaves_no_parcel_taken_and_not_started() -> None:
    # The hub stops a refresh by cancelling it: every parcel job taken from the queue must have
    # been started (so the cancellation reaches it), none created and left never awaited.
    started: list[int] = []
    created: list[int] = []
    release = asyncio.Event()

    async def job(i: int) -> None:
        started.append(i)
        await release.wait()

    def jobs() -> Iterator[Coroutine[Any, Any, None]]:
        for i in range(5):
            created.append(i)
            yield job(i)

    task = asyncio.create_task(_bounded(jobs(), 2))
    while len(started) < 2:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert created == started == [0, 1]
