"""Statements of a whole-graph backup and restore: every node and relationship, whatever its
label or type, in key-less form (store ids), so nothing the model does not list is missed.

Reads page through nodes by store id (FalkorDB ``id(n)`` seeks by range; Neo4j compares
``elementId`` strings) and take each page's outgoing relationships by the same range. A
restore creates nodes per label set, returning the new ids, then relationships per type
between the new ids. Labels and types come from the backup, so each is checked by
``identifier`` before it is written into a statement; values are always parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema.cypher import Statement, identifier
from graph_schema.dialect import RULES, Dialect

# The migration record is the target's own; a backup says its version in the manifest instead.
SKIPPED_LABELS = frozenset({"SchemaVersion"})


def nodes_page(dialect: Dialect) -> Statement:
    """Nodes with a store id above ``$after`` in id order, at most ``$limit``."""
    node = RULES[dialect].element_id_of("n")
    return Statement(
        "backup.nodes",
        f"MATCH (n) WHERE {node} > $after WITH n ORDER BY {node} LIMIT $limit "
        f"RETURN {node} AS id, labels(n) AS labels, properties(n) AS props",
    )


def relationships_from(dialect: Dialect) -> Statement:
    """Relationships leaving the nodes whose ids lie in ``($after, $last]``."""
    rules = RULES[dialect]
    a, b = rules.element_id_of("a"), rules.element_id_of("b")
    return Statement(
        "backup.relationships",
        f"MATCH (a)-[r]->(b) WHERE {a} > $after AND {a} <= $last "
        f"RETURN {a} AS start, type(r) AS type, {b} AS end, properties(r) AS props",
    )


def create_nodes(dialect: Dialect, labels: Sequence[str]) -> Statement:
    """``$rows`` of ``{id, props}`` become nodes with ``labels``; returns old and new ids."""
    if not labels:
        raise ValueError("a node needs at least one label")
    spelled = "".join(f":{identifier(label)}" for label in labels)
    new = RULES[dialect].element_id_of("n")
    return Statement(
        f"backup.create_nodes.{'.'.join(labels)}",
        f"UNWIND $rows AS row CREATE (n{spelled}) SET n += row.props "
        f"RETURN row.id AS old, {new} AS new",
        write=True,
    )


def create_relationships(dialect: Dialect, rel_type: str) -> Statement:
    """``$rows`` of ``{start, end, props}`` (new store ids) become ``rel_type`` relationships."""
    rules = RULES[dialect]
    a, b = rules.element_id_of("a"), rules.element_id_of("b")
    return Statement(
        f"backup.create_relationships.{rel_type}",
        f"UNWIND $rows AS row MATCH (a) WHERE {a} = row.start "
        f"MATCH (b) WHERE {b} = row.end "
        f"CREATE (a)-[r:{identifier(rel_type)}]->(b) SET r += row.props "
        "RETURN count(r) AS created",
        write=True,
    )


FIRST_ID = {Dialect.FALKORDB: -1, Dialect.NEO4J: ""}


def catalog(dialect: Dialect) -> list[Statement]:
    """One of each shape, for the Neo4j linter."""
    return [
        nodes_page(dialect),
        relationships_from(dialect),
        create_nodes(dialect, ("Region",)),
        create_relationships(dialect, "PART_OF"),
    ]
