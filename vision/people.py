"""People in motion regions with OpenCV's built-in HOG + linear SVM people detector.

HOG over a whole 640x360 frame costs tens of milliseconds; run only on the regions that moved
(each box padded, grown to at least the detector's 64x128 window, at most ``max_regions`` of
the largest), it costs nothing on a still frame. Overlapping detections from neighbouring
regions are merged with non-maximum suppression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vision.types import Box, Frame

_WINDOW = (64, 128)


@dataclass(frozen=True, slots=True)
class PeopleConfig:
    pad: float = 0.3  # padding around a motion box, share of its size
    max_regions: int = 4  # largest motion boxes looked at per frame
    hit_threshold: float = 0.0  # SVM margin a window needs
    scale: float = 1.1  # pyramid step
    max_height: int = 256  # regions taller than this are shrunk first (speed)


class PeopleDetector:
    def __init__(self, config: PeopleConfig | None = None) -> None:
        self.config = config or PeopleConfig()
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector()))

    def count(self, frame: Frame, boxes: Sequence[Box]) -> int:
        """How many people stand in the motion regions ``boxes`` of ``frame``."""
        return len(self.detect(frame, boxes))

    def detect(self, frame: Frame, boxes: Sequence[Box]) -> list[Box]:
        c = self.config
        height, width = frame.shape[:2]
        found: list[Box] = []
        scores: list[float] = []
        largest = sorted(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]), reverse=True)
        for box in largest[: c.max_regions]:
            x0, y0, x1, y1 = _region(box, c.pad, width, height)
            crop = frame[y0:y1, x0:x1]
            if crop.shape[1] < _WINDOW[0] or crop.shape[0] < _WINDOW[1]:
                continue
            factor = min(1.0, c.max_height / crop.shape[0])
            if factor < 1.0:
                size = (max(_WINDOW[0], round(crop.shape[1] * factor)), c.max_height)
                crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
                factor = crop.shape[0] / (y1 - y0)
            rects, weights = self._hog.detectMultiScale(
                crop, hitThreshold=c.hit_threshold, winStride=(8, 8), padding=(8, 8), scale=c.scale
            )
            for (rx, ry, rw, rh), weight in zip(rects, np.ravel(weights), strict=True):
                found.append(
                    (
                        x0 + round(rx / factor),
                        y0 + round(ry / factor),
                        x0 + round((rx + rw) / factor),
                        y0 + round((ry + rh) / factor),
                    )
                )
                scores.append(float(weight))
        if len(found) < 2:
            return found
        keep = cv2.dnn.NMSBoxes(
            [(b[0], b[1], b[2] - b[0], b[3] - b[1]) for b in found], scores, 0.0, 0.3
        )
        return [found[i] for i in np.ravel(keep)]


def _region(box: Box, pad: float, width: int, height: int) -> Box:
    x0, y0, x1, y1 = box
    px, py = round((x1 - x0) * pad), round((y1 - y0) * pad)
    x0, y0, x1, y1 = x0 - px, y0 - py, x1 + px, y1 + py
    # Grow to the detector's window, centred, where the frame allows.
    if x1 - x0 < _WINDOW[0]:
        grow = _WINDOW[0] - (x1 - x0)
        x0, x1 = x0 - grow // 2, x1 + grow - grow // 2
    if y1 - y0 < _WINDOW[1]:
        grow = _WINDOW[1] - (y1 - y0)
        y0, y1 = y0 - grow // 2, y1 + grow - grow // 2
    return max(0, x0), max(0, y0), min(width, x1), min(height, y1)
