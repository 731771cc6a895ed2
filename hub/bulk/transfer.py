"""``hub import`` and ``hub export``: whole entity files in and out of the graph, in batches."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from connectors import feeds
from graph_schema import statements as st
from graph_schema.errors import InvalidRecord, Problem
from graph_schema.model import (
    DERIVED_PROPERTIES,
    EDGE_SPECS,
    LOAD_ORDER,
    SPECS,
    Record,
    Sensor,
    validate,
)
from graph_schema.store import GraphStore
from graph_schema.writer import Outcome, upsert
from hub.bulk.formats import FORMATS, FormatError, RawRow, Writer, entity_of, read_rows

# Called after each batch with (entity, rows done in this file, rows in this file or None).
Progress = Callable[[str, int], None]


@dataclass
class ImportSummary:
    counts: dict[str, Counter[Outcome]] = field(default_factory=dict)
    rejects_path: Path | None = None

    def add(self, entity: str, outcome: Outcome, n: int = 1) -> None:
        self.counts.setdefault(entity, Counter())[outcome] += n

    def total(self, outcome: Outcome) -> int:
        return sum(c[outcome] for c in self.counts.values())


def order_files(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """Files in load order (regions before the projects that point at them)."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            found += [(entity_of(p), p) for p in sorted(path.iterdir()) if p.suffix in FORMATS]
        else:
            found.append((entity_of(path), path))
    return sorted(found, key=lambda item: (LOAD_ORDER.index(item[0]), str(item[1])))


def open_rejects(path: Path) -> TextIO:
    """Open a rejects file for writing, refusing a symlink (a rejects file holds the rows'
    data: a link planted at its path must not redirect it); created 0600.

    Text the file cannot encode (a lone surrogate from a JSON escape) is written back as its
    JSON escape, so every line still parses."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise FormatError(
                f"--rejects {path} is a symbolic link; refusing to follow it"
            ) from None
        raise FormatError(f"cannot write --rejects {path}: {exc.strerror}") from None
    return os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace")


class _Rejects:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    def write(self, row: RawRow, problems: Iterable[Problem | str]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open_rejects(self.path)
        problems = list(problems)
        entry = {
            "file": str(row.path),
            "line": row.line,
            "entity": row.entity,
            "codes": [
                (p.code if isinstance(p, Problem) else None) or "BAD_USER_INPUT" for p in problems
            ],
            "reasons": [str(p) for p in problems],
            "data": row.data,
        }
        self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


async def import_files(
    store: GraphStore,
    paths: Iterable[Path],
    *,
    rejects_path: Path,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> ImportSummary:
    """Validate and upsert every row of every file; bad rows go to ``rejects_path``."""
    summary = ImportSummary()
    rejects = _Rejects(rejects_path)
    try:
        for entity, path in order_files(paths):
            summary.counts.setdefault(entity, Counter())
            for batch in _batches(read_rows(path), batch_size):
                await _import_batch(store, entity, batch, summary, rejects)
                if progress is not None:
                    progress(entity, len(batch))
    finally:
        rejects.close()
    summary.rejects_path = rejects_path if rejects._handle is not None else None
    return summary


async def import_records(
    store: GraphStore,
    entity: str,
    records: Iterable[Record],
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
) -> Counter[Outcome]:
    """Upsert already-validated records (the demo generator's path into the same writer)."""
    counts: Counter[Outcome] = Counter()
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            counts.update((await upsert(store, entity, batch)).counts)
            if progress is not None:
                progress(entity, len(batch))
            batch = []
    if batch:
        counts.update((await upsert(store, entity, batch)).counts)
        if progress is not None:
            progress(entity, len(batch))
    return counts


def _batches(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _unknown_feed(record: Record) -> Problem | None:
    """A sensor's kind must be a feed of ``connectors.feeds`` (the model only checks its form)."""
    if not isinstance(record, Sensor) or record.kind in feeds.BY_KIND:
        return None
    return Problem("kind", f"{record.kind!r} is not one of {', '.join(feeds.KINDS)}")


async def _import_batch(
    store: GraphStore, entity: str, rows: list[RawRow], summary: ImportSummary, rejects: _Rejects
) -> None:
    valid: list[tuple[RawRow, Record]] = []
    for row in rows:
        if row.data is None:
            rejects.write(row, [row.error or "unreadable row"])
            summary.add(entity, Outcome.REJECTED)
            continue
        try:
            record = validate(entity, row.data)
        except InvalidRecord as exc:
            rejects.write(row, exc.problems)
            summary.add(entity, Outcome.REJECTED)
            continue
        unknown = _unknown_feed(record)
        if unknown is not None:
            rejects.write(row, [unknown])
            summary.add(entity, Outcome.REJECTED)
            continue
        valid.append((row, record))
    if not valid:
        return
    result = await upsert(store, entity, [record for _, record in valid])
    for outcome, n in result.counts.items():
        summary.add(entity, outcome, n)
    for rejection in result.rejections:
        rejects.write(valid[rejection.index][0], rejection.problems)


async def export_files(
    store: GraphStore,
    directory: Path,
    *,
    fmt: str = ".jsonl",
    page_size: int = 5000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Write every entity and edge to ``directory``; returns the count per entity."""
    if fmt not in (".csv", ".jsonl"):
        raise FormatError(f"export format must be csv or jsonl, not {fmt}")
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for entity in LOAD_ORDER:
        writer = Writer(entity, directory, fmt)
        try:
            async for record in _export_entity(store, entity, page_size):
                writer.write(record)
                if progress is not None and writer.count % page_size == 0:
                    progress(entity, page_size)
        finally:
            writer.close()
        counts[entity] = writer.count
    return counts


async def _export_entity(store: GraphStore, entity: str, page_size: int) -> Any:
    if entity in EDGE_SPECS:
        edge = EDGE_SPECS[entity]
        skip = 0
        while True:
            rows = await store.run(st.export_edges(edge), {"skip": skip, "limit": page_size})
            for row in rows:
                yield {edge.source_field: row["source"], edge.target_field: row["target"]}
            if len(rows) < page_size:
                return
            skip += page_size
    spec = SPECS[entity]
    derived = DERIVED_PROPERTIES.get(entity, ())
    # The keys once, in order, then the nodes a page of keys at a time: linear in the entity's
    # size, where keyset pages (a range scan and sort of every later key each) are quadratic.
    # A node deleted meanwhile is skipped; one created meanwhile waits for the next export.
    keys = sorted(row["key"] for row in await store.run(st.all_keys(spec)))
    # Properties in the model's field order: each store returns a node's properties in an
    # order of its own (FalkorDB as written, Neo4j not), and an export must not depend on it.
    place = {name: i for i, name in enumerate(spec.record.model_fields)}
    for start in range(0, len(keys), page_size):
        page = keys[start : start + page_size]
        rows = await store.run(st.fetch_existing(spec), {"keys": page})
        for row in sorted(rows, key=lambda r: r["key"]):
            props = sorted(
                row["props"].items(), key=lambda kv: (place.get(kv[0], len(place)), kv[0])
            )
            record = {k: v for k, v in props if k not in derived}
            for name in spec.json_fields:
                if isinstance(record.get(name), str):
                    record[name] = json.loads(record[name])
            for link in spec.links:
                targets = sorted(row[link.field] or [])
                if link.many:
                    record[link.field] = targets
                elif targets:
                    record[link.field] = targets[0]
            yield record


async def graph_counts(store: GraphStore) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type, for summaries and round-trip checks."""
    nodes = {row["label"]: int(row["count"]) for row in await store.run(st.COUNT_NODES)}
    rels = {row["type"]: int(row["count"]) for row in await store.run(st.COUNT_RELATIONSHIPS)}
    return nodes, rels
