"""Polling cameras: one capture process per camera, supervised; readings committed here.

``CameraFleet`` keeps one ``CameraRunner`` per configured camera sensor in the graph, started,
restarted (configuration changed) and stopped as the graph says. A runner starts the camera's
capture process (``connectors.camera.capture``: open, read, decode, analyse) and reads its
reports on a pipe, so the event loop only waits and commits, and a camera whose open or read
hangs — inside FFmpeg, holding its lock — stalls nobody but itself.

The runner is the camera's watchdog. Whatever the process does, a camera that has delivered no
frame for ``offline_s`` is reported offline at that moment (and again at every interval's end
while it stays so); a process that has said nothing at all for ``hang_s`` is killed and
started again. Per camera it keeps the frame rate over the last ``_FPS_WINDOW_S`` and the age
of the newest frame, which ``/metrics`` and GraphQL show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from connectors.camera import KIND, METRICS
from connectors.camera import capture as camera_capture
from connectors.camera.state import state_path
from graph_schema.model import CameraConfig
from graph_schema.statements.monitoring import CONFIGURED_CAMERAS
from graph_schema.store import GraphStore
from ingest.model import Reading, SensorInfo
from ingest.pipeline import Pipeline
from vision.health import CameraHealth

log = logging.getLogger(__name__)
_FPS_WINDOW_S = 10.0
_STOP_GRACE_S = 3.0
# A capture process is forked from a server that imported OpenCV and the hub's models once; the
# first start also waits for that server. It is not hung until it had this long to say hello.
_STARTUP_S = 120.0


def _context() -> multiprocessing.context.ForkServerContext:
    # forkserver: each camera's process is a fork of one clean, single-threaded server (not of
    # the hub, whose threads and event loop must not be forked), with the imports done.
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, multiprocessing.context.ForkServerContext)
    context.set_forkserver_preload(["connectors.camera.capture"])
    return context


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How the capture process opens its source: files played in real time and looped (the
    demo's cameras), or replayed as fast as they decode from ``start_ms`` (tests, imports)."""

    pace: bool = True
    loop: bool = True
    start_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CameraStats:
    """What the watchdog sees of one camera."""

    sensor_id: str
    fps: float  # frames analysed per second over the last 10 s
    frame_age_s: float | None  # since the newest frame; None before the first
    offline: bool  # reported offline and not back yet
    restarts: int  # capture processes started after the first
    frames: int  # frames analysed since the runner started
    last_error: str | None  # "CODE: message" of the newest failure


class CameraRunner:
    """One camera: its capture process, its watchdog, and the commits of its readings."""

    def __init__(
        self,
        sensor: SensorInfo,
        config: CameraConfig,
        pipeline: Pipeline,
        *,
        source: SourceOptions | None = None,
        backoff_s: tuple[float, float] = (1.0, 30.0),
        hang_s: float | None = None,
        clock: Callable[[], float] = time.time,
        stop_at_end: bool = False,
        state: Path | None = None,
        baseline: str | None = None,
    ) -> None:
        self.sensor, self.config, self.pipeline = sensor, config, pipeline
        self._source = source or SourceOptions()
        self._backoff = backoff_s
        # Silent this long (no frame, no error): the process is stuck inside a call. Opens
        # and reads give up after 10 s on their own, so twice that and the offline time.
        self._hang_s = hang_s if hang_s is not None else max(20.0, config.offline_s) + 10.0
        self._clock = clock
        self._stop_at_end = stop_at_end
        self._stopped = asyncio.Event()
        self._process: BaseProcess | None = None
        self._starting: asyncio.Future[None] | None = None
        self._commands: Connection | None = None
        self._interval_ms = round(config.interval_s * 1000)
        self.committed = 0
        self.errors: list[str] = []
        self.frames = 0
        self.restarts = 0
        self.offline = False
        self._motion_on = False
        self._last_frame: float | None = None
        self._started = clock()
        self._times: deque[float] = deque()
        self._state = state  # the file keeping the camera's baseline (connectors.camera.state)
        self._baseline = baseline  # the graph's mark of its last re-baseline, when started
        self._rebaseline: tuple[int, str] | None = None

    # -- control ----------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopped.set()

    def rebaseline(self, mark: str | None = None) -> None:
        """The operator accepted the current view: tell the capture process (now or when it
        next starts). ``mark`` names this re-baseline (the graph's ``camera_baseline_at``), so
        a restarted process that applied it already does not apply it again."""
        ts = round(self._clock() * 1000)
        self._rebaseline = (ts, mark or f"ts:{ts}")
        self._send({"t": "rebaseline", "ts": ts, "mark": self._rebaseline[1]})

    def stats(self) -> CameraStats:
        now = self._clock()
        while self._times and now - self._times[0] > _FPS_WINDOW_S:
            self._times.popleft()
        span = min(_FPS_WINDOW_S, now - self._started)
        return CameraStats(
            self.sensor.id,
            len(self._times) / span if span > 0 else 0.0,
            None if self._last_frame is None else max(0.0, now - self._last_frame),
            self.offline,
            self.restarts,
            self.frames,
            self.errors[-1] if self.errors else None,
        )

    # -- the loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        delay = self._backoff[0]
        self._started = self._clock()
        first = True
        try:
            while not self._stopped.is_set():
                if not first:
                    self.restarts += 1
                first = False
                ended = await self._supervise()
                if ended or self._stopped.is_set():
                    return
                await self._wait(delay)
                delay = min(delay * 2, self._backoff[1])
        finally:
            await self._kill()

    async def _supervise(self) -> bool:
        """One capture process, from start to exit; True when a file ended (stop_at_end)."""
        context = _context()
        commands_out, commands_in = context.Pipe(duplex=False)
        reports_out, reports_in = context.Pipe(duplex=False)
        start = {
            "sensor_id": self.sensor.id,
            "config": self.config.model_dump(mode="json"),
            "pace": self._source.pace,
            "loop": self._source.loop,
            "start_ms": self._source.start_ms,
            "offline": self.offline,
            "state": None if self._state is None else str(self._state),
            "baseline": self._baseline,
        }
        process = context.Process(
            target=camera_capture.run,
            args=(commands_out, reports_in, start),
            name=f"camera-{self.sensor.id}",
            daemon=True,
        )
        inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        # The watchdog runs while the process starts: a start waits for the fork server (its
        # first start imports OpenCV and the models; busy, that takes seconds) and for a thread
        # of the default executor (a few, shared by the fleet), and a camera with no frame is
        # offline after ``offline_s`` however long its neighbours' starts keep it waiting.
        starting = loop.run_in_executor(None, process.start)
        starting.add_done_callback(lambda _: _close(commands_out, reports_in))
        self._process, self._commands, self._starting = process, commands_in, starting
        # Readable at the end of the process, or when a failed start closed the parent's end.
        loop.add_reader(reports_out.fileno(), _receive, reports_out, inbox)
        try:
            return await self._watch(process, inbox)
        finally:
            loop.remove_reader(reports_out.fileno())
            reports_out.close()

    async def _watch(
        self, process: BaseProcess, inbox: asyncio.Queue[dict[str, Any] | None]
    ) -> bool:
        if self._rebaseline is not None:
            ts, mark = self._rebaseline
            self._send({"t": "rebaseline", "ts": ts, "mark": mark})
        heard = self._clock() + _STARTUP_S - self._hang_s  # until its first word
        next_repeat: float | None = None
        while not self._stopped.is_set():
            now = self._clock()
            reference = self._last_frame if self._last_frame is not None else self._started
            deadlines = [heard + self._hang_s]
            if not self.offline:
                deadlines.append(reference + self.config.offline_s)
            elif next_repeat is not None:
                deadlines.append(next_repeat)
            timeout = max(0.05, min(deadlines) - now)
            stop = asyncio.ensure_future(self._stopped.wait())
            get = asyncio.ensure_future(inbox.get())
            done, _ = await asyncio.wait({stop, get}, timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            stop.cancel()
            if get not in done:
                get.cancel()
                if self._stopped.is_set():
                    return False
                now = self._clock()
                if not self.offline and now - reference >= self.config.offline_s:
                    await self._went_offline(now)
                    next_repeat = self._next_boundary(now)
                elif self.offline and next_repeat is not None and now >= next_repeat:
                    ts = round(next_repeat * 1000)
                    await self._commit([self._reading(ts, "camera_health", CameraHealth.OFFLINE)])
                    next_repeat = self._next_boundary(now)
                if now - heard >= self._hang_s:
                    self._failed("CAMERA_HUNG", f"capture silent for {now - heard:.0f} s: killed")
                    await self._kill()
                    return False
                continue
            message = get.result()
            if message is None:  # the process ended, or never started
                await self._kill()
                if process.exitcode not in (0, None):
                    self._failed("CAMERA_CAPTURE_EXITED", f"capture exited with {process.exitcode}")
                return False
            heard = self._clock()
            kind = message.get("t")
            if kind == "frame":
                self._frame(heard)
                next_repeat = None
            elif kind == "readings":
                await self._commit(
                    [self._reading(int(ts), str(m), float(v)) for ts, m, v in message["r"]]
                )
            elif kind == "error":
                self._failed(str(message.get("code")), str(message.get("message")))
            elif kind == "end" and self._stop_at_end:
                return True
        return False

    def _frame(self, now: float) -> None:
        self.frames += 1
        self._last_frame = now
        self._times.append(now)
        self.offline = False

    async def _went_offline(self, now: float) -> None:
        ts = round(now * 1000)
        self.offline = True
        readings = [self._reading(ts, "camera_health", CameraHealth.OFFLINE)]
        if self._motion_on:
            readings.append(self._reading(ts, "motion", 0.0))
        await self._commit(readings)
        # The analyser in the capture process learns it too (when it is not stuck), so the
        # first frame after this reports the camera back.
        self._send({"t": "offline", "ts": ts})

    def _next_boundary(self, now: float) -> float:
        ms = (round(now * 1000) // self._interval_ms + 1) * self._interval_ms
        return ms / 1000

    def _reading(self, ts_ms: int, metric: str, value: float) -> Reading:
        return Reading(self.sensor.id, ts_ms, metric, float(value), METRICS[metric].unit)

    async def _commit(self, readings: list[Reading]) -> None:
        if not readings:
            return
        for r in readings:
            if r.metric == "motion":
                self._motion_on = r.value >= 1.0
        result = await self.pipeline.commit_observations(readings, {self.sensor.id: self.sensor})
        self.committed += len(result.stored)

    def _send(self, message: dict[str, Any]) -> None:
        commands = self._commands
        if commands is None:
            return
        with contextlib.suppress(OSError, ValueError):
            commands.send(message)

    async def _kill(self) -> None:
        process, self._process = self._process, None
        commands, self._commands = self._commands, None
        starting, self._starting = self._starting, None
        if commands is not None:
            with contextlib.suppress(OSError, ValueError):
                commands.send({"t": "stop"})
            commands.close()
        if process is None:
            return
        if starting is not None:
            try:
                await asyncio.shield(starting)  # a process is joined only once it started
            except Exception as exc:  # noqa: BLE001 - the supervisor: whatever a start raises
                self._failed("CAMERA_CAPTURE_START", f"capture process did not start: {exc}")
                return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, process.join, _STOP_GRACE_S)
        if process.exitcode is None:
            process.kill()
            await loop.run_in_executor(None, process.join, _STOP_GRACE_S)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _failed(self, code: str, message: str) -> None:
        text = f"{code}: {message}"
        if len(self.errors) >= 100:
            del self.errors[0]
        self.errors.append(text)
        log.warning("camera %s: %s", self.sensor.id, text)


class CameraFleet:
    """Every camera sensor with a configuration in the graph, each polled by its own runner."""

    def __init__(
        self,
        graph: GraphStore,
        pipeline: Pipeline,
        *,
        refresh_s: float = 30.0,
        source: SourceOptions | None = None,
        accept: Callable[[str], bool] = lambda sensor_id: True,
        state_dir: Path | None = None,
    ) -> None:
        self._graph, self._pipeline = graph, pipeline
        self._state_dir = state_dir  # where each camera's baseline is kept; None: in memory
        self._accept = accept
        self._refresh_s = refresh_s
        self._source = source
        self.runners: dict[str, tuple[str, CameraRunner, asyncio.Task[None]]] = {}
        self.baselines: dict[str, Any] = {}

    def stats(self) -> list[CameraStats]:
        return [runner.stats() for _, runner, _ in self.runners.values()]

    async def run(self) -> None:
        try:
            while True:
                refresh = asyncio.ensure_future(self.refresh())
                try:
                    await asyncio.shield(refresh)
                except asyncio.CancelledError:
                    # Let a graph query in flight finish: one cancelled halfway leaves its
                    # connection in use, and the graph store's close waits for it forever.
                    with contextlib.suppress(Exception):
                        await refresh
                    raise
                await asyncio.sleep(self._refresh_s)
        finally:
            await asyncio.gather(*(self._stop(sensor_id) for sensor_id in list(self.runners)))

    async def refresh(self) -> None:
        """Start, restart and stop runners to match the graph; pass re-baselines on."""
        rows = await self._graph.run(CONFIGURED_CAMERAS, {"kind": KIND})
        wanted: dict[str, tuple[str, SensorInfo, CameraConfig]] = {}
        baselines: dict[str, Any] = {}
        for row in rows:
            if not self._accept(row["id"]):
                continue
            try:
                config = CameraConfig.model_validate_json(row["camera"])
            except ValueError as exc:  # written by an older version, or by hand
                log.warning("camera %s: configuration unusable: %s", row["id"], exc)
                continue
            info = SensorInfo(row["id"], KIND, row["project_code"])
            wanted[row["id"]] = (row["camera"], info, config)
            baselines[row["id"]] = row.get("baseline_at")
        for sensor_id, (text, _, task) in list(self.runners.items()):
            # A runner that died on something unforeseen is started afresh (its failure was
            # logged by the task's callback); changed or removed cameras are stopped.
            if sensor_id not in wanted or wanted[sensor_id][0] != text or task.done():
                await self._stop(sensor_id)
        for sensor_id, (text, info, config) in wanted.items():
            if sensor_id in self.runners:
                runner = self.runners[sensor_id][1]
                if baselines[sensor_id] != self.baselines.get(sensor_id):
                    mark = baselines[sensor_id]
                    runner.rebaseline(None if mark is None else str(mark))
                    self.baselines[sensor_id] = baselines[sensor_id]
                continue
            mark = baselines[sensor_id]
            runner = CameraRunner(
                info,
                config,
                self._pipeline,
                source=self._source,
                state=None if self._state_dir is None else state_path(self._state_dir, sensor_id),
                baseline=None if mark is None else str(mark),
            )
            task = asyncio.create_task(runner.run(), name=f"camera-{sensor_id}")
            task.add_done_callback(_log_failure)
            self.runners[sensor_id] = (text, runner, task)
            self.baselines[sensor_id] = baselines[sensor_id]

    async def _stop(self, sensor_id: str) -> None:
        _, runner, task = self.runners.pop(sensor_id)
        runner.stop()
        # Its failure, if any, was logged when it ended.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


def _receive(conn: Connection, inbox: asyncio.Queue[dict[str, Any] | None]) -> None:
    # Called by the event loop when the pipe is readable: a whole message (they are small), or
    # the end of the process (None).
    try:
        message = conn.recv()
    except (EOFError, OSError):
        asyncio.get_running_loop().remove_reader(conn.fileno())
        inbox.put_nowait(None)
        return
    if isinstance(message, dict):
        inbox.put_nowait(message)


def _close(*conns: Connection) -> None:
    for conn in conns:
        conn.close()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("camera runner %s failed", task.get_name(), exc_info=task.exception())
