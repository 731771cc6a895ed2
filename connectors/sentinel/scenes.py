"""Synthetic Sentinel-2 L2A scenes of Zhejiang parcels, for the loopback Sentinel Hub, tests,
the demo and ``python -m bench satellite``.

Each parcel has a land cover with its crop calendar, and per pixel mixes endmember reflectances
(vegetation, dry and wet soil, crop residue, paddy water, flood silt, concrete, blue hut roofs,
green dust nets). Calendars (day of year; every parcel-year shifts them by a few days):

- ``rice``: double-season rice. Winter stubble (or green manure), ploughing in early April,
  flooded transplanting late April, early-rice harvest about 20 July, late rice transplanted into
  a flooded field within ten days, harvested early November.
- ``wheat_maize``: winter wheat (sown November, green-up February, harvest about 28 May), summer
  maize (sown early June, harvest late September), ploughing in October.
- ``tea`` (evergreen, pruned after the spring pick in late May), ``orchard`` (deciduous peach
  and pear, grass between rows), ``forest`` (evergreen broadleaf), ``grass`` (mown now and
  then), ``fallow`` (reserve land: weeds that die back in winter), ``built`` (a standing plant).

``construction`` parcels are a cover until ``onset``; then clearing spreads over days to weeks,
often over part of the parcel only; green dust nets go over bare soil, site huts with blue
roofs appear, and built-up surface rises over months. Some sites stall and weeds come back.

``trap`` events that must not alarm: ``harvest`` (a harvest weeks off the usual date, straw
taken off: bare soil), ``ploughing`` (deep ploughing and levelling off calendar, bare for one
to two months), ``paddy_flooding`` (a paddy under water for weeks longer), ``drought`` (a
summer like 2022's: cover thinned, soil showing, back with the autumn rain), ``flood_silt``
(a typhoon flood leaves silt over the crop, which is re-sown) and ``abandonment`` (farming
stops; weeds take over).

Weather and sensor faults follow the Zhejiang season (the plum rains, mid-June to mid-July, are
the cloudiest; about 37 % of passes are usable over a year, as Sentinel-2 over Zhejiang gives
30-40 %):
overcast passes (SCL 8/9), partial clouds whose thin edges are labelled SCL 7 *or left clear*
and whose shadows are labelled SCL 3, SCL 2 *or left clear*, blue roofs and bright soil
mislabelled SCL 8, haze the classifier misses, missing passes, a one-pixel misregistration and
per-pixel noise. Bands are L2A digital numbers, with the BOA offset of +1000 DN from 2022-01-25
(processing baseline 04.00), as the archive has them. Deterministic in (parcel id, seed, day).
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
    BOA_ADD_OFFSET,
    DN_SCALE,
    BoolMap,
    clear_mask,
    harmonize,
    indices,
    pixel_grid,
    rasterise,
)

# Reflectance of B02, B04, B08, B11.
_E = {
    "veg": (0.030, 0.035, 0.42, 0.19),
    "soil": (0.10, 0.17, 0.24, 0.31),
    "wet": (0.06, 0.10, 0.15, 0.17),
    "residue": (0.07, 0.13, 0.24, 0.30),
    "water": (0.06, 0.05, 0.03, 0.01),
    "silt": (0.11, 0.19, 0.26, 0.30),
    "built": (0.14, 0.16, 0.21, 0.25),
    "roof": (0.25, 0.15, 0.22, 0.20),
    "net": (0.05, 0.07, 0.11, 0.16),
    "subsoil": (0.12, 0.20, 0.25, 0.33),  # graded, compacted site soil, topsoil stripped
}
_ENDS = {k: np.array(v, dtype=np.float32) for k, v in _E.items()}
_M_PER_DEG = math.radians(1.0) * 6_371_008.8
REVISIT_DAYS = 5
KINDS = ("built", "vegetated", "construction")
COVERS = ("rice", "wheat_maize", "tea", "orchard", "forest", "grass", "fallow", "built")
TRAPS = ("harvest", "ploughing", "paddy_flooding", "drought", "flood_silt", "abandonment")

# Calendars: (day of year, vegetation, water, residue); soil is the rest.
_CALENDARS: dict[str, tuple[tuple[float, float, float, float], ...]] = {
    "rice": (
        (1, 0.12, 0.0, 0.45),
        (80, 0.18, 0.0, 0.35),
        (95, 0.03, 0.0, 0.10),  # ploughed
        (110, 0.04, 0.75, 0.0),  # flooded, transplanted
        (125, 0.15, 0.55, 0.0),
        (150, 0.55, 0.20, 0.0),
        (175, 0.90, 0.0, 0.0),
        (192, 0.70, 0.0, 0.20),  # ripening
        (200, 0.62, 0.0, 0.25),
        (201, 0.05, 0.0, 0.60),  # early-rice harvest
        (207, 0.04, 0.70, 0.10),  # flooded, late rice transplanted
        (222, 0.20, 0.50, 0.0),
        (250, 0.70, 0.10, 0.0),
        (275, 0.90, 0.0, 0.0),
        (295, 0.72, 0.0, 0.15),
        (308, 0.60, 0.0, 0.25),
        (309, 0.06, 0.0, 0.65),  # late-rice harvest
        (340, 0.08, 0.0, 0.55),
        (366, 0.12, 0.0, 0.45),
    ),
    "wheat_maize": (
        (1, 0.30, 0.0, 0.0),
        (40, 0.38, 0.0, 0.0),
        (75, 0.75, 0.0, 0.0),
        (110, 0.92, 0.0, 0.0),
        (130, 0.65, 0.0, 0.25),
        (147, 0.45, 0.0, 0.40),
        (148, 0.05, 0.0, 0.60),  # wheat harvest
        (158, 0.03, 0.0, 0.35),  # maize sown
        (172, 0.15, 0.0, 0.20),
        (200, 0.80, 0.0, 0.0),
        (232, 0.88, 0.0, 0.0),
        (258, 0.55, 0.0, 0.30),
        (268, 0.45, 0.0, 0.40),
        (269, 0.05, 0.0, 0.55),  # maize harvest
        (285, 0.02, 0.0, 0.15),  # ploughed
        (305, 0.03, 0.0, 0.05),  # wheat sown
        (335, 0.18, 0.0, 0.0),
        (366, 0.30, 0.0, 0.0),
    ),
    "tea": (
        (1, 0.62, 0.0, 0.0),
        (90, 0.66, 0.0, 0.0),
        (140, 0.72, 0.0, 0.0),
        (142, 0.50, 0.0, 0.10),  # pruned after the spring pick
        (200, 0.72, 0.0, 0.0),
        (300, 0.72, 0.0, 0.0),
        (366, 0.62, 0.0, 0.0),
    ),
    "orchard": (
        (1, 0.30, 0.0, 0.10),
        (70, 0.35, 0.0, 0.05),
        (120, 0.70, 0.0, 0.0),
        (200, 0.82, 0.0, 0.0),
        (280, 0.70, 0.0, 0.0),
        (330, 0.40, 0.0, 0.10),
        (366, 0.30, 0.0, 0.10),
    ),
    "forest": (
        (1, 0.76, 0.0, 0.0),
        (100, 0.80, 0.0, 0.0),
        (200, 0.90, 0.0, 0.0),
        (320, 0.82, 0.0, 0.0),
        (366, 0.76, 0.0, 0.0),
    ),
    "grass": (
        (1, 0.42, 0.0, 0.15),
        (70, 0.50, 0.0, 0.10),
        (130, 0.78, 0.0, 0.0),
        (230, 0.82, 0.0, 0.0),
        (320, 0.58, 0.0, 0.10),
        (366, 0.42, 0.0, 0.15),
    ),
    "fallow": (
        (1, 0.22, 0.0, 0.35),
        (70, 0.28, 0.0, 0.25),
        (140, 0.60, 0.0, 0.0),
        (240, 0.68, 0.0, 0.0),
        (320, 0.40, 0.0, 0.25),
        (366, 0.22, 0.0, 0.35),
    ),
    "built": ((1, 0.10, 0.0, 0.0), (366, 0.10, 0.0, 0.0)),
}
_CAL = {
    k: tuple(np.array([row[i] for row in v], dtype=np.float64) for i in range(4))
    for k, v in _CALENDARS.items()
}
# Overcast probability per month (Zhejiang: spring rains, clearest in autumn), and in the plum
# rains (meiyu, 15 June to 15 July) whatever the month. With partial clouds, haze and missing
# passes about 37 % of passes are usable over a year (Sentinel-2 over Zhejiang: 30-40 %).
_OVERCAST = (0.52, 0.55, 0.60, 0.55, 0.55, 0.60, 0.45, 0.45, 0.45, 0.38, 0.42, 0.45)
_PLUM_RAINS = ((6, 15), (7, 15))
_PLUM_OVERCAST = 0.78


def _overcast(day: dt.date) -> float:
    """The chance that a pass on ``day`` sees only cloud."""
    (m0, d0), (m1, d1) = _PLUM_RAINS
    if dt.date(day.year, m0, d0) <= day <= dt.date(day.year, m1, d1):
        return _PLUM_OVERCAST
    return _OVERCAST[day.month - 1]


@dataclass(frozen=True, slots=True)
class SyntheticParcel:
    """A parcel and its truth: ``kind`` built/vegetated/construction, its ``cover``, the day
    construction begins (``onset``), and a ``trap`` event that must not alarm from ``event``."""

    id: str
    geometry: dict[str, Any]
    kind: str
    onset: dt.date | None = None
    seed: int = 0
    cover: str | None = None
    trap: str | None = None
    event: dt.date | None = None

    def grid(
        self, resolution_m: float = 10.0
    ) -> tuple[tuple[float, float, float, float], int, int]:
        """The parcel's bounding box and a pixel grid of about ``resolution_m``."""
        return pixel_grid(self.geometry, resolution_m)

    @property
    def land_cover(self) -> str:
        if self.kind == "built":
            return "built"
        if self.cover:
            return self.cover
        digest = hashlib.blake2b(self.id.encode(), digest_size=2).digest()
        return ("rice", "wheat_maize", "grass", "fallow", "orchard", "tea")[digest[0] % 6]

    @property
    def label(self) -> str:
        """``construction``, a trap's name, or ``stable``."""
        return "construction" if self.kind == "construction" else (self.trap or "stable")


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


_STABLE_COVERS: tuple[str, ...] = ("rice", "wheat_maize", "built", "rice", "wheat_maize")
_STABLE_COVERS += ("tea", "orchard", "forest", "grass", "fallow")
# Every 20 parcels: 6 construction, 7 stable, 7 traps, interleaved so that a few parcels mix.
_PATTERN = "CSTCSTCSTCSTCSTCSTST"
_TRAP_COVERS = {
    "harvest": ("rice", "wheat_maize"),
    "ploughing": ("wheat_maize", "fallow", "grass", "rice"),
    "paddy_flooding": ("rice",),
    "drought": ("rice", "wheat_maize", "grass", "tea", "orchard", "fallow"),
    "flood_silt": ("rice", "wheat_maize", "grass", "orchard"),
    "abandonment": ("rice", "wheat_maize"),
}
# The season a trap happens in: (month, day) it may start from, and how many days after.
_TRAP_SEASONS = {
    "drought": ((7, 1), 45),  # the summer drought of 2022
    "flood_silt": ((6, 15), 120),  # plum-rain and typhoon floods
    "paddy_flooding": ((3, 15), 80),  # flooded early, or waterlogged, before transplanting
}
_SITE_COVERS = ("rice", "wheat_maize", "fallow", "grass", "orchard", "tea", "forest")


def synthetic_parcels(
    count: int, *, seed: int, start: dt.date, end: dt.date, lon: float = 120.1, lat: float = 30.2
) -> list[SyntheticParcel]:
    """``count`` parcels of 1–12 ha, interleaved: construction (3 in 10), stable (7 in 20,
    every cover in turn) and traps (7 in 20, every trap in turn; a drought in summer, a flood
    from the plum rains to the typhoon season, a paddy flooded in spring). When the span is over
    a year, onsets and trap events fall after its first year (the history the detector needs)
    and 60 days before its end; otherwise in its middle 60%."""
    rng = np.random.default_rng(seed)
    span = (end - start).days
    lo, hi = (365, span - 60) if span > 500 else (int(span * 0.2), int(span * 0.8))
    out = []
    made = {"S": 0, "T": 0}
    for n in range(count):
        slot = _PATTERN[n % len(_PATTERN)]
        area = float(rng.uniform(10_000, 120_000))
        geometry = square(lon + 0.02 * (n % 40), lat + 0.02 * (n // 40), area)
        day = start + dt.timedelta(days=int(rng.integers(lo, hi)))
        pick = int(rng.integers(0, 1 << 30))
        pid = f"syn-{seed}-{n:04d}"
        if slot == "C":
            cover = _SITE_COVERS[pick % len(_SITE_COVERS)]
            out.append(SyntheticParcel(pid, geometry, "construction", day, seed, cover))
        elif slot == "S":
            cover = _STABLE_COVERS[made["S"] % len(_STABLE_COVERS)]
            made["S"] += 1
            kind = "built" if cover == "built" else "vegetated"
            out.append(SyntheticParcel(pid, geometry, kind, None, seed, cover))
        else:
            trap = TRAPS[made["T"] % len(TRAPS)]
            made["T"] += 1
            cover = _TRAP_COVERS[trap][pick % len(_TRAP_COVERS[trap])]
            if trap in _TRAP_SEASONS:
                (month, mday), spread = _TRAP_SEASONS[trap]
                for year in (day.year, day.year - 1, day.year + 1):
                    moved = dt.date(year, month, mday) + dt.timedelta(days=pick % spread)
                    if start + dt.timedelta(days=lo) <= moved <= start + dt.timedelta(days=hi):
                        day = moved
                        break
            out.append(SyntheticParcel(pid, geometry, "vegetated", None, seed, cover, trap, day))
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
def _fixed(parcel_id: str, seed: int, height: int, width: int) -> npt.NDArray[np.float32]:
    """Per pixel: three random orders (clearing, nets, regrowth) and a lasting texture."""
    fixed = _rng(parcel_id, seed, "fixed")
    maps = fixed.random((4, height, width), dtype=np.float32)
    maps[3] = fixed.normal(0, 0.05, (height, width)).astype(np.float32)
    maps.flags.writeable = False
    return maps


@functools.lru_cache(maxsize=65536)
def _params(parcel_id: str, seed: int, name: str) -> tuple[float, ...]:
    """A parcel's fixed random draws for ``name`` (uniform 0..1)."""
    return tuple(float(x) for x in _rng(parcel_id, seed, name).random(8))


def _shift(parcel: SyntheticParcel, year: int) -> float:
    """This parcel-year's calendar shift in days (farmers do not all sow on one day)."""
    own = (_params(parcel.id, parcel.seed, "own")[0] - 0.5) * 14
    yearly = (_params(parcel.id, parcel.seed, f"year{year}")[0] - 0.5) * 12
    regional = (_params("region", parcel.seed, f"year{year}")[0] - 0.5) * 8
    return own + yearly + regional


def _calendar(cover: str, doy: float) -> tuple[float, float, float]:
    xs, veg, water, residue = _CAL[cover]
    t = (doy - 1) % 365 + 1
    return (
        float(np.interp(t, xs, veg)),
        float(np.interp(t, xs, water)),
        float(np.interp(t, xs, residue)),
    )


def _ramp(x: float, a: float, b: float) -> float:
    """0 before ``a``, 1 after ``b``, linear between."""
    if x <= a:
        return 0.0
    return 1.0 if x >= b else (x - a) / (b - a)


@dataclass(slots=True)
class _Cover:
    """The parcel-wide fractions of one day (pixels vary around them)."""

    veg: float
    water: float
    residue: float
    wet: float = 0.0
    silt: float = 0.0


def _base(parcel: SyntheticParcel, day: dt.date) -> _Cover:
    cover = parcel.land_cover
    doy = day.timetuple().tm_yday - _shift(parcel, day.year)
    veg, water, residue = _calendar(cover, doy)
    if cover == "grass":  # mown now and then for a couple of weeks
        p = _params(parcel.id, parcel.seed, f"mow{day.year}")
        mown = 120 + p[0] * 150
        if 0 <= day.timetuple().tm_yday - mown < 20 and p[1] < 0.5:
            veg, residue = veg * 0.55, residue + 0.3
    c = _Cover(veg, water, residue)
    trap, event = parcel.trap, parcel.event
    if trap is None or event is None:
        return c
    days = (day - event).days
    p = _params(parcel.id, parcel.seed, "trap")
    if trap == "harvest" and event.year == day.year:
        # A harvest weeks earlier or later than the usual date; the straw is taken off.
        off = (20 + 15 * p[0]) * (1 if p[1] < 0.5 else -1)
        doy2 = day.timetuple().tm_yday - _shift(parcel, day.year) - off
        veg, water, residue = _calendar(cover, doy2)
        return _Cover(veg, water, residue * 0.3, wet=0.2)
    if trap == "ploughing" and 0 <= days < 30 + 40 * p[0] + 40:
        bare_for = 30 + 40 * p[0]
        if days < bare_for:
            return _Cover(0.02, 0.0, 0.05, wet=0.3 * p[1])
        regrow = _ramp(days, bare_for, bare_for + 40)
        return _Cover(0.02 + regrow * (veg - 0.02), 0.0, 0.0)
    if trap == "paddy_flooding" and 0 <= days < 30 + 30 * p[0]:
        return _Cover(min(veg, 0.15), 0.75 + 0.15 * p[1], 0.0)
    if trap == "drought":
        # Dry months from the event (summer) onwards; back with the autumn rains.
        length = 60 + 40 * p[0]
        if 0 <= days < length + 45:
            depth = (0.35 + 0.3 * p[1]) * (1.0 - _ramp(days, length, length + 45))
            depth *= _ramp(days, 0, 20)
            return _Cover(veg * (1 - depth), water * (1 - depth), residue + veg * depth * 0.5)
        return c
    if trap == "flood_silt" and days >= 0:
        under = 4 + 8 * p[0]
        regrow_at = under + 15 + 25 * p[1]
        regrow = _ramp(days, regrow_at, regrow_at + 40 + 40 * p[2])
        if regrow >= 1.0:
            return c
        if days < under:
            return _Cover(veg * 0.3, 0.85, 0.0)
        cover_share = 0.5 + 0.5 * p[3]
        survive = 1.0 - cover_share * (1 - regrow)
        return _Cover(veg * survive, 0.0, residue * survive, silt=cover_share * (1 - regrow))
    if trap == "abandonment" and days >= 0:
        weeds, _, dead = _calendar("fallow", day.timetuple().tm_yday)
        take = _ramp(days, 0, 60 + 40 * p[0])
        start_veg = 0.08
        return _Cover((1 - take) * start_veg + take * weeds, 0.0, (1 - take) * 0.5 + take * dead)
    return c


def _fractions(
    parcel: SyntheticParcel, day: dt.date, height: int, width: int
) -> dict[str, npt.NDArray[np.float32]]:
    maps = _fixed(parcel.id, parcel.seed, height, width)
    order, net_order, regrow_order, texture = maps[0], maps[1], maps[2], maps[3]
    c = _base(parcel, day)
    shape = (height, width)
    if parcel.land_cover == "built":
        veg = np.clip(0.10 + texture, 0, 1)
        roof = (net_order < 0.15).astype(np.float32) * 0.8
        built = np.clip(0.75 - roof, 0, 1)
        return {"veg": veg, "built": built, "roof": roof}
    veg = np.clip(c.veg + texture * (0.3 + c.veg), 0.0, 1.0)
    out: dict[str, npt.NDArray[np.float32]] = {
        "veg": veg,
        "water": np.full(shape, c.water, np.float32),
        "residue": np.full(shape, c.residue, np.float32),
    }
    if c.silt:
        out["silt"] = np.full(shape, c.silt, np.float32)
    wet = c.wet
    if parcel.kind == "construction" and parcel.onset is not None and day >= parcel.onset:
        days = (day - parcel.onset).days
        p = _params(parcel.id, parcel.seed, "site")
        clearing_days = 3 + 37 * p[0] ** 2
        share = 1.0 if p[1] < 0.55 else 0.6 + 0.4 * p[2]
        cleared = order < share * min(1.0, (days + 1) / clearing_days)
        stalled_at = 30 + 60 * p[4] if p[3] < 0.2 else None
        active = days if stalled_at is None else min(days, stalled_at)
        nets = cleared & (net_order < (0.6 * p[5]) * _ramp(active, 10, 40))
        huts = cleared & (net_order > 1 - 0.05 * p[6] * _ramp(active, 5, 25))
        rise = 0.0 if stalled_at is not None else 0.75 * _ramp(days, 60 + 90 * p[7], 420)
        regrow = 0.0
        if stalled_at is not None:
            weeds, _, _ = _calendar("fallow", day.timetuple().tm_yday)
            regrow = weeds * _ramp(days, stalled_at + 20, stalled_at + 120)
        zero = np.float32(0.0)
        bare_veg = np.where(regrow_order < 0.9, regrow, regrow * 0.5).astype(np.float32)
        out["veg"] = np.where(cleared, np.where(nets | huts, zero, bare_veg), out["veg"])
        for k in ("water", "residue", "silt"):
            if k in out:
                out[k] = np.where(cleared, zero, out[k])
        out["net"] = np.where(nets, np.float32(0.95), zero)
        out["roof"] = np.where(huts, np.float32(0.9), zero)
        out["built"] = np.where(cleared & ~nets & ~huts, np.float32(rise), zero)
        out["subsoil"] = np.where(cleared & ~nets & ~huts, np.float32(1.0), zero)
    out["soil_wet"] = np.full(shape, wet, np.float32)
    return out


def _reflectance(fr: dict[str, npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    covered = np.zeros_like(fr["veg"])
    refl = np.zeros((*fr["veg"].shape, 4), dtype=np.float32)
    for k in ("veg", "water", "residue", "silt", "built", "roof", "net", "subsoil"):
        if k in fr:
            f = np.clip(fr[k], 0.0, None)
            f = np.minimum(f, 1.0 - covered)
            covered += f
            refl += f[..., None] * _ENDS[k]
    soil = 1.0 - covered
    wet = fr.get("soil_wet", np.zeros_like(soil))
    refl += (soil * (1 - wet))[..., None] * _ENDS["soil"] + (soil * wet)[..., None] * _ENDS["wet"]
    return refl


def scene(
    parcel: SyntheticParcel,
    day: dt.date,
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
) -> Scene:
    rng = _rng(parcel.id, parcel.seed, day.isoformat())
    weather = rng.random()
    overcast = _overcast(day)
    thin = rng.random() < 0.06  # overcast, but only thin cloud, now and then called clear
    if weather < overcast and not thin:  # overcast: the ground does not show
        level = np.float32(0.45 + 0.1 * rng.random())
        dn_cloud = np.full((height, width), round(level * 10_000), dtype=np.uint16)
        if day >= BASELINE_04_00:
            dn_cloud += 1000
        cloud_class = 9 if rng.random() < 0.6 else 8
        return Scene(
            {b: dn_cloud for b in ("B02", "B04", "B08", "B11")},
            np.full((height, width), cloud_class, dtype=np.uint8),
            np.ones((height, width), dtype=np.uint8),
        )
    fr = _fractions(parcel, day, height, width)
    refl = _reflectance(fr)
    # One-pixel misregistration now and then: the road beside the parcel slides in.
    if rng.random() < 0.12:
        axis = int(rng.integers(0, 2))
        step = 1 if rng.random() < 0.5 else -1
        refl = np.roll(refl, step, axis=axis)
        edge = (0 if step == 1 else -1,)
        if axis == 0:
            refl[edge[0], :, :] = _ENDS["built"]
        else:
            refl[:, edge[0], :] = _ENDS["built"]
    refl += rng.normal(0, 0.004, 4).astype(np.float32)  # the scene's atmosphere
    refl += rng.standard_normal((height, width, 4), dtype=np.float32) * np.float32(0.008)
    veg = fr["veg"]
    water = fr.get("water")
    scl = np.where(veg > 0.35, 4, 5).astype(np.uint8)
    if water is not None:
        scl[water > 0.6] = 6
    # Bright roofs and soil the classifier calls cloud.
    roof = fr.get("roof")
    if roof is not None and rng.random() < 0.35:
        scl[roof > 0.5] = 8
    bright = (veg < 0.05) & (fr.get("built", np.zeros_like(veg)) < 0.2)
    if rng.random() < 0.08:
        scl[bright & (rng.random(veg.shape) < 0.3)] = 8
    data = np.ones((height, width), dtype=np.uint8)
    if weather < overcast:  # thin overcast: half the time labelled unclassified, else clear
        refl += np.float32(0.06 + 0.06 * rng.random())
        if rng.random() < 0.5:
            scl[:] = 7
    elif weather < overcast + 0.25:  # a cloud with thin edges, and its shadow
        yy, xx = np.mgrid[0:height, 0:width]
        cy, cx = rng.uniform(-0.3, 1.3) * height, rng.uniform(-0.3, 1.3) * width
        radius = rng.uniform(0.2, 0.9) * max(height, width)
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        core = dist < radius
        edge = (dist >= radius) & (dist < radius + 1 + 2 * rng.random())
        sy, sx = rng.integers(3, 8), rng.integers(-3, 6)
        shadow = (np.sqrt((yy - cy - sy) ** 2 + (xx - cx - sx) ** 2) < radius) & ~core & ~edge
        refl[shadow] *= np.float32(0.35)
        refl[edge] = refl[edge] * 0.6 + np.float32(0.18)
        refl[core] = 0.45
        scl[core] = 9 if rng.random() < 0.5 else 8
        if rng.random() < 0.5:
            scl[edge] = 7
        labelled = rng.random()
        if labelled < 0.5:
            scl[shadow] = 3
        elif labelled < 0.7:
            scl[shadow] = 2
    elif weather < overcast + 0.33:  # haze the classifier misses
        haze = 0.015 + 0.04 * rng.random()
        refl += np.array([haze * 1.6, haze * 1.2, haze * 0.7, haze * 0.2], dtype=np.float32)
    dn = np.clip(np.round(refl * 10_000), 1, 30_000)
    if day >= BASELINE_04_00:
        dn += 1000
    bands = {b: dn[..., i].astype(np.uint16) for i, b in enumerate(("B02", "B04", "B08", "B11"))}
    return Scene(bands, scl, data)


def missing(parcel: SyntheticParcel, day: dt.date) -> bool:
    """No acquisition (a datastrip gap, a satellite anomaly): about one pass in thirty."""
    return _missing(parcel.seed, day)


@functools.lru_cache(maxsize=8192)
def _missing(seed: int, day: dt.date) -> bool:
    # The same for every parcel of a seed: drawn once per day, not once per parcel-day.
    return _rng("missing", seed, day.isoformat()).random() < 0.035


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


def interval_stats(
    parcel: SyntheticParcel,
    days: list[dt.date],
    bbox: tuple[float, float, float, float],
    width: int,
    height: int,
    inside: BoolMap,
    *,
    harmonized: bool = True,
) -> list[Stats]:
    """``scene_stats(scene(parcel, day, bbox, width, height), inside, day)`` for each of
    ``days``, bit for bit, with the pixel work of all the days done at once (a day axis, bands
    first so that every array operation runs over long rows): what the loopback's statistics
    answer for a parcel's whole interval. Per day only the random draws remain (each day's
    generator, drawn in ``scene``'s order), and the sums of the means and deviations.

    It mirrors ``scene``, ``_fractions``, ``_reflectance`` and ``scene_stats``: a change to one
    of them is a change here (``tests/connectors/test_sentinel_scenes.py`` compares the two)."""
    # Days are independent: a large parcel's interval goes in slices (a few arrays of
    # days × pixels × bands float32 each; ``_PIXEL_DAYS`` keeps one to tens of MB).
    step = max(1, _PIXEL_DAYS // max(1, width * height))
    if len(days) > step:
        return [
            s
            for k in range(0, len(days), step)
            for s in interval_stats(
                parcel, days[k : k + step], bbox, width, height, inside, harmonized=harmonized
            )
        ]
    samples = int(inside.sum())
    shape = (height, width)
    out: list[Stats | None] = [None] * len(days)
    draws = _Draws.of(parcel, days, shape, _roofed(parcel, days))
    for i in draws.overcast:
        out[i] = Stats(samples, samples, {k: (math.nan,) * 4 for k in _INDICES})
    n = len(draws.kept)
    if n:
        kept_days = [days[i] for i in draws.kept]
        fr = _interval_fractions(parcel, kept_days, height, width)
        refl = _reflectance_bands(fr)  # (band, day, row, column)
        if refl.shape[1] != n:  # a standing plant: the same ground every day
            refl = np.repeat(refl, n, axis=1)
        # One-pixel misregistration now and then: the road beside the parcel slides in.
        built_end = _ENDS["built"][:, None]
        for j, axis, step in draws.rolls:
            refl[:, j] = np.roll(refl[:, j], step, axis=axis + 1)
            edge = 0 if step == 1 else -1
            if axis == 0:
                refl[:, j, edge, :] = built_end
            else:
                refl[:, j, :, edge] = built_end
        refl += draws.atmosphere.T[:, :, None, None]
        refl += np.moveaxis(draws.noise * np.float32(0.008), 3, 0)
        veg = np.broadcast_to(fr["veg"], (n, *shape))
        scl = np.where(veg > 0.35, 4, 5).astype(np.uint8)
        if "water" in fr:
            scl[np.broadcast_to(fr["water"], (n, *shape)) > 0.6] = 6
        # Bright roofs and soil the classifier calls cloud.
        if "roof" in fr and draws.roofs.any():
            roof = np.broadcast_to(fr["roof"], (n, *shape))
            scl[draws.roofs[:, None, None] & (roof > 0.5)] = 8
        bright = veg < 0.05
        if "built" in fr:
            bright &= np.broadcast_to(fr["built"], (n, *shape)) < 0.2
        scl[bright & draws.bright] = 8
        _weather(refl, scl, draws, shape)
        dn = np.clip(np.round(refl * 10_000), 1, 30_000)
        del refl
        offset = np.array([d >= BASELINE_04_00 for d in kept_days])
        dn[:, offset] += 1000
        # ``scene_stats``: reflectance from the DN bands, the evalscript's indices and mask.
        values = dn.astype(np.uint16).astype(np.float32)
        del dn
        if harmonized:
            values[:, offset] += np.float32(BOA_ADD_OFFSET)
        values /= np.float32(DN_SCALE)
        maps = indices(values[0], values[1], values[2], values[3])
        del values
        valid = inside & clear_mask(scl, np.ones_like(scl))
        for i, (count, values_of) in zip(draws.kept, _masked_stats(maps, valid), strict=True):
            out[i] = Stats(samples, samples - count, values_of)
    return [s for s in out if s is not None]


@dataclass(slots=True)
class _Draws:
    """What ``scene`` draws from each day's generator, in its order, for ``interval_stats``:
    ``kept`` the days the ground shows on (index into the days), ``overcast`` the others;
    per kept day (index into ``kept``) a misregistration, the atmosphere and pixel noise, the
    SCL mislabellings, and the weather: thin overcast, a cloud or haze."""

    overcast: list[int]
    kept: list[int]
    rolls: list[tuple[int, int, int]]  # (kept day, axis, step)
    atmosphere: npt.NDArray[np.float32]  # (day, band)
    noise: npt.NDArray[np.float32]  # (day, row, column, band), before scaling
    roofs: npt.NDArray[np.bool_]  # (day,): roofs labelled cloud
    bright: npt.NDArray[np.bool_]  # (day, row, column): bright soil labelled cloud
    thin: list[tuple[int, np.float32, bool]]  # (kept day, brightening, labelled SCL 7)
    # (kept day, cy, cx, radius, rim's outer radius, sy, sx, core class, rim SCL 7, shadow class)
    clouds: list[tuple[int, float, float, float, float, int, int, int, bool, int]]
    haze: list[tuple[int, npt.NDArray[np.float32]]]

    @classmethod
    def of(
        cls,
        parcel: SyntheticParcel,
        days: list[dt.date],
        shape: tuple[int, int],
        roofed: list[bool],
    ) -> _Draws:
        height, width = shape
        noise = np.empty((len(days), height, width, 4), dtype=np.float32)
        atmosphere = np.empty((len(days), 4), dtype=np.float32)
        roofs = np.zeros(len(days), dtype=np.bool_)
        bright = np.zeros((len(days), height, width), dtype=np.bool_)
        d = cls([], [], [], atmosphere, noise, roofs, bright, [], [], [])
        for i, day in enumerate(days):
            rng = _rng(parcel.id, parcel.seed, day.isoformat())
            weather = rng.random()
            overcast = _overcast(day)
            thin = rng.random() < 0.06
            if weather < overcast and not thin:
                d.overcast.append(i)
                continue
            j = len(d.kept)
            d.kept.append(i)
            if rng.random() < 0.12:
                axis = int(rng.integers(0, 2))
                d.rolls.append((j, axis, 1 if rng.random() < 0.5 else -1))
            atmosphere[j] = rng.normal(0, 0.004, 4).astype(np.float32)
            rng.standard_normal((height, width, 4), dtype=np.float32, out=noise[j])
            if roofed[i] and rng.random() < 0.35:
                roofs[j] = True
            if rng.random() < 0.08:
                bright[j] = rng.random(shape) < 0.3
            if weather < overcast:
                level = np.float32(0.06 + 0.06 * rng.random())
                d.thin.append((j, level, rng.random() < 0.5))
            elif weather < overcast + 0.25:
                cy, cx = rng.uniform(-0.3, 1.3) * height, rng.uniform(-0.3, 1.3) * width
                radius = rng.uniform(0.2, 0.9) * max(height, width)
                reach = radius + 1 + 2 * rng.random()
                sy, sx = int(rng.integers(3, 8)), int(rng.integers(-3, 6))
                core = 9 if rng.random() < 0.5 else 8
                rim = rng.random() < 0.5
                labelled = rng.random()
                shadow = 3 if labelled < 0.5 else (2 if labelled < 0.7 else 0)
                d.clouds.append((j, cy, cx, radius, reach, sy, sx, core, rim, shadow))
            elif weather < overcast + 0.33:
                haze = 0.015 + 0.04 * rng.random()
                tint = np.array([haze * 1.6, haze * 1.2, haze * 0.7, haze * 0.2], np.float32)
                d.haze.append((j, tint))
        n = len(d.kept)
        d.atmosphere, d.noise, d.roofs, d.bright = atmosphere[:n], noise[:n], roofs[:n], bright[:n]
        return d


def _weather(
    refl: npt.NDArray[np.float32],
    scl: npt.NDArray[np.uint8],
    draws: _Draws,
    shape: tuple[int, int],
) -> None:
    """``scene``'s thin overcast, clouds with their rims and shadows, and haze, on the days
    drawn, in place (band, day, row, column)."""
    if draws.thin:
        at = [t[0] for t in draws.thin]
        refl[:, at] += np.array([t[1] for t in draws.thin], np.float32)[None, :, None, None]
        scl[[t[0] for t in draws.thin if t[2]]] = 7
    if draws.clouds:
        c = draws.clouds
        at = [x[0] for x in c]

        def col(k: int) -> npt.NDArray[Any]:
            return np.array([x[k] for x in c])[:, None, None]

        yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
        cy, cx, radius, sy, sx = col(1), col(2), col(3), col(5), col(6)
        dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        core = dist < radius
        rim = (dist >= radius) & (dist < col(4))
        shadow = np.sqrt((yy - cy - sy) ** 2 + (xx - cx - sx) ** 2) < radius
        shadow &= ~core & ~rim
        r = refl[:, at]
        r = np.where(shadow, r * np.float32(0.35), r)
        r = np.where(rim, r * 0.6 + np.float32(0.18), r)
        refl[:, at] = np.where(core, np.float32(0.45), r)
        s = scl[at]
        s = np.where(core, col(7), s)
        s = np.where(rim & col(8), 7, s)
        s = np.where(shadow & (col(9) > 0), col(9), s)
        scl[at] = s.astype(np.uint8)
    if draws.haze:
        at = [h[0] for h in draws.haze]
        refl[:, at] += np.stack([h[1] for h in draws.haze], axis=1)[:, :, None, None]


_INDICES = ("ndvi", "ndbi", "bsi")
_PIXEL_DAYS = 1_000_000


def _masked_stats(
    maps: tuple[npt.NDArray[np.float32], ...], valid: npt.NDArray[np.bool_]
) -> list[tuple[int, dict[str, tuple[float, float, float, float]]]]:
    """Per day (axis 0): the valid pixels and each map's min, max, mean and standard deviation
    over them, as ``ndarray.min``, ``max``, ``mean`` and ``std`` give them for the day's
    ``arr[valid]`` (float32 pairwise sums over the same values in the same order; the mean
    divided in double and rounded to float32, as numpy does)."""
    counts = [int(c) for c in valid.sum(axis=(1, 2))]
    starts = np.concatenate(([0], np.cumsum(counts))).tolist()
    days = range(len(counts))
    out: list[tuple[int, dict[str, tuple[float, float, float, float]]]] = [(c, {}) for c in counts]
    for name, arr in zip(_INDICES, maps, strict=True):
        flat = arr[valid]
        means = np.zeros(len(counts), dtype=np.float32)
        for j in days:
            if counts[j]:
                means[j] = np.float32(
                    float(np.add.reduce(flat[starts[j] : starts[j + 1]])) / counts[j]
                )
        deviations = arr - means[:, None, None]
        deviations *= deviations
        flat_dev = deviations[valid]
        for j in days:
            c = counts[j]
            if not c:
                out[j][1][name] = (math.nan,) * 4
                continue
            v = flat[starts[j] : starts[j + 1]]
            var = np.float32(float(np.add.reduce(flat_dev[starts[j] : starts[j + 1]])) / c)
            out[j][1][name] = (
                float(np.minimum.reduce(v)),
                float(np.maximum.reduce(v)),
                float(means[j]),
                float(np.sqrt(var)),
            )
    return out


def _roofed(parcel: SyntheticParcel, days: list[dt.date]) -> list[bool]:
    """Days whose ``_fractions`` have a ``roof`` (``scene`` draws for mislabelled roofs then)."""
    if parcel.land_cover == "built":
        return [True] * len(days)
    site = parcel.kind == "construction" and parcel.onset is not None
    return [site and parcel.onset is not None and day >= parcel.onset for day in days]


def _interval_fractions(
    parcel: SyntheticParcel, days: list[dt.date], height: int, width: int
) -> dict[str, npt.NDArray[np.float32]]:
    """``_fractions`` of each day, stacked on a leading day axis (length 1 for a standing
    plant, which never changes). A fraction ``_fractions`` leaves out on a day is zero here,
    which ``_reflectance`` adds as nothing."""
    maps = _fixed(parcel.id, parcel.seed, height, width)
    order, net_order, regrow_order, texture = maps[0], maps[1], maps[2], maps[3]
    if parcel.land_cover == "built":
        one = _fractions(parcel, days[0], height, width)
        return {k: v[None] for k, v in one.items()}
    covers = [_base(parcel, day) for day in days]

    def per_day(values: list[float]) -> npt.NDArray[np.float32]:
        # A Python float meets a float32 map as a float32 (NEP 50): cast the same way.
        return np.array(values, dtype=np.float64).astype(np.float32)[:, None, None]

    n = len(days)
    c_veg = per_day([c.veg for c in covers])
    gain = per_day([0.3 + c.veg for c in covers])
    veg = np.clip(c_veg + texture * gain, 0.0, 1.0)
    out: dict[str, npt.NDArray[np.float32]] = {
        "veg": veg,
        "water": np.broadcast_to(per_day([c.water for c in covers]), veg.shape),
        "residue": np.broadcast_to(per_day([c.residue for c in covers]), veg.shape),
        "silt": np.broadcast_to(per_day([c.silt for c in covers]), veg.shape),
    }
    onset = parcel.onset
    if parcel.kind == "construction" and onset is not None and any(d >= onset for d in days):
        p = _params(parcel.id, parcel.seed, "site")
        clearing_days = 3 + 37 * p[0] ** 2
        share = 1.0 if p[1] < 0.55 else 0.6 + 0.4 * p[2]
        stalled_at = 30 + 60 * p[4] if p[3] < 0.2 else None
        after = np.array([d >= onset for d in days])[:, None, None]
        elapsed = [(d - onset).days for d in days]
        active = [e if stalled_at is None else min(e, stalled_at) for e in elapsed]
        cleared = after & (
            order < per_day([share * min(1.0, (e + 1) / clearing_days) for e in elapsed])
        )
        nets = cleared & (net_order < per_day([(0.6 * p[5]) * _ramp(a, 10, 40) for a in active]))
        huts = cleared & (net_order > per_day([1 - 0.05 * p[6] * _ramp(a, 5, 25) for a in active]))
        rise = [
            0.0 if stalled_at is not None else 0.75 * _ramp(e, 60 + 90 * p[7], 420) for e in elapsed
        ]
        regrow = np.zeros(n)
        if stalled_at is not None:
            for j, (day, e) in enumerate(zip(days, elapsed, strict=True)):
                weeds, _, _ = _calendar("fallow", day.timetuple().tm_yday)
                regrow[j] = weeds * _ramp(e, stalled_at + 20, stalled_at + 120)
        zero = np.float32(0.0)
        r = regrow[:, None, None]
        bare_veg = np.where(regrow_order < 0.9, r, r * 0.5).astype(np.float32)
        out["veg"] = np.where(cleared, np.where(nets | huts, zero, bare_veg), out["veg"])
        for k in ("water", "residue", "silt"):
            out[k] = np.where(cleared, zero, out[k])
        ground = cleared & ~nets & ~huts
        out["net"] = np.where(nets, np.float32(0.95), zero)
        out["roof"] = np.where(huts, np.float32(0.9), zero)
        out["built"] = np.where(ground, per_day(rise), zero)
        out["subsoil"] = np.where(ground, np.float32(1.0), zero)
    out["soil_wet"] = np.broadcast_to(per_day([c.wet for c in covers]), veg.shape)
    return out


def _reflectance_bands(fr: dict[str, npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    """``_reflectance`` with the band axis first (``f[..., None] * end`` runs over rows of
    four; per band it runs over the whole map): the same products and sums, element by
    element."""
    shape = np.broadcast_shapes(*(v.shape for v in fr.values()))
    covered = np.zeros(shape, dtype=np.float32)
    refl = np.zeros((4, *shape), dtype=np.float32)
    for k in ("veg", "water", "residue", "silt", "built", "roof", "net", "subsoil"):
        if k in fr:
            f = np.clip(fr[k], 0.0, None)
            f = np.minimum(f, 1.0 - covered)
            covered += f
            for b in range(4):
                refl[b] += f * _ENDS[k][b]
    soil = 1.0 - covered
    wet = fr.get("soil_wet", np.zeros_like(soil))
    dry_soil, wet_soil = soil * (1 - wet), soil * wet
    for b in range(4):
        refl[b] += dry_soil * _ENDS["soil"][b] + wet_soil * _ENDS["wet"][b]
    return refl


def observations(
    parcel: SyntheticParcel, days: list[dt.date], *, resolution_m: float = 10.0
) -> list[SpectralObservation]:
    """The parcel's series as the statistics path reports it (no HTTP; missing passes left out)."""
    bbox, width, height = parcel.grid(resolution_m)
    inside = rasterise(parcel.geometry, bbox, width, height)
    samples = int(inside.sum())
    out = []
    for day in days:
        if missing(parcel, day):
            continue
        sc = scene(parcel, day, bbox, width, height)
        valid = inside & clear_mask(sc.scl, sc.data_mask)
        count = int(valid.sum())
        share = count / samples if samples else 0.0
        if not count:
            out.append(SpectralObservation(day, math.nan, math.nan, math.nan, share))
            continue
        # The same values ``scene_stats`` gives, means and standard deviations.
        refl = [harmonize(sc.bands[b][valid], day) for b in ("B02", "B04", "B08", "B11")]
        ndvi, ndbi, bsi = indices(*refl)
        out.append(
            SpectralObservation(
                day,
                float(ndvi.mean()),
                float(ndbi.mean()),
                float(bsi.mean()),
                share,
                float(ndvi.std()),
                float(ndbi.std()),
                float(bsi.std()),
            )
        )
    return out
