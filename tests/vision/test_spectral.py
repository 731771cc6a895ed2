"""Index maps: BOA-offset harmonization, cloud masks, edge erosion, polygon rasterisation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from connectors.sentinel.scenes import square
from vision.spectral import erode, harmonize, index_maps, indices, pixel_grid, rasterise


def test_the_boa_offset_is_taken_off_from_baseline_04_00() -> None:
    dn = np.array([2000], dtype=np.uint16)
    assert harmonize(dn, dt.date(2022, 1, 24))[0] == pytest.approx(0.2)
    assert harmonize(dn + 1000, dt.date(2022, 1, 25))[0] == pytest.approx(0.2)


def test_indices_of_vegetation_and_bare_soil() -> None:
    veg = [np.array([v], dtype=np.float32) for v in (0.03, 0.03, 0.40, 0.18)]
    soil = [np.array([v], dtype=np.float32) for v in (0.10, 0.18, 0.25, 0.32)]
    ndvi_v, ndbi_v, bsi_v = indices(*veg)
    ndvi_s, ndbi_s, bsi_s = indices(*soil)
    assert ndvi_v[0] > 0.8 and ndvi_s[0] < 0.2
    assert ndbi_s[0] > ndbi_v[0] and bsi_s[0] > bsi_v[0]


def test_maps_mask_clouds_and_edges_and_cover_multipolygons() -> None:
    a, b = square(120.0, 30.0, 40_000), square(120.003, 30.0, 40_000)
    multi = {"type": "MultiPolygon", "coordinates": [a["coordinates"], b["coordinates"]]}
    bbox, width, height = pixel_grid(multi, 10.0)
    assert width > 2 * height - 5  # both squares are inside the grid
    parcel = rasterise(multi, bbox, width, height)
    assert 700 < parcel.sum() < 900  # 8 ha at 10 m
    inner = erode(parcel)
    assert inner.sum() < parcel.sum() and not (inner & ~parcel).any()
    bands = {b: np.full((height, width), 2000 + 1000, dtype=np.uint16) for b in ("B02", "B04")}
    bands |= {b: np.full((height, width), 4000 + 1000, dtype=np.uint16) for b in ("B08", "B11")}
    scl = np.full((height, width), 4, dtype=np.uint8)
    scl[:, : width // 2] = 9  # cloud over the western half
    maps = index_maps(bands, scl, np.ones_like(scl), parcel, dt.date(2023, 5, 1))
    assert 0.3 < maps.valid_share < 0.7
    assert maps.mean()[0] == pytest.approx((0.4 - 0.2) / (0.4 + 0.2), abs=1e-5)
    assert np.isnan(maps.ndvi[:, : width // 2]).all()
    with pytest.raises(ValueError, match="bands missing"):
        index_maps({}, scl, scl, parcel, dt.date(2023, 5, 1))
