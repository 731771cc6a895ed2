"""Cameras: generated video files with known ground truth through the frame source and the
analyser; health of frozen, dark, blurred and covered streams; bad input (missing file, corrupt
file, refused stream, a stream that stops, bad polygons, an HTTP snapshot that is not an image)
as stable codes; a dead camera as an ``offline`` observation in a real SQLite store."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import pytest

from connectors import camera, feeds
from connectors.camera import worker as camera_worker
from connectors.camera.runner import CameraRunner, SourceOptions
from connectors.camera.source import (
    CameraUnreachable,
    CorruptFrame,
    DamagedSource,
    SnapshotSource,
    StreamLost,
    StreamSource,
)
from graph_schema.errors import InvalidRecord
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import CameraConfig, validate
from hub.bulk import import_records
from ingest.bus import EventFilter, LiveBus, ReadingEvent
from ingest.model import Reading, SensorInfo
from ingest.pipeline import Pipeline
from ingest.sensors import StaticSensors
from ingest.sqlite_store import SQLiteTelemetryStore
from tests.broker import free_port
from tests.hub.test_monitoring import A, _seed
from vision.health import CameraHealth
from vision.synthetic import Mover, Scene
from vision.types import Frame

START_MS = 1_700_000_000_000  # an interval boundary for 1 s, 2 s and 5 s intervals


def write_video(path: Path, frames: Iterable[Frame], fps: float) -> Path:
    """An MJPEG AVI (decodable by every OpenCV build) of ``frames``."""
    writer: cv2.VideoWriter | None = None
    for frame in frames:
        if writer is None:
            size = (frame.shape[1], frame.shape[0])
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
        writer.write(frame)
    assert writer is not None
    writer.release()
    return path


def site_video(path: Path, *, idle_s: float, busy_s: float, fps: float = 10) -> Path:
    """A still site for ``idle_s``, then two machines moving for ``busy_s``."""
    scene = Scene(seed=11)

    def frames() -> Iterator[Frame]:
        for i in range(round((idle_s + busy_s) * fps)):
            if i == round(idle_s * fps):
                scene.movers = [Mover(30, 230, 70, 50, 5, 0), Mover(480, 40, 40, 40, 0, 3)]
            yield scene.frame()

    return write_video(path, frames(), fps)


def analyse(path: Path, config: CameraConfig) -> list[Reading]:
    source = StreamSource(str(path), config.fps, start_ms=START_MS)
    analyser = camera.CameraAnalyser("cam-1", config)
    out: list[Reading] = []
    try:
        while (item := source.read()) is not None:
            out.extend(analyser.frame(*item))
    finally:
        source.close()
    return out + analyser.flush()


def series(readings: list[Reading], metric: str) -> list[tuple[float, float]]:
    """(seconds from the start, value) of one metric."""
    return [((r.ts_ms - START_MS) / 1000, r.value) for r in readings if r.metric == metric]


def test_a_video_file_gives_interval_metrics_and_debounced_motion(tmp_path: Path) -> None:
    video = site_video(tmp_path / "site.avi", idle_s=6, busy_s=6)
    config = CameraConfig(url=str(video), fps=5, interval_s=2, motion_off_s=3)
    readings = analyse(video, config)
    active = series(readings, "active_fraction")
    objects = dict(series(readings, "moving_objects"))
    assert [t for t, _ in active] == [2, 4, 6, 8, 10, 12]
    assert [v for _, v in active][:3] == [0.0, 0.0, 0.0]  # the idle site
    # The machines move from 6 s; an object counts once seen in three frames (6.4 s).
    assert active[3][1] == pytest.approx(0.8) and all(v == 1.0 for _, v in active[4:])
    assert all(objects[t] == pytest.approx(2, abs=0.3) for t in (10, 12))
    assert all(0.0 < v < 0.2 for t, v in series(readings, "motion_area") if t > 6)
    # ON once, 1 s after they are confirmed; no OFF: they never stop.
    assert series(readings, "motion") == [(7.4, 1.0)]
    assert {v for _, v in series(readings, "camera_health")} == {0.0}
    assert "persons" not in {r.metric for r in readings}  # not enabled on this camera


def test_motion_in_a_masked_region_is_ignored(tmp_path: Path) -> None:
    video = site_video(tmp_path / "site.avi", idle_s=2, busy_s=4)
    everything = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    # A strip over the second machine's path is masked; the first machine still shows.
    strip = [[0.7, 0.0], [0.85, 0.0], [0.85, 1.0], [0.7, 1.0]]
    half = CameraConfig(url=str(video), fps=5, interval_s=2, masks=[strip])
    objects = dict(series(analyse(video, half), "moving_objects"))
    assert objects[4] == pytest.approx(1, abs=0.3) and objects[6] == pytest.approx(1, abs=0.5)
    fully = CameraConfig(url=str(video), fps=5, interval_s=2, masks=[everything])
    masked = analyse(video, fully)
    assert {v for _, v in series(masked, "active_fraction")} == {0.0}
    assert series(masked, "motion") == []


def _health_video(path: Path, condition: str) -> Path:
    scene = Scene(320, 180, seed=12, movers=[Mover(20, 100, 40, 30, 3, 0)])
    normal = [scene.frame() for _ in range(20)]  # 5 s at 4 fps
    frozen = normal[-1]
    covered = Scene.showing(Scene(320, 180, seed=12).frame(gain=0.08, blur=8), noise=1.0)
    after: Callable[[int], Frame] = {
        "frozen": lambda i: frozen,
        "dark": lambda i: scene.frame(gain=max(0.06, 1 - i / 80)),  # a 20 s nightfall
        "blurred": lambda i: scene.frame(blur=4),
        "covered": lambda i: covered.frame(),
    }[condition]
    return write_video(path, normal + [after(i) for i in range(160)], 4)


@pytest.mark.parametrize(
    ("condition", "state"),
    [
        ("frozen", CameraHealth.FROZEN),
        ("dark", CameraHealth.DARK),
        ("blurred", CameraHealth.BLURRED),
        ("covered", CameraHealth.TAMPERED),
    ],
)
def test_unhealthy_streams_are_flagged(tmp_path: Path, condition: str, state: int) -> None:
    video = _health_video(tmp_path / f"{condition}.avi", condition)
    readings = analyse(video, CameraConfig(url=str(video), fps=4, interval_s=5))
    health = series(readings, "camera_health")
    flagged = [(t, v) for t, v in health if v != CameraHealth.OK]
    assert flagged and all(v == state for _, v in flagged), health  # no other state on the way
    assert flagged[0][0] >= 5 + 10  # after the confirmation time
    assert health[-1] == (45.0, state)  # the last interval says it too


def test_bad_sources_raise_stable_codes(tmp_path: Path) -> None:
    with pytest.raises(CameraUnreachable) as missing:
        StreamSource(str(tmp_path / "none.avi"), 2)
    assert missing.value.code == "CAMERA_UNREACHABLE"
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"RIFF not really a video" * 100)
    with pytest.raises(DamagedSource) as damaged:
        StreamSource(str(junk), 2)
    assert damaged.value.code == "CAMERA_DAMAGED"
    with pytest.raises(CameraUnreachable) as refused:
        StreamSource(f"rtsp://user:secret@127.0.0.1:{free_port()}/live", 2)
    assert "secret" not in str(refused.value)


def test_a_stream_that_stops_sending_is_lost_not_a_silent_end(tmp_path: Path) -> None:
    site_video(tmp_path / "site.avi", idle_s=1, busy_s=1)  # served once over HTTP, then closed
    files = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    source = StreamSource(f"http://127.0.0.1:{server.server_port}/site.avi", 5)

    def play_through() -> None:
        for _ in range(1000):  # a ceiling: the stream has 20 frames
            source.read()

    try:
        with pytest.raises(StreamLost) as lost:
            play_through()
    finally:
        source.close()
        server.shutdown()
        server.server_close()
    assert lost.value.code == "CAMERA_STREAM_LOST"


def test_bad_polygons_are_refused_with_the_reason() -> None:
    base = {"id": "cam-1", "kind": "camera", "project_code": A}
    for polygon, reason in [
        ([[0, 0], [1, 0]], "at least 3"),
        ([[0, 0], [1.5, 0], [1, 1]], "outside the frame"),
        ([[0, 0], [0.5, 0.5], [1, 1]], "no area"),
    ]:
        with pytest.raises(InvalidRecord) as bad:
            validate("sensor", {**base, "camera": {"url": "x.avi", "masks": [polygon]}})
        assert reason in str(bad.value.problems), bad.value.problems
    zone = [[0, 0], [1, 0], [1, 1]]
    ok = validate("sensor", {**base, "camera": {"url": "x.avi", "zones": [zone]}})
    assert getattr(ok, "camera").fps == 2.0  # noqa: B009


class _Snapshots(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_snapshot_url_is_polled_and_a_bad_image_is_a_corrupt_frame() -> None:
    ok, jpeg = cv2.imencode(".jpg", Scene(seed=3).frame())
    assert ok
    _Snapshots.body = jpeg.tobytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Snapshots)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = SnapshotSource(f"http://127.0.0.1:{server.server_port}/snap.jpg", fps=20)
        first, second = source.read(), source.read()
        assert first is not None and second is not None
        assert first[1].shape == (360, 640, 3) and second[0] - first[0] >= 40
        _Snapshots.body = b"<html>login required</html>"
        with pytest.raises(CorruptFrame) as corrupt:
            source.read()
        assert corrupt.value.code == "CAMERA_CORRUPT_FRAME"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.anyio
async def test_a_dead_camera_becomes_an_offline_observation(tmp_path: Path) -> None:
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        sensor = SensorInfo("cam-dead", "camera", "2025-330106-36-01-MON001")
        sensors = StaticSensors({sensor.id: sensor})
        pipeline = Pipeline(store, sensors, feeds.decoders(labor_salt=b"x"))
        # A long interval: no interval's end (when offline is reported again) during the test.
        config = CameraConfig(url=str(tmp_path / "gone.avi"), offline_s=0.2, interval_s=3600)
        runner = CameraRunner(sensor, config, pipeline, backoff_s=(0.05, 0.1))
        task = asyncio.create_task(runner.run())
        for _ in range(600):  # up to 30 s: the capture process starts Python and OpenCV
            if runner.committed and len(runner.errors) > 3:
                break
            await asyncio.sleep(0.05)
        runner.stop()
        await asyncio.wait_for(task, 5)
        assert runner.errors and runner.errors[0].startswith("CAMERA_UNREACHABLE")
        latest = await store.latest(sensor_ids=["cam-dead"])
        assert [(r.metric, r.value) for r in latest] == [("camera_health", 1.0)]
        assert runner.committed == 1  # reported once, however often it retried
    finally:
        await store.close()


@pytest.mark.anyio
async def test_stand_alone_workers_split_the_cameras_and_ingest(tmp_path: Path) -> None:
    video = site_video(tmp_path / "site.avi", idle_s=0.5, busy_s=2)
    await _seed(tmp_path / "graph")
    graph = await FalkorDBStore.embedded(tmp_path / "graph")
    ids = [f"cam-w{n}" for n in range(6)]
    try:
        config = {"url": str(video), "fps": 5, "interval_s": 1}
        records = [validate("sensor", {"id": i, "kind": "camera", "project_code": A,
                                       "camera": config}) for i in ids]  # fmt: skip
        await import_records(graph, "sensor", records)
    finally:
        await graph.close()
    mine = [i for i in ids if camera_worker.shard_of(i, 2) == 1]
    assert 0 < len(mine) < len(ids)  # the ids split between two workers
    db = tmp_path / "telemetry.db"
    argv = ["--db", str(db), "--graph-url", f"embedded://{tmp_path / 'graph'}", "--shard", "1/2"]
    # The worker runs until every camera of its shard has reported, and then one more interval
    # each (by which time a camera of the other shard, polled by mistake, would have reported
    # too: all six play the same file); --seconds is only the ceiling of a hang.
    stop = asyncio.Event()
    worker = asyncio.create_task(
        camera_worker.main([*argv, "--seconds", "300", "--refresh-s", "60"], stop=stop)
    )
    store = await SQLiteTelemetryStore.open(db, feeds.metrics())
    try:
        first: dict[str, dt.datetime] | None = None
        while not worker.done():
            latest: dict[str, dt.datetime] = {}
            for r in await store.latest(sensor_ids=ids):
                latest[r.sensor_id] = max(r.ts, latest.get(r.sensor_id, r.ts))
            if first is None and set(mine) <= set(latest):
                first = {i: latest[i] for i in mine}
            if first is not None and all(latest[i] > first[i] for i in mine):
                break
            await asyncio.sleep(0.2)
        stop.set()
        assert await worker == 0
        heard = {r.sensor_id for r in await store.latest(sensor_ids=ids)}
    finally:
        await store.close()
    assert heard == set(mine)


@pytest.mark.anyio
async def test_a_snapshot_url_serving_no_image_is_offline_not_stuck(tmp_path: Path) -> None:
    _Snapshots.body = b"<html>camera rebooting</html>"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Snapshots)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    try:
        sensor = SensorInfo("cam-snap", "camera", A)
        pipeline = Pipeline(store, StaticSensors({sensor.id: sensor}), {})
        url = f"http://127.0.0.1:{server.server_port}/snap.jpg"
        config = CameraConfig(url=url, source="snapshot", fps=20, offline_s=0.3, interval_s=3600)
        runner = CameraRunner(sensor, config, pipeline)
        task = asyncio.create_task(runner.run())
        for _ in range(600):
            if runner.committed and runner.errors:
                break
            await asyncio.sleep(0.05)
        runner.stop()
        await asyncio.wait_for(task, 5)  # stops although no frame ever decoded
        assert runner.errors[0].startswith("CAMERA_CORRUPT_FRAME")
        latest = await store.latest(sensor_ids=["cam-snap"])
        assert [(r.metric, r.value) for r in latest] == [("camera_health", 1.0)]
    finally:
        await store.close()
        server.shutdown()
        server.server_close()


@pytest.mark.anyio
async def test_a_video_file_through_the_runner_reaches_the_store_and_the_live_feed(
    tmp_path: Path,
) -> None:
    video = site_video(tmp_path / "site.avi", idle_s=2, busy_s=4)
    store = await SQLiteTelemetryStore.open(tmp_path / "t.db", feeds.metrics())
    bus = LiveBus()
    feed = bus.subscribe(EventFilter(kinds=frozenset({"camera"})))
    try:
        sensor = SensorInfo("cam-file", "camera", A)
        pipeline = Pipeline(store, StaticSensors({sensor.id: sensor}), {}, bus=bus)
        config = CameraConfig(url=str(video), fps=5, interval_s=2)
        start = (int(time.time()) // 2 - 10) * 2000  # 20 s ago, on an interval boundary

        replay = SourceOptions(pace=False, loop=False, start_ms=start)
        runner = CameraRunner(sensor, config, pipeline, source=replay, stop_at_end=True)
        await asyncio.wait_for(runner.run(), 60)
        events = []
        while feed.pending():
            events.append(await anext(feed))
        readings = [e for e in events if isinstance(e, ReadingEvent)]
        assert ("motion", 1.0) in {(e.metric, e.value) for e in readings}
        active = sorted(
            (e.ts_ms - start, e.value) for e in readings if e.metric == "active_fraction"
        )
        assert active == [(2000, 0.0), (4000, pytest.approx(0.8)), (6000, 1.0)]  # confirmed
        assert all(e.project_code == A for e in readings)
        stored = {(r.metric, r.value) for r in await store.latest(sensor_ids=["cam-file"])}
        assert ("active_fraction", 1.0) in stored and ("camera_health", 0.0) in stored
    finally:
        feed.close()
        await store.close()


@pytest.mark.timing
def test_a_paced_file_loops_in_real_time_with_fresh_frames(tmp_path: Path) -> None:
    scene = Scene(160, 90, seed=4, movers=[Mover(10, 30, 20, 20, 6, 0)])
    video = write_video(tmp_path / "loop.avi", [scene.frame() for _ in range(5)], 5)  # 1 s
    source = StreamSource(str(video), 5, pace=True, loop=True)
    started = time.monotonic()
    try:
        items = [source.read() for _ in range(12)]  # 2.4 s: two loops and a bit
    finally:
        source.close()
    played = time.monotonic() - started
    print(f"12 frames at 5 fps played in {played:.2f} s")
    # Played, not raced through (a lower bound: a busy machine only makes it later).
    assert played > 2.0
    frames = [f for f in items if f is not None]
    assert [f[0] - frames[0][0] for f in frames] == [i * 200 for i in range(12)]
    # After a loop the clip plays again from its start (frame 5 is frame 0 again, not stuck).
    pictures = [f[1] for f in frames]
    assert (pictures[5] == pictures[0]).all() and not (pictures[6] == pictures[5]).all()
