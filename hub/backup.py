"""``hub export DIR`` and ``hub restore DIR``: the whole graph and the telemetry store as one
backup directory, and back into empty stores.

Layout::

    DIR/manifest.json            written last: format, versions, counts, checksums
    DIR/graph/nodes.jsonl        {"id", "labels", "props"} per node (store ids of the source)
    DIR/graph/relationships.jsonl  {"type", "start", "end", "props"} per relationship
    DIR/telemetry/...            ingest.backup's files and its own manifest

Everything in the graph is kept, not only what the import formats describe: API keys (their
hashes), alerts, MPI history, financing, land, schedules, approvals. The graph's own migration
record is left out (the target has its own; the manifest gives the source's version).

Consistency. FalkorDB: the graph is copied with ``GRAPH.COPY`` (one command, so no write
lands halfway) and the copy is read and deleted. Neo4j Community has no snapshot reads: the
export compares node and relationship counts before and after and says so when they moved;
for a guaranteed snapshot stop the writers (API replicas, ingest workers) or use
``neo4j-admin database dump``. Telemetry is read in one read transaction of its store
(``ingest.backup``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from graph_schema import backup as statements
from graph_schema.errors import HubError, InvalidInput
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import LATEST, current_version
from graph_schema.statements import COUNT_NODES, COUNT_RELATIONSHIPS
from graph_schema.store import GraphStore
from hub.settings import Settings
from ingest import connect
from ingest.backup import dump_telemetry, restore_telemetry
from ingest.store import TelemetryStore

FORMAT = "e-ledger-hub backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
GRAPH = "graph"
TELEMETRY = "telemetry"
NODES = "nodes.jsonl"
RELATIONSHIPS = "relationships.jsonl"


class BackupRefused(InvalidInput):
    """A backup directory that cannot be written or restored: the message says why."""


@dataclass
class GraphDump:
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    schema_version: int = 0
    dialect: str = ""
    consistency: str = ""
    consistent: bool = True


class _Writer:
    """A JSON Lines file and the SHA-256 and row count of what was written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._out: IO[bytes] = path.open("wb")
        self._digest = hashlib.sha256()
        self.rows = 0

    def write(self, item: dict[str, Any]) -> None:
        try:
            line = json.dumps(item, ensure_ascii=False, allow_nan=False, default=_refuse) + "\n"
        except ValueError as exc:  # NaN or infinity
            raise HubError(f"a property cannot be written as JSON: {exc}") from exc
        data = line.encode("utf-8")
        self._out.write(data)
        self._digest.update(data)
        self.rows += 1

    def close(self) -> dict[str, Any]:
        self._out.flush()
        self._out.close()
        return {"rows": self.rows, "sha256": self._digest.hexdigest()}


def _refuse(value: Any) -> Any:
    # The hub stores strings, numbers, booleans and lists of them; anything else is a bug to
    # hear about, not something to write half-right.
    raise HubError(f"a property of type {type(value).__name__} cannot be backed up")


async def counts(store: GraphStore) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type, without the migration record."""
    nodes = {
        str(r["label"]): int(r["count"])
        for r in await store.run(COUNT_NODES)
        if r["label"] not in statements.SKIPPED_LABELS
    }
    rels = {str(r["type"]): int(r["count"]) for r in await store.run(COUNT_RELATIONSHIPS)}
    return nodes, rels


async def dump_graph(store: GraphStore, directory: Path, *, page_size: int = 5000) -> GraphDump:
    """Write every node and relationship of ``store`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    version = await current_version(store)
    if isinstance(store, FalkorDBStore):
        async with store.snapshot() as copy:
            dump = await _dump(copy, directory, page_size)
        dump.consistency = "snapshot: GRAPH.COPY, read from the copy"
    else:
        before = await counts(store)
        dump = await _dump(store, directory, page_size)
        after = await counts(store)
        dump.consistent = before == after == (dump.nodes, dump.relationships)
        dump.consistency = (
            "not a snapshot (Neo4j reads are read-committed): counts before, during and after "
            + ("agree" if dump.consistent else "differ; stop writers and export again")
        )
    dump.schema_version = version
    dump.dialect = store.dialect.value
    return dump


async def _dump(store: GraphStore, directory: Path, page_size: int) -> GraphDump:
    dump = GraphDump()
    nodes, rels = _Writer(directory / NODES), _Writer(directory / RELATIONSHIPS)
    page, rel_page = (
        statements.nodes_page(store.dialect),
        statements.relationships_from(store.dialect),
    )
    after: Any = statements.FIRST_ID[store.dialect]
    try:
        while True:
            rows = await store.run(page, {"after": after, "limit": page_size})
            if not rows:
                break
            last = rows[-1]["id"]
            for row in rows:
                labels = [str(label) for label in row["labels"]]
                if statements.SKIPPED_LABELS & set(labels):
                    continue
                nodes.write({"id": row["id"], "labels": labels, "props": row["props"]})
                for label in labels:
                    dump.nodes[label] = dump.nodes.get(label, 0) + 1
            for row in await store.run(rel_page, {"after": after, "last": last}):
                rel_type = str(row["type"])
                rels.write(
                    {"type": rel_type, "start": row["start"], "end": row["end"],
                     "props": row["props"]}
                )  # fmt: skip
                dump.relationships[rel_type] = dump.relationships.get(rel_type, 0) + 1
            after = last
    finally:
        dump.files[NODES] = nodes.close()
        dump.files[RELATIONSHIPS] = rels.close()
    return dump


def check_files(directory: Path, files: dict[str, dict[str, Any]]) -> None:
    """Every file is there, with the rows and the SHA-256 the manifest says."""
    for name, entry in files.items():
        path = directory / name
        if not path.is_file():
            raise BackupRefused(f"{path} is missing")
        digest, rows = hashlib.sha256(), 0
        with path.open("rb") as handle:
            for line in handle:
                digest.update(line)
                rows += 1
        if digest.hexdigest() != entry.get("sha256") or rows != entry.get("rows"):
            raise BackupRefused(f"{path} does not match the manifest (damaged or edited)")


def _lines(path: Path, size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                batch.append(json.loads(line))
            except ValueError as exc:
                raise BackupRefused(f"{path}:{number}: not JSON: {exc}") from exc
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


async def ensure_empty(store: GraphStore) -> None:
    """Refuse a graph that holds data: a restore creates, it never merges."""
    existing, _ = await counts(store)
    if any(existing.values()):
        found = ", ".join(f"{k} {v}" for k, v in sorted(existing.items()) if v)
        raise BackupRefused(f"the graph is not empty ({found}): restore needs an empty store")


async def restore_graph(
    store: GraphStore, directory: Path, *, batch_size: int = 5000
) -> tuple[dict[str, int], dict[str, int]]:
    """Create the nodes and relationships of a graph dump in ``store``, which must hold no
    data; returns the counts afterwards (per label and type)."""
    await ensure_empty(store)
    ids: dict[Any, Any] = {}
    dialect = store.dialect
    for batch in _lines(directory / NODES, batch_size):
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in batch:
            groups.setdefault(tuple(item["labels"]), []).append(
                {"id": item["id"], "props": item["props"]}
            )
        for labels, rows in groups.items():
            created = await store.run(statements.create_nodes(dialect, labels), {"rows": rows})
            ids.update((r["old"], r["new"]) for r in created)
    for batch in _lines(directory / RELATIONSHIPS, batch_size):
        by_type: dict[str, list[dict[str, Any]]] = {}
        for item in batch:
            try:
                start, end = ids[item["start"]], ids[item["end"]]
            except KeyError as exc:
                raise BackupRefused(f"a relationship names node {exc} the dump lacks") from None
            by_type.setdefault(item["type"], []).append(
                {"start": start, "end": end, "props": item["props"]}
            )
        for rel_type, rows in by_type.items():
            await store.run(statements.create_relationships(dialect, rel_type), {"rows": rows})
    return await counts(store)


async def open_telemetry_store(settings: Settings) -> TelemetryStore:
    """The configured telemetry store (migrated, as at every start)."""
    from connectors import feeds

    t = settings.telemetry
    return await connect.open_telemetry_store(
        t.url, feeds.metrics(), data_dir=settings.data_dir, tz=t.timezone
    )


async def export_backup(
    graph: GraphStore, telemetry: TelemetryStore, directory: Path, *, page_size: int = 5000
) -> dict[str, Any]:
    """The whole backup: graph, telemetry, then the manifest (so a directory with a manifest
    is a finished backup). ``directory`` must be new or empty."""
    prepare(directory)
    dump = await dump_graph(graph, directory / GRAPH, page_size=page_size)
    tables = await dump_telemetry(telemetry, directory / TELEMETRY)
    content = manifest(dump, tables)
    write_manifest(directory, content)
    return content


async def restore_backup(
    graph: GraphStore, telemetry: TelemetryStore, directory: Path, *, batch_size: int = 5000
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Check everything, restore the telemetry (one transaction, checked before it writes),
    then the graph into an empty store; returns node, relationship and table counts."""
    content = read_manifest(directory)
    part = content["graph"]
    check_files(directory / GRAPH, part["files"])
    await ensure_empty(graph)
    tables: dict[str, int] = {}
    if content.get("telemetry") is not None:
        tables = await restore_telemetry(telemetry, directory / TELEMETRY)
        if tables != content["telemetry"]["tables"]:
            raise BackupRefused(
                f"telemetry restored {tables}, the manifest says {content['telemetry']['tables']}"
            )
    nodes, rels = await restore_graph(graph, directory / GRAPH, batch_size=batch_size)
    if (nodes, rels) != (part["nodes"], part["relationships"]):
        raise BackupRefused(
            "the restored graph's counts differ from the manifest's: "
            f"{nodes} {rels} against {part['nodes']} {part['relationships']}"
        )
    return nodes, rels, tables


def hub_version() -> str:
    try:
        return metadata.version("e-ledger-hub")
    except metadata.PackageNotFoundError:
        return "unknown"


def manifest(graph: GraphDump, telemetry: dict[str, int] | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "hub_version": hub_version(),
        "graph": {
            "dialect": graph.dialect,
            "schema_version": graph.schema_version,
            "consistency": graph.consistency,
            "consistent": graph.consistent,
            "nodes": dict(sorted(graph.nodes.items())),
            "relationships": dict(sorted(graph.relationships.items())),
            "files": graph.files,
        },
        "telemetry": None if telemetry is None else {"directory": TELEMETRY, "tables": telemetry},
    }


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(
            f"{directory} has no {MANIFEST}: not a backup, or an export that did not finish"
        ) from None
    except ValueError as exc:
        raise BackupRefused(f"{path} is not JSON: {exc}") from exc
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        raise BackupRefused(f"{path} is not an {FORMAT} manifest")
    if found.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(f"backup format {found.get('format_version')} is not {FORMAT_VERSION}")
    version = found.get("graph", {}).get("schema_version")
    if not isinstance(version, int) or version > LATEST:
        raise BackupRefused(
            f"the backup's graph schema is version {version}; this hub knows up to {LATEST}: "
            "restore it with the hub version that made it, or a newer one"
        )
    return found


def write_manifest(directory: Path, content: dict[str, Any]) -> None:
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(directory / MANIFEST)


def prepare(directory: Path) -> None:
    """An export writes into a new or empty directory only: never over an older backup."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupRefused(f"{directory} exists and is not an empty directory")
    directory.mkdir(parents=True, exist_ok=True)
