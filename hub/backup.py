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
import hmac
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from graph_schema import backup as statements
from graph_schema.catalog import vocabulary
from graph_schema.errors import HubError, InvalidInput, unstorable_text
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.migrations import LATEST, current_version
from graph_schema.model import EDGES, ENTITIES
from graph_schema.statements.entities import COUNT_NODES, COUNT_RELATIONSHIPS
from graph_schema.store import GraphStore
from hub.settings import Settings
from ingest import connect
from ingest.backup import dump_telemetry, restore_telemetry
from ingest.store import TelemetryStore

FORMAT = "e-ledger-hub backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
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
        self._out: IO[bytes] = private_file(path)
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
    """Exactly the dump's files are there (a manifest cannot leave one out, and nothing else
    lies beside them), each with the rows and the SHA-256 the manifest says."""
    if not isinstance(files, dict) or set(files) != {NODES, RELATIONSHIPS}:
        listed = sorted(files) if isinstance(files, dict) else files
        raise BackupRefused(
            f"the manifest lists {listed}; a graph dump is {NODES} and {RELATIONSHIPS}"
        )
    present = {p.name for p in directory.iterdir()} if directory.is_dir() else set()
    if present - set(files):
        raise BackupRefused(
            f"{directory} holds files the manifest does not list: {sorted(present - set(files))}"
        )
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
    store: GraphStore, directory: Path, *, batch_size: int = 5000, with_keys: bool = False
) -> tuple[dict[str, int], dict[str, int]]:
    """Create the nodes and relationships of a graph dump in ``store``, which must hold no
    data; returns the counts afterwards (per label and type). Every node and relationship is
    checked against the model first (labels, types, property names and values); API keys are
    restored only ``with_keys`` (a crafted backup must not bring its own admin key)."""
    await ensure_empty(store)
    labels, types = model_vocabulary()
    skipped: set[Any] = set()
    ids: dict[Any, Any] = {}
    dialect = store.dialect
    for batch in _lines(directory / NODES, batch_size):
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for item in batch:
            node_labels = check_node(item, labels)
            if KEY_LABEL in node_labels and not with_keys:
                skipped.add(item["id"])
                continue
            groups.setdefault(node_labels, []).append({"id": item["id"], "props": item["props"]})
        for node_labels, rows in groups.items():
            created = await store.run(statements.create_nodes(dialect, node_labels), {"rows": rows})
            ids.update((r["old"], r["new"]) for r in created)
    for batch in _lines(directory / RELATIONSHIPS, batch_size):
        by_type: dict[str, list[dict[str, Any]]] = {}
        for item in batch:
            rel_type = check_relationship(item, types)
            if item["start"] in skipped or item["end"] in skipped:
                continue
            try:
                start, end = ids[item["start"]], ids[item["end"]]
            except KeyError as exc:
                raise BackupRefused(f"a relationship names node {exc} the dump lacks") from None
            by_type.setdefault(rel_type, []).append(
                {"start": start, "end": end, "props": item["props"]}
            )
        for rel_type, rows in by_type.items():
            await store.run(statements.create_relationships(dialect, rel_type), {"rows": rows})
    return await counts(store)


KEY_LABEL = "ApiKey"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_SCALARS = (str, int, float, bool)


def model_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """The node labels and relationship types the model knows (entities, links, edges, and
    the statement modules' own: alerts, financing, land, schedules, keys)."""
    extra_labels, extra_types, _ = vocabulary()
    labels = {spec.label for spec in ENTITIES} | extra_labels
    types = {link.type for spec in ENTITIES for link in spec.links}
    types |= {spec.relationship for spec in EDGES} | extra_types
    return frozenset(labels), frozenset(types)


def _check_props(props: Any, where: str) -> None:
    if not isinstance(props, dict):
        raise BackupRefused(f"{where}: props must be an object")
    for name, value in props.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise BackupRefused(f"{where}: {name!r} is not a property name")
        values = value if isinstance(value, list) else [value]
        if not all(v is None or isinstance(v, _SCALARS) for v in values):
            raise BackupRefused(f"{where}: property {name} is not a scalar or a list of them")
        problem = unstorable_text(value)
        if problem is not None:
            raise BackupRefused(f"{where}: property {name}: {problem}")


def check_node(item: Any, labels: frozenset[str]) -> tuple[str, ...]:
    """A dumped node's labels, once it is shaped as the model says; else ``BackupRefused``."""
    if not isinstance(item, dict) or set(item) != {"id", "labels", "props"}:
        raise BackupRefused(f"a node must be {{id, labels, props}}: {str(item)[:200]}")
    found = item["labels"]
    if not isinstance(found, list) or not found or not all(isinstance(x, str) for x in found):
        raise BackupRefused(f"node {item['id']!r}: labels must be a non-empty list of names")
    unknown = sorted(set(found) - labels)
    if unknown:
        raise BackupRefused(f"node {item['id']!r}: labels {unknown} are not in the model")
    _check_props(item["props"], f"node {item['id']!r}")
    return tuple(found)


def check_relationship(item: Any, types: frozenset[str]) -> str:
    if not isinstance(item, dict) or set(item) != {"type", "start", "end", "props"}:
        raise BackupRefused(
            f"a relationship must be {{type, start, end, props}}: {str(item)[:200]}"
        )
    rel_type = item["type"]
    if not isinstance(rel_type, str) or rel_type not in types:
        raise BackupRefused(f"relationship type {rel_type!r} is not in the model")
    _check_props(item["props"], f"a {rel_type} relationship")
    return rel_type


async def open_telemetry_store(settings: Settings) -> TelemetryStore:
    """The configured telemetry store (migrated, as at every start)."""
    from connectors import feeds

    t = settings.telemetry
    return await connect.open_telemetry_store(
        t.url, feeds.metrics(), data_dir=settings.data_dir, tz=t.timezone
    )


async def export_backup(
    graph: GraphStore,
    telemetry: TelemetryStore,
    directory: Path,
    *,
    page_size: int = 5000,
    signing_key: bytes | None = None,
) -> dict[str, Any]:
    """The whole backup: graph, telemetry, then the manifest (so a directory with a manifest
    is a finished backup), signed (HMAC-SHA256, ``manifest.sig``) when ``signing_key`` is
    given. ``directory`` must be new or empty; what is written is the owner's alone (files
    0600, directories 0700)."""
    prepare(directory)
    (directory / GRAPH).mkdir(mode=0o700)
    dump = await dump_graph(graph, directory / GRAPH, page_size=page_size)
    tables = await dump_telemetry(telemetry, directory / TELEMETRY)
    content = manifest(dump, tables)
    content["telemetry"]["manifest_sha256"] = _sha256(directory / TELEMETRY / MANIFEST)
    write_manifest(directory, content)
    if signing_key:
        (directory / SIGNATURE).write_text(sign(directory / MANIFEST, signing_key) + "\n")
    make_private(directory)
    return content


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sign(manifest_path: Path, key: bytes) -> str:
    return hmac.new(key, manifest_path.read_bytes(), hashlib.sha256).hexdigest()


def verify_signature(directory: Path, key: bytes | None) -> bool:
    """With a key: the manifest must carry its valid signature (else ``BackupRefused``).
    Without one: whether the backup is signed at all (it cannot be checked here)."""
    path = directory / SIGNATURE
    if key is None:
        return path.exists()
    if not path.is_file():
        raise BackupRefused(
            f"{directory} is not signed, and HUB_BACKUP_SIGNING_KEY is set: refusing an "
            "unsigned backup"
        )
    found = path.read_text(encoding="utf-8").strip()
    if not hmac.compare_digest(found, sign(directory / MANIFEST, key)):
        raise BackupRefused(f"{path}: the signature does not match the manifest (edited, or "
                            "signed with another key)")  # fmt: skip
    return True


def make_private(directory: Path) -> None:
    """Directories 0700, files 0600: a backup holds key hashes and personal data."""
    directory.chmod(0o700)
    for path in directory.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)


def private_file(path: Path) -> IO[bytes]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    return os.fdopen(fd, "wb")


async def restore_backup(
    graph: GraphStore,
    telemetry: TelemetryStore,
    directory: Path,
    *,
    batch_size: int = 5000,
    signing_key: bytes | None = None,
    with_keys: bool = False,
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Check everything, restore the telemetry (one transaction, checked before it writes),
    then the graph into an empty store; returns node, relationship and table counts.

    With ``signing_key``, an unsigned or wrongly signed backup is refused. Every file of the
    directory must be listed in a manifest and match it. API keys are restored only
    ``with_keys``; without, the counts expected leave them out."""
    verify_signature(directory, signing_key)
    content = read_manifest(directory)
    part = content["graph"]
    expected = {MANIFEST, SIGNATURE, GRAPH, TELEMETRY}
    extra = {p.name for p in directory.iterdir()} - expected
    if extra:
        raise BackupRefused(f"{directory} holds files no manifest lists: {sorted(extra)}")
    check_files(directory / GRAPH, part["files"])
    if content.get("telemetry") is not None:
        listed = content["telemetry"].get("manifest_sha256")
        path = directory / TELEMETRY / MANIFEST
        if not isinstance(listed, str) or not path.is_file() or _sha256(path) != listed:
            raise BackupRefused(f"{path} does not match the backup's manifest")
    elif (directory / TELEMETRY).exists():
        raise BackupRefused(f"{directory / TELEMETRY} is not listed in the manifest")
    await ensure_empty(graph)
    tables: dict[str, int] = {}
    if content.get("telemetry") is not None:
        tables = await restore_telemetry(telemetry, directory / TELEMETRY)
        if tables != content["telemetry"]["tables"]:
            raise BackupRefused(
                f"telemetry restored {tables}, the manifest says {content['telemetry']['tables']}"
            )
    nodes, rels = await restore_graph(
        graph, directory / GRAPH, batch_size=batch_size, with_keys=with_keys
    )
    want_nodes = dict(part["nodes"])
    if not with_keys:
        want_nodes.pop(KEY_LABEL, None)  # keys have no relationships
    if (nodes, rels) != (want_nodes, part["relationships"]):
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
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
