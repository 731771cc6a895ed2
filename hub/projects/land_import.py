"""Land-tracking files: node completions (CSV with a header row, or JSON Lines) and red-line
layers (GeoJSON), for ``hub import-land``.

A completion row has ``project_code``, ``node_code`` and ``completed_on`` (ISO date; empty
reopens the node). Each bad row is reported with its file, line and a stable code, and the
rest still land, as with the other imports.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_schema.errors import InvalidInput
from graph_schema.store import GraphStore
from hub.projects import land
from hub.promotion.statistics import BadRow

BATCH = 1000
LAYER_SUFFIXES = (".geojson",)
COMPLETION_SUFFIXES = (".csv", ".jsonl")


@dataclass
class LandImportReport:
    completed: int = 0
    layers: list[str] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _rows(path: Path) -> list[tuple[int, dict[str, Any] | str]]:
    """(line, row) pairs; a row that cannot be read is its error message instead."""
    out: list[tuple[int, dict[str, Any] | str]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix == ".csv":
            for row in csv.DictReader(handle):
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                done = clean.get("completed_on") or None
                out.append((0, {**clean, "completed_on": done}))
            # DictReader has no line numbers of its own: the header is line 1.
            return [(i + 2, r) for i, (_, r) in enumerate(out)]
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError as exc:
                out.append((number, f"not JSON: {exc}"))
                continue
            out.append((number, value if isinstance(value, dict) else "not a JSON object"))
    return out


async def import_land_files(
    store: GraphStore,
    paths: Sequence[Path],
    now: dt.datetime,
    *,
    kind: str | None = None,
    name: str | None = None,
) -> LandImportReport:
    """Apply completion files and import layer files; a layer's id is its file name's stem."""
    report = LandImportReport()
    for path in paths:
        if path.suffix in LAYER_SUFFIXES:
            await _layer(store, path, now, kind, name, report)
        elif path.suffix in COMPLETION_SUFFIXES:
            await _completions(store, path, now.date(), report)
        else:
            choices = ", ".join((*COMPLETION_SUFFIXES, *LAYER_SUFFIXES))
            report.bad.append(BadRow(path, 0, "BAD_USER_INPUT", "", f"not one of {choices}"))
    return report


async def _layer(
    store: GraphStore,
    path: Path,
    now: dt.datetime,
    kind: str | None,
    name: str | None,
    report: LandImportReport,
) -> None:
    if kind is None:
        report.bad.append(BadRow(path, 0, "BAD_USER_INPUT", "kind", "a layer needs --kind"))
        return
    try:
        geojson = json.loads(path.read_text(encoding="utf-8-sig"))
        layer = await land.import_layer(store, path.stem, kind, name or path.stem, geojson, now)
    except ValueError as exc:
        report.bad.append(BadRow(path, 0, "BAD_USER_INPUT", "", f"not JSON: {exc}"))
        return
    except InvalidInput as exc:
        report.bad.append(BadRow(path, 0, exc.code, "", str(exc)))
        return
    report.layers.append(layer.id)


async def _completions(
    store: GraphStore, path: Path, today: dt.date, report: LandImportReport
) -> None:
    rows = _rows(path)
    good = [(line, row) for line, row in rows if isinstance(row, dict)]
    for line, row in rows:
        if isinstance(row, str):
            report.bad.append(BadRow(path, line, "BAD_USER_INPUT", "", row))
    for start in range(0, len(good), BATCH):
        chunk = good[start : start + BATCH]
        outcomes = await land.complete(store, [row for _, row in chunk], today)
        for outcome in outcomes:
            line = chunk[outcome.index][0]
            if outcome.ok:
                report.completed += 1
            for problem in outcome.problems:
                report.bad.append(BadRow(path, line, outcome.code, problem.field, problem.message))
