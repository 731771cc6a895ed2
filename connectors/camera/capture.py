"""One camera's capture and analysis in a process of its own.

OpenCV's FFmpeg backend opens streams under a process-wide lock, and an open or a read of a
camera that accepts TCP but never answers blocks for its whole timeout, so cameras sharing a
process share their worst neighbour's stalls. Frigate runs one capture process per camera; so
does the hub: ``connectors.camera.runner`` starts ``run`` here in a process per camera, forked
from a server process that has imported OpenCV and the hub's models once (``multiprocessing``'s
forkserver), so a hundred cameras start in seconds, not minutes. The process opens the source,
reads and analyses frames, and reports through a pipe, one dict per message:

- ``{"t": "hello"}`` once started;
- ``{"t": "frame", "ts": ms}`` for every analysed frame (the supervisor's watchdog and fps);
- ``{"t": "readings", "r": [[ts, metric, value], ...]}`` what the analyser produced;
- ``{"t": "error", "code": "...", "message": "..."}`` a failed open or read (stable codes);
- ``{"t": "end"}`` the end of a file that is not looped.

Commands come through another pipe: ``{"t": "offline", "ts": ms}`` (the supervisor declared
the camera offline: the analyser follows, so the first frame after it reports the recovery),
``{"t": "rebaseline", "ts": ms, "mark": "..."}`` and ``{"t": "stop"}``. When that pipe closes
— the supervisor stopped or died — the process ends. With a state path in its start, the
process keeps the camera's baseline (reference view, MOVED) in that file
(``connectors.camera.state``): loaded at start, saved whenever it changes.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from connectors.camera import CameraAnalyser
from connectors.camera import state as camera_state
from connectors.camera.source import CameraError, DamagedSource, FrameSource, open_source
from graph_schema.model import CameraConfig
from ingest.model import Reading

log = logging.getLogger("connectors.camera.capture")
_BACKOFF = (1.0, 30.0)


class _Out:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def send(self, message: dict[str, Any]) -> None:
        self._conn.send(message)

    def readings(self, readings: list[Reading]) -> None:
        if readings:
            self.send({"t": "readings", "r": [[r.ts_ms, r.metric, r.value] for r in readings]})


def _commands(conn: Connection, inbox: queue.Queue[dict[str, Any]]) -> None:
    try:
        while True:
            inbox.put(conn.recv())
    except (EOFError, OSError):
        inbox.put({"t": "stop"})  # the supervisor is gone


class Capture:
    """The loop: open (with back-off), read, analyse, report; obey commands between frames."""

    def __init__(self, start: dict[str, Any], out: _Out, inbox: queue.Queue[dict[str, Any]]):
        self.config = CameraConfig.model_validate(start["config"])
        self.analyser = CameraAnalyser(start["sensor_id"], self.config)
        self.pace, self.loop = bool(start.get("pace", True)), bool(start.get("loop", True))
        self.start_ms: int | None = start.get("start_ms")
        self.out, self.inbox = out, inbox
        self.stopped = False
        if start.get("offline"):  # restarted after a hang: the camera is offline already
            self.analyser.health.offline(round(time.time() * 1000))
        state = start.get("state")
        self.state_path = Path(state) if state else None
        self.mark: str | None = None  # the re-baseline the baseline reflects
        self._saved = self.analyser.health.revision
        self._restore(start.get("baseline"))

    def _restore(self, mark: str | None) -> None:
        """Take up the saved baseline; apply a re-baseline made while nobody watched."""
        if self.state_path is None:
            return
        saved = camera_state.load(self.state_path)
        health = self.analyser.health
        if saved is not None and health.restore(saved.baseline):
            self.mark = saved.mark
            self._saved = health.revision
        if mark is not None and mark != self.mark:
            self._rebaseline(round(time.time() * 1000), mark)

    def _rebaseline(self, ts_ms: int, mark: str) -> None:
        if mark == self.mark:
            return  # applied already (the supervisor repeats it to a restarted process)
        self.mark = mark
        self.out.readings(self.analyser.rebaseline(ts_ms))
        self._save(force=True)

    def _save(self, *, force: bool = False) -> None:
        revision = self.analyser.health.revision
        if self.state_path is None or (revision == self._saved and not force):
            return
        self._saved = revision
        try:
            camera_state.save(
                self.state_path,
                camera_state.SavedBaseline(self.analyser.health.baseline(), self.mark),
            )
        except OSError as exc:
            self.out.send({"t": "error", "code": "CAMERA_STATE_UNWRITABLE", "message": str(exc)})

    def run(self) -> None:
        delay = _BACKOFF[0]
        while not self._obey():
            try:
                source = open_source(
                    self.config, pace=self.pace, loop=self.loop, start_ms=self.start_ms
                )
            except CameraError as exc:
                self._failed(exc)
                self._sleep(delay)
                delay = min(delay * 2, _BACKOFF[1])
                continue
            delay = _BACKOFF[0]
            try:
                if self._read(source):
                    return
            except CameraError as exc:
                self._failed(exc)
            finally:
                source.close()
            self._sleep(delay)

    def _read(self, source: FrameSource) -> bool:
        """Frames until the source ends (True: a file that is not looped) or fails."""
        while not self._obey():
            item = source.read()
            if item is None:
                if self.loop:
                    return False
                self.out.readings(self.analyser.flush())
                self.out.send({"t": "end"})
                return True
            ts_ms, frame = item
            self.out.send({"t": "frame", "ts": ts_ms})
            self.out.readings(self.analyser.frame(ts_ms, frame))
            self._save()
        return True

    def _failed(self, exc: CameraError) -> None:
        self.out.send({"t": "error", "code": exc.code, "message": str(exc)})
        if isinstance(exc, DamagedSource):
            self.out.readings(self.analyser.damaged(round(time.time() * 1000)))

    def _obey(self) -> bool:
        """Apply the commands waiting; True once asked to stop."""
        while True:
            try:
                command = self.inbox.get_nowait()
            except queue.Empty:
                return self.stopped
            kind, ts = command.get("t"), int(command.get("ts", 0))
            if kind == "stop":
                self.stopped = True
            elif kind == "offline":
                # The supervisor committed the offline event itself; only what the analyser
                # had pending (the interval it closes) still needs reporting.
                pending = self.analyser.offline(ts)
                self.out.readings([r for r in pending if r.ts_ms != ts])
            elif kind == "rebaseline":
                self._rebaseline(ts, str(command.get("mark") or f"ts:{ts}"))

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._obey() and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def run(commands: Connection, reports: Connection, start: dict[str, Any]) -> None:
    """The capture process's entry point."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    out = _Out(reports)
    out.send({"t": "hello"})
    inbox: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=_commands, args=(commands, inbox), daemon=True).start()
    # The supervisor may go away while we report: then there is nobody left to tell.
    with contextlib.suppress(BrokenPipeError, EOFError, OSError):
        Capture(start, out, inbox).run()
