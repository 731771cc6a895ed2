"""Spectral indices and per-parcel index maps from Sentinel-2 L2A bands. Pure numpy; no I/O.

Bands arrive as digital numbers (DN, reflectance × 10,000). Products of processing baseline
04.00 and later (acquired from 2022-01-25) carry a BOA offset of −1000 DN: the client asks the
service for harmonized values; ``harmonize`` takes the offset off for raw DN. Pixels of the
scene classification layer's no-data, saturated, dark-area, cloud-shadow, unclassified, cloud,
cirrus and snow classes, pixels within two of a labelled cloud, and pixels outside
``dataMask`` are masked; so are the parcel's edge pixels, which mix in the neighbours.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

FloatMap = npt.NDArray[np.float32]
BoolMap = npt.NDArray[np.bool_]

BANDS = ("B02", "B04", "B08", "B11")
# SCL: 0 no data, 1 saturated/defective, 2 dark area / cast shadow, 3 cloud shadow,
# 7 unclassified (mostly thin cloud and cloud edges), 8/9 cloud medium/high, 10 cirrus,
# 11 snow. Class 7 also takes some bright soil: a site looks cloudier than it is, which costs
# passes but never invents a change.
MASKED_SCL = (0, 1, 2, 3, 7, 8, 9, 10, 11)
CLOUD_SCL = (8, 9, 10)
BASELINE_04_00 = dt.date(2022, 1, 25)
BOA_ADD_OFFSET = -1000.0
DN_SCALE = 10_000.0
_M_PER_DEG = math.radians(1.0) * 6_371_008.8


@dataclass(frozen=True, slots=True)
class IndexMaps:
    """Per-pixel indices over a parcel; NaN where masked. ``valid`` marks usable pixels."""

    ndvi: FloatMap
    ndbi: FloatMap
    bsi: FloatMap
    valid: BoolMap
    inside: int  # pixels of the eroded parcel

    @property
    def valid_share(self) -> float:
        return float(self.valid.sum()) / self.inside if self.inside else 0.0

    def mean(self) -> tuple[float, float, float]:
        if not self.valid.any():
            return (float("nan"),) * 3
        return (
            float(np.mean(self.ndvi[self.valid])),
            float(np.mean(self.ndbi[self.valid])),
            float(np.mean(self.bsi[self.valid])),
        )


def harmonize(dn: npt.NDArray[Any], acquired: dt.date) -> FloatMap:
    """Reflectance (0..1) from L2A DN, taking off the BOA offset of baseline 04.00 products."""
    values = dn.astype(np.float32)
    if acquired >= BASELINE_04_00:
        values = values + np.float32(BOA_ADD_OFFSET)
    return values / np.float32(DN_SCALE)


def indices(
    b02: FloatMap, b04: FloatMap, b08: FloatMap, b11: FloatMap
) -> tuple[FloatMap, FloatMap, FloatMap]:
    """NDVI, NDBI and BSI from reflectances (NaN where a denominator is zero)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ndvi = (b08 - b04) / (b08 + b04)
        ndbi = (b11 - b08) / (b11 + b08)
        bsi = ((b11 + b04) - (b08 + b02)) / ((b11 + b04) + (b08 + b02))
    return ndvi.astype(np.float32), ndbi.astype(np.float32), bsi.astype(np.float32)


def pixel_grid(
    geometry: dict[str, Any], resolution_m: float
) -> tuple[tuple[float, float, float, float], int, int]:
    """A lon/lat bounding box of the geometry and a grid of about ``resolution_m`` pixels."""
    min_x, min_y, max_x, max_y = shape(geometry).bounds
    lat0 = (min_y + max_y) / 2
    dlat = resolution_m / _M_PER_DEG
    dlon = resolution_m / (_M_PER_DEG * math.cos(math.radians(lat0)))
    width = max(1, math.ceil((max_x - min_x) / dlon))
    height = max(1, math.ceil((max_y - min_y) / dlat))
    return (min_x, min_y, min_x + width * dlon, min_y + height * dlat), width, height


def rasterise(
    geometry: dict[str, Any], bbox: tuple[float, float, float, float], width: int, height: int
) -> BoolMap:
    """Pixels (row 0 at the top, as in a GeoTIFF) whose centre lies in the polygon."""
    min_x, min_y, max_x, max_y = bbox
    xs = min_x + (np.arange(width) + 0.5) * (max_x - min_x) / width
    ys = max_y - (np.arange(height) + 0.5) * (max_y - min_y) / height
    gx, gy = np.meshgrid(xs, ys)
    mask: BoolMap = shapely.contains_xy(shape(geometry), gx, gy)
    return mask


def erode(mask: BoolMap, pixels: int = 1) -> BoolMap:
    """Keep pixels whose 8 neighbours (``pixels`` times over) are all inside the mask."""
    out = mask.copy()
    for _ in range(pixels):
        padded = np.pad(out, 1, constant_values=False)
        kept = padded[1:-1, 1:-1].copy()
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                kept &= padded[1 + dy : padded.shape[0] - 1 + dy, 1 + dx : padded.shape[1] - 1 + dx]
        out = kept
    return out


def dilate(mask: BoolMap, pixels: int) -> BoolMap:
    """Grow the mask by ``pixels`` (8-neighbourhood)."""
    return ~erode(~mask, pixels) if mask.any() else mask.copy()


def clear_mask(scl: npt.NDArray[Any], data_mask: npt.NDArray[Any]) -> BoolMap:
    """Pixels with data and a scene class that is neither cloud, shadow, cirrus nor defective."""
    result: BoolMap = (data_mask != 0) & ~np.isin(scl, MASKED_SCL)
    return result


def index_maps(
    bands: dict[str, npt.NDArray[Any]],
    scl: npt.NDArray[Any],
    data_mask: npt.NDArray[Any],
    parcel: BoolMap,
    acquired: dt.date,
    *,
    edge_pixels: int = 1,
    harmonized: bool = False,
    cloud_buffer: int = 2,
) -> IndexMaps:
    """Index maps of one acquisition over a rasterised parcel: edges eroded, clouds masked."""
    missing = [b for b in BANDS if b not in bands]
    if missing:
        raise ValueError(f"bands missing: {', '.join(missing)}")
    shapes = {bands[b].shape for b in BANDS} | {scl.shape, data_mask.shape, parcel.shape}
    if len(shapes) != 1:
        raise ValueError(f"bands, SCL, dataMask and parcel differ in shape: {sorted(shapes)}")
    inside = erode(parcel, edge_pixels) if edge_pixels else parcel
    if harmonized:  # the service took the offset off already
        refl = [bands[b].astype(np.float32) / np.float32(DN_SCALE) for b in BANDS]
    else:
        refl = [harmonize(bands[b], acquired) for b in BANDS]
    ndvi, ndbi, bsi = indices(*refl)
    clear = clear_mask(scl, data_mask)
    if cloud_buffer:  # cloud edges the classifier left clear lie next to labelled cloud
        clear &= ~dilate(np.isin(scl, CLOUD_SCL), cloud_buffer)
    valid = inside & clear & np.isfinite(ndvi) & np.isfinite(bsi)
    valid &= np.isfinite(ndbi)
    nan = np.float32(np.nan)
    return IndexMaps(
        ndvi=np.where(valid, ndvi, nan),
        ndbi=np.where(valid, ndbi, nan),
        bsi=np.where(valid, bsi, nan),
        valid=valid,
        inside=int(inside.sum()),
    )


__all__ = [
    "BANDS",
    "MASKED_SCL",
    "IndexMaps",
    "clear_mask",
    "erode",
    "harmonize",
    "index_maps",
    "indices",
    "pixel_grid",
    "rasterise",
]
