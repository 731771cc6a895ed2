"""Telemetry backups: one JSON Lines file per table and a manifest, from one consistent snapshot.

``dump_telemetry`` reads every table inside one read transaction of the store (a REPEATABLE READ
transaction on PostgreSQL, one WAL read transaction on SQLite), so the files agree with each
other even while ingest commits. Each line is one row as an object keyed by column name;
``dead_letters.payload`` is base64. The manifest, written last, gives the schema version and per
file the row count and SHA-256; a directory without it is not a backup.

``restore_telemetry`` first checks everything (manifest, checksums, every row's columns and
types, counts) and only then writes, in one transaction of the target store, so a bad backup
is refused with ``BackupInvalid`` and nothing of it is loaded. Rows carry no adapter-specific
values, so a SQLite backup restores into PostgreSQL and back. Restoring twice changes nothing
(see ``TelemetryStore.load`` for rows already present).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ingest.errors import BackupInvalid
from ingest.migrations import SCHEMA_VERSION
from ingest.model import Reason
from ingest.store import TABLES, Column, Row, TelemetryStore

FORMAT = "e-ledger-hub telemetry backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 5000


def _encode(row: Row, columns: tuple[Column, ...]) -> dict[str, Any]:
    return {
        c.name: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
        for c, v in zip(columns, row, strict=True)
    }


def _write(out: IO[bytes], digest: Any, rows: list[Row], columns: tuple[Column, ...]) -> None:
    data = "".join(
        json.dumps(_encode(r, columns), ensure_ascii=False, allow_nan=False) + "\n" for r in rows
    ).encode("utf-8")
    out.write(data)
    digest.update(data)


def _sync_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


async def dump_telemetry(store: TelemetryStore, directory: Path) -> dict[str, int]:
    """Write every table of ``store`` under ``directory``; return rows written per table."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # A dump that stops half-way must not pass for a backup: the manifest comes last.
    (directory / MANIFEST).unlink(missing_ok=True)
    counts: dict[str, int] = {}
    files: dict[str, dict[str, Any]] = {}
    async with store.snapshot() as snapshot:
        version = snapshot.schema_version
        for table, columns in TABLES.items():
            path = directory / f"{table}.jsonl"
            tmp = path.with_name(path.name + ".tmp")
            digest = hashlib.sha256()
            n = 0
            with tmp.open("wb") as out:
                async for rows in snapshot.rows(table, chunk=CHUNK):
                    await asyncio.to_thread(_write, out, digest, rows, columns)
                    n += len(rows)
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            tmp.replace(path)
            counts[table] = n
            files[table] = {"file": path.name, "rows": n, "sha256": digest.hexdigest()}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": version,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": store.describe(),
        "columns": {t: [c.name for c in cols] for t, cols in TABLES.items()},
        "base64": ["dead_letters.payload"],
        "tables": files,
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    await asyncio.to_thread(_sync_write, directory / MANIFEST, text.encode("utf-8"))
    return counts


async def restore_telemetry(store: TelemetryStore, directory: Path) -> dict[str, int]:
    """Load a backup made by ``dump_telemetry`` into ``store``; return rows per table.

    Raises ``BackupInvalid`` before writing anything if the backup is incomplete or corrupt.
    """
    tables = await asyncio.to_thread(_check, directory)
    return await store.load(_chunks(directory, tables))


def _manifest(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupInvalid(
            "MISSING_MANIFEST", f"{path} does not exist: not a telemetry backup, or incomplete"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupInvalid("BAD_MANIFEST", f"{path}: not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalid("BAD_MANIFEST", f"{path}: not a telemetry backup manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupInvalid(
            "BAD_MANIFEST", f"{path}: format version {manifest.get('format_version')!r}, "
            f"this hub reads {FORMAT_VERSION}",
        )  # fmt: skip
    version = manifest.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupInvalid("BAD_MANIFEST", f"{path}: schema_version must be a positive integer")
    if version > SCHEMA_VERSION:
        raise BackupInvalid(
            "SCHEMA_TOO_NEW",
            f"{path}: the backup is at telemetry schema version {version}, newer than this "
            f"hub's {SCHEMA_VERSION}; restore it with a newer hub",
        )
    tables = manifest.get("tables")
    if not isinstance(tables, dict):
        raise BackupInvalid("BAD_MANIFEST", f"{path}: no tables")
    # Every table, not what the manifest chooses to list: "tables": {} must not skip the checks.
    if set(tables) != set(TABLES):
        missing = sorted(set(TABLES) - set(tables))
        raise BackupInvalid("BAD_MANIFEST", f"{path}: tables {missing} are not listed")
    out: dict[str, dict[str, Any]] = {}
    for table, entry in tables.items():
        if table not in TABLES:
            raise BackupInvalid("BAD_MANIFEST", f"{path}: unknown table {table!r}")
        if (
            not isinstance(entry, dict)
            or entry.get("file") != f"{table}.jsonl"
            or not isinstance(entry.get("rows"), int)
            or not isinstance(entry.get("sha256"), str)
        ):
            raise BackupInvalid("BAD_MANIFEST", f"{path}: bad entry for {table!r}")
        out[table] = entry
    return out


def _check(directory: Path) -> dict[str, dict[str, Any]]:
    """Every check a restore makes before it writes; returns the manifest's tables."""
    tables = _manifest(directory)
    listed = {MANIFEST} | {entry["file"] for entry in tables.values()}
    unlisted = sorted(p.name for p in directory.iterdir() if p.name not in listed)
    if unlisted:
        raise BackupInvalid("UNLISTED_FILE", f"{directory} holds files the manifest does not "
                            f"list: {unlisted}")  # fmt: skip
    for entry in tables.values():
        path = directory / entry["file"]
        if not path.is_file():
            raise BackupInvalid("MISSING_FILE", f"{path} is listed in the manifest but missing")
        digest = hashlib.sha256()
        with path.open("rb") as data:
            while block := data.read(1 << 20):
                digest.update(block)
        if digest.hexdigest() != entry["sha256"]:
            raise BackupInvalid("CHECKSUM_MISMATCH", f"{path}: SHA-256 differs from the manifest's")
    for table, entry in tables.items():
        path = directory / entry["file"]
        n = sum(len(rows) for rows in _read(path, table, entry))
        if n != entry["rows"]:
            raise BackupInvalid(
                "COUNT_MISMATCH", f"{path}: {n} rows, the manifest says {entry['rows']}"
            )
    return tables


def _chunks(directory: Path, tables: dict[str, dict[str, Any]]) -> Iterator[tuple[str, list[Row]]]:
    # Read again while loading: the files were checked, and a file that changed since fails its
    # checksum here, inside the store's transaction, which then rolls back.
    for table in TABLES:
        if table in tables:
            for rows in _read(directory / tables[table]["file"], table, tables[table]):
                yield table, rows


def _read(path: Path, table: str, entry: dict[str, Any]) -> Iterator[list[Row]]:
    columns = TABLES[table]
    digest = hashlib.sha256()
    rows: list[Row] = []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            digest.update(line)
            rows.append(_decode(line, columns, f"{path.name}:{number}"))
            if len(rows) == CHUNK:
                yield rows
                rows = []
    if digest.hexdigest() != entry["sha256"]:
        raise BackupInvalid("CHECKSUM_MISMATCH", f"{path}: SHA-256 differs from the manifest's")
    if rows:
        yield rows


_CODES = frozenset(r.value for r in Reason)


def _decode(line: bytes, columns: tuple[Column, ...], where: str) -> Row:
    def bad(message: str) -> BackupInvalid:
        return BackupInvalid("BAD_ROW", f"{where}: {message}")

    try:
        obj = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise bad(f"not a JSON line ({exc.__class__.__name__})") from None
    if not isinstance(obj, dict):
        raise bad("not a JSON object")
    names = [c.name for c in columns]
    if sorted(obj) != sorted(names):
        raise bad(f"columns {sorted(obj)} are not {names}")
    out: list[str | int | float | bytes | None] = []
    for column in columns:
        value = obj[column.name]
        if value is None:
            if not column.nullable:
                raise bad(f"{column.name} is missing")
            out.append(None)
        elif column.type is bytes:
            try:
                out.append(base64.b64decode(value, validate=True))
            except (TypeError, ValueError, binascii.Error):
                raise bad(f"{column.name} is not base64") from None
        elif column.type is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad(f"{column.name} is not a number")
            if not math.isfinite(value):
                raise bad(f"{column.name} is not finite")
            out.append(float(value))
        elif column.type is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad(f"{column.name} is not an integer")
            if not -(2**63) <= value < 2**63:
                raise bad(f"{column.name} is out of range")
            out.append(value)
        else:
            if not isinstance(value, str):
                raise bad(f"{column.name} is not a string")
            if "\x00" in value:
                raise bad(f"{column.name} holds a NUL character")
            if column.name == "day":
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise bad(f"day {value!r} is not an ISO date") from None
                if len(value) != 10:
                    raise bad(f"day {value!r} is not YYYY-MM-DD")
            if column.name == "code" and value not in _CODES:
                raise bad(f"code {value!r} is not a dead-letter reason")
            out.append(value)
    return tuple(out)


__all__ = ["dump_telemetry", "restore_telemetry"]
