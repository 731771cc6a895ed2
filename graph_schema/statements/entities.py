"""Every Cypher statement the hub sends, per dialect.

Entity statements are generated from the model's spec table (labels, keys and relationship types
are constants of the model, checked by ``identifier``); values always travel as parameters.
``catalog(dialect)`` lists them all, so tests can lint every Neo4j statement with Neo4j's parser.
"""

from __future__ import annotations

from functools import cache

from graph_schema.cypher import Statement, identifier
from graph_schema.model import SPECS, EdgeSpec, EntitySpec, Link


def _label(spec: EntitySpec) -> str:
    return identifier(spec.label)


def _key(spec: EntitySpec) -> str:
    return identifier(spec.key)


def _target(link: Link) -> EntitySpec:
    return SPECS[link.target]


def _collect_links(spec: EntitySpec, carried: str, var: str = "n") -> str:
    """``OPTIONAL MATCH`` + ``collect`` per link, each a list of target keys named after the
    link's field, carried along with ``carried``.

    FalkorDB plans a pattern comprehension (``[(n)-[:R]->(t) | t.key]``) as an apply with a
    traversal per row, about ten times the cost of the same traversal as an ``OPTIONAL MATCH``
    (measured 2026-12-07 on the demo province: 0.14 ms against 0.015 ms of server CPU per row
    and link); a fetch or export page of thousands of rows spent most of its time there."""
    parts = []
    names = [carried]
    for i, link in enumerate(spec.links):
        target = _target(link)
        parts.append(
            f" OPTIONAL MATCH ({var})-[:{identifier(link.type)}]->(t{i}:{_label(target)})"
            f" WITH {', '.join(names)}, collect(t{i}.{_key(target)}) AS {identifier(link.field)}"
        )
        names.append(identifier(link.field))
    return "".join(parts)


def _link_fields(spec: EntitySpec) -> str:
    return "".join(f", {identifier(link.field)}" for link in spec.links)


@cache
def fetch_existing(spec: EntitySpec) -> Statement:
    """Current properties and link targets of the nodes with the given keys (one row per
    key found; a key given twice is one row, so its links are not collected twice)."""
    return Statement(
        f"{spec.name}.fetch",
        f"UNWIND $keys AS key WITH DISTINCT key MATCH (n:{_label(spec)} {{{_key(spec)}: key}})"
        f"{_collect_links(spec, 'key, n')} "
        f"RETURN key, properties(n) AS props{_link_fields(spec)}",
    )


@cache
def existing_keys(spec: EntitySpec) -> Statement:
    """Which of the given keys exist, for reference checks before linking."""
    return Statement(
        f"{spec.name}.exists",
        f"UNWIND $keys AS key MATCH (n:{_label(spec)} {{{_key(spec)}: key}}) RETURN key",
    )


@cache
def upsert_nodes(spec: EntitySpec) -> Statement:
    return Statement(
        f"{spec.name}.upsert",
        f"UNWIND $rows AS row MERGE (n:{_label(spec)} {{{_key(spec)}: row.key}}) "
        "SET n += row.props RETURN count(n) AS written",
        write=True,
    )


@cache
def patch_nodes(spec: EntitySpec) -> Statement:
    """Set only the properties a partial upsert sent (a null removes one) on nodes that exist:
    ``MATCH``, not ``MERGE``, so a node deleted meanwhile is not brought back half-filled."""
    return Statement(
        f"{spec.name}.patch",
        f"UNWIND $rows AS row MATCH (n:{_label(spec)} {{{_key(spec)}: row.key}}) "
        "SET n += row.props RETURN count(n) AS written",
        write=True,
    )


@cache
def unlink_stale(spec: EntitySpec, link: Link) -> Statement:
    target = _target(link)
    return Statement(
        f"{spec.name}.unlink.{link.field}",
        f"UNWIND $rows AS row MATCH (n:{_label(spec)} {{{_key(spec)}: row.key}})"
        f"-[r:{identifier(link.type)}]->(t:{_label(target)}) "
        f"WHERE NOT t.{_key(target)} IN row.targets DELETE r RETURN count(*) AS removed",
        write=True,
    )


@cache
def link_targets(spec: EntitySpec, link: Link) -> Statement:
    target = _target(link)
    return Statement(
        f"{spec.name}.link.{link.field}",
        f"UNWIND $rows AS row MATCH (n:{_label(spec)} {{{_key(spec)}: row.key}}) "
        f"UNWIND row.targets AS target_key "
        f"MATCH (t:{_label(target)} {{{_key(target)}: target_key}}) "
        f"MERGE (n)-[:{identifier(link.type)}]->(t) RETURN count(*) AS linked",
        write=True,
    )


@cache
def export_page(spec: EntitySpec) -> Statement:
    """One page of nodes in key order after ``$after`` (keyset pagination, stable under load)."""
    return Statement(
        f"{spec.name}.export",
        f"MATCH (n:{_label(spec)}) WHERE n.{_key(spec)} > $after "
        f"WITH n ORDER BY n.{_key(spec)} LIMIT $limit{_collect_links(spec, 'n')} "
        f"RETURN n.{_key(spec)} AS key, properties(n) AS props{_link_fields(spec)} "
        "ORDER BY key",
    )


@cache
def all_keys(spec: EntitySpec) -> Statement:
    """Every key of the entity (unordered): a whole export lists them once, then fetches them
    in pages with ``fetch_existing``. Keyset pages (``export_page``) cost a range scan of every
    key after ``$after`` and a sort of them each, so a whole export paged that way grows with
    the square of the entity's size (22,044 indicator values in pages of 700: 1.1 s of server
    CPU, against 12 ms for this label scan)."""
    return Statement(f"{spec.name}.keys", f"MATCH (n:{_label(spec)}) RETURN n.{_key(spec)} AS key")


@cache
def delete_nodes(spec: EntitySpec) -> Statement:
    return Statement(
        f"{spec.name}.delete",
        f"UNWIND $keys AS key MATCH (n:{_label(spec)} {{{_key(spec)}: key}}) "
        "DETACH DELETE n RETURN count(*) AS deleted",
        write=True,
    )


def _edge_ends(edge: EdgeSpec) -> tuple[EntitySpec, EntitySpec]:
    return SPECS[edge.source], SPECS[edge.target]


@cache
def fetch_edges(edge: EdgeSpec) -> Statement:
    source, target = _edge_ends(edge)
    return Statement(
        f"{edge.name}.fetch",
        f"UNWIND $rows AS row MATCH (a:{_label(source)} {{{_key(source)}: row.source}})"
        f"-[:{identifier(edge.relationship)}]->(b:{_label(target)} {{{_key(target)}: row.target}}) "
        "RETURN row.source AS source, row.target AS target",
    )


@cache
def merge_edges(edge: EdgeSpec) -> Statement:
    source, target = _edge_ends(edge)
    return Statement(
        f"{edge.name}.upsert",
        f"UNWIND $rows AS row MATCH (a:{_label(source)} {{{_key(source)}: row.source}}) "
        f"MATCH (b:{_label(target)} {{{_key(target)}: row.target}}) "
        f"MERGE (a)-[:{identifier(edge.relationship)}]->(b) RETURN count(*) AS written",
        write=True,
    )


@cache
def export_edges(edge: EdgeSpec) -> Statement:
    source, target = _edge_ends(edge)
    return Statement(
        f"{edge.name}.export",
        f"MATCH (a:{_label(source)})-[:{identifier(edge.relationship)}]->(b:{_label(target)}) "
        f"WITH a.{_key(source)} AS source, b.{_key(target)} AS target "
        "ORDER BY source, target SKIP $skip LIMIT $limit RETURN source, target",
    )


COUNT_NODES = Statement(
    "graph.count_nodes", "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS count"
)
COUNT_RELATIONSHIPS = Statement(
    "graph.count_relationships", "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS count"
)
ANY_REGION = Statement("graph.any_region", "MATCH (r:Region) RETURN r.code AS code LIMIT 1")
SCHEMA_VERSION = Statement(
    "schema.version", "MATCH (s:SchemaVersion {id: 'graph'}) RETURN s.version AS version"
)
SET_SCHEMA_VERSION = Statement(
    "schema.set_version",
    "MERGE (s:SchemaVersion {id: 'graph'}) SET s.version = $version, s.applied_at = $applied_at, "
    "s.dialect = $dialect RETURN s.version AS version",
    write=True,
)


def entity_statements(spec: EntitySpec) -> list[Statement]:
    out = [
        fetch_existing(spec),
        existing_keys(spec),
        upsert_nodes(spec),
        patch_nodes(spec),
        export_page(spec),
        all_keys(spec),
        delete_nodes(spec),
    ]
    for link in spec.links:
        out += [unlink_stale(spec, link), link_targets(spec, link)]
    return out
