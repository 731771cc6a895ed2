"""Polling cameras: read, analyse, commit; reconnect with back-off; report dead cameras offline.

``CameraFleet`` keeps one ``CameraRunner`` per configured camera sensor in the graph, started,
restarted (configuration changed) and stopped as the graph says. Each camera runs as one
asyncio task; reading and analysing a frame happen together in a worker
thread of a shared pool (OpenCV releases the GIL while it decodes and filters), so the event loop
only waits and commits. Only readings leave the thread, and only a few a minute per camera.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from enum import Enum

import cv2

from connectors.camera import KIND, CameraAnalyser
from connectors.camera_source import CameraError, CorruptFrame, FrameSource, open_source
from graph_schema.model import CameraConfig
from graph_schema.monitoring import CONFIGURED_CAMERAS
from graph_schema.store import GraphStore
from ingest.model import Reading, SensorInfo
from ingest.pipeline import Pipeline

log = logging.getLogger(__name__)
Opener = Callable[[CameraConfig], FrameSource]


class _Step(Enum):
    FRAME = "frame"
    CORRUPT = "corrupt"
    END = "end"


class CameraRunner:
    """One camera: its analyser, its source, and the loop that joins them to the pipeline."""

    def __init__(
        self,
        sensor: SensorInfo,
        config: CameraConfig,
        pipeline: Pipeline,
        *,
        executor: Executor | None = None,
        opener: Opener = open_source,
        backoff_s: tuple[float, float] = (1.0, 60.0),
        clock: Callable[[], float] = time.time,
        stop_at_end: bool = False,
    ) -> None:
        self.sensor, self.config, self.pipeline = sensor, config, pipeline
        self.analyser = CameraAnalyser(sensor.id, config)
        self._executor, self._opener = executor, opener
        self._backoff = backoff_s
        self._clock = clock
        self._stop_at_end = stop_at_end
        self._stopped = asyncio.Event()
        self.committed = 0
        self.errors: list[str] = []
        self._last_frame = clock()

    def stop(self) -> None:
        self._stopped.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._backoff[0]
        self._last_frame = self._clock()
        while not self._stopped.is_set():
            try:
                source = await loop.run_in_executor(self._executor, self._opener, self.config)
            except CameraError as exc:
                self._failed(exc)
                await self._maybe_offline()
                await self._wait(delay)
                delay = min(delay * 2, self._backoff[1])
                continue
            delay = self._backoff[0]
            try:
                while not self._stopped.is_set():
                    readings, outcome = await loop.run_in_executor(
                        self._executor, self._step, source
                    )
                    await self._commit(readings)
                    if outcome is _Step.END:
                        break
                    if outcome is _Step.CORRUPT:
                        await self._maybe_offline()  # a source of nothing but bad frames
            except CameraError as exc:
                self._failed(exc)
            finally:
                source.close()
            if self._stop_at_end:
                await self._commit(self.analyser.flush())
                return
            await self._maybe_offline()
            await self._wait(delay)

    def _step(self, source: FrameSource) -> tuple[list[Reading], _Step]:
        # Runs in a worker thread: read one sampled frame and analyse it.
        try:
            item = source.read()
            if item is None:
                return [], _Step.END
            ts_ms, frame = item
            readings = self.analyser.frame(ts_ms, frame)
        except CorruptFrame as exc:
            self._failed(exc)
            return [], _Step.CORRUPT
        except cv2.error as exc:  # a frame OpenCV decoded but cannot process (odd size, type)
            self._failed(CorruptFrame(f"frame not analysable: {exc}"))
            return [], _Step.CORRUPT
        self._last_frame = self._clock()
        return readings, _Step.FRAME

    async def _maybe_offline(self) -> None:
        now = self._clock()
        if now - self._last_frame >= self.config.offline_s:
            await self._commit(self.analyser.offline(round(now * 1000)))

    async def _commit(self, readings: list[Reading]) -> None:
        if readings:
            result = await self.pipeline.commit_observations(
                readings, {self.sensor.id: self.sensor}
            )
            self.committed += len(result.stored)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _failed(self, exc: CameraError) -> None:
        message = f"{exc.code}: {exc}"
        if len(self.errors) < 100:
            self.errors.append(message)
        log.warning("camera %s: %s", self.sensor.id, message)


class CameraFleet:
    """Every camera sensor with a configuration in the graph, each polled by its own runner."""

    def __init__(
        self,
        graph: GraphStore,
        pipeline: Pipeline,
        *,
        refresh_s: float = 30.0,
        threads: int = 4,
        opener: Opener = open_source,
        accept: Callable[[str], bool] = lambda sensor_id: True,
    ) -> None:
        self._graph, self._pipeline = graph, pipeline
        self._accept = accept
        self._refresh_s = refresh_s
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="camera")
        self._opener = opener
        self.runners: dict[str, tuple[str, CameraRunner, asyncio.Task[None]]] = {}

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
            # All at once: a runner may sit in a blocking read for up to its source's timeout.
            await asyncio.gather(*(self._stop(sensor_id) for sensor_id in list(self.runners)))
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def refresh(self) -> None:
        """Start, restart and stop runners to match the graph."""
        rows = await self._graph.run(CONFIGURED_CAMERAS, {"kind": KIND})
        wanted: dict[str, tuple[str, SensorInfo, CameraConfig]] = {}
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
        for sensor_id, (text, _, task) in list(self.runners.items()):
            # A runner that died on something unforeseen is started afresh (its failure was
            # logged by the task's callback); changed or removed cameras are stopped.
            if sensor_id not in wanted or wanted[sensor_id][0] != text or task.done():
                await self._stop(sensor_id)
        for sensor_id, (text, info, config) in wanted.items():
            if sensor_id in self.runners:
                continue
            runner = CameraRunner(
                info, config, self._pipeline, executor=self._executor, opener=self._opener
            )
            task = asyncio.create_task(runner.run(), name=f"camera-{sensor_id}")
            task.add_done_callback(_log_failure)
            self.runners[sensor_id] = (text, runner, task)

    async def _stop(self, sensor_id: str) -> None:
        _, runner, task = self.runners.pop(sensor_id)
        runner.stop()
        # Its failure, if any, was logged when it ended.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("camera runner %s failed", task.get_name(), exc_info=task.exception())
