"""Has the camera been turned? Its view now against a reference view, by feature matching.

The reference is a set of ORB keypoints (corners with binary descriptors) of a frame the camera
showed when its picture was good. Each check finds the same features in the current frame,
matches them (Lowe's ratio test), and fits a similarity transform (shift, rotation, scale) to
the matches with RANSAC, so people and machines moving through the scene are outliers. The
camera has *moved* when the view's centre shifted by at least ``shift`` of the frame's width,
turned by ``angle`` degrees or zoomed by ``zoom``; when too few features match at all the
reference is out of view (*lost*: a large turn). What counts as the same view is decided
here; how long it must hold, and that it stays until an operator re-baselines, is the health
monitor's (``vision.health``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from vision.motion import luma
from vision.types import Frame, Gray


@dataclass(frozen=True, slots=True)
class ViewConfig:
    height: int = 240  # rows the features are found at
    features: int = 1000  # ORB keypoints per frame
    shift: float = 0.075  # share of the frame's width the view's centre moved
    angle: float = 5.0  # degrees the view turned
    zoom: float = 0.15  # relative change of scale (1.15x or 1/1.15x)
    min_matches: int = 15  # inlier matches below which the reference is out of view
    min_features: int = 80  # a reference needs this many keypoints (a textured picture)


@dataclass(frozen=True, slots=True)
class ViewChange:
    """How the current view differs from the reference."""

    matches: int  # inlier matches
    shift: float  # share of the frame's width the centre moved
    angle: float  # degrees turned (signed)
    zoom: float  # scale, current over reference
    lost: bool  # too few matches: the reference view is not in the picture

    def moved(self, config: ViewConfig) -> bool:
        return (
            self.lost
            or self.shift >= config.shift
            or abs(self.angle) >= config.angle
            or abs(math.log(self.zoom)) >= math.log1p(config.zoom)
        )


class ViewReference:
    """One camera's reference view and the comparison with it."""

    def __init__(self, config: ViewConfig | None = None) -> None:
        self.config = config or ViewConfig()
        self._orb = cv2.ORB.create(nfeatures=self.config.features, fastThreshold=10)
        self._clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._points: np.ndarray | None = None
        self._descriptors: np.ndarray | None = None
        self._size: tuple[int, int] = (0, 0)

    @property
    def ready(self) -> bool:
        return self._descriptors is not None

    def clear(self) -> None:
        self._points = self._descriptors = None

    def set(self, frames: Frame | list[Frame]) -> bool:
        """Take ``frames`` as the reference (several: their median, which leaves out what moved
        through them); ``False`` when the picture has too little texture."""
        if isinstance(frames, list):
            planes = [self._plane(f) for f in frames]
            plane = planes[0] if len(planes) == 1 else np.median(np.stack(planes), axis=0)
            plane = plane.astype(np.uint8)
        else:
            plane = self._plane(frames)
        points, descriptors, size = self._features(plane)
        if descriptors is None or len(points) < self.config.min_features:
            return False
        self._points, self._descriptors, self._size = points, descriptors, size
        return True

    def export(self) -> dict[str, np.ndarray] | None:
        """The reference as plain arrays (to keep it across a restart); ``None`` without one."""
        if self._points is None or self._descriptors is None:
            return None
        return {
            "points": self._points,
            "descriptors": self._descriptors,
            "size": np.array(self._size, np.int64),
        }

    def restore(self, arrays: dict[str, np.ndarray]) -> bool:
        """Take a reference ``export`` gave; ``False`` (and no reference) when it does not fit
        this configuration: other keypoints or descriptors, or too few of them."""
        try:
            points = np.asarray(arrays["points"], np.float32).reshape(-1, 2)
            descriptors = np.asarray(arrays["descriptors"])
            width, height = (int(v) for v in np.asarray(arrays["size"]).ravel()[:2])
        except (KeyError, TypeError, ValueError):
            return False
        fits = (
            descriptors.dtype == np.uint8
            and descriptors.ndim == 2
            and descriptors.shape[1] == self._orb.descriptorSize()
            and len(descriptors) == len(points) >= self.config.min_features
            and 0 < height <= self.config.height
            and width > 0
        )
        if not fits:
            return False
        self._points, self._descriptors, self._size = points, descriptors, (width, height)
        return True

    def compare(self, frame: Frame) -> ViewChange | None:
        """The change against the reference; ``None`` without a reference."""
        if self._descriptors is None or self._points is None:
            return None
        points, descriptors, size = self._features(self._plane(frame))
        if descriptors is None or size != self._size or len(points) < 2:
            return ViewChange(0, 0.0, 0.0, 1.0, lost=True)
        pairs = self._matcher.knnMatch(self._descriptors, descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) < self.config.min_matches:
            return ViewChange(len(good), 0.0, 0.0, 1.0, lost=True)
        src = np.array([self._points[m.queryIdx] for m in good], np.float32)
        dst = np.array([points[m.trainIdx] for m in good], np.float32)
        # Most of what matches sits where it was: the view is the same, and the few matches
        # that moved are on people and machines (which a fit could otherwise follow).
        still = int(np.count_nonzero(np.linalg.norm(dst - src, axis=1) <= 2.0))
        if still >= self.config.min_matches and still >= 0.3 * len(good):
            return ViewChange(still, 0.0, 0.0, 1.0, lost=False)
        matrix, inliers = cv2.estimateAffinePartial2D(
            src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=2000
        )
        count = int(inliers.sum()) if inliers is not None else 0
        if matrix is None or count < self.config.min_matches:
            return ViewChange(count, 0.0, 0.0, 1.0, lost=True)
        a, b = float(matrix[0, 0]), float(matrix[1, 0])
        width, height = size
        cx, cy = width / 2, height / 2
        nx = matrix[0, 0] * cx + matrix[0, 1] * cy + matrix[0, 2]
        ny = matrix[1, 0] * cx + matrix[1, 1] * cy + matrix[1, 2]
        shift = math.hypot(float(nx) - cx, float(ny) - cy) / width
        return ViewChange(
            count, shift, math.degrees(math.atan2(b, a)), math.hypot(a, b), lost=False
        )

    def _plane(self, frame: Frame) -> Gray:
        """The luma plane at ``height`` rows with the light evened out: each row divided by its
        (smoothed) mean, so rolling-shutter bands vanish, then local contrast equalised, so a
        dim picture shows the same corners as a bright one."""
        grey = luma(frame)
        h, w = grey.shape[:2]
        if h > self.config.height:
            w, h = max(1, round(w * self.config.height / h)), self.config.height
            grey = cv2.resize(grey, (w, h), interpolation=cv2.INTER_AREA)
        rows = cv2.GaussianBlur(grey.mean(axis=1, dtype=np.float32).reshape(-1, 1), (1, 9), 0)
        level = float(rows.mean()) or 1.0
        even = np.clip(grey.astype(np.float32) * (level / np.maximum(rows, 1.0)), 0, 255)
        out: Gray = self._clahe.apply(even.astype(np.uint8))
        return out

    def _features(self, plane: Gray) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int]]:
        keypoints, descriptors = self._orb.detectAndCompute(plane, None)
        points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2)
        return points, descriptors, (plane.shape[1], plane.shape[0])


__all__ = ["ViewChange", "ViewConfig", "ViewReference"]
