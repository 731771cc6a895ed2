"""The Neo4j dialect's statements, the schema they are linted against, and the record of the
statements Neo4j's linter found clean (``neo4j_lint_clean.json`` beside this file).

Linting the whole catalog costs about 0.1-0.2 CPU-seconds a statement (Neo4j's semantic
analysis, tests/cypher_lint.py): some 90 CPU-s of every test run for the ~520 statements, nearly
all of them unchanged since the last run. So the test lints only what it cannot find in the
record, and the record holds one key per statement linted clean: a digest of everything the
answer depends on (the linter package, its lock file and ``lint.mjs``; the labels, relationship
types, property keys and registries declared; the statement's text and declared parameters).
A statement whose key is missing (new, changed, or linted under another schema or linter) is
linted; an entry that matches no statement is never used. The test also re-lints a sample of
the statements the record says are clean, chosen anew whenever the catalog changes, and fails
if one of them is not: a record that says clean for what the linter refutes is caught.

``make lint-cypher-full`` (``python -m tests.graph_schema.neo4j_lint``) lints every statement,
prints the diagnostics, and rewrites the record when all are clean; it is the one way the
record is written. ``CYPHER_LINT_FULL=1`` makes the test ignore the record.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from graph_schema.catalog import catalog, vocabulary
from graph_schema.dialect import Dialect
from graph_schema.model import DERIVED_PROPERTIES, EDGES, ENTITIES
from tests.cypher_lint import (
    LINT_SCRIPT,
    TOOL_DIR,
    format_diagnostics,
    lint_cypher,
    pinned_version,
)

RECORD = Path(__file__).with_name("neo4j_lint_clean.json")
RECORD_FORMAT = 1
_KEY = re.compile(r"[0-9a-f]{32}")
# Statements the record says are clean that every run lints again anyway (about 0.1-0.2 CPU-s
# each): a lying or corrupted record fails the test instead of hiding a dialect error.
SPOT_CHECKS = 12


@dataclass(frozen=True)
class Schema:
    labels: tuple[str, ...]
    relationship_types: tuple[str, ...]
    property_keys: tuple[str, ...]
    check_functions: bool = True
    check_procedures: bool = True


@cache
def schema() -> Schema:
    extra_labels, extra_types, extra_props = vocabulary()
    labels = [spec.label for spec in ENTITIES] + ["SchemaVersion", *sorted(extra_labels)]
    types = sorted(
        {link.type for spec in ENTITIES for link in spec.links}
        | {e.relationship for e in EDGES}
        | extra_types
    )
    # Map keys of the row parameters (row.key, row.props, ...) count as property keys too.
    props = {
        "key",
        "props",
        "targets",
        "source",
        "target",
        "id",
        "version",
        "applied_at",
        "dialect",
    }
    for spec in ENTITIES:
        props |= set(spec.record.model_fields)
    props |= extra_props
    for derived in DERIVED_PROPERTIES.values():
        props |= set(derived)
    return Schema(tuple(labels), tuple(types), tuple(sorted(props)))


Item = tuple[str, str, list[str]]  # (name, text, declared parameters), as lint_cypher takes


def statements() -> list[Item]:
    # Several shapes share a metrics name (api.project.page); number them for the report.
    return [
        (f"{s.name}#{i}", s.text, sorted(s.params)) for i, s in enumerate(catalog(Dialect.NEO4J))
    ]


@cache
def _tool_digest() -> str:
    """The linter as the answers depend on it: the pinned package, the lock that pins its
    dependencies, and the script that calls it."""
    digest = hashlib.sha256(pinned_version().encode())
    for path in (TOOL_DIR / "package-lock.json", LINT_SCRIPT):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key(item: Item, declared: Schema) -> str:
    """What a clean answer for ``item`` depends on, as a digest."""
    _, text, params = item
    material = {
        "format": RECORD_FORMAT,
        "linter": _tool_digest(),
        "labels": sorted(declared.labels),
        "relationship_types": sorted(declared.relationship_types),
        "property_keys": sorted(declared.property_keys),
        "check_functions": declared.check_functions,
        "check_procedures": declared.check_procedures,
        "query": text,
        "params": sorted(params),
    }
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


class RecordError(ValueError):
    """The record file is not one ``make lint-cypher-full`` wrote."""


def read_record(path: Path = RECORD) -> frozenset[str]:
    """The keys recorded clean; none when there is no record. A malformed record is an error,
    never read as empty or as partly clean."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"{path}: not JSON ({exc}); run `make lint-cypher-full`") from exc
    clean = data.get("clean") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("format") != RECORD_FORMAT
        or not isinstance(clean, list)
        or not all(isinstance(k, str) and _KEY.fullmatch(k) for k in clean)
        or clean != sorted(set(clean))
    ):
        raise RecordError(
            f"{path}: not a format-{RECORD_FORMAT} record of sorted, distinct 32-hex keys; "
            "run `make lint-cypher-full`"
        )
    return frozenset(clean)


def write_record(keys: Sequence[str], path: Path = RECORD) -> None:
    data = {
        "about": (
            "Keys of the Neo4j statements Neo4j's linter found clean (tests/graph_schema/"
            "neo4j_lint.py); written by `make lint-cypher-full`, never by hand."
        ),
        "format": RECORD_FORMAT,
        "clean": sorted(set(keys)),
    }
    path.write_text(json.dumps(data, indent=0) + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Plan:
    """Which statements a run lints: those the record lacks, and a sample it has."""

    unrecorded: list[Item]
    spot_checks: list[Item]


def plan(items: Sequence[Item], recorded: frozenset[str], declared: Schema) -> Plan:
    keys = [key(item, declared) for item in items]
    unrecorded = [item for item, k in zip(items, keys, strict=True) if k not in recorded]
    # The sample changes whenever any statement or the schema does: over the catalog's history
    # every recorded key gets re-linted, at a dozen statements a run.
    catalog_digest = hashlib.sha256("".join(keys).encode()).hexdigest()
    recorded_items = sorted(
        ((hashlib.sha256((catalog_digest + k).encode()).hexdigest(), i) for i, k in enumerate(keys)
         if k in recorded),
    )  # fmt: skip
    spot_checks = [items[i] for _, i in recorded_items[:SPOT_CHECKS]]
    return Plan(unrecorded, spot_checks)


def lint(items: Sequence[Item], declared: Schema) -> list[Any]:
    return lint_cypher(
        items,
        labels=declared.labels,
        relationship_types=declared.relationship_types,
        property_keys=declared.property_keys,
        check_functions=declared.check_functions,
        check_procedures=declared.check_procedures,
    )


def full() -> bool:
    """``CYPHER_LINT_FULL=1``: the test lints every statement, whatever the record says."""
    return os.environ.get("CYPHER_LINT_FULL") == "1"


def main() -> int:
    """Lint every statement; rewrite the record (only the current keys) when all are clean."""
    declared, items = schema(), statements()
    diagnostics = lint(items, declared)
    if diagnostics:
        print(format_diagnostics(diagnostics), file=sys.stderr)
        print(f"neo4j-lint: {len(diagnostics)} diagnostics; record left as it was", file=sys.stderr)
        return 1
    write_record([key(item, declared) for item in items])
    print(f"neo4j-lint: {len(items)} statements clean; {RECORD.name} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
