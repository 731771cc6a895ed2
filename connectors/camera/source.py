"""Frame sources: video files, RTSP/HTTP/MJPEG streams and snapshot URLs, through OpenCV.

A source is blocking (OpenCV decodes in C and releases the GIL): the runner calls it from a
worker thread, never on the event loop. ``read`` returns the next *sampled* frame with its time,
skipping (grabbing without converting) the frames in between, or ``None`` at the end of a file.
Failures are translated at this seam into ``CameraError`` subclasses with stable codes.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from graph_schema.errors import HubError
from graph_schema.model import CameraConfig, CameraSource
from vision.types import Frame

Clock = Callable[[], float]  # seconds since the epoch
_TIMEOUT_MS = 10_000


class CameraError(HubError):
    """A camera cannot be read; the runner retries with back-off and reports it offline."""

    code = "CAMERA_UNAVAILABLE"


class CameraUnreachable(CameraError):
    """The stream or file cannot be opened, or the snapshot URL does not answer."""

    code = "CAMERA_UNREACHABLE"


class StreamLost(CameraError):
    """A stream that was open stopped delivering frames."""

    code = "CAMERA_STREAM_LOST"


class DamagedSource(CameraError):
    """A video file (or stream) that cannot be decoded: truncated, cut short, not a video."""

    code = "CAMERA_DAMAGED"


class CorruptFrame(CameraError):
    """One frame (or snapshot) could not be decoded; the next may be fine."""

    code = "CAMERA_CORRUPT_FRAME"


class FrameSource(Protocol):
    def read(self) -> tuple[int, Frame] | None:
        """The next sampled frame and its time (epoch ms), or ``None`` at the end of a file."""
        ...

    def close(self) -> None: ...


class StreamSource:
    """A video file or a network stream (RTSP, HTTP, MJPEG) sampled at ``fps``.

    A file is replayed as fast as it decodes, stamped ``start_ms`` + its own position, unless
    ``pace`` (then it plays in real time and loops: the demo's cameras). A live stream is read
    as it comes, stamped with the clock, and sampled by the clock.
    """

    def __init__(
        self,
        url: str,
        fps: float,
        *,
        pace: bool = False,
        loop: bool = False,
        start_ms: int | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.url = url
        self.file = "://" not in url
        if self.file and not Path(url).is_file():
            raise CameraUnreachable(f"no video file at {url}")
        self._step_ms = 1000.0 / fps
        self._pace, self._loop, self._clock = pace, loop, clock
        self._start_ms = start_ms if start_ms is not None else round(clock() * 1000)
        self._offset_ms = 0.0  # added to a looped file's positions
        self._last_pos_ms = 0.0
        self._next_ms = -1.0
        self._capture = self._open()
        self._grabbed = 0  # frames grabbed since the file was opened
        self.corrupt = 0

    def _open(self) -> cv2.VideoCapture:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, _TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                  _TIMEOUT_MS]  # fmt: skip
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            if self.file:  # it is there (checked above) but no decoder makes sense of it
                raise DamagedSource(f"{self.url} is not a readable video (damaged or truncated)")
            raise CameraUnreachable(f"cannot open {self._safe_url()}")
        self._grabbed = 0
        return capture

    def _safe_url(self) -> str:
        # Stream URLs often carry user:password@ — keep them out of messages and logs.
        scheme, sep, rest = self.url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else self.url

    def read(self) -> tuple[int, Frame] | None:
        while True:
            if not self._capture.grab():
                if not self.file:
                    raise StreamLost(f"{self._safe_url()} stopped sending frames")
                self._check_complete()
                if not self._loop:
                    return None
                # Loop by reopening: seeking back (CAP_PROP_POS_FRAMES = 0) is not reliable for
                # every container, and a failed seek would replay nothing while time runs on.
                fps = self._capture.get(cv2.CAP_PROP_FPS)
                self._offset_ms += self._last_pos_ms + (1000.0 / fps if fps > 0 else 0.0)
                self._capture.release()
                self._capture = self._open()
                if not self._capture.grab():
                    return None
            self._grabbed += 1
            if self.file:
                self._last_pos_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
                now = self._offset_ms + self._last_pos_ms
            else:
                now = self._clock() * 1000 - self._start_ms
            if now < self._next_ms:
                continue
            ok, frame = self._capture.retrieve()
            if not ok or frame is None:
                self.corrupt += 1
                continue
            self._next_ms = max(self._next_ms + self._step_ms, now)
            if self.file and self._pace:
                _sleep_until(self._start_ms + now, self._clock)
            return self._start_ms + round(now), frame

    def _check_complete(self) -> None:
        # A file that ends well before the frame count its container declares was cut short
        # (a copy interrupted, a recorder that died): say so rather than loop it as if fine.
        declared = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        if declared > 0 and self._grabbed < 0.95 * declared - 2:
            raise DamagedSource(
                f"{self.url} ended after {self._grabbed} of {declared:.0f} frames: truncated"
            )

    def close(self) -> None:
        self._capture.release()


class SnapshotSource:
    """A JPEG (or PNG) snapshot URL fetched every 1/``fps`` seconds."""

    def __init__(self, url: str, fps: float, *, clock: Clock = time.time) -> None:
        self.url, self._step = url, 1.0 / fps
        self._clock = clock
        self._next = clock()

    def read(self) -> tuple[int, Frame] | None:
        _sleep_until(self._next * 1000, self._clock)
        asked = self._clock()  # the picture is from about when it was asked for
        self._next = max(self._next + self._step, asked)
        try:
            with urllib.request.urlopen(self.url, timeout=_TIMEOUT_MS / 1000) as response:  # noqa: S310
                body = response.read()
        except (OSError, ValueError) as exc:
            raise CameraUnreachable(f"snapshot {self.url.rpartition('@')[2]}: {exc}") from None
        frame = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise CorruptFrame(f"snapshot {self.url.rpartition('@')[2]} is not an image")
        return round(asked * 1000), frame

    def close(self) -> None:
        pass


def open_source(
    config: CameraConfig, *, pace: bool = True, loop: bool = True, start_ms: int | None = None
) -> FrameSource:
    """The source a camera's configuration names."""
    if config.source is CameraSource.SNAPSHOT:
        return SnapshotSource(config.url, config.fps)
    return StreamSource(config.url, config.fps, pace=pace, loop=loop, start_ms=start_ms)


def _sleep_until(moment_ms: float, clock: Clock) -> None:
    delay = moment_ms / 1000 - clock()
    if delay > 0:
        time.sleep(delay)
