"""Satellite feed: per-parcel Sentinel-2 series and change state, as observations for ``ingest``.

A satellite sensor (``sat-<id>``) watches a project; its observations cover the project's
parcels. Per pass day it reports (contract with fusion; names are fixed):

- ``ndvi``, ``ndbi``, ``bsi``: mean index over the clear pixels of its parcels (−1..1; parcels
  weighted by their clear pixels); only for passes clear enough to judge;
- ``valid_share``: share of the parcels' pixels that were clear (0..1), for every pass;
- ``change_score``: the change detector's score (≥ 0; ≥ 1 crosses the thresholds), the
  highest over the parcels;
- ``change_state``: −2 less than a year of history, −1 too small to resolve, 0 no change,
  1 detected, 2 confirmed; the most advanced over the parcels that can be resolved (−1 only
  when none can).

Observations are stamped at the pass day's 10:30 local solar time in China (02:30 UTC), when
Sentinel-2 crosses. ``Refresher`` brings every watched parcel up to date (one statistics request
per parcel, only for days after its cache) within the account's quotas, runs the detector over
each parcel's whole cached history and commits the new days through the pipeline; MQTT
publishers may also send these metrics on ``hub/v1/satellite/<sensor_id>``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.sentinel.client import SatelliteError, SentinelClient, SeriesCache
from connectors.spec import DecoderOptions, FeedSpec, FusionRole
from graph_schema.statements.satellite import SATELLITE_TARGETS
from graph_schema.store import GraphStore
from ingest.model import MetricSpec, Reading, Rollup, SensorInfo
from ingest.payloads import Decoder, ReadingDecoder
from ingest.pipeline import Pipeline
from vision.change import ChangeParams, ChangeResult, ChangeState, detect, is_clear
from vision.spectral import IndexMaps, index_maps, pixel_grid, rasterise

log = logging.getLogger(__name__)

KIND = "satellite"
METRICS: dict[str, MetricSpec] = {
    "ndvi": MetricSpec("ndvi", "index", -1.0, 1.0, Rollup.MEAN),
    "ndbi": MetricSpec("ndbi", "index", -1.0, 1.0, Rollup.MEAN),
    "bsi": MetricSpec("bsi", "index", -1.0, 1.0, Rollup.MEAN),
    "valid_share": MetricSpec("valid_share", "ratio", 0.0, 1.0, Rollup.MEAN),
    "change_score": MetricSpec("change_score", "score", 0.0, 1e6, Rollup.MEAN),
    "change_state": MetricSpec("change_state", "state", -2.0, 2.0, Rollup.MEAN),
}
PASS_TIME_UTC = dt.time(2, 30, tzinfo=dt.UTC)
DAYS_PER_MONTH = 30.44


def decoder(*, future_tolerance_s: float = 300.0, max_age_s: float | None = None) -> ReadingDecoder:
    """The MQTT payload decoder for ``hub/v1/satellite/<sensor_id>``."""
    return ReadingDecoder(KIND, METRICS, future_tolerance_s=future_tolerance_s, max_age_s=max_age_s)


# --- what to watch ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Parcel:
    id: str
    geometry: dict[str, Any]
    area_m2: float


@dataclass(frozen=True, slots=True)
class Target:
    """A satellite sensor, the project it watches and that project's parcels."""

    sensor_id: str
    project_code: str | None
    parcels: tuple[Parcel, ...]


async def load_targets(graph: GraphStore) -> list[Target]:
    rows = await graph.run(SATELLITE_TARGETS, {"kind": KIND})
    grouped: dict[tuple[str, str | None], list[Parcel]] = defaultdict(list)
    for row in rows:
        geometry = row["geometry"]
        if isinstance(geometry, str):
            geometry = json.loads(geometry)
        grouped[(row["sensor_id"], row["project_code"])].append(
            Parcel(row["parcel_id"], geometry, float(row["area_m2"] or 0.0))
        )
    return [Target(s, p, tuple(parcels)) for (s, p), parcels in grouped.items()]


# --- quotas ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefreshPlan:
    """How a refresh cadence fits an account's quotas (one statistics request per parcel)."""

    parcels: int
    refresh_days: float
    requests_per_minute: int
    requests_per_month: int
    requests_per_month_needed: int
    parcels_covered: int  # parcels the monthly quota refreshes at this cadence
    minutes_per_round: float  # a round of every parcel at the per-minute quota
    fastest_cadence_days: float  # shortest cadence at which the monthly quota covers them all

    @property
    def fits(self) -> bool:
        return self.parcels <= self.parcels_covered

    def describe(self) -> str:
        verdict = "fits" if self.fits else "does NOT fit"
        return (
            f"{self.parcels} parcels every {self.refresh_days:g} days need "
            f"{self.requests_per_month_needed} requests/month of {self.requests_per_month}: "
            f"{verdict}; the quota covers {self.parcels_covered} parcels at this cadence, all of "
            f"them every {self.fastest_cadence_days:.1f} days at best; a round takes "
            f"{self.minutes_per_round:.1f} min at {self.requests_per_minute}/min"
        )


def plan(
    parcels: int,
    *,
    refresh_days: float,
    requests_per_minute: int,
    requests_per_month: int,
    requests_per_parcel: int = 1,
) -> RefreshPlan:
    """``requests_per_parcel``: statistics requests per parcel refresh (2 with Landsat 8/9)."""
    if refresh_days <= 0 or requests_per_minute <= 0 or requests_per_month <= 0:
        raise ValueError("cadence and quotas must be positive")
    if requests_per_parcel < 1:
        raise ValueError("requests_per_parcel must be at least 1")
    rounds = DAYS_PER_MONTH / refresh_days
    asks = parcels * requests_per_parcel
    return RefreshPlan(
        parcels=parcels,
        refresh_days=refresh_days,
        requests_per_minute=requests_per_minute,
        requests_per_month=requests_per_month,
        requests_per_month_needed=math.ceil(asks * rounds),
        parcels_covered=int(requests_per_month / (rounds * requests_per_parcel)),
        minutes_per_round=asks / requests_per_minute,
        fastest_cadence_days=DAYS_PER_MONTH * asks / requests_per_month if parcels else 0.0,
    )


class RequestBudget:
    """Spaces requests to the per-minute quota and stops at the monthly ones: requests and,
    when ``units_per_month`` is set, processing units. With a ``path`` what was spent this month
    is kept on disk (written atomically after every request), so a restart does not reset it."""

    def __init__(
        self,
        per_minute: int,
        per_month: int,
        *,
        units_per_month: float | None = None,
        path: Path | None = None,
    ) -> None:
        self.interval_s = 60.0 / per_minute
        self.per_month = per_month
        self.units_per_month = units_per_month
        self.path = path
        self.month: tuple[int, int] | None = None
        self.spent = 0
        self.units = 0.0
        self._next = 0.0
        self._load()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            year, month = (int(x) for x in str(data["month"]).split("-"))
            self.month, self.spent = (year, month), int(data["requests"])
            self.units = float(data.get("units", 0.0))
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A damaged record: start from zero but say so (the account's own count is truth).
            log.warning("satellite budget %s unreadable (%s): counting from zero", self.path, exc)

    def _save(self) -> None:
        if self.path is None or self.month is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "month": f"{self.month[0]:04d}-{self.month[1]:02d}",
            "requests": self.spent,
            "units": round(self.units, 4),
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record), encoding="utf-8")
        tmp.replace(self.path)

    def left(self, today: dt.date) -> int:
        if self.month != (today.year, today.month):
            self.month, self.spent, self.units = (today.year, today.month), 0, 0.0
        if self.units_per_month is not None and self.units >= self.units_per_month:
            return 0
        return self.per_month - self.spent

    async def take(self, today: dt.date) -> bool:
        """Wait for the request's turn under the per-minute quota; False when a monthly one is
        spent. The request is counted before the wait, so that concurrent takers never spend
        more than the month holds (one cancelled while it waits stays counted)."""
        if self.left(today) <= 0:
            return False
        now = time.monotonic()
        wait = self._next - now
        self._next = max(now, self._next) + self.interval_s
        self.spent += 1
        self._save()
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    def charge(self, today: dt.date, units: float) -> None:
        """Add a request's processing units (``Refresh.units``)."""
        self.left(today)
        self.units += units
        self._save()


# --- series to observations ------------------------------------------------------------------


def stamp(day: dt.date) -> int:
    moment = dt.datetime.combine(day, PASS_TIME_UTC)
    return round(moment.timestamp() * 1000)


def readings(
    target: Target,
    results: dict[str, tuple[ChangeResult, list[tuple[dt.date, float, float, float, float, int]]]],
    days: Iterable[dt.date],
) -> list[Reading]:
    """The sensor's readings for ``days`` from its parcels' series and detector results.

    ``results`` maps parcel id → (detector result, [(day, ndvi, ndbi, bsi, share, valid px)])."""
    by_day: dict[dt.date, list[tuple[str, tuple[float, float, float, float, int]]]] = defaultdict(
        list
    )
    steps: dict[tuple[str, dt.date], tuple[float, ChangeState, bool]] = {}
    for parcel_id, (result, rows) in results.items():
        for day, ndvi, ndbi, bsi, share, valid in rows:
            by_day[day].append((parcel_id, (ndvi, ndbi, bsi, share, valid)))
        for step in result.steps:
            # Two passes on one day (Sentinel-2 and Landsat): the row is Sentinel-2's, which
            # comes first, and so is whether it was clear; the state is the day's last.
            first = steps.get((parcel_id, step.day))
            seen = step.clear if first is None else first[2]
            steps[(parcel_id, step.day)] = (step.score, step.state, seen)
    out: list[Reading] = []
    for day in sorted(set(days)):
        looks = by_day.get(day)
        if not looks:
            continue
        ts = stamp(day)
        sid = target.sensor_id
        pixels = sum(v[4] for _, v in looks)
        total = sum(v[4] / v[3] if v[3] > 0 else 0.0 for _, v in looks)
        out.append(Reading(sid, ts, "valid_share", pixels / total if total else 0.0, "ratio"))
        clear = [(pid, v) for pid, v in looks if steps.get((pid, day), (0, 0, False))[2]]
        if clear:
            weight = sum(v[4] for _, v in clear)
            for i, metric in enumerate(("ndvi", "ndbi", "bsi")):
                value = sum(v[i] * v[4] for _, v in clear) / weight
                out.append(Reading(sid, ts, metric, max(-1.0, min(1.0, value)), "index"))
        states = [steps[(pid, day)] for pid, _ in looks if (pid, day) in steps]
        resolved = [s for s in states if s[1] is not ChangeState.TOO_SMALL]
        state = max((s[1] for s in resolved), default=ChangeState.TOO_SMALL)
        score = max((s[0] for s in resolved), default=0.0)
        out.append(Reading(sid, ts, "change_score", score, "score"))
        out.append(Reading(sid, ts, "change_state", float(int(state)), "state"))
    return out


# --- the refresher ---------------------------------------------------------------------------


@dataclass(slots=True)
class RefreshReport:
    parcels: int = 0
    requests: int = 0
    new_days: int = 0
    failed_days: int = 0
    stored: int = 0
    skipped_quota: int = 0
    units: float = 0.0  # processing units, estimated (``SentinelClient.units``)
    errors: dict[str, str] = field(default_factory=dict)  # parcel id → "CODE: message"


class Refresher:
    """Brings watched parcels up to date and commits what is new through the pipeline.

    ``concurrency`` targets are refreshed at once: while one target's readings are judged and
    committed, the next parcels are being fetched (each request in a thread of its own; the
    budget still spaces requests to the per-minute quota). Sentinel Hub takes seconds to
    answer a year and more of statistics: a backfill of a province waits on its answers, not
    on this process."""

    def __init__(
        self,
        client: SentinelClient,
        pipeline: Pipeline,
        *,
        params: ChangeParams,
        budget: RequestBudget,
        concurrency: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.pipeline = pipeline
        self.params = params
        self.budget = budget
        self.concurrency = concurrency

    async def refresh(self, targets: Sequence[Target], today: dt.date) -> RefreshReport:
        report = RefreshReport()
        # A parcel two targets share is fetched by one at a time (the second finds it up to
        # date, as it would one after the other): the cache file is not written twice at once.
        busy: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

        async def one(target: Target) -> None:
            new_days: set[dt.date] = set()
            for parcel in target.parcels:
                report.parcels += 1
                async with busy[parcel.id]:
                    # One request per optical source (Sentinel-2, and Landsat 8/9 when on).
                    if not all(
                        [
                            await self.budget.take(today)
                            for _ in range(self.client.requests_per_refresh)
                        ]
                    ):
                        report.skipped_quota += 1
                        continue
                    try:
                        result = await asyncio.to_thread(
                            self.client.refresh, parcel.id, parcel.geometry, today
                        )
                    except SatelliteError as exc:
                        report.errors[parcel.id] = f"{exc.code}: {exc}"
                        log.warning("satellite refresh of parcel %s failed: %s", parcel.id, exc)
                        continue
                failure = result.landsat_error
                if failure is not None:
                    report.errors[f"{parcel.id} landsat"] = f"{failure.code}: {failure}"
                    log.warning("Landsat statistics of parcel %s failed: %s", parcel.id, failure)
                report.requests += result.requests if result.asked else 0
                report.units += result.units
                self.budget.charge(today, result.units)
                report.new_days += len(result.new_days)
                report.failed_days += len(result.failed_days)
                new_days.update(result.new_days)
            if new_days:
                stored = await self._commit(target, new_days)
                report.stored += stored  # not ``+= await``: other targets add meanwhile

        await _bounded((one(t) for t in targets), self.concurrency)
        return report

    async def _commit(self, target: Target, days: set[dt.date]) -> int:
        # The detector over a parcel's whole history (and the cache read) is CPU work: off the
        # event loop, so a backfill of hundreds of parcels does not stall live readings.
        results = await asyncio.to_thread(judge, self.client.cache, target, self.params)
        out = readings(target, results, days)
        if not out:
            return 0
        info = SensorInfo(target.sensor_id, KIND, target.project_code)
        # Only the newest pass is news for live subscribers (the wall's feed); a backfill of a
        # year and more of passes is stored without flooding them.
        newest = max(r.ts_ms for r in out)
        history = [r for r in out if r.ts_ms < newest]
        stored = 0
        if history:
            done = await self.pipeline.commit_observations(history, {info.id: info}, live=False)
            stored += len(done.stored)
        latest = [r for r in out if r.ts_ms == newest]
        stored += len((await self.pipeline.commit_observations(latest, {info.id: info})).stored)
        return stored


async def _bounded(jobs: Iterable[Coroutine[Any, Any, None]], limit: int) -> None:
    """Run ``jobs`` in order, at most ``limit`` at once; the first failure cancels the others
    and is raised as it is."""
    running: set[asyncio.Task[None]] = set()

    async def settle() -> None:
        nonlocal running
        done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        failures = [e for e in (t.exception() for t in done) if e is not None]
        if failures:
            raise failures[0]

    try:
        # Wait for room AFTER starting a job, never between taking one from ``jobs`` and
        # starting it: a refresh cancelled there (the hub shutting down) left that coroutine
        # never awaited ("coroutine ... was never awaited" at every demo stop).
        for job in jobs:
            running.add(asyncio.ensure_future(job))
            if len(running) >= limit:
                await settle()
        while running:
            await settle()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)


def parcel_maps(
    client: SentinelClient, parcel: Parcel, day: dt.date, *, edge_pixels: int = 1
) -> IndexMaps:
    """Index maps of one pass over a parcel (Process API bands; polygon rasterised, edges
    eroded, clouds masked): call it for a day before and a day after a change."""
    bbox, width, height = pixel_grid(parcel.geometry, client.config.resolution_m)
    inside = rasterise(parcel.geometry, bbox, width, height)
    sc = client.scene(bbox, width, height, day)
    return index_maps(
        sc.bands, sc.scl, sc.data_mask, inside, day, edge_pixels=edge_pixels, harmonized=True
    )


def judge(
    cache: SeriesCache, target: Target, params: ChangeParams
) -> dict[str, tuple[ChangeResult, list[tuple[dt.date, float, float, float, float, int]]]]:
    """Each parcel's detector result over its whole cached history."""
    out = {}
    for parcel in target.parcels:
        series = cache.load(parcel.id)
        rows = series.rows()
        result = detect(series.observations(), area_m2=parcel.area_m2, params=params)
        out[parcel.id] = (result, rows)
    return out


def _decoders(o: DecoderOptions) -> dict[str, Decoder]:
    return {KIND: decoder(future_tolerance_s=o.future_tolerance_s, max_age_s=o.max_age_s)}


FEED = FeedSpec(
    KIND, "Satellite view of a parcel.", "卫星", None, METRICS, _decoders, FusionRole.REMOTE
)


__all__ = [
    "FEED",
    "KIND",
    "METRICS",
    "Parcel",
    "RefreshPlan",
    "RefreshReport",
    "Refresher",
    "RequestBudget",
    "Target",
    "decoder",
    "is_clear",
    "judge",
    "load_targets",
    "parcel_maps",
    "plan",
    "readings",
]
