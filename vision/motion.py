"""Motion against a running background on a downscaled luma plane (Frigate's recipe).

Per frame: take the luma plane, shrink it to ``height`` rows, blur it, scale it so its median
matches the background's (a global change of light — dusk, a cloud, auto-exposure — cancels
out), and compare with a running average of earlier frames. Pixels
that differ by more than ``threshold`` are moving; masked pixels and pixels outside the zones
never are. Moving pixels are dilated into blobs; each blob of at least ``min_object`` of the
watched area is one moving object, and blobs of at least ``large_object`` count as machinery.

When most of the watched area changes at once (the camera was moved, the lens covered, the
exposure jumped) the background is reset to the new frame instead of reporting motion
everywhere for the next minutes: ``MotionResult.scene_change`` tells the health monitor.

Everything here is pure computation on numpy arrays; the detector keeps only its background.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.regions import Polygon, region_mask
from vision.types import Box, Frame, Gray


@dataclass(frozen=True, slots=True)
class MotionConfig:
    """How motion is detected; the defaults follow Frigate's."""

    height: int = 100  # rows of the analysed plane; columns keep the aspect ratio
    threshold: int = 30  # luma difference (0..255) that counts as change
    alpha: float = 0.01  # weight of each new frame in the running background
    blur: int = 3  # Gaussian kernel (odd), against sensor noise
    dilate: int = 2  # dilation iterations that join the parts of one object
    min_object: float = 0.0005  # smallest object, share of the watched area
    large_object: float = 0.02  # objects at least this large count as machinery
    min_active: float = 0.001  # moving share of the watched area that makes a frame active
    # Share of the watched area changing at once that means a new scene. Frigate uses 0.8 for
    # lights switching on; a camera turned to another part of a site changes about 0.4 of it.
    recalibrate: float = 0.35
    masks: tuple[Polygon, ...] = ()  # areas to ignore (roads, trees, sky), frame-relative 0..1
    zones: tuple[Polygon, ...] = ()  # site areas to watch; none: the whole frame


@dataclass(frozen=True, slots=True)
class MotionResult:
    """Motion in one frame. Shares are of the watched area (zones less masks)."""

    area: float  # share of the watched area that moved
    objects: int  # moving objects (blobs of at least min_object)
    large_area: float  # share of the moving area in large objects (machinery proxy)
    boxes: tuple[Box, ...]  # objects' bounding boxes in the original frame's pixels
    active: bool  # enough movement to call the frame active
    scene_change: bool  # most of the scene changed at once; the background was reset
    luma: Gray = field(repr=False)  # the downscaled luma plane, reused by the health checks


def luma(frame: Frame) -> Gray:
    """The luma plane of a BGR or grey frame, as uint8."""
    if frame.ndim == 2:
        return frame if frame.dtype == np.uint8 else frame.astype(np.uint8)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


class MotionDetector:
    """Keeps the running background of one camera and finds what moves against it."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._shape: tuple[int, int] | None = None  # original (height, width)
        self._size: tuple[int, int] = (0, 0)  # analysed (width, height)
        self._watch: Gray | None = None  # 255 where watched
        self._watched = 0
        self._background: np.ndarray | None = None
        self._frames = 0
        self._kernel = np.ones((3, 3), np.uint8)

    def reset(self) -> None:
        """Forget the background (e.g. after a reconnection)."""
        self._background = None
        self._frames = 0

    def _prepare(self, shape: tuple[int, int]) -> None:
        c = self.config
        height = max(8, min(c.height, shape[0]))
        width = max(8, round(shape[1] * height / shape[0]))
        self._shape, self._size = shape, (width, height)
        self._watch = region_mask((height, width), c.zones, c.masks)
        self._watched = int(np.count_nonzero(self._watch))
        self.reset()

    def detect(self, frame: Frame) -> MotionResult:
        c = self.config
        shape = (int(frame.shape[0]), int(frame.shape[1]))
        if shape != self._shape:
            self._prepare(shape)
        assert self._watch is not None
        grey = luma(frame)
        small = cv2.resize(grey, self._size, interpolation=cv2.INTER_AREA)
        if c.blur > 1:
            small = cv2.GaussianBlur(small, (c.blur, c.blur), 0)
        self._frames += 1
        if self._background is None:
            self._background = small.astype(np.float32)
            return self._still(small)
        # Scale the frame so its median luma matches the background's: a global change of light
        # (dusk, a cloud, auto-exposure) moves the median with it and cancels out, while objects
        # covering less than half the watched area barely move it. When the light has changed
        # more than twofold, the background is rescaled to it instead, so a dark frame is not
        # amplified into noise.
        level, was = _median(small, self._watch), _median(self._background, self._watch)
        if self._watched == 0 or level < 1.0 or was < 1.0:
            # Nothing watched, or a black picture now or before: nothing to compare yet.
            self._background = small.astype(np.float32)
            return self._still(small)
        gain = was / level
        if not 0.5 <= gain <= 2.0:
            self._background *= 1.0 / gain
            gain = 1.0
        background = cv2.convertScaleAbs(self._background)
        levelled = cv2.convertScaleAbs(small, alpha=gain) if gain != 1.0 else small
        diff = cv2.absdiff(levelled, background)
        _, moving = cv2.threshold(diff, c.threshold, 255, cv2.THRESH_BINARY)
        moving = cv2.bitwise_and(moving, self._watch)
        moved = cv2.countNonZero(moving)
        watched = max(self._watched, 1)
        if moved >= c.recalibrate * watched:
            self._background = levelled.astype(np.float32)
            return self._still(small, scene_change=True)
        # The background starts as the mean of the first frames, then decays at alpha.
        alpha = max(c.alpha, 1.0 / self._frames)
        cv2.accumulateWeighted(levelled, self._background, alpha)
        if moved == 0:
            return self._still(small)
        blobs = cv2.dilate(moving, self._kernel, iterations=c.dilate) if c.dilate else moving
        blobs = cv2.bitwise_and(blobs, self._watch)
        contours, _ = cv2.findContours(blobs, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px, large_px = c.min_object * watched, c.large_object * watched
        boxes: list[Box] = []
        total = large = 0.0
        sy, sx = shape[0] / self._size[1], shape[1] / self._size[0]
        for contour in contours:
            area = cv2.contourArea(contour)
            if area < min_px:
                continue
            x, y, w, h = cv2.boundingRect(contour)
            boxes.append((round(x * sx), round(y * sy), round((x + w) * sx), round((y + h) * sy)))
            total += area
            if area >= large_px:
                large += area
        share = moved / watched
        return MotionResult(
            area=share,
            objects=len(boxes),
            large_area=large / total if total else 0.0,
            boxes=tuple(boxes),
            active=bool(boxes) and share >= c.min_active,
            scene_change=False,
            luma=small,
        )

    def _still(self, small: Gray, *, scene_change: bool = False) -> MotionResult:
        return MotionResult(0.0, 0, 0.0, (), False, scene_change, small)


def _median(plane: np.ndarray, mask: Gray) -> float:
    hist = cv2.calcHist([plane], [0], mask, [256], [0, 256]).ravel()
    cumulative = np.cumsum(hist)
    return float(np.searchsorted(cumulative, cumulative[-1] / 2))
