"""Every statement the Neo4j dialect can send, through Neo4j's own parser and semantic analysis."""

from __future__ import annotations

import pytest

from graph_schema.catalog import catalog, vocabulary
from graph_schema.dialect import Dialect
from graph_schema.model import DERIVED_PROPERTIES, EDGES, ENTITIES
from tests.cypher_lint import format_diagnostics, lint_cypher, node_available

pytestmark = pytest.mark.skipif(not node_available(), reason="Node.js is not installed")


def _schema() -> tuple[list[str], list[str], list[str]]:
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
    return labels, types, sorted(props)


# Neo4j's semantic analysis costs ~0.19 CPU-seconds a statement (TeaVM-compiled, measured
# with package 2.0.0-next.38 on Node 20), about 90 s for the catalog: it is split into parts
# that pytest-xdist spreads over the workers (each worker's one Node process lints its parts).
PARTS = 6


@pytest.mark.timing
@pytest.mark.parametrize("part", range(PARTS))
def test_every_neo4j_statement_lints_clean(part: int) -> None:
    statements = catalog(Dialect.NEO4J)
    assert len(statements) > 50  # the catalog really enumerates the generated statements
    labels, types, props = _schema()
    diagnostics = lint_cypher(
        # Several shapes share a metrics name (api.project.page); number them for the report.
        [
            (f"{s.name}#{i}", s.text, sorted(s.params))
            for i, s in enumerate(statements)
            if i % PARTS == part
        ],
        labels=labels,
        relationship_types=types,
        property_keys=props,
        check_functions=True,
        check_procedures=True,
    )
    assert diagnostics == [], format_diagnostics(diagnostics)


def test_the_linter_would_catch_a_falkordb_only_statement() -> None:
    # The FalkorDB dialect uses procedures Neo4j lacks: proof the check is not vacuous.
    falkor_only = [s for s in catalog(Dialect.FALKORDB) if "db.idx.fulltext" in s.text][:3]
    assert len(falkor_only) == 3
    diagnostics = lint_cypher(
        [(s.name, s.text, sorted(s.params)) for s in falkor_only], check_procedures=True
    )
    assert {d.statement for d in diagnostics} == {s.name for s in falkor_only}
