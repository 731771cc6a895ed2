"""Red-line checks: how much of a parcel lies in a protected layer (permanent basic farmland,
ecological protection), computed with shapely in an equal-area projection.

The projection is Lambert's cylindrical equal-area on the WGS 84 ellipsoid (Snyder, *Map
Projections: A Working Manual*, eqs. 3-12 and 10-15, standard parallel at the equator):
``x = a·(λ − λ0)``, ``y = a·q(φ)/2``. Its area element equals the ellipsoid's, so areas of
projected polygons are true areas whatever their shape or latitude; shapes are distorted,
which an area check does not mind. (pyproj is not a dependency; this is the whole of what the
check needs from it.)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely import transform, unary_union
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from graph_schema import geometry as parcel_geometry
from graph_schema.errors import InvalidInput

_A = 6_378_137.0  # WGS 84 semi-major axis, m
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_E = math.sqrt(_E2)
_LAYER_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")


class LayerKind(StrEnum):
    PERMANENT_BASIC_FARMLAND = "permanent_basic_farmland"  # 永久基本农田
    ECOLOGICAL_PROTECTION = "ecological_protection"  # 生态保护红线


def _q(lat_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    s = np.sin(np.radians(lat_deg))
    return (1 - _E2) * (
        s / (1 - _E2 * s * s) - (1 / (2 * _E)) * np.log((1 - _E * s) / (1 + _E * s))
    )


def _project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty_like(coords)
    out[:, 0] = _A * np.radians(coords[:, 0])
    out[:, 1] = _A * _q(coords[:, 1]) / 2
    return out


def equal_area(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` (lon/lat degrees) in the equal-area projection (metres)."""
    return transform(geom, _project)


def area_m2(geom: BaseGeometry) -> float:
    """True area of a lon/lat polygon on the WGS 84 ellipsoid, m²."""
    return float(equal_area(geom).area)


@dataclass(frozen=True, slots=True)
class Layer:
    id: str
    kind: LayerKind
    name: str
    geometry: BaseGeometry  # lon/lat
    features: int


@dataclass(frozen=True, slots=True)
class Overlap:
    parcel_id: str
    layer_id: str
    kind: LayerKind
    parcel_area_m2: float  # of the drawn polygon, not the surveyed figure
    overlap_m2: float
    share: float  # overlap / parcel area, 0..1


def overlaps(parcel_id: str, parcel: BaseGeometry, layers: list[Layer]) -> list[Overlap]:
    """The parcel's overlap with every layer (zero where they do not meet)."""
    projected = equal_area(parcel)
    total = float(projected.area)
    out = []
    for layer in layers:
        inside = float(projected.intersection(equal_area(layer.geometry)).area)
        out.append(
            Overlap(parcel_id, layer.id, layer.kind, total, inside, inside / total if total else 0)
        )
    return out


def layer_from_geojson(layer_id: str, kind: str, name: str, geojson: Any) -> Layer:
    """A layer from a GeoJSON FeatureCollection, Feature, Polygon or MultiPolygon (lon/lat):
    its polygons are merged into one (multi)polygon. Bad input is BAD_USER_INPUT."""
    try:
        layer_kind = LayerKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in LayerKind)
        raise InvalidInput(f"kind: {kind!r} is not one of {choices}") from None
    if (
        not layer_id
        or len(layer_id) > 64
        or not layer_id.replace("-", "").replace("_", "").isalnum()
    ):
        raise InvalidInput("id: 1-64 letters, digits, '-' or '_'")
    if not isinstance(geojson, dict):
        raise InvalidInput("geojson: must be a GeoJSON object")
    if geojson.get("type") == "FeatureCollection":
        features = geojson.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidInput("geojson: a FeatureCollection with no features")
        geometries = [f.get("geometry") if isinstance(f, dict) else None for f in features]
    elif geojson.get("type") == "Feature":
        geometries = [geojson.get("geometry")]
    else:
        geometries = [geojson]
    polygons: list[BaseGeometry] = []
    for i, g in enumerate(geometries):
        problem = parcel_geometry.geometry_problem(g)
        if problem is not None:
            raise InvalidInput(f"geojson: feature {i}: {problem}")
        polygons.append(shape(g))
    merged = unary_union(polygons)
    return Layer(layer_id, layer_kind, name, merged, len(polygons))


def dumps(geom: BaseGeometry) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def loads(text: str) -> BaseGeometry:
    geom = shape(json.loads(text))
    if not isinstance(geom, Polygon | MultiPolygon):
        raise ValueError(f"stored layer is a {geom.geom_type}")
    return geom
