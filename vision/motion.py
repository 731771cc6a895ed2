"""Motion against a running background on a downscaled luma plane (Frigate's recipe), gated so
that only things that persist and hold together count: people and machines, not weather.

Per frame: take the luma plane, shrink it to ``height`` rows and blur it. Then take the light
out: each row is scaled so that its still pixels match the background's row (``_row_gains``). A
global change (dusk, a cloud, auto-exposure, mains flicker) moves every row alike and a rolling
shutter's bands move some rows more than others; both cancel, while an object that covers part
of a row does not move that row's gain. The levelled plane is compared with a running average of
earlier frames: pixels that differ by more than ``threshold`` are moving; masked pixels and
pixels outside the zones never are. An opening removes what is thinner than two pixels of the
plane (thin streaks of rain, snowflakes, speckle); what is left is dilated into regions. A
region is dropped when it is smaller than ``min_object`` of the watched area, when a 3x3 erosion
leaves almost nothing of it (a line or a dot, not a body), or when it is a streak of rain:
one-signed (only brighter; only darker for the ghosts in a young background), a thin line by its
second moments, near vertical (``MotionDetector._streak``). Rain through a low-resolution
picture is thick enough on the plane to survive the erosion; its shape still gives it away. The
rest go to a ``vision.tracks.Tracker``. Only regions that continue a *confirmed* track — seen in
three of the last four frames, in place or along a path at a steady pace — are motion: their
count is ``objects``, their area ``area``, and those of at least ``large_object`` count as
machinery.

When most of the watched area changes at once (the camera was moved, the lens covered, the
exposure jumped) the background is reset to the new frame instead of reporting motion
everywhere for the next minutes: ``MotionResult.scene_change`` tells the health monitor.

Everything here is pure computation on numpy arrays; the detector keeps only its background.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from vision.regions import Polygon, region_mask
from vision.tracks import Region, TrackConfig, Tracker
from vision.types import Box, Frame, Gray


@dataclass(frozen=True, slots=True)
class MotionConfig:
    """How motion is detected; the defaults follow Frigate's where it has one."""

    height: int = 120  # rows of the analysed plane; columns keep the aspect ratio
    threshold: int = 30  # luma difference (0..255) that counts as change
    alpha: float = 0.01  # weight of each new frame in the running background
    blur: int = 3  # Gaussian kernel (odd), against sensor noise
    thin: int = 2  # opening kernel: moving parts thinner than this (px) are dropped (0: off)
    dilate: int = 2  # dilation iterations that join the parts of one object
    min_object: float = 0.0005  # smallest object, share of the watched area
    large_object: float = 0.02  # objects at least this large count as machinery
    min_active: float = 0.001  # moving share of the watched area that makes a frame active
    # A region that only brightened, at least streak_ratio times as long as wide, at most
    # streak_width px wide and within streak_angle degrees of vertical is rain, not a body.
    streak_ratio: float = 3.0
    streak_width: float = 4.0
    streak_angle: float = 35.0
    level_rows: bool = True  # take global light changes and banding out, row by row
    # Share of the watched area changing at once that means a new scene. Frigate uses 0.8 for
    # lights switching on; a camera turned to another part of a site changes about 0.4 of it.
    recalibrate: float = 0.35
    masks: tuple[Polygon, ...] = ()  # areas to ignore (roads, trees, sky), frame-relative 0..1
    zones: tuple[Polygon, ...] = ()  # site areas to watch; none: the whole frame
    tracks: TrackConfig = field(default_factory=TrackConfig)


@dataclass(frozen=True, slots=True)
class MotionResult:
    """Motion in one frame. Shares are of the watched area (zones less masks)."""

    area: float  # share of the watched area moving in confirmed objects
    objects: int  # confirmed moving objects (tracked over several frames)
    large_area: float  # share of the moving area in large objects (machinery proxy)
    boxes: tuple[Box, ...]  # objects' bounding boxes in the original frame's pixels
    active: bool  # enough movement to call the frame active
    scene_change: bool  # most of the scene changed at once; the background was reset
    luma: Gray = field(repr=False)  # the downscaled luma plane, reused by the health checks
    raw_area: float = 0.0  # share that differed from the background before any gating
    large: tuple[bool, ...] = ()  # per box: a large object (machinery)


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
        self._moving: Gray | None = None  # last frame's moving pixels (kept out of the gains)
        self._frames = 0
        self._kernel = np.ones((3, 3), np.uint8)
        self._thin = np.ones((self.config.thin, self.config.thin), np.uint8)
        self.tracker = Tracker(self.config.tracks)

    def reset(self) -> None:
        """Forget the background (e.g. after a reconnection)."""
        self._background = None
        self._moving = None
        self._frames = 0
        self.tracker.reset()

    def _prepare(self, shape: tuple[int, int]) -> None:
        c = self.config
        # Shrink by a whole factor where the frame allows (INTER_AREA is several times faster
        # then): 360 rows -> 120, 720 -> 120, 576 -> 115; the few rows and columns the factor
        # leaves over at the edges are not analysed.
        factor = max(1, round(shape[0] / c.height))
        height, width = max(8, shape[0] // factor), max(8, shape[1] // factor)
        self._factor = factor
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
        width, height = self._size
        f = self._factor
        crop = grey[: height * f, : width * f] if f > 1 else grey
        small = cv2.resize(crop, self._size, interpolation=cv2.INTER_AREA)
        if c.blur > 1:
            small = cv2.GaussianBlur(small, (c.blur, c.blur), 0)
        self._frames += 1
        if self._background is None:
            self._background = small.astype(np.float32)
            return self._still(small)
        level = cv2.mean(small, self._watch)[0]
        was = cv2.mean(self._background, self._watch)[0]
        if self._watched == 0 or level < 2.0 or was < 2.0:
            # Nothing watched, or a black picture now or before: nothing to compare yet.
            self._background = small.astype(np.float32)
            self.tracker.reset()
            return self._still(small)
        if not 0.5 <= level / was <= 2.0:
            # The light changed more than twofold: rescale the background to it rather than
            # amplify a dark frame into noise.
            self._background *= level / was
        background = cv2.convertScaleAbs(self._background)
        levelled = self._level(small, background) if c.level_rows else small
        diff = cv2.absdiff(levelled, background)
        _, moving = cv2.threshold(diff, c.threshold, 255, cv2.THRESH_BINARY)
        moving = cv2.bitwise_and(moving, self._watch)
        moved = cv2.countNonZero(moving)
        watched = max(self._watched, 1)
        if moved >= c.recalibrate * watched:
            self._background = levelled.astype(np.float32)
            self._moving = None
            self.tracker.reset()
            return self._still(small, scene_change=True, raw=moved / watched)
        # The background starts as the mean of the first frames, then decays at alpha.
        alpha = max(c.alpha, 1.0 / self._frames)
        cv2.accumulateWeighted(levelled, self._background, alpha)
        if c.thin > 1 and moved:
            moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, self._thin)
        self._moving = moving
        regions: list[Region] = []
        if moved:
            blobs = cv2.dilate(moving, self._kernel, iterations=c.dilate) if c.dilate else moving
            blobs = cv2.bitwise_and(blobs, self._watch)
            count, labels, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
            # Substance: what is left of the moving pixels after a 3x3 erosion. A streak of
            # rain or a snowflake is a line or a dot and leaves (almost) nothing; a body does.
            core = cv2.erode(moving, self._kernel) if c.thin > 1 else moving
            solid = np.bincount(labels[core > 0].astype(np.intp), minlength=count)
            hit = moving > 0
            pixels = np.bincount(labels[hit].astype(np.intp), minlength=count)
            light = np.bincount(
                labels[hit & (levelled > background)].astype(np.intp), minlength=count
            )
            min_px = c.min_object * watched
            for i in range(1, count):
                x, y, w, h, area = (int(v) for v in stats[i])
                if area < min_px or solid[i] < max(3, 0.05 * area):
                    continue
                one_signed = light[i] >= 0.9 * pixels[i] or light[i] <= 0.1 * pixels[i]
                # A line no longer than the box's diagonal holding this many pixels is at
                # least this wide: too wide for a streak, no need to measure it.
                wide = pixels[i] > c.streak_width * math.hypot(w, h)
                if one_signed and not wide and self._streak(moving, labels, i, (x, y, w, h)):
                    continue
                regions.append(Region((x, y, x + w, y + h), float(area)))
        confirmed = self.tracker.update(regions)
        if not confirmed:
            return self._still(small, raw=moved / watched)
        large_px = c.large_object * watched
        sy = sx = self._factor
        boxes: list[Box] = []
        large_flags: list[bool] = []
        total = large = 0.0
        for _, region in confirmed:
            x0, y0, x1, y1 = region.box
            boxes.append((round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy)))
            total += region.area
            is_large = region.area >= large_px
            large_flags.append(is_large)
            if is_large:
                large += region.area
        share = min(1.0, total / watched)
        return MotionResult(
            area=share,
            objects=len(boxes),
            large_area=large / total if total else 0.0,
            boxes=tuple(boxes),
            active=share >= c.min_active,
            scene_change=False,
            luma=small,
            raw_area=moved / watched,
            large=tuple(large_flags),
        )

    def _streak(self, moving: Gray, labels: np.ndarray, label: int,
                box: tuple[int, int, int, int]) -> bool:  # fmt: skip
        """Is this one-signed region a streak of rain? A drop near the lens, blurred by the
        exposure, only adds light and is a thin line, near vertical (wind slants it a little);
        while the background is young, the streaks of its first frames show as such lines,
        only darker. The line is measured by the second moments of the region's moving pixels,
        so a slanted streak is as thin as an upright one (its bounding box is not)."""
        c = self.config
        x, y, w, h = box
        mine = (labels[y : y + h, x : x + w] == label) & (moving[y : y + h, x : x + w] > 0)
        m = cv2.moments(mine.astype(np.uint8), binaryImage=True)
        if m["m00"] <= 0:
            return False
        vxx, vyy, vxy = m["mu20"] / m["m00"], m["mu02"] / m["m00"], m["mu11"] / m["m00"]
        half = math.sqrt(((vxx - vyy) / 2) ** 2 + vxy**2)
        major, minor = (vxx + vyy) / 2 + half, max((vxx + vyy) / 2 - half, 0.0)
        # A uniform bar of length L has variance L^2/12 along it.
        length, width = math.sqrt(12 * major), math.sqrt(12 * minor)
        # The major axis's angle from the horizontal, 0..90 degrees either way.
        tilt = math.degrees(abs(0.5 * math.atan2(2 * vxy, vxx - vyy)))
        return (
            length >= c.streak_ratio * max(width, 1.0)
            and width <= c.streak_width
            and tilt >= 90.0 - c.streak_angle
        )

    def _level(self, small: Gray, background: Gray) -> Gray:
        """``small`` with each row scaled so its still, watched pixels match the background's
        row: flicker and rolling-shutter bands out, objects in."""
        assert self._watch is not None
        ratio = (small.astype(np.float32) + 8.0) / (background.astype(np.float32) + 8.0)
        weight = self._watch > 0
        if self._moving is not None:
            weight &= self._moving == 0
        weight &= np.abs(ratio - 1.0) < 0.8  # what changed beyond any flicker is not light
        counts = weight.sum(axis=1)
        sums = np.where(weight, ratio, 0.0).sum(axis=1)
        overall = float(sums.sum() / counts.sum()) if counts.sum() else 1.0
        # Rows with few still pixels borrow the overall gain; bands are smooth, so are gains.
        rows = np.asarray(np.where(counts >= 8, sums / np.maximum(counts, 1), overall), np.float32)
        gains = np.clip(cv2.GaussianBlur(rows.reshape(-1, 1), (1, 5), 0).ravel(), 0.3, 3.0)
        out: Gray = np.clip((small.astype(np.float32) + 8.0) / gains[:, None] - 8.0, 0, 255)
        return out.astype(np.uint8)

    def _still(self, small: Gray, *, scene_change: bool = False, raw: float = 0.0) -> MotionResult:
        return MotionResult(0.0, 0, 0.0, (), False, scene_change, small, raw)
