"""A camera's baseline survives restarts: the reference view and a latched MOVED are kept on
disk by its capture process (connectors.camera.state), so a camera turned before the hub
restarts is still MOVED after it, and a re-baseline stays done. Real footage (the walkers clip)
replayed through real runners, capture processes and a real SQLite store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from connectors import feeds
from connectors.camera import state as camera_state
from connectors.camera.runner import CameraRunner, SourceOptions
from graph_schema.model import CameraConfig
from ingest.bus import EventFilter, LiveBus, ReadingEvent
from ingest.model import SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from tests.connectors.test_camera import write_video
from tests.hub.test_monitoring import A
from tests.vision.footage import walkers
from vision import variants
from vision.health import Baseline, CameraHealth, HealthMonitor
from vision.types import Frame

SENSOR = SensorInfo("cam-gate", "camera", A)


def clip(path: Path, seconds: int, *, turned_after: int | None = None) -> Path:
    """The walkers at 2 fps and half size for ``seconds``; from ``turned_after`` s on, panned
    by 10 %."""
    frames = [cv2.resize(f, (384, 288), interpolation=cv2.INTER_AREA) for f in walkers()]

    def frame(i: int) -> Frame:
        f = frames[i % len(frames)]
        turned = turned_after is not None and i >= 2 * turned_after
        return variants.moved(f, pan=0.10) if turned else f

    return write_video(path, (frame(i) for i in range(2 * seconds)), 2)


async def play(video: Path, state: Path, start_ms: int, **runner: str) -> list[CameraHealth]:
    """Replay ``video`` through a fresh runner (a new capture process) keeping its baseline in
    ``state``; the camera's health readings, in order."""
    store = await SQLiteTelemetryStore.open(video.with_suffix(".db"), feeds.metrics())
    bus = LiveBus()
    feed = bus.subscribe(EventFilter(kinds=frozenset({"camera"})))
    try:
        pipeline = Pipeline(store, StaticSensors({SENSOR.id: SENSOR}), {}, bus=bus)
        config = CameraConfig(url=str(video), fps=2, interval_s=10)
        replay = SourceOptions(pace=False, loop=False, start_ms=start_ms)
        mark = runner.get("rebaseline")
        camera = CameraRunner(SENSOR, config, pipeline, source=replay, stop_at_end=True,
                              state=state, baseline=runner.get("baseline"))  # fmt: skip
        if mark is not None:
            camera.rebaseline(mark)  # sent to the process as it starts
        await asyncio.wait_for(camera.run(), 240)
        events = []
        while feed.pending():
            events.append(await anext(feed))
        return [
            CameraHealth(round(e.value))
            for e in sorted(
                (e for e in events if isinstance(e, ReadingEvent)), key=lambda e: e.ts_ms
            )
            if e.metric == "camera_health"
        ]
    finally:
        feed.close()
        await store.close()


@pytest.mark.anyio
async def test_a_moved_camera_stays_moved_across_a_restart_and_a_rebaseline_stays_done(
    tmp_path: Path,
) -> None:
    state = camera_state.state_path(tmp_path / "cameras", SENSOR.id)
    start = (int(time.time()) // 10 - 40) * 10_000  # 400 s ago, on an interval boundary
    right = clip(tmp_path / "right.avi", 16)
    turned = clip(tmp_path / "turned.avi", 12, turned_after=0)

    # The camera watches its view, then is turned: MOVED, and the baseline is on disk.
    first = await play(clip(tmp_path / "turn.avi", 36, turned_after=12), state, start)
    assert first[-1] is CameraHealth.MOVED, first
    saved = camera_state.load(state)
    assert saved is not None and saved.baseline.moved and saved.baseline.reference is not None

    # Restarted: still MOVED from its first reading (a fresh start would take the turned view
    # as its reference and call it OK).
    again = await play(turned, state, start + 60_000)
    assert again and set(again) == {CameraHealth.MOVED}, again

    # Re-baselined while it was down (the graph's mark differs from the saved one): OK, and
    # the turned view becomes the reference ...
    accepted = await play(turned, state, start + 90_000, baseline="2026-12-07T05:00:00")
    assert accepted and set(accepted) == {CameraHealth.OK}, accepted
    saved = camera_state.load(state)
    assert saved is not None and not saved.baseline.moved
    assert saved.mark == "2026-12-07T05:00:00"

    # ... which outlives a restart that hears of the same re-baseline again (from the graph
    # and from its runner): the old view is now the one turned away from the reference.
    mark = "2026-12-07T05:00:00"
    back = await play(right, state, start + 120_000, baseline=mark, rebaseline=mark)
    assert back[-1] is CameraHealth.MOVED, back


def test_an_unreadable_or_foreign_state_file_is_set_aside(tmp_path: Path) -> None:
    path = camera_state.state_path(tmp_path, "cam/with odd:id")
    assert path.parent == tmp_path and "/" not in path.name
    path.write_bytes(b"not a state file")
    assert camera_state.load(path) is None
    assert not path.exists() and path.with_name(path.name + ".bad").exists()

    # A reference that does not fit the camera (other descriptors) is not taken up.
    foreign: dict[str, np.ndarray] = {
        "points": np.zeros((100, 2), np.float32),
        "descriptors": np.zeros((100, 16), np.uint8),  # ORB's are 32 bytes
        "size": np.array([320, 240]),
    }
    monitor = HealthMonitor()
    assert not monitor.restore(Baseline(foreign, moved=True))
    assert not monitor.moved and not monitor.reference.ready
