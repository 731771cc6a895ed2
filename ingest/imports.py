"""Bulk imports: rows of an export become messages, so they share validation and dead letters.

Each row is sent through the pipeline as ``<scheme>:<file>:<line>`` with the row as JSON, so a
bad row is a dead letter that names where it came from, and can be replayed like any other.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph_schema.errors import InvalidInput
from ingest.model import Message
from ingest.pipeline import Pipeline


@dataclass(slots=True)
class ImportReport:
    """What an import did: rows read, readings stored or already there, rows rejected."""

    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (source, code, message)


async def import_rows(
    pipeline: Pipeline, scheme: str, name: str, rows: Iterable[tuple[int, dict[str, Any]]],
    *, chunk: int = 5000,
) -> ImportReport:  # fmt: skip
    """Send rows through the pipeline as ``<scheme>:<name>:<line>`` messages, in chunks."""
    report = ImportReport()
    pending: list[Message] = []

    async def flush() -> None:
        result = await pipeline.process(pending)
        report.stored += len(result.stored) + len(result.attendance_stored)
        report.duplicates += result.duplicates + result.attendance_duplicates
        if result.dead_letter_ids:
            letters = await pipeline.store.dead_letters(
                ids=result.dead_letter_ids, pending=False, limit=len(result.dead_letter_ids)
            )
            report.rejected += [(d.source, d.code.value, d.message) for d in letters]
        pending.clear()

    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    for line, row in rows:
        report.rows += 1
        body = json.dumps(row, ensure_ascii=False).encode()
        pending.append(Message(f"{scheme}:{name}:{line}", body, now))
        if len(pending) >= chunk:
            await flush()
    if pending:
        await flush()
    return report


def read_csv(text: str, aliases: Mapping[str, str]) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV export keyed by our field names, with their line numbers.

    ``newline=""`` lets the csv module see a bare carriage return inside a quoted cell as data;
    a file it still cannot read raises ``InvalidInput`` naming the line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        if reader.fieldnames is not None:
            reader.fieldnames = [aliases.get(f.strip(), f.strip()) for f in reader.fieldnames]
        return [(reader.line_num, dict(row)) for row in reader]
    except csv.Error as exc:
        raise InvalidInput(f"line {reader.line_num}: not CSV: {exc}") from None
