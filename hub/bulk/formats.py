"""Reading and writing entity files: CSV, JSON Lines and GeoJSON.

A file's entity comes from its name: ``projects.csv``, ``project.jsonl``, ``parcels.geojson``
(singular or plural; ``supplies`` for SUPPLIES edges). In CSV, list fields are ``;``-separated,
an empty cell is "not set", and a parcel's geometry is a GeoJSON text cell. In GeoJSON, each
feature's properties are the record and its geometry the parcel polygon.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, get_origin

from graph_schema.model import EDGE_SPECS, LOAD_ORDER, SPECS, Record

FORMATS = (".csv", ".jsonl", ".geojson")
_PLURALS = {
    "regions": "region",
    "chains": "chain",
    "industry_chains": "chain",
    "segments": "segment",
    "chain_segments": "segment",
    "supplies": "supply",
    "products": "product",
    "enterprises": "enterprise",
    "parcels": "parcel",
    "land_parcels": "parcel",
    "projects": "project",
    "banks": "bank",
    "sensors": "sensor",
    "project_lists": "project_list",
    "chain_stats": "chain_stat",
    "indicators": "indicator",
    "indicator_values": "indicator_value",
    "indicator_targets": "indicator_target",
}
FILE_STEMS = {entity: plural for plural, entity in _PLURALS.items() if plural.count("_") == 0}
FILE_STEMS |= {"project_list": "project_lists", "chain_stat": "chain_stats"}
FILE_STEMS |= {"indicator_value": "indicator_values", "indicator_target": "indicator_targets"}


class FormatError(ValueError):
    """A file that cannot be read at all (unknown entity, bad header, not JSON)."""


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as read, before validation; ``line`` is 1-based in its file (feature index + 1)."""

    entity: str
    path: Path
    line: int
    data: dict[str, Any] | None
    error: str | None = None


def entity_of(path: Path) -> str:
    stem = path.name.removesuffix(path.suffix).lower().replace("-", "_")
    entity = _PLURALS.get(stem, stem)
    if entity not in SPECS and entity not in EDGE_SPECS:
        raise FormatError(
            f"{path.name}: cannot tell the entity from the file name; name it after one of "
            + ", ".join(FILE_STEMS[e] for e in LOAD_ORDER)
        )
    if path.suffix.lower() not in FORMATS:
        raise FormatError(f"{path.name}: unsupported format; use {', '.join(FORMATS)}")
    return entity


def _record_type(entity: str) -> type[Record]:
    return (SPECS[entity] if entity in SPECS else EDGE_SPECS[entity]).record


def _list_fields(entity: str) -> set[str]:
    out = set()
    for name, info in _record_type(entity).model_fields.items():
        if get_origin(info.annotation) is list or any(
            get_origin(a) is list for a in get_args(info.annotation)
        ):
            out.add(name)
    return out


def read_rows(path: Path) -> Iterator[RawRow]:
    """Rows of one file, in order. A row that cannot be parsed comes with ``error`` set."""
    entity = entity_of(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(entity, path)
    elif suffix == ".jsonl":
        yield from _read_jsonl(entity, path)
    else:
        yield from _read_geojson(entity, path)


def _read_csv(entity: str, path: Path) -> Iterator[RawRow]:
    lists = _list_fields(entity)
    fields = set(_record_type(entity).model_fields)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        unknown = set(reader.fieldnames or ()) - fields
        if unknown:
            raise FormatError(f"{path.name}: unknown columns {sorted(unknown)}")
        for row in reader:
            line = reader.line_num
            if None in row:
                yield RawRow(entity, path, line, None, "more cells than columns")
                continue
            data: dict[str, Any] = {}
            try:
                for key, cell in row.items():
                    if cell is None or cell == "":
                        continue
                    if key in lists:
                        data[key] = [part for part in cell.split(";") if part]
                    elif key == "geometry":
                        data[key] = json.loads(cell)
                    else:
                        data[key] = cell
            except json.JSONDecodeError as exc:
                yield RawRow(entity, path, line, None, f"geometry is not JSON: {exc.msg}")
                continue
            yield RawRow(entity, path, line, data)


def _read_jsonl(entity: str, path: Path) -> Iterator[RawRow]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RawRow(entity, path, line, None, f"not JSON: {exc.msg}")
                continue
            if not isinstance(data, dict):
                yield RawRow(entity, path, line, None, "a line must hold one JSON object")
                continue
            yield RawRow(entity, path, line, data)


def _read_geojson(entity: str, path: Path) -> Iterator[RawRow]:
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path.name}: not JSON: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise FormatError(f"{path.name}: must be a GeoJSON FeatureCollection")
    if "geometry" not in _record_type(entity).model_fields:
        raise FormatError(f"{path.name}: {entity} records have no geometry; use CSV or JSONL")
    for index, feature in enumerate(collection.get("features") or [], start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            yield RawRow(entity, path, index, None, "feature without a properties object")
            continue
        data = dict(feature["properties"])
        data["geometry"] = feature.get("geometry")
        yield RawRow(entity, path, index, data)


def record_to_row(entity: str, record: dict[str, Any], fmt: str) -> dict[str, Any]:
    """A record (as ``model_dump(mode='json')``) in the shape the format stores."""
    if fmt != ".csv":
        return {k: v for k, v in record.items() if v is not None and v != []}
    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None:
            out[key] = ""
        elif isinstance(value, list):
            out[key] = ";".join(str(v) for v in value)
        elif isinstance(value, dict):
            out[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        else:
            out[key] = value
    return out


class Writer:
    """Writes records of one entity to one file in the chosen format."""

    def __init__(self, entity: str, directory: Path, fmt: str) -> None:
        if entity == "parcel" and fmt == ".jsonl":
            fmt = ".geojson"  # parcels are polygons: GeoJSON is what GIS tools open
        self.entity, self.fmt = entity, fmt
        self.path = directory / f"{FILE_STEMS[entity]}{fmt}"
        self._handle = self.path.open("w", newline="", encoding="utf-8")
        self._csv: csv.DictWriter[str] | None = None
        self._first_feature = True
        self.count = 0
        if fmt == ".csv":
            self._csv = csv.DictWriter(
                self._handle, fieldnames=list(_record_type(entity).model_fields)
            )
            self._csv.writeheader()
        elif fmt == ".geojson":
            self._handle.write('{"type":"FeatureCollection","features":[\n')

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        row = record_to_row(self.entity, record, self.fmt)
        if self._csv is not None:
            self._csv.writerow(row)
        elif self.fmt == ".geojson":
            geometry = row.pop("geometry")
            feature = {"type": "Feature", "properties": row, "geometry": geometry}
            prefix = "" if self._first_feature else ",\n"
            self._first_feature = False
            self._handle.write(
                prefix + json.dumps(feature, ensure_ascii=False, separators=(",", ":"))
            )
        else:
            self._handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        if self.fmt == ".geojson":
            self._handle.write("\n]}\n")
        self._handle.close()
