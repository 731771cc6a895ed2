"""A camera fleet with dead cameras among live ones (``python -m bench camera-fleet``): issue 24's
acceptance figures, which tests/connectors/test_camera_fleet.py prints but may not assert (no
test asserts on wall time).

Eight cameras whose RTSP port accepts TCP and never sends a byte, and two playing the committed
clip of walkers (tests/footage/video/vtest_walkers.mp4) in real time, each polled by its own
``CameraRunner`` and capture process, as ``CameraFleet`` starts them (the fleet only adds the
graph query that lists them), with the default ``offline_s`` (30 s) and fps (2). Readings go
to a SQLite store. Figures: how long after the start each dead camera's OFFLINE reading is
stamped (the bound: ``offline_s`` + 5 s), and the live cameras' analysed frames per second
over 20 s from their first frames, while the dead ones hang in their opens (the bound: the
configured fps ± 10 %). Wall-clock figures: other work on the machine weighs on them.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.registry import Figures, benchmark
from connectors import feeds
from connectors.camera.runner import CameraRunner
from connectors.camera.silent import SilentListeners
from graph_schema.model import CameraConfig
from ingest.model import SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore

CLIP = Path(__file__).resolve().parent.parent / "tests" / "footage" / "video" / "vtest_walkers.mp4"
DEAD, LIVE, FPS = 8, 2, 2.0
WINDOW_S = 20.0


@benchmark("camera-fleet", "8 dead cameras (TCP accepted, no answer) beside 2 live: OFFLINE, fps")
async def run(quick: bool = False) -> Figures:
    # quick: one dead camera, one live, a 1 s window and a 2 s offline_s
    dead, live, window_s = (1, 1, 1.0) if quick else (DEAD, LIVE, WINDOW_S)
    silent = SilentListeners(dead)
    with tempfile.TemporaryDirectory() as tmp:
        store = await SQLiteTelemetryStore.open(Path(tmp) / "t.db", feeds.metrics())
        try:
            # _measure raises unless every live camera analyses frames and every dead one
            # goes OFFLINE; how soon is a figure, not a check (a busy machine is slower).
            return await _measure(store, silent, live, window_s, 2.0 if quick else None)
        finally:
            await store.close()
            silent.close()


async def _measure(
    store: SQLiteTelemetryStore,
    silent: SilentListeners,
    n_live: int = LIVE,
    window_s: float = WINDOW_S,
    offline_s: float | None = None,
) -> Figures:
    offline = {} if offline_s is None else {"offline_s": offline_s}
    dead = {
        f"cam-dead-{i}": CameraConfig(
            url=f"rtsp://127.0.0.1:{s.getsockname()[1]}/live", fps=FPS, **offline
        )
        for i, s in enumerate(silent.sockets)
    }
    live = {f"cam-live-{i}": CameraConfig(url=str(CLIP), fps=FPS) for i in range(n_live)}
    infos = {sid: SensorInfo(sid, "camera", "BENCH") for sid in [*dead, *live]}
    pipeline = Pipeline(store, StaticSensors(infos), {})
    runners = {sid: CameraRunner(infos[sid], c, pipeline) for sid, c in {**dead, **live}.items()}
    started = time.time()
    tasks = [asyncio.create_task(r.run()) for r in runners.values()]
    try:
        first = dict.fromkeys(live, 0.0)
        deadline = time.monotonic() + 300  # a ceiling, not a figure
        while not all(first.values()):  # the live cameras' first frames
            if time.monotonic() > deadline:
                raise RuntimeError(f"live cameras without frames: {_errors(runners, live)}")
            for sid in live:
                if runners[sid].frames and not first[sid]:
                    first[sid] = time.time()
            await asyncio.sleep(0.05)
        counted = {sid: runners[sid].frames for sid in live}
        window_start = time.monotonic()
        while time.monotonic() - window_start < window_s:
            await asyncio.sleep(0.5)
        span = time.monotonic() - window_start
        rates = {sid: (runners[sid].frames - counted[sid]) / span for sid in live}
        offline_at: dict[str, float] = {}
        while len(offline_at) < len(dead):
            if time.monotonic() > deadline + 300:
                missing = sorted(set(dead) - set(offline_at))
                raise RuntimeError(f"dead cameras not offline: {missing}")
            for row in await store.latest(sensor_ids=list(dead)):
                if row.metric == "camera_health" and row.value == 1.0:
                    offline_at.setdefault(row.sensor_id, row.ts.timestamp() - started)
            await asyncio.sleep(0.2)
        dead_errors = _errors(runners, dead)
    finally:
        for r in runners.values():
            r.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
    offline_s = next(iter(dead.values())).offline_s
    late = sorted(offline_at.values())
    low, high = FPS * 0.9, FPS * 1.1
    return {
        "dead cameras: offline_s (default), s": offline_s,
        f"dead cameras: OFFLINE after, s (min / max of {len(dead)})": (
            f"{late[0]:.1f} / {late[-1]:.1f}"
        ),
        "dead cameras: all within offline_s + 5 s": "yes" if late[-1] <= offline_s + 5 else "no",
        "dead cameras: failures seen meanwhile": ", ".join(dead_errors) or "none",
        "live cameras: first frame after, s": ", ".join(
            f"{first[sid] - started:.1f}" for sid in live
        ),
        f"live cameras: analysed fps over {window_s:.0f} s (configured {FPS:g})": ", ".join(
            f"{rates[sid]:.2f}" for sid in live
        ),
        "live cameras: all within ±10 %": (
            "yes" if all(low <= rate <= high for rate in rates.values()) else "no"
        ),
    }


def _errors(runners: dict[str, CameraRunner], ids: dict[str, CameraConfig]) -> list[str]:
    return sorted({e.split(":")[0] for sid in ids for e in runners[sid].errors})
