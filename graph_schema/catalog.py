"""Every statement the hub sends, gathered from the statement modules for linting and review.

It sits above them all (each statement module is imported here, none imports this one), so
``graph_schema.statements.entities`` stays free of import circles."""

from __future__ import annotations

from graph_schema import backup, migrations, neo4j_store
from graph_schema.cypher import Statement
from graph_schema.dialect import Dialect
from graph_schema.model import EDGES, ENTITIES
from graph_schema.statements import (
    alerts,
    chains,
    edits,
    financing,
    fusion,
    health,
    indicators,
    keys,
    land,
    monitoring,
    nested,
    reads,
    satellite,
    schedules,
    scoreboard,
    statistics,
    supervision,
)
from graph_schema.statements import entities as st


def catalog(dialect: Dialect) -> list[Statement]:
    """Every statement the hub can send in ``dialect``, for linting and review."""
    out: list[Statement] = []
    for spec in ENTITIES:
        out += st.entity_statements(spec)
    for edge in EDGES:
        out += [st.fetch_edges(edge), st.merge_edges(edge), st.export_edges(edge)]
    out += [
        st.COUNT_NODES,
        st.COUNT_RELATIONSHIPS,
        st.ANY_REGION,
        st.SCHEMA_VERSION,
        st.SET_SCHEMA_VERSION,
    ]
    out += migrations.statements(dialect)
    out += reads.catalog(dialect)
    out += nested.catalog(dialect)
    out += edits.catalog()
    out += chains.catalog()
    out += scoreboard.catalog(dialect)
    out += statistics.catalog()
    out += financing.catalog()
    out += land.catalog()
    out += schedules.catalog()
    out += monitoring.catalog()
    out += satellite.catalog()
    out += indicators.catalog()
    out += keys.catalog()
    out += alerts.catalog()
    out += supervision.catalog()
    out += fusion.catalog()
    out += backup.catalog(dialect)
    out += health.catalog(dialect)
    if dialect is Dialect.NEO4J:
        out += neo4j_store.STATEMENTS
    return out


def vocabulary() -> tuple[set[str], set[str], set[str]]:
    """Labels, relationship types and property keys of the statement modules outside the
    model's spec table (financing, land, schedules), for the Neo4j linter."""
    labels: set[str] = set()
    types: set[str] = set()
    props: set[str] = set()
    for module in (financing, land, schedules, keys, alerts, monitoring, supervision):
        labels |= set(module.LABELS)
        types |= set(module.TYPES)
        props |= set(module.PROPERTIES)
    return labels, types, props
