"""Chain statistics over time (issue 4, item 6): import files of periodic figures, read series.

A file holds one row per chain (or segment), region and period, with any of output (万元),
project count, employment and patents. Formats, by suffix:

- ``.csv``: a header of ``ChainStat`` field names (``chain_id``, ``segment_id``,
  ``region_code``, ``period``, ``output``, ``project_count``, ``employment``, ``patents``);
  an empty cell is "not reported";
- ``.json``: an array of objects with those keys; a row's line is where its object starts;
- ``.jsonl``: one object per line.

Each row is validated (``graph_schema.model.ChainStat``) and checked against the graph (the
chain, segment and region must exist). A bad row is reported with its file, line, a stable
code (``BAD_USER_INPUT``: unreadable or invalid; ``NOT_FOUND``: names a chain, segment or
region the graph lacks) and what is wrong; every other row still lands. A row's key is its
chain, segment, region and period, so importing a file again changes nothing, and a corrected
file updates the figures in place. Two rows of one import with the same key: the later one
is rejected, as one of them would silently be lost.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph_schema.errors import InvalidInput, InvalidRecord, Problem
from graph_schema.model import SPECS, Record, validate
from graph_schema.periods import Granularity, Period, parse_period
from graph_schema.statements.statistics import CHAIN_SERIES, SEGMENT_SERIES
from graph_schema.store import GraphStore
from graph_schema.writer import Outcome, upsert

ENTITY = "chain_stat"
SUFFIXES = (".csv", ".json", ".jsonl")
# Further checks of a valid record against what the caller knows (e.g. the graph); the
# problems found reject the row as BAD_USER_INPUT.
Check = Callable[[Record], Sequence[Problem]]


@dataclass(frozen=True, slots=True)
class BadRow:
    """One rejected row: where it is, a stable code, the field at fault and why."""

    path: Path
    line: int
    code: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.path}:{self.line}: {self.code} {where}{self.message}"


@dataclass
class StatsReport:
    counts: Counter[Outcome] = field(default_factory=Counter)
    bad: list[BadRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Row:
    path: Path
    line: int
    data: dict[str, Any] | None
    error: str = ""


def read_rows(path: Path, entity: str = ENTITY) -> Iterator[_Row]:
    """The rows of one file of ``entity`` records; ``InvalidInput`` when the file as a whole
    is unusable."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(f"{path}: unsupported format; use {', '.join(SUFFIXES)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from None
    if suffix == ".csv":
        yield from _csv_rows(path, text, frozenset(SPECS[entity].record.model_fields))
    elif suffix == ".jsonl":
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                yield _json_row(path, line, raw)
    else:
        yield from _json_array_rows(path, text)


def _csv_rows(path: Path, text: str, fields: frozenset[str]) -> Iterator[_Row]:
    reader = csv.DictReader(text.splitlines())
    unknown = set(reader.fieldnames or ()) - fields
    if unknown:
        raise InvalidInput(f"{path}: unknown columns {sorted(unknown)}")
    for row in reader:
        if None in row:
            yield _Row(path, reader.line_num, None, "more cells than columns")
            continue
        data = {k: v for k, v in row.items() if v not in (None, "")}
        yield _Row(path, reader.line_num, data)


def _json_row(path: Path, line: int, raw: str) -> _Row:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _Row(path, line, None, f"not JSON: {exc.msg}")
    if not isinstance(data, dict):
        return _Row(path, line, None, "a row must be one JSON object")
    return _Row(path, line, data)


def _json_array_rows(path: Path, text: str) -> Iterator[_Row]:
    # Decoded element by element, so each row knows its line and one bad element does not
    # hide the others; a broken array structure stops the file at that point.
    decoder = json.JSONDecoder()
    pos = _skip(text, 0)
    if not text.startswith("[", pos):
        raise InvalidInput(f"{path}: a .json file must hold one array of row objects")
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield _Row(path, line, None, f"not JSON: {exc.msg}; the rest of the file is unread")
            return
        if isinstance(value, dict):
            yield _Row(path, line, value)
        else:
            yield _Row(path, line, None, "a row must be one JSON object")
        pos = _skip(text, pos)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
            continue
        if not text.startswith("]", pos):
            where = text.count("\n", 0, pos) + 1
            yield _Row(path, where, None, "expected ',' or ']'; the rest of the file is unread")
        return


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


async def import_statistics(
    store: GraphStore, paths: Sequence[Path], *, batch_size: int = 5000
) -> StatsReport:
    """Validate and upsert every row of every file; bad rows are reported, the rest land."""
    return await import_rows(store, ENTITY, paths, batch_size=batch_size)


async def import_rows(
    store: GraphStore,
    entity: str,
    paths: Sequence[Path],
    *,
    batch_size: int = 5000,
    check: Check | None = None,
) -> StatsReport:
    """The same for files of any keyed ``entity`` (one record per row, these formats)."""
    report = StatsReport()
    seen: dict[str, tuple[Path, int]] = {}
    for path in paths:
        batch: list[tuple[_Row, Record]] = []
        for row in read_rows(path, entity):
            record = _validated(entity, row, seen, report, check)
            if record is not None:
                batch.append((row, record))
            if len(batch) >= batch_size:
                await _write(store, entity, batch, report)
                batch = []
        if batch:
            await _write(store, entity, batch, report)
    report.bad.sort(key=lambda b: (str(b.path), b.line))
    return report


def _validated(
    entity: str,
    row: _Row,
    seen: dict[str, tuple[Path, int]],
    report: StatsReport,
    check: Check | None,
) -> Record | None:
    def reject(problems: Sequence[Problem], code: str = "BAD_USER_INPUT") -> None:
        report.counts[Outcome.REJECTED] += 1
        for p in problems:
            report.bad.append(BadRow(row.path, row.line, code, p.field, p.message))

    if row.data is None:
        reject([Problem("", row.error)])
        return None
    try:
        record = validate(entity, row.data)
    except InvalidRecord as exc:
        reject(exc.problems)
        return None
    problems = check(record) if check is not None else ()
    if problems:
        reject(problems)
        return None
    first = seen.setdefault(record.key(), (row.path, row.line))
    if first != (row.path, row.line):
        reject([Problem("", f"same key ({record.key()}) as {first[0]}:{first[1]}")])
        return None
    return record


async def _write(
    store: GraphStore, entity: str, batch: list[tuple[_Row, Record]], report: StatsReport
) -> None:
    result = await upsert(store, entity, [record for _, record in batch])
    report.counts.update(result.counts)
    for rejection in result.rejections:
        row = batch[rejection.index][0]
        for p in rejection.problems:
            report.bad.append(BadRow(row.path, row.line, "NOT_FOUND", p.field, p.message))


# --- series -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Point:
    period: Period
    output: float | None
    project_count: int | None
    employment: int | None
    patents: int | None


async def series(
    store: GraphStore,
    *,
    chain: str,
    region: str,
    segment: str | None = None,
    first: str | None = None,
    last: str | None = None,
    granularity: Granularity | None = None,
) -> list[Point]:
    """The reported figures of a chain (or, given ``segment``, one of its segments) in a
    region, in period order: periods starting no earlier than ``first`` starts and ending no
    later than ``last`` ends, of one ``granularity`` when given."""
    try:
        low = parse_period(first) if first else None
        high = parse_period(last) if last else None
    except ValueError as exc:
        raise InvalidInput(f"from/to: {exc}") from None
    if segment is not None:
        if segment.split(".", 1)[0] != chain:
            raise InvalidInput(f"segment: {segment} is not a segment of chain {chain}")
        rows = await store.run(SEGMENT_SERIES, {"region": region, "segment": segment})
    else:
        rows = await store.run(CHAIN_SERIES, {"region": region, "chain": chain})
    points = []
    for row in rows:
        p = row["props"]
        period = parse_period(p["period"])
        if granularity is not None and period.granularity is not granularity:
            continue
        if low is not None and period.start < low.start:
            continue
        if high is not None and period.end > high.end:
            continue
        points.append(
            Point(
                period=period,
                output=_maybe(float, p.get("output")),
                project_count=_maybe(int, p.get("project_count")),
                employment=_maybe(int, p.get("employment")),
                patents=_maybe(int, p.get("patents")),
            )
        )
    return sorted(points, key=lambda x: x.period)


def _maybe(kind: Any, value: Any) -> Any:
    return None if value is None else kind(value)
