"""Parcel geometry: GeoJSON polygons in WGS 84 longitude/latitude, checked with shapely."""

from __future__ import annotations

import json
import math
from typing import Any

# shapely (and numpy under it) is imported where a polygon is checked, not with the module:
# graph_schema.model imports this module, and every `hub` command imports the model, most of
# them (`hub keys list`, `hub counts`) without ever reading a parcel.

# China's extent with a margin; a parcel outside it is a swapped or projected coordinate pair.
_LON_RANGE = (73.0, 136.0)
_LAT_RANGE = (3.0, 54.0)
_EARTH_RADIUS_M = 6_371_008.8


def geometry_problem(geojson: Any) -> str | None:
    """Why ``geojson`` is not a valid parcel geometry, or ``None`` when it is."""
    if not isinstance(geojson, dict):
        return "must be a GeoJSON object"
    kind = geojson.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        return f"type must be Polygon or MultiPolygon, got {kind!r}"
    coords = geojson.get("coordinates")
    if not isinstance(coords, list) or not coords:
        return "coordinates must be a non-empty array"
    problem = _coordinates_problem(coords)
    if problem is not None:
        return problem
    from shapely.geometry import shape
    from shapely.validation import explain_validity

    try:
        geom = shape(geojson)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        return f"not a readable polygon: {exc}"
    if geom.is_empty:
        return "polygon is empty"
    if not geom.is_valid:
        return f"polygon is not valid: {explain_validity(geom)}"
    return None


def _coordinates_problem(value: Any, depth: int = 0) -> str | None:
    if depth > 4:
        return "coordinates are nested too deeply"
    if _is_position(value):
        lon, lat = float(value[0]), float(value[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return "coordinates must be finite numbers"
        if not (_LON_RANGE[0] <= lon <= _LON_RANGE[1] and _LAT_RANGE[0] <= lat <= _LAT_RANGE[1]):
            return f"position [{lon}, {lat}] is outside China's lon/lat range (is it [lon, lat]?)"
        return None
    if not isinstance(value, list) or not value:
        return "coordinates must be arrays of [lon, lat] positions"
    for item in value:
        problem = _coordinates_problem(item, depth + 1)
        if problem is not None:
            return problem
    return None


def _is_position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def centroid(geojson: dict[str, Any]) -> tuple[float, float]:
    """Longitude and latitude of the polygon's centroid."""
    from shapely.geometry import shape

    point = shape(geojson).centroid
    return round(float(point.x), 7), round(float(point.y), 7)


def area_m2(geojson: dict[str, Any]) -> float:
    """Approximate area in square metres (local equirectangular projection; fine for parcels)."""
    from shapely.affinity import scale
    from shapely.geometry import shape

    geom = shape(geojson)
    lat0 = math.radians(geom.centroid.y)
    k_lon = math.radians(1.0) * _EARTH_RADIUS_M * math.cos(lat0)
    k_lat = math.radians(1.0) * _EARTH_RADIUS_M

    return float(scale(geom, xfact=k_lon, yfact=k_lat, origin=(0, 0)).area)


def dumps(geojson: dict[str, Any]) -> str:
    """Canonical text form stored in the graph (property values cannot be maps)."""
    return json.dumps(geojson, separators=(",", ":"), sort_keys=True)


def relative_polygon_problem(points: list[list[float]]) -> str | None:
    """Why ``points`` is not a polygon in frame-relative coordinates (0..1), or ``None``."""
    if len(points) < 3:
        return f"needs at least 3 points, got {len(points)}"
    for i, (x, y) in enumerate(points):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return f"point {i} ({x}, {y}) is outside the frame: coordinates are shares 0..1"
    twice = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(points, [*points[1:], points[0]], strict=True)
    )
    if abs(twice) / 2 < 1e-6:
        return "it has no area"
    return None
