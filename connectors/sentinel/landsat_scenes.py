"""Synthetic Landsat 8/9 Collection-2 Level-2 passes over the parcels of
``connectors.sentinel.scenes``: a second optical source, as HLS pairs Sentinel-2 with Landsat
for OPERA DIST-ALERT.

Nothing comes free. The ground is the same ground (the generator's 10 m mixtures on the day),
seen by another sensor:

- *orbits*: each of Landsat 8 and 9 repeats every 16 days, 8 days apart; Landsat 9's archive
  starts on 31 October 2021. Its days fall between Sentinel-2's most of the time;
- *weather per day, shared*: a pass sees the weather of its day, the same draw Sentinel-2
  would have on that day (a Landsat pass on a cloudy Sentinel-2 day is cloudy too), and half
  of the time the weather of the nearest Sentinel-2 day (at most two days away: Zhejiang's
  rain comes in spells of days, so a look between two cloudy Sentinel-2 passes is often no
  clearer). Overcast probability, thin overcast, partial clouds with edges and shadows, haze:
  as for Sentinel-2;
- *30 m pixels*: each is the mean of a 3 x 3 block of the 10 m ground, so a site's nets and
  huts blur and the parcel has a ninth of the pixels;
- *its own band response* (OLI's narrower NIR, other filters) and a parcel's own view and
  illumination bias, its own atmospheric error and noise, one-pixel (30 m) misregistration;
- *its own cloud mask* (CFMask, ``QA_PIXEL``): bit 0 fill, 1 dilated cloud, 2 cirrus, 3 cloud,
  4 cloud shadow. Cloud cores are flagged; the rim is flagged as dilated cloud most of the time
  (CFMask dilates by three pixels) and left clear otherwise; shadows are flagged or missed;
  bright roofs and soil are now and then called cloud; thin overcast is flagged as cirrus half
  of the time; haze is never flagged;
- missing passes (about one in forty).

Values are the statistics the Statistical API gives for our Landsat evalscript: surface
reflectance (Sentinel Hub applies Collection 2's scale, DN x 0.0000275 - 0.2), bands B02 blue,
B04 red, B05 NIR, B06 SWIR 1, pixels with any of ``QA_PIXEL`` bits 0-4 masked. The indices are
not harmonized here: the detector learns each parcel's cross-sensor bias.
Deterministic in (parcel id, seed, day).
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import numpy as np
import numpy.typing as npt

from connectors.sentinel.scenes import (
    _ENDS,
    REVISIT_DAYS,
    Stats,
    SyntheticParcel,
    _fractions,
    _overcast,
    _params,
    _reflectance,
    _rng,
)
from vision.change import SpectralObservation
from vision.spectral import indices, rasterise

LANDSAT_REPEAT_DAYS = 16
# A Landsat 8 day on the parcels' path (WRS-2 119/039 covers Hangzhou); Landsat 9 flies 8
# days behind it on the same track.
_L8_DAY = dt.date(2021, 7, 7)
L9_FIRST = dt.date(2021, 10, 31)
SENSOR = "landsat"
# QA_PIXEL bits (Collection 2): fill, dilated cloud, cirrus, cloud, cloud shadow.
QA_FILL, QA_DILATED, QA_CIRRUS, QA_CLOUD, QA_SHADOW = 1, 2, 4, 8, 16
QA_MASKED = QA_FILL | QA_DILATED | QA_CIRRUS | QA_CLOUD | QA_SHADOW
# The generator's OLI against MSI (B02, B04, B08, B11): OLI = MSI x gain + offset.
_GAIN = np.array([1.00, 0.97, 1.04, 1.00], dtype=np.float32)
_OFFSET = np.array([0.003, 0.002, 0.0, -0.004], dtype=np.float32)
_BLOCK = 3  # 30 m pixels of 3 x 3 ten-metre pixels
_SHARED_SPELL = 0.5  # chance that a Landsat day has the nearest Sentinel-2 day's weather


def landsat_acquisitions(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """Landsat 8 and 9 pass days in [start, end), with the satellite's name, in day order."""
    out: list[tuple[dt.date, str]] = []
    for name, anchor, first in (
        ("landsat-8", _L8_DAY, dt.date.min),
        ("landsat-9", _L8_DAY + dt.timedelta(days=8), L9_FIRST),
    ):
        lag = (start - anchor).days % LANDSAT_REPEAT_DAYS
        day = start + dt.timedelta(days=(LANDSAT_REPEAT_DAYS - lag) % LANDSAT_REPEAT_DAYS)
        while day < end:
            if day >= first:
                out.append((day, name))
            day += dt.timedelta(days=LANDSAT_REPEAT_DAYS)
    return sorted(out)


def _weather_day(parcel: SyntheticParcel, day: dt.date) -> dt.date:
    """The day whose weather a Landsat pass on ``day`` sees: its own, or half of the time the
    nearest Sentinel-2 day's (Sentinel-2 passes on every fifth day number)."""
    if _rng(parcel.id, parcel.seed, "landsat-spell", day.isoformat()).random() >= _SHARED_SPELL:
        return day
    d = day.toordinal()
    return dt.date.fromordinal(REVISIT_DAYS * round(d / REVISIT_DAYS))


@functools.lru_cache(maxsize=8192)
def _missing(seed: int, day: dt.date) -> bool:
    return _rng("landsat-missing", seed, day.isoformat()).random() < 0.025


def _blocks(
    a: npt.NDArray[np.float32], fill: npt.NDArray[np.float32] | np.float32
) -> npt.NDArray[np.float32]:
    """Mean of 3 x 3 blocks over the first two axes, the grid padded with ``fill`` (a road)."""
    h, w = a.shape[:2]
    hh, ww = -(-h // _BLOCK), -(-w // _BLOCK)
    padded = np.empty((hh * _BLOCK, ww * _BLOCK, *a.shape[2:]), dtype=np.float32)
    padded[...] = fill
    padded[:h, :w] = a
    out: npt.NDArray[np.float32] = padded.reshape(hh, _BLOCK, ww, _BLOCK, *a.shape[2:]).mean(
        axis=(1, 3), dtype=np.float32
    )
    return out


_GRIDS: dict[tuple[str, int], tuple[int, int, npt.NDArray[np.bool_]]] = {}


def _grid(parcel: SyntheticParcel) -> tuple[int, int, npt.NDArray[np.bool_]]:
    """The 10 m grid's height and width, and the 30 m pixels mostly inside the parcel."""
    key = (parcel.id, parcel.seed)
    if key not in _GRIDS:
        if len(_GRIDS) > 4096:
            _GRIDS.clear()
        bbox, width, height = parcel.grid(10.0)
        inside10 = rasterise(parcel.geometry, bbox, width, height).astype(np.float32)
        inside = _blocks(inside10, np.float32(0.0)) >= 0.5
        inside.flags.writeable = False
        _GRIDS[key] = (height, width, inside)
    return _GRIDS[key]


def landsat_pass(
    parcel: SyntheticParcel, day: dt.date
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.uint16]] | None:
    """One pass's 30 m surface reflectance (row, column, band: blue, red, NIR, SWIR 1) and its
    ``QA_PIXEL``, or None when the pass is missing."""
    if _missing(parcel.seed, day):
        return None
    height, width, inside = _grid(parcel)
    shape = inside.shape
    # The day's weather: the same first two draws ``scene`` takes for a Sentinel-2 pass.
    shared = _rng(parcel.id, parcel.seed, _weather_day(parcel, day).isoformat())
    weather = shared.random()
    thin = shared.random() < 0.06
    overcast = _overcast(day)
    rng = _rng(parcel.id, parcel.seed, "landsat", day.isoformat())
    if weather < overcast and not thin:
        level = np.float32(0.45 + 0.1 * rng.random())
        qa = np.full(shape, QA_CLOUD | QA_DILATED, dtype=np.uint16)
        return np.full((*shape, 4), level, dtype=np.float32), qa
    fr = _fractions(parcel, day, height, width)
    refl = _blocks(_reflectance(fr), _ENDS["built"])
    bias = np.array(_params(parcel.id, parcel.seed, "landsat-view")[:4], dtype=np.float32)
    refl = refl * (_GAIN * (1 + 0.03 * (bias - 0.5))) + _OFFSET
    if rng.random() < 0.12:  # the two archives' registration differs by a 30 m pixel now and then
        axis = int(rng.integers(0, 2))
        step = 1 if rng.random() < 0.5 else -1
        refl = np.roll(refl, step, axis=axis)
        if axis == 0:
            refl[0 if step == 1 else -1, :, :] = _ENDS["built"]
        else:
            refl[:, 0 if step == 1 else -1, :] = _ENDS["built"]
    refl += rng.normal(0, 0.006, 4).astype(np.float32)  # the scene's atmospheric correction
    refl += rng.standard_normal((*shape, 4), dtype=np.float32) * np.float32(0.005)
    qa = np.zeros(shape, dtype=np.uint16)
    veg = _blocks(fr["veg"], np.float32(0.0))
    if rng.random() < 0.05:  # bright roofs and soil called cloud
        qa[(veg < 0.05) & (rng.random(shape) < 0.3)] |= QA_CLOUD
    if weather < overcast:  # thin overcast: flagged as cirrus half of the time
        refl += np.float32(0.06 + 0.06 * rng.random())
        if rng.random() < 0.5:
            qa |= QA_CIRRUS
    elif weather < overcast + 0.25:  # a cloud, its rim and its shadow
        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
        cy, cx = rng.uniform(-0.3, 1.3) * shape[0], rng.uniform(-0.3, 1.3) * shape[1]
        radius = rng.uniform(0.2, 0.9) * max(shape)
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        core = dist < radius
        rim = (dist >= radius) & (dist < radius + 1 + rng.random())
        sy, sx = int(rng.integers(1, 3)), int(rng.integers(-1, 2))
        shadow = (np.sqrt((yy - cy - sy) ** 2 + (xx - cx - sx) ** 2) < radius) & ~core & ~rim
        refl[shadow] *= np.float32(0.35)
        refl[rim] = refl[rim] * 0.6 + np.float32(0.18)
        refl[core] = 0.45
        qa[core] |= QA_CLOUD | QA_DILATED
        if rng.random() < 0.7:
            qa[rim] |= QA_DILATED
        if rng.random() < 0.6:
            qa[shadow] |= QA_SHADOW
    elif weather < overcast + 0.33:  # haze CFMask misses
        haze = 0.015 + 0.04 * rng.random()
        refl += np.array([haze * 1.6, haze * 1.2, haze * 0.7, haze * 0.2], dtype=np.float32)
    return refl, qa


def landsat_stats(parcel: SyntheticParcel, day: dt.date) -> Stats | None:
    """What our Landsat evalscript's statistics say about one pass over the parcel (its 30 m
    pixels mostly inside), or None when the pass is missing."""
    got = landsat_pass(parcel, day)
    if got is None:
        return None
    refl, qa = got
    _, _, inside = _grid(parcel)
    samples = int(inside.sum())
    valid = inside & ((qa & QA_MASKED) == 0)
    count = int(valid.sum())
    if not count:
        return Stats(samples, samples, {k: (math.nan,) * 4 for k in ("ndvi", "ndbi", "bsi")})
    maps = indices(*(refl[..., i][valid] for i in range(4)))
    values = {
        name: (float(v.min()), float(v.max()), float(v.mean()), float(v.std()))
        for name, v in zip(("ndvi", "ndbi", "bsi"), maps, strict=True)
    }
    return Stats(samples, samples - count, values)


def landsat_observations(
    parcel: SyntheticParcel, days: list[tuple[dt.date, str]]
) -> list[SpectralObservation]:
    """The parcel's Landsat series as the Statistical API path reports it (missing passes left
    out), in the same form as ``sentinel_scenes.observations``, marked ``sensor="landsat"``."""
    out = []
    for day in sorted({d for d, _ in days}):
        st = landsat_stats(parcel, day)
        if st is None:
            continue
        share = (st.samples - st.no_data) / st.samples if st.samples else 0.0
        n, u, b = st.values["ndvi"], st.values["ndbi"], st.values["bsi"]
        out.append(
            SpectralObservation(day, n[2], u[2], b[2], share, n[3], u[3], b[3], sensor=SENSOR)
        )
    return out


__all__ = [
    "LANDSAT_REPEAT_DAYS",
    "QA_MASKED",
    "SENSOR",
    "landsat_acquisitions",
    "landsat_observations",
    "landsat_pass",
    "landsat_stats",
]
