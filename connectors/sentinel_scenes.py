"""Synthetic Sentinel-2 L2A scenes of parcels, for the loopback Sentinel Hub, tests and the demo.

A parcel is one of three kinds: ``built`` (an existing plant: roofs, concrete, little green),
``vegetated`` (fields or grass whose green follows the seasons) and ``construction`` (vegetated
until ``onset``, then cleared within a few days, bare soil that built-up surface slowly covers).
Each pixel mixes vegetation, soil and built-up endmember reflectances, plus per-scene haze and
per-pixel noise. Passes come every 5 days; about a third are overcast, a fifth partly clouded
(cloud with its shadow), a few hazy. Bands are L2A digital numbers, with the BOA offset of
+1000 DN on acquisitions from 2022-01-25 (processing baseline 04.00), as the archive has them.
Everything is deterministic in (parcel id, seed, day).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.change import SpectralObservation
from vision.spectral import (
    BASELINE_04_00,
    BoolMap,
    clear_mask,
    harmonize,
    indices,
    pixel_grid,
    rasterise,
)

# Reflectance of B02, B04, B08, B11.
_VEG = np.array([0.03, 0.03, 0.40, 0.18], dtype=np.float32)
_SOIL = np.array([0.10, 0.18, 0.25, 0.32], dtype=np.float32)
_BUILT = np.array([0.15, 0.17, 0.22, 0.26], dtype=np.float32)
_M_PER_DEG = math.radians(1.0) * 6_371_008.8
REVISIT_DAYS = 5
KINDS = ("built", "vegetated", "construction")


@dataclass(frozen=True, slots=True)
class SyntheticParcel:
    id: str
    geometry: dict[str, Any]
    kind: str
    onset: dt.date | None = None
    seed: int = 0

    def grid(
        self, resolution_m: float = 10.0
    ) -> tuple[tuple[float, float, float, float], int, int]:
        """The parcel's bounding box and a pixel grid of about ``resolution_m``."""
        return pixel_grid(self.geometry, resolution_m)


def square(lon: float, lat: float, area_m2: float) -> dict[str, Any]:
    """A square GeoJSON polygon of ``area_m2`` with its south-west corner at (lon, lat)."""
    side = math.sqrt(area_m2)
    dlat = side / _M_PER_DEG
    dlon = side / (_M_PER_DEG * math.cos(math.radians(lat)))
    ring = [[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat], [lon, lat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def acquisitions(start: dt.date, end: dt.date) -> list[dt.date]:
    """Pass days in [start, end): every 5 days, on one calendar for every request."""
    first = start + dt.timedelta(days=-start.toordinal() % REVISIT_DAYS)
    count = max(0, (end - first).days + REVISIT_DAYS - 1) // REVISIT_DAYS
    return [first + dt.timedelta(days=REVISIT_DAYS * k) for k in range(count)]


def synthetic_parcels(
    count: int, *, seed: int, start: dt.date, end: dt.date, lon: float = 120.1, lat: float = 30.2
) -> list[SyntheticParcel]:
    """``count`` parcels of 1–12 ha, kinds in turn; construction begins in the middle 60%."""
    rng = np.random.default_rng(seed)
    span = (end - start).days
    out = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        area = float(rng.uniform(10_000, 120_000))
        geometry = square(lon + 0.02 * (n % 40), lat + 0.02 * (n // 40), area)
        onset = None
        if kind == "construction":
            onset = start + dt.timedelta(days=int(rng.integers(int(span * 0.2), int(span * 0.8))))
        out.append(SyntheticParcel(f"syn-{seed}-{n:04d}", geometry, kind, onset, seed))
    return out


@dataclass(frozen=True, slots=True)
class Scene:
    """One acquisition over a parcel's grid: L2A DN bands, SCL and dataMask, row 0 north."""

    bands: dict[str, npt.NDArray[np.uint16]]
    scl: npt.NDArray[np.uint8]
    data_mask: npt.NDArray[np.uint8]


def _rng(*parts: object) -> np.random.Generator:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


@functools.lru_cache(maxsize=4096)
def _fixed(
    parcel_id: str, seed: int, height: int, width: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per pixel: the order in which clearing reaches it, and its lasting texture."""
    fixed = _rng(parcel_id, seed, "fixed")
    order = fixed.random((height, width), dtype=np.float32)
    texture = fixed.normal(0, 0.05, (height, width)).astype(np.float32)
    order.flags.writeable = False
    texture.flags.writeable = False
    return order, texture


def _green(day: dt.date) -> float:
    """Vegetation cover over the year: fullest in late July, least in late January."""
    return 0.55 + 0.25 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 205) / 365.25)


def scene(
    parcel: SyntheticParcel,
    day: dt.date,
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
) -> Scene:
    order, texture = _fixed(parcel.id, parcel.seed, height, width)
    rng = _rng(parcel.id, parcel.seed, day.isoformat())
    veg = np.full((height, width), _green(day), dtype=np.float32) + texture
    built = np.zeros((height, width), dtype=np.float32)
    if parcel.kind == "built":
        veg = np.clip(0.08 + texture, 0, 1)
        built[:] = 0.65
    elif parcel.kind == "construction" and parcel.onset is not None and day >= parcel.onset:
        days = (day - parcel.onset).days
        clearing = float(_rng(parcel.id, parcel.seed, "clearing").uniform(1.0, 3.0))
        cleared = order < min(1.0, (days + 1) / clearing)
        veg = np.where(cleared, np.clip(0.03 + texture * 0.2, 0, 1), veg)
        built = np.where(cleared, min(0.7, 0.7 * days / 240), 0.0).astype(np.float32)
    veg = np.clip(veg, 0.0, 1.0)
    soil = np.clip(1.0 - veg - built, 0.0, 1.0)
    refl = veg[..., None] * _VEG + soil[..., None] * _SOIL + built[..., None] * _BUILT
    refl += rng.normal(0, 0.004, 4).astype(np.float32)  # the scene's atmosphere
    refl += rng.standard_normal((height, width, 4), dtype=np.float32) * np.float32(0.01)
    scl = np.where(veg > 0.3, 4, 5).astype(np.uint8)  # vegetation / not vegetated
    weather = rng.random()
    if weather < 0.35:  # overcast
        scl[:] = 9
        refl[:] = 0.55
    elif weather < 0.55:  # a cloud and its shadow somewhere over the parcel
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        radius = rng.uniform(0.2, 0.8) * max(height, width)
        yy, xx = np.mgrid[0:height, 0:width]
        cloud = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
        shadow = (yy - cy - 3) ** 2 + (xx - cx - 3) ** 2 < radius**2
        refl[shadow & ~cloud] *= 0.4
        refl[cloud] = 0.5
        scl[shadow & ~cloud] = 3
        scl[cloud] = 8
    elif weather < 0.60:  # thin haze the classifier misses
        refl += 0.03
    dn = np.clip(np.round(refl * 10_000), 1, 30_000)
    if day >= BASELINE_04_00:
        dn += 1000
    bands = {b: dn[..., i].astype(np.uint16) for i, b in enumerate(("B02", "B04", "B08", "B11"))}
    return Scene(bands, scl, np.ones((height, width), dtype=np.uint8))


@dataclass(frozen=True, slots=True)
class Stats:
    """What the loopback's statistics say about one scene: per-index stats over valid pixels."""

    samples: int
    no_data: int
    values: dict[str, tuple[float, float, float, float]]  # min, max, mean, stDev


def scene_stats(sc: Scene, inside: BoolMap, day: dt.date, *, harmonized: bool = True) -> Stats:
    """The statistics our evalscript yields for ``sc`` over the ``inside`` pixels."""
    if harmonized:
        refl = [harmonize(sc.bands[b], day) for b in ("B02", "B04", "B08", "B11")]
    else:
        refl = [
            sc.bands[b].astype(np.float32) / np.float32(10_000)
            for b in ("B02", "B04", "B08", "B11")
        ]
    ndvi, ndbi, bsi = indices(*refl)
    valid = inside & clear_mask(sc.scl, sc.data_mask)
    values = {}
    for name, arr in (("ndvi", ndvi), ("ndbi", ndbi), ("bsi", bsi)):
        v = arr[valid]
        values[name] = (
            (float(v.min()), float(v.max()), float(v.mean()), float(v.std()))
            if v.size
            else (math.nan,) * 4
        )
    samples = int(inside.sum())
    return Stats(samples, samples - int(valid.sum()), values)


def observations(
    parcel: SyntheticParcel, days: list[dt.date], *, resolution_m: float = 10.0
) -> list[SpectralObservation]:
    """The parcel's series as the statistics path reports it (no HTTP)."""
    bbox, width, height = parcel.grid(resolution_m)
    inside = rasterise(parcel.geometry, bbox, width, height)
    out = []
    for day in days:
        st = scene_stats(scene(parcel, day, bbox, width, height), inside, day)
        share = (st.samples - st.no_data) / st.samples if st.samples else 0.0
        out.append(
            SpectralObservation(
                day, st.values["ndvi"][2], st.values["ndbi"][2], st.values["bsi"][2], share
            )
        )
    return out
