"""Masks and zones: polygons in frame-relative coordinates (0..1), rasterised per frame size.

Coordinates are relative so one configuration fits every resolution a camera is decoded at
(substream, main stream, snapshot). Polygons are checked where a camera is configured
(``graph_schema.model.CameraConfig``); here they are only drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vision.types import Gray

Point = tuple[float, float]
Polygon = tuple[Point, ...]


def region_mask(shape: tuple[int, int], zones: Sequence[Polygon], masks: Sequence[Polygon]) -> Gray:
    """255 where a pixel is inside a zone (or anywhere, without zones) and outside every mask."""
    height, width = shape
    if zones:
        out = np.zeros((height, width), np.uint8)
        cv2.fillPoly(out, [_pixels(z, width, height) for z in zones], 255)
    else:
        out = np.full((height, width), 255, np.uint8)
    if masks:
        cv2.fillPoly(out, [_pixels(m, width, height) for m in masks], 0)
    return out


def _pixels(poly: Polygon, width: int, height: int) -> np.ndarray:
    return np.array([(round(x * (width - 1)), round(y * (height - 1))) for x, y in poly], np.int32)
