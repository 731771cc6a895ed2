"""Parcel polygons near county seats that never overlap.

The province is a grid of 1.1 km cells; a parcel takes one free cell near its county seat and is
drawn inside it, so neighbouring parcels keep a road's width apart. Cells within the county's
radius (about 5 km, less on islands) go first, in random order; a busy county spreads outwards
ring by ring, as real development zones do.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any, Final

from hub.demo.regions import Division

CELL_M: Final = 1100.0
_M_PER_DEG: Final = math.radians(1.0) * 6_371_008.8
# One grid for the whole province, so that counties with seats a few kilometres apart (海曙 and
# 江北, 上城 and 拱墅) share it instead of drawing over each other. Its cells are CELL_M tall and
# CELL_M wide at 29°N: 2% narrower at Zhejiang's north end, 2% wider at its south end.
_DLAT: Final = CELL_M / _M_PER_DEG
_DLON: Final = CELL_M / (_M_PER_DEG * math.cos(math.radians(29.0)))
# Half the narrowest cell less a road: the farthest a vertex may lie from its cell's centre.
_REACH_M: Final = CELL_M * math.cos(math.radians(31.2)) / math.cos(math.radians(29.0)) / 2 - 60
MIN_AREA_M2: Final = 20_000.0  # 2 ha
MAX_AREA_M2: Final = 400_000.0  # 40 ha


@dataclass(slots=True)
class _CountyGrid:
    seat: tuple[int, int]
    radius_m: float = 0.0
    free: list[tuple[int, int]] = field(default_factory=list)


class ParcelPlanner:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._grids: dict[str, _CountyGrid] = {}
        self._used: set[tuple[int, int]] = set()

    def draw(self, county: Division, area_m2: float) -> dict[str, Any]:
        """A GeoJSON polygon of roughly ``area_m2`` (clamped to 2–40 ha) near the county seat."""
        rng = self._rng
        i, j = self._take_cell(county)
        corners = rng.choice((4, 4, 5))
        turn = 2 * math.pi / corners
        start = rng.uniform(0, turn)
        angles = [start + k * turn + rng.uniform(-0.12, 0.12) * turn for k in range(corners)]
        radii = [rng.uniform(0.85, 1.15) for _ in range(corners)]
        # Angles increase and stay within a turn, so the ring is simple and counter-clockwise.
        unit_area = sum(
            0.5 * radii[k] * radii[(k + 1) % corners] * math.sin(_turn_between(angles, k))
            for k in range(corners)
        )
        wanted = min(max(area_m2, MIN_AREA_M2), MAX_AREA_M2)
        size = min(math.sqrt(wanted / unit_area), _REACH_M / max(radii))
        slack = max(0.0, _REACH_M - size * max(radii))
        lat0 = j * _DLAT
        lon0 = i * _DLON
        m_per_deg_lon = _M_PER_DEG * math.cos(math.radians(lat0))
        ox, oy = rng.uniform(-slack, slack), rng.uniform(-slack, slack)
        ring = [
            [
                round(lon0 + (ox + size * r * math.cos(a)) / m_per_deg_lon, 7),
                round(lat0 + (oy + size * r * math.sin(a)) / _M_PER_DEG, 7),
            ]
            for a, r in zip(angles, radii, strict=True)
        ]
        ring.append(list(ring[0]))
        return {"type": "Polygon", "coordinates": [ring]}

    def _take_cell(self, county: Division) -> tuple[int, int]:
        grid = self._grids.get(county.code)
        if grid is None:
            grid = _CountyGrid(seat=(round(county.lon / _DLON), round(county.lat / _DLAT)))
            self._grids[county.code] = grid
            self._grow(grid, county.radius_km * 1000)
        while True:
            while not grid.free:
                self._grow(grid, grid.radius_m + CELL_M)
            cell = grid.free.pop()
            if cell not in self._used:
                self._used.add(cell)
                return cell

    def _grow(self, grid: _CountyGrid, radius_m: float) -> None:
        reach = math.ceil(radius_m / CELL_M)
        si, sj = grid.seat
        ring = [
            (si + di, sj + dj)
            for di in range(-reach, reach + 1)
            for dj in range(-reach, reach + 1)
            if grid.radius_m < math.hypot(di, dj) * CELL_M <= radius_m
            or (grid.radius_m == 0.0 and di == dj == 0)
        ]
        self._rng.shuffle(ring)
        # Popped from the end: the new ring is used only after the older, nearer cells.
        grid.free[:0] = ring
        grid.radius_m = radius_m


def _turn_between(angles: list[float], k: int) -> float:
    nxt = angles[(k + 1) % len(angles)]
    if k + 1 == len(angles):
        nxt += 2 * math.pi
    return nxt - angles[k]
