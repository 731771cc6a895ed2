"""Every statement the Neo4j dialect can send, through Neo4j's own parser and semantic analysis.

Statements the record (tests/graph_schema/neo4j_lint.py) holds as linted clean under the same
linter, schema and text are not linted again, except a sample of them each run; everything else
is. ``make lint-cypher-full`` lints them all and rewrites the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_schema.catalog import catalog
from graph_schema.dialect import Dialect
from tests.cypher_lint import format_diagnostics, lint_cypher, node_available
from tests.graph_schema import neo4j_lint

pytestmark = pytest.mark.skipif(not node_available(), reason="Node.js is not installed")

# Neo4j's semantic analysis costs ~0.1-0.2 CPU-seconds a statement (TeaVM-compiled, package
# 2.0.0-next.38 on Node 20): what the record does not cover (all ~520 statements under
# CYPHER_LINT_FULL=1, about 90 s) is split into parts that pytest-xdist spreads over the workers
# (each worker's one Node process lints its parts).
PARTS = 6


@pytest.mark.timing
@pytest.mark.parametrize("part", range(PARTS))
def test_every_neo4j_statement_lints_clean(part: int) -> None:
    declared = neo4j_lint.schema()
    items = neo4j_lint.statements()
    assert len(items) > 50  # the catalog really enumerates the generated statements
    recorded = frozenset() if neo4j_lint.full() else neo4j_lint.read_record()
    plan = neo4j_lint.plan(items, recorded, declared)
    mine = [item for i, item in enumerate(plan.unrecorded) if i % PARTS == part]
    diagnostics = neo4j_lint.lint(mine, declared)
    assert diagnostics == [], format_diagnostics(diagnostics)
    # The sample goes to one part: the others start no linter when the record covers them.
    checks = plan.spot_checks if part == 0 else []
    refuted = neo4j_lint.lint(checks, declared)
    assert refuted == [], (
        "the record says these statements lint clean, the linter disagrees "
        "(run `make lint-cypher-full`):\n" + format_diagnostics(refuted)
    )


def test_a_changed_statement_or_schema_is_not_covered_by_the_record() -> None:
    declared = neo4j_lint.schema()
    items = neo4j_lint.statements()[:20]
    recorded = frozenset(neo4j_lint.key(item, declared) for item in items)
    assert neo4j_lint.plan(items, recorded, declared).unrecorded == []
    name, text, params = items[0]
    changed = [(name, text + " ", params), *items[1:]]
    assert neo4j_lint.plan(changed, recorded, declared).unrecorded == [changed[0]]
    fewer_params = [(name, text, params[:-1]), *items[1:]] if params else changed
    assert neo4j_lint.plan(fewer_params, recorded, declared).unrecorded == [fewer_params[0]]
    other = neo4j_lint.Schema(declared.labels[1:], declared.relationship_types,
                              declared.property_keys)  # fmt: skip
    assert neo4j_lint.plan(items, recorded, other).unrecorded == items


def test_a_record_that_says_clean_for_a_bad_statement_is_refuted_by_the_sample() -> None:
    declared = neo4j_lint.schema()
    lie: neo4j_lint.Item = ("lie", "MATCH (n) RETURN m", [])  # m is not defined
    items = [lie, *neo4j_lint.statements()[:3]]
    recorded = frozenset(neo4j_lint.key(item, declared) for item in items)
    plan = neo4j_lint.plan(items, recorded, declared)
    assert plan.unrecorded == [] and lie in plan.spot_checks
    assert {d.statement for d in neo4j_lint.lint(plan.spot_checks, declared)} == {"lie"}


def test_a_malformed_record_is_an_error_not_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    assert neo4j_lint.read_record(path) == frozenset()
    neo4j_lint.write_record(["f" * 32, "0" * 32], path)
    assert neo4j_lint.read_record(path) == {"f" * 32, "0" * 32}
    for bad in ('{"format": 1, "clean": ["xyz"]}', '{"format": 1, "clean": ["ff", "00"]}',
                '{"format": 2, "clean": []}', "[]", "not json"):  # fmt: skip
        path.write_text(bad, encoding="utf-8")
        with pytest.raises(neo4j_lint.RecordError):
            neo4j_lint.read_record(path)


def test_the_linter_would_catch_a_falkordb_only_statement() -> None:
    # The FalkorDB dialect uses procedures Neo4j lacks: proof the check is not vacuous.
    falkor_only = [s for s in catalog(Dialect.FALKORDB) if "db.idx.fulltext" in s.text][:3]
    assert len(falkor_only) == 3
    diagnostics = lint_cypher(
        [(s.name, s.text, sorted(s.params)) for s in falkor_only], check_procedures=True
    )
    assert {d.statement for d in diagnostics} == {s.name for s in falkor_only}
