"""Statements of compiled reads (``hub.api.compiled``): one statement per root field that
returns the nested answer.

A root field's rows come from the statements of ``graph_schema.statements.reads`` (a page, a
lookup); each related field selected under them becomes one more column of the same
statement, a pattern comprehension over the row's node that returns, per related node, a list
``[properties, cursor, c0, c1, ...]``: its property values, its sort values (lists only) and
the columns of the fields selected under it, and so on down. The plan (``Level``) holds only
names from the model's tables; filter values, cursors and keys travel as parameters, each
level's under a prefix of its own (``$<prefix>f_<filter>``).

A pattern comprehension has no ORDER BY or LIMIT, so a nested list returns every related node
with its sort values and the caller sorts, applies the cursor and slices (the same order and
tie-break as ``reads.page``). Nested lists are small (a project's segments, an enterprise's
projects); the top-level list, which can be large, is sorted and limited by the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from graph_schema.cypher import Statement, identifier
from graph_schema.dialect import Dialect
from graph_schema.statements import reads

_PARAM = re.compile(r"\$f_")
_CACHED = 4096


@dataclass(frozen=True, slots=True)
class One:
    """A to-one relation: the one node it reaches (or null)."""

    relation: str
    level: Level


@dataclass(frozen=True, slots=True)
class Many:
    """A to-many relation: every node it reaches that passes ``filters`` (parameters under
    ``prefix``), with its sort values in ``order``; ``level`` is ``None`` when only the count
    is asked for."""

    relation: str
    filters: tuple[reads.Term, ...]
    order: reads.Order
    prefix: str
    level: Level | None


@dataclass(frozen=True, slots=True)
class Level:
    """What one object needs: its properties (all when ``None``) and its related columns."""

    entity: str
    fields: tuple[str, ...] | None
    columns: tuple[One | Many, ...] = ()


def _columns(level: Level, var: str, names: list[int], dialect: Dialect) -> list[str]:
    return [_column(c, var, names, dialect) for c in level.columns]


def _values(level: Level, var: str) -> str:
    """The node's properties as a list in the order of ``level.fields``: a list, not a map,
    because the FalkorDB client parses every map key as one more string."""
    if level.fields is None:
        return f"properties({var})"
    reads._props(level.entity, var, level.fields)  # checks the names against the model
    return "[" + ", ".join(f"{var}.{identifier(f)}" for f in level.fields) + "]"


def _object(level: Level, var: str, names: list[int], dialect: Dialect, cursor: str = "") -> str:
    """``[properties, cursor (lists only), column 0, column 1, ...]``."""
    parts = [_values(level, var)]
    if cursor:
        parts.append(cursor)
    parts += _columns(level, var, names, dialect)
    return "[" + ", ".join(parts) + "]"


def _column(column: One | Many, var: str, names: list[int], dialect: Dialect) -> str:
    rel = reads.RELATIONS[column.relation]
    target = reads.NODE_SETS[rel.target]
    # Every comprehension binds a name of its own: FalkorDB 4.22 answered the second of two
    # sibling comprehensions over the same name with null (tested: head([(n)-->(v1) | ...])
    # twice in one RETURN).
    names[0] += 1
    child = f"v{names[0]}"
    path = rel.path.format(a=var, n=f"{child}:{target.label}")
    if isinstance(column, One):
        return f"head([{path} | {_object(column.level, child, names, dialect)}])"
    conds = [reads._term(target, t, "", child, dialect) for t in column.filters]
    where = _PARAM.sub(f"${identifier(column.prefix)}f_", " AND ".join(conds))
    where = f" WHERE {where}" if where else ""
    if column.level is None:
        if rel.distinct:  # the path can reach a node twice: the caller counts distinct keys
            return f"[{path}{where} | {child}.{target.key}]"
        return f"size([{path}{where} | 1])"
    sort = "[" + ", ".join(e for e, _ in reads._sort_exprs(target, column.order, child)) + "]"
    return f"[{path}{where} | {_object(column.level, child, names, dialect, sort)}]"


def _related(ns: reads.NodeSet, terms: tuple[reads.Term, ...]) -> bool:
    for term in terms:
        if isinstance(term, reads.Branch):
            if any(_related(ns, below) for _, below in term.alternatives):
                return True
        elif ns.filters[term].op is reads.Op.RELATED:
            return True
    return False


# Relations that can reach thousands of nodes from one parent at provincial scale (a region's
# projects with its sub-regions, a chain's or a segment's enterprises). A comprehension returns
# every node it reaches, to be sorted and sliced by the caller, so their nested pages stay
# with the resolvers (which sort and slice in the store); their totalCount alone compiles.
WIDE: Final = frozenset(
    {
        "region.projects",
        "region.projects_direct",
        "region.enterprises",
        "region.enterprises_direct",
        "region.parcels",
        "region.parcels_direct",
        "region.banks",
        "region.banks_direct",
        "chain.enterprises",
        "chain.projects",
        "segment.enterprises",
        "segment.projects",
        "product.enterprises",
    }
)


def expressible(
    relation: str, filters: tuple[reads.Term, ...], dialect: Dialect, *, items: bool
) -> bool:
    """Whether a nested list through ``relation`` under ``filters`` (its nodes asked for, or
    only its count) compiles to a pattern comprehension in ``dialect``. FalkorDB 4.22 refuses
    a pattern predicate in a comprehension's WHERE ("Type mismatch: expected Null but was
    Pointer"; a size() of a comprehension there: "Unable to resolve filtered alias"), so on
    FalkorDB a nested list filtered by a related filter (region, chain, owner, ...) is answered
    by the resolvers; Neo4j takes it."""
    if items and relation in WIDE:
        return False
    if dialect is Dialect.NEO4J:
        return True
    return not _related(reads.NODE_SETS[reads.RELATIONS[relation].target], filters)


@lru_cache(maxsize=_CACHED)
def extend(statement: Statement, level: Level, dialect: Dialect) -> Statement:
    """A top-level page or lookup statement (its node bound to ``n`` up to its final RETURN,
    which starts with the node's ``props`` of ``level.fields``) returning ``props`` as a list
    in the order of ``level.fields`` and the related columns of ``level`` as ``c0``, ``c1``,
    ..."""
    head, sep, tail = statement.text.rpartition(" RETURN ")
    props = f"{reads._props(level.entity, 'n', level.fields)} AS props"
    if not sep or not tail.startswith(props) or level.fields is None:
        raise ValueError(f"{statement.name} does not return the props of {level}")
    tail = f"{_values(level, 'n')} AS props{tail[len(props) :]}"
    columns = _columns(level, "n", [0], dialect)
    extra = "".join(f", {c} AS c{i}" for i, c in enumerate(columns))
    return Statement(f"{statement.name}.compiled", f"{head} RETURN {tail}{extra}")


@lru_cache(maxsize=_CACHED)
def lookup(entity: str, fields: tuple[str, ...] | None) -> Statement:
    """The node of ``entity`` whose key is ``$key``: rows ``props`` (at most one)."""
    ns = reads.NODE_SETS[entity]
    return Statement(
        f"api.{entity}.lookup",
        f"MATCH (n:{ns.label} {{{ns.key}: $key}}) WITH n LIMIT 1 "
        f"RETURN {reads._props(entity, 'n', fields)} AS props",
    )


def catalog(dialect: Dialect) -> list[Statement]:
    """One compiled statement of each kind of column, for linting: a page with a to-one
    column (and one below it), a nested list with filters, OR/NOT and a sort, a distinct
    relation counted, and a lookup (related filters in nested lists: Neo4j only)."""
    shown = ("code", "name")
    segment = Level("segment", ("id", "name"), (One("segment.chain", Level("chain", ("id",))),))
    ns = reads.NODE_SETS["segment"]
    plain = tuple(
        n
        for n, f in ns.filters.items()
        if f.op is not reads.Op.SEARCH
        and (f.op is not reads.Op.RELATED or dialect is Dialect.NEO4J)
    )
    either = reads.Branch(False, (("or0_", plain), ("or1_", ())))
    level = Level(
        "project",
        shown,
        (
            One("project.owner", Level("enterprise", ("uscc", "name"))),
            One(
                "project.region",
                Level("region", ("code",), (One("region.parent", Level("region", ("code",))),)),
            ),
            Many(
                "project.segments", (*plain, either), reads.Order((("name", True),)), "m0_", segment
            ),
            Many("project.parcels", (), reads.Order(()), "m1_", None),
        ),
    )
    first = reads.default_order("project")
    page = reads.page("project", (), first, True, dialect, None, shown)
    counted = Level("chain", ("id",), (Many("chain.projects", (), reads.Order(()), "m0_", None),))
    return [
        extend(page, level, dialect),
        extend(lookup("chain", ("id",)), counted, dialect),
    ]
