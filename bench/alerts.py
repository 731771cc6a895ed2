"""Fusion, MPI and alerts at hubei scale (``python -m bench alerts``).

1. Generate the hubei-scale province (11,287 projects) and load it into a fresh embedded
   FalkorDB; give every power meter 90 days of daily energy (one reading a day at noon, every
   31st project stopped for the last 10 days: meter near zero, gate empty), every gate 30
   days of headcount (one pass per worker), and every camera its health, through the ingest
   pipeline into SQLite.
2. **Evidence**: the watch's full refresh (graph read, telemetry read, every project's
   evidence for 31 days and its mismatches), timed.
3. **MPI**: every region (province, cities, counties) for every half-month of the year so
   far, from that evidence, for the provincial list and for every project; timed per list.
4. **Reading → alert**: the watch follows the live bus and an in-process GraphQL
   ``alertFeed`` subscription is open (no WebSocket: what is timed is the hub's own path).
   200 times, a camera's ``camera_health`` reading (tampered, then healthy) is committed
   through the pipeline; latency runs from the commit's return to the CAMERA_HEALTH event
   (raised, then cleared) coming out of the subscription.

CPU of this process and of the embedded FalkorDB server, and the share of the machine used by
anything else, are read from /proc as in ``bench/ingest.py``. Run alone under a lock:
``flock /tmp/bench.lock python -m bench alerts``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.ingest import TICK, _machine_ticks, _proc_ticks
from bench.quick import check, province, seed
from bench.registry import Figures, benchmark
from connectors import feeds
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import migrate
from graph_schema.statements.monitoring import SENSORS_OF_KIND
from hub.api.context import Context
from hub.api.schema import build_schema
from hub.clock import ZONE
from hub.monitoring.mpi import year_periods
from hub.monitoring.watch import Watch
from hub.roles import Role
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from ingest.model import Attendance, MetricSpec, Reading, Rollup, SensorInfo, to_ms
from ingest.pipeline import Pipeline
from ingest.sensors import GraphSensors
from ingest.sqlite_store import SQLiteTelemetryStore

TRIGGERS = 200
CAMERA_METRICS = {
    "active_fraction": MetricSpec("active_fraction", "1", 0.0, 1.0, Rollup.MEAN),
    "camera_health": MetricSpec("camera_health", "1", 0.0, 6.0, Rollup.MEAN),
}
FEED = """subscription { alertFeed { change alert { alertId type subject status } } }"""


class _Cpu:
    """CPU seconds of this process and the graph server, and the machine's, over a span."""

    def __init__(self, graph_pid: int | None) -> None:
        self.pids = {"hub": os.getpid(), **({"graph": graph_pid} if graph_pid else {})}
        self.t0 = time.monotonic()
        self.ticks0 = {k: _proc_ticks(p) for k, p in self.pids.items()}
        self.machine0 = _machine_ticks()

    def figures(self, name: str) -> Figures:
        span = time.monotonic() - self.t0
        used = {k: (_proc_ticks(p) - self.ticks0[k]) / TICK / span for k, p in self.pids.items()}
        machine = (_machine_ticks() - self.machine0) / TICK / span
        cores = len(os.sched_getaffinity(0))
        other = max(0.0, machine - sum(used.values())) / cores
        return {
            f"{name}: CPU hub (cores)": round(used["hub"], 2),
            f"{name}: CPU graph server (cores)": round(used.get("graph", 0.0), 2),
            f"{name}: CPU other processes (share of {cores} cores)": f"{other:.1%}",
        }


async def _telemetry(
    graph: FalkorDBStore, path: Path, today: dt.date, sensors: int | None = None
) -> tuple[SQLiteTelemetryStore, Pipeline, dict[str, SensorInfo]]:
    """Telemetry for every power, labour and camera sensor (the first ``sensors`` of each kind)."""
    store = await SQLiteTelemetryStore.open(
        path, {**feeds.metrics(), **CAMERA_METRICS}, tz="Asia/Shanghai", synchronous="NORMAL"
    )
    rows = await graph.run(SENSORS_OF_KIND, {"kinds": ["power", "labor", "camera"]})
    if sensors is not None:  # the first ``sensors`` of each kind
        seen: dict[str, int] = {}
        kept = []
        for r in rows:
            seen[r["kind"]] = seen.get(r["kind"], 0) + 1
            if seen[r["kind"]] <= sensors:
                kept.append(r)
        rows = kept
    infos = {r["id"]: SensorInfo(r["id"], r["kind"], r["project_code"]) for r in rows}
    pipeline = Pipeline(store, GraphSensors(graph), {}, bus=LiveBus())
    batch: list[Reading | Attendance] = []

    async def flush() -> None:
        await pipeline.commit_observations(batch, infos)
        batch.clear()

    for n, r in enumerate(rows):
        # Every 31st project stopped 10 days ago: its meter near zero, nobody at its gate.
        stopped = int(hashlib.sha256(r["project_code"].encode()).hexdigest(), 16) % 31 == 0
        if r["kind"] == "power":
            for back in range(90):
                day = today - dt.timedelta(days=back)
                noon = to_ms(dt.datetime.combine(day, dt.time(12), ZONE))
                kwh = 3.0 if stopped and back < 10 else 400.0 + (n % 7) * 10
                batch.append(Reading(r["id"], noon, "energy_kwh", kwh, "kWh"))
        elif r["kind"] == "labor":
            for back in range(10 if stopped else 0, 30):
                day = today - dt.timedelta(days=back)
                morning = to_ms(dt.datetime.combine(day, dt.time(8), ZONE))
                for w in range(5):
                    worker = hashlib.sha256(f"{r['id']}/{w}".encode()).hexdigest()
                    batch.append(Attendance(r["id"], morning + w, worker, "in", r["project_code"]))
        else:
            noon = to_ms(dt.datetime.combine(today, dt.time(12), ZONE))
            batch.append(Reading(r["id"], noon, "camera_health", 0.0, "1"))
        if len(batch) >= 20_000:
            await flush()
    await flush()
    return store, pipeline, infos


@benchmark("alerts", "Evidence, MPI for every region and period, reading → alert at hubei scale")
async def alerts(quick: bool = False) -> Figures:
    figures: Figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as tmp:
        graph = await FalkorDBStore.embedded(Path(tmp) / "graph")
        try:
            await migrate(graph)
            await seed(graph, province(quick), quick=quick)
            now = dt.datetime.now(ZONE)
            started = time.perf_counter()
            store, pipeline, infos = await _telemetry(
                graph, Path(tmp) / "t.db", now.date(), 30 if quick else None
            )
            counts = await store.counts()
            figures["telemetry: readings, rollup days, gate passes"] = (
                f"{counts.readings:,}, {counts.daily:,}, {counts.attendance:,}"
            )
            figures["telemetry: seconds to load"] = round(time.perf_counter() - started, 1)
            watch = Watch(
                graph,
                store,
                fusion_rules=FusionSettings(),
                mpi_settings=MpiSettings(),
                alert_settings=AlertsSettings(),
                inactivity_timeout_s=1800,
            )
            pid = _graph_pid(graph)
            cpu = _Cpu(pid)
            t0 = time.perf_counter()
            snap = await watch.refresh()
            figures["evidence: projects"] = len(snap.projects)
            check(len(snap.projects) > 0, "evidence for the projects")
            figures["evidence: full refresh (s)"] = round(time.perf_counter() - t0, 2)
            figures["evidence: mismatches"] = sum(len(m) for m in snap.mismatches.values())
            figures.update(cpu.figures("evidence"))
            periods = year_periods(snap.today)
            for list_id in ("provincial", "all"):
                cpu = _Cpu(pid)
                t0 = time.perf_counter()
                boards = await watch.boards(list_id=list_id)
                took = time.perf_counter() - t0
                regions = len(boards[0].regions)
                name = f"MPI {list_id}"
                figures[f"{name}: regions × periods"] = f"{regions} × {len(periods)}"
                figures[f"{name}: seconds for all"] = round(took, 3)
                now_board = boards[-1].regions.values()
                red = sum(1 for r in now_board if r.warning and r.warning.value == "red")
                figures[f"{name}: red regions now"] = red
                figures.update(cpu.figures(name))
            cpu = _Cpu(pid)
            figures.update(await _latency(watch, pipeline, infos, 4 if quick else TRIGGERS))
            figures.update(cpu.figures("reading → alert"))
            await store.close()
        finally:
            await graph.close()
    return figures


def _graph_pid(graph: FalkorDBStore) -> int | None:
    server = graph._server  # the embedded server is our own child process
    return server.pid if server is not None else None


async def _latency(
    watch: Watch, pipeline: Pipeline, infos: dict[str, SensorInfo], triggers: int = TRIGGERS
) -> Figures:
    assert pipeline.bus is not None
    follower = asyncio.create_task(watch.follow(pipeline.bus))
    schema = build_schema()
    context = Context(store=watch.store, role=Role.MONITOR, watch=watch)
    feed = await schema.subscribe(FEED, context_value=context)
    assert not isinstance(feed, Exception) and hasattr(feed, "__anext__")
    camera = next(i for i in infos.values() if i.kind == "camera")
    await asyncio.sleep(0.2)
    latencies: list[float] = []
    try:
        for n in range(triggers):
            health = 6.0 if n % 2 == 0 else 0.0
            ts = to_ms(dt.datetime.now(dt.UTC)) + n
            await pipeline.commit_observations(
                [Reading(camera.id, ts, "camera_health", health, "1")], {camera.id: camera}
            )
            committed = time.perf_counter()
            result = await asyncio.wait_for(feed.__anext__(), 10)
            latencies.append(time.perf_counter() - committed)
            assert not result.errors, result.errors
            event = result.data["alertFeed"]  # type: ignore[index]
            expected = "RAISED" if health else "CLEARED"
            assert event["change"] == expected and event["alert"]["subject"] == camera.id, event
    finally:
        await feed.aclose()
        follower.cancel()
    ordered = sorted(latencies)
    return {
        "reading → alert: triggers (raise, clear alternately)": triggers,
        "reading → alert: p50 (ms)": round(statistics.median(ordered) * 1000, 1),
        "reading → alert: p95 (ms)": round(ordered[int(0.95 * len(ordered)) - 1] * 1000, 1),
        "reading → alert: max (ms)": round(ordered[-1] * 1000, 1),
    }
