"""Read statements for the API, compiled from a declarative table of node sets.

A *node set* is one entity as the API lists it: which filters it takes, which fields it sorts on,
which amounts it aggregates and how it groups. A *relation* is a path from one entity to another
(project → segments, region → projects including sub-regions). From those two tables this module
builds every statement the API sends:

- ``page``: one page of a list, keyset-paginated on the sort key plus the entity key, so cursors
  stay valid while other rows are inserted or deleted;
- ``count`` and ``aggregate``: the same filters, counted, summed or grouped;
- ``by_key``, ``related_one``: node lookups, batched over ``$keys``;
- nested variants of ``page``, ``count`` and ``aggregate`` for a relation, batched over the parent
  keys (``UNWIND $keys AS key``), so a page of parents costs one round trip per relation, not one
  per parent.

Only names from these tables reach the statement text, each checked by ``identifier``; values
(filter arguments, cursors, keys, limits) always travel as parameters. Statements are cached by
their shape, so each distinct shape is built once.

Two planner facts shape the text (both measured on FalkorDB 4.22 at hubei scale, see
docs/architecture.md): relationship-pattern predicates in ``WHERE`` scan every node (200-400 ms),
so related filters become ``MATCH`` clauses that start at the filter's anchor node; and a batched
lookup must match its anchor ``(a {key: key})`` in a clause of its own, or FalkorDB may start the
pattern from the other end (55 ms instead of 1 ms).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from typing import Final

from graph_schema.cypher import Statement, identifier
from graph_schema.dialect import RULES, Dialect, FulltextIndex
from graph_schema.model import DERIVED_PROPERTIES, SPECS


class Op(StrEnum):
    EQ = "eq"  # n.prop = $value
    IN = "in"  # n.prop IN $values
    MIN = "min"  # n.prop >= $value
    MAX = "max"  # n.prop <= $value
    ANY = "any"  # the list property n.prop shares an element with $values
    ALL = "all"  # the list property n.prop holds every element of $values
    CONTAINS = "contains"  # n.prop contains $value, case-insensitively
    RELATED = "related"  # a path from an anchor node (keyed by $value) reaches n
    SEARCH = "search"  # the full-text index matches $value (top-level lists only)
    AFTER_OR_MISSING = "after_or_missing"  # n.prop is not set, or is > $value


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter argument. ``path`` (for RELATED) is a pattern template from ``{x}``, the anchor
    node matched by its key, to ``{n}``; ``distinct`` says the path can reach a node twice."""

    name: str
    op: Op
    prop: str = ""
    anchor: str = ""  # entity of the anchor node, for RELATED
    path: str = ""
    distinct: bool = False

    @property
    def param(self) -> str:
        return f"f_{self.name}"


@dataclass(frozen=True, slots=True)
class Branch:
    """A where's ``OR`` (any alternative holds) or ``NOT`` (its one alternative does not hold).
    Each alternative is a conjunction of filter names and nested branches, with the prefix its
    parameters carry (``$f_<prefix><filter>``), so every value still travels as a parameter and
    the statement's shape (cached) is the tree of names alone."""

    negated: bool
    alternatives: tuple[tuple[str, tuple[Term, ...]], ...]


# A filter name, or a branch of OR/NOT.
type Term = str | Branch


class Nulls(StrEnum):
    NEVER = "never"  # the property is always set
    DATE = "date"  # an optional ISO date; missing ones sort last either way


@dataclass(frozen=True, slots=True)
class Sort:
    name: str
    prop: str  # "" sorts by full-text relevance
    nulls: Nulls = Nulls.NEVER

    def expr(self, var: str, descending: bool) -> str:
        if not self.prop:
            return "score"
        value = f"{var}.{identifier(self.prop)}"
        if self.nulls is Nulls.DATE:
            # Missing dates sort last in both directions, and the cursor never holds a null.
            return f"coalesce({value}, '{'0000-00-00' if descending else '9999-12-31'}')"
        return value


RELEVANCE: Final = Sort("relevance", "")


@dataclass(frozen=True, slots=True)
class Group:
    """A grouping for aggregates: a clause that binds ``g`` from ``{n}`` (or nothing), and the
    key and label expressions of a group. ``params`` are the parameters the clause needs."""

    name: str
    key: str
    label: str = "null"
    clause: str = ""
    params: tuple[str, ...] = ()
    distinct: bool = False  # the clause can reach the same group from a node twice


@dataclass(frozen=True, slots=True)
class NodeSet:
    entity: str
    filters: Mapping[str, Filter]
    sorts: Mapping[str, Sort]
    default_sort: str
    measures: tuple[str, ...] = ()
    groups: Mapping[str, Group] = field(default_factory=dict)
    fulltext: FulltextIndex | None = None

    @property
    def label(self) -> str:
        return identifier(SPECS[self.entity].label)

    @property
    def key(self) -> str:
        return identifier(SPECS[self.entity].key)


@dataclass(frozen=True, slots=True)
class Relation:
    """A path template from ``{a}`` (the parent) to ``{n}``; ``many`` lists, else one node."""

    name: str
    source: str
    target: str
    path: str
    many: bool = True
    distinct: bool = False


def _filters(*items: Filter) -> dict[str, Filter]:
    return {f.name: f for f in items}


def _ranges(*props: str) -> list[Filter]:
    out = []
    for prop in props:
        out += [Filter(f"{prop}_min", Op.MIN, prop), Filter(f"{prop}_max", Op.MAX, prop)]
    return out


def _sorts(*items: Sort) -> dict[str, Sort]:
    return {s.name: s for s in items}


IN_REGION = "({x})<-[:PART_OF*0..2]-(:Region)<-[:LOCATED_IN]-({n})"
BY_REGION = Group(
    "region",
    "g.code",
    "g.name",
    "MATCH ({n})-[:LOCATED_IN]->(:Region)-[:PART_OF*0..2]->(g:Region {{level: $g_level}})",
    ("g_level",),
)

NODE_SETS: Final[dict[str, NodeSet]] = {
    "region": NodeSet(
        "region",
        _filters(
            Filter("level", Op.EQ, "level"),
            Filter("codes", Op.IN, "code"),
            Filter("name_contains", Op.CONTAINS, "name"),
            Filter("within", Op.RELATED, anchor="region", path="({x})<-[:PART_OF*1..2]-({n})"),
            Filter("parent", Op.RELATED, anchor="region", path="({x})<-[:PART_OF]-({n})"),
        ),
        _sorts(Sort("code", "code"), Sort("name", "name")),
        "code",
    ),
    "chain": NodeSet(
        "chain",
        _filters(Filter("ids", Op.IN, "id"), Filter("name_contains", Op.CONTAINS, "name")),
        _sorts(Sort("id", "id"), Sort("name", "name")),
        "id",
    ),
    "segment": NodeSet(
        "segment",
        _filters(
            Filter("ids", Op.IN, "id"),
            Filter("tier", Op.IN, "tier"),
            Filter("name_contains", Op.CONTAINS, "name"),
            Filter("chain", Op.RELATED, anchor="chain", path="({x})<-[:PART_OF]-({n})"),
        ),
        _sorts(Sort("id", "id"), Sort("name", "name"), Sort("position", "position")),
        "id",
    ),
    "product": NodeSet(
        "product",
        _filters(
            Filter("name_contains", Op.CONTAINS, "name"),
            Filter("segment", Op.RELATED, anchor="segment", path="({x})<-[:IN_SEGMENT]-({n})"),
            Filter(
                "chain",
                Op.RELATED,
                anchor="chain",
                path="({x})<-[:PART_OF]-(:ChainSegment)<-[:IN_SEGMENT]-({n})",
            ),
        ),
        _sorts(Sort("id", "id"), Sort("name", "name")),
        "id",
    ),
    "enterprise": NodeSet(
        "enterprise",
        _filters(
            Filter("region", Op.RELATED, anchor="region", path=IN_REGION),
            Filter(
                "chain",
                Op.RELATED,
                anchor="chain",
                path="({x})<-[:PART_OF]-(:ChainSegment)<-[:IN_SEGMENT]-({n})",
                distinct=True,
            ),
            Filter("segment", Op.RELATED, anchor="segment", path="({x})<-[:IN_SEGMENT]-({n})"),
            Filter("product", Op.RELATED, anchor="product", path="({x})<-[:MAKES]-({n})"),
            Filter("tags_any", Op.ANY, "tags"),
            Filter("tags_all", Op.ALL, "tags"),
            *_ranges("output", "employees", "patents", "founded"),
            Filter("name_contains", Op.CONTAINS, "name"),
            Filter("search", Op.SEARCH),
        ),
        _sorts(
            Sort("uscc", "uscc"),
            Sort("name", "name"),
            Sort("output", "output"),
            Sort("employees", "employees"),
            Sort("patents", "patents"),
            Sort("founded", "founded", Nulls.DATE),
            RELEVANCE,
        ),
        "name",
        measures=("output", "employees", "patents"),
        groups={
            "region": BY_REGION,
            "tag": Group("tag", "g", "null", "UNWIND {n}.tags AS g"),
            "chain": Group(
                "chain",
                "g.id",
                "g.name",
                "MATCH ({n})-[:IN_SEGMENT]->(:ChainSegment)-[:PART_OF]->(g:IndustryChain)",
                distinct=True,
            ),
            "segment": Group(
                "segment", "g.id", "g.name", "MATCH ({n})-[:IN_SEGMENT]->(g:ChainSegment)"
            ),
        },
        fulltext=FulltextIndex("Enterprise", ("name",)),
    ),
    "parcel": NodeSet(
        "parcel",
        _filters(
            Filter("region", Op.RELATED, anchor="region", path=IN_REGION),
            Filter("use", Op.IN, "use"),
            *_ranges("area_m2"),
        ),
        _sorts(Sort("id", "id"), Sort("area_m2", "area_m2")),
        "id",
        measures=("area_m2",),
        groups={"region": BY_REGION, "use": Group("use", "{n}.use")},
    ),
    "project": NodeSet(
        "project",
        _filters(
            Filter("region", Op.RELATED, anchor="region", path=IN_REGION),
            Filter(
                "chain",
                Op.RELATED,
                anchor="chain",
                path="({x})<-[:PART_OF]-(:ChainSegment)<-[:BUILDS_IN]-({n})",
                distinct=True,
            ),
            Filter("segment", Op.RELATED, anchor="segment", path="({x})<-[:BUILDS_IN]-({n})"),
            Filter("owner", Op.RELATED, anchor="enterprise", path="({x})<-[:OWNED_BY]-({n})"),
            Filter("parcel", Op.RELATED, anchor="parcel", path="({x})<-[:ON_PARCEL]-({n})"),
            Filter("on_list", Op.RELATED, anchor="project_list", path="({x})-[:INCLUDES]->({n})"),
            Filter("codes", Op.IN, "code"),
            Filter("stage", Op.IN, "stage"),
            Filter("kind", Op.IN, "kind"),
            Filter("level", Op.IN, "level"),
            Filter("leader_project", Op.EQ, "leader_project"),
            *_ranges(
                "total_investment",
                "annual_plan_investment",
                "completed_investment",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
            ),
            Filter("not_started_by", Op.AFTER_OR_MISSING, "actual_start"),
            Filter("name_contains", Op.CONTAINS, "name"),
            Filter("search", Op.SEARCH),
        ),
        _sorts(
            Sort("code", "code"),
            Sort("name", "name"),
            Sort("total_investment", "total_investment"),
            Sort("annual_plan_investment", "annual_plan_investment"),
            Sort("completed_investment", "completed_investment"),
            Sort("year_completed_investment", "year_completed_investment"),
            Sort("planned_start", "planned_start", Nulls.DATE),
            Sort("planned_end", "planned_end", Nulls.DATE),
            Sort("actual_start", "actual_start", Nulls.DATE),
            RELEVANCE,
        ),
        "code",
        measures=(
            "total_investment",
            "annual_plan_investment",
            "completed_investment",
            "year_completed_investment",
        ),
        groups={
            "region": BY_REGION,
            "stage": Group("stage", "{n}.stage"),
            "kind": Group("kind", "{n}.kind"),
            "level": Group("level", "{n}.level"),
            "chain": Group(
                "chain",
                "g.id",
                "g.name",
                "MATCH ({n})-[:BUILDS_IN]->(:ChainSegment)-[:PART_OF]->(g:IndustryChain)",
                distinct=True,
            ),
        },
        fulltext=FulltextIndex("Project", ("name",)),
    ),
    "project_list": NodeSet(
        "project_list",
        _filters(Filter("ids", Op.IN, "id"), Filter("name_contains", Op.CONTAINS, "name")),
        _sorts(Sort("id", "id"), Sort("name", "name")),
        "id",
    ),
    "bank": NodeSet(
        "bank",
        _filters(
            Filter("region", Op.RELATED, anchor="region", path=IN_REGION),
            Filter("kind", Op.IN, "kind"),
            Filter("name_contains", Op.CONTAINS, "name"),
        ),
        _sorts(Sort("id", "id"), Sort("name", "name")),
        "id",
    ),
    "sensor": NodeSet(
        "sensor",
        _filters(
            Filter("kind", Op.IN, "kind"),
            Filter("project", Op.RELATED, anchor="project", path="({x})<-[:MONITORS]-({n})"),
            Filter(
                "region",
                Op.RELATED,
                anchor="region",
                path=(
                    "({x})<-[:PART_OF*0..2]-(:Region)<-[:LOCATED_IN]-(:Project)<-[:MONITORS]-({n})"
                ),
            ),
        ),
        _sorts(Sort("id", "id")),
        "id",
    ),
}


def _rel(name: str, source: str, target: str, path: str, **kw: bool) -> Relation:
    return Relation(name, source, target, path, **kw)


RELATIONS: Final[dict[str, Relation]] = {
    r.name: r
    for r in (
        _rel("region.parent", "region", "region", "({a})-[:PART_OF]->({n})", many=False),
        _rel("region.children", "region", "region", "({a})<-[:PART_OF]-({n})"),
        _rel("region.projects", "region", "project", IN_REGION.format(x="{a}", n="{n}")),
        _rel("region.projects_direct", "region", "project", "({a})<-[:LOCATED_IN]-({n})"),
        _rel("region.enterprises", "region", "enterprise", IN_REGION.format(x="{a}", n="{n}")),
        _rel("region.enterprises_direct", "region", "enterprise", "({a})<-[:LOCATED_IN]-({n})"),
        _rel("region.parcels", "region", "parcel", IN_REGION.format(x="{a}", n="{n}")),
        _rel("region.parcels_direct", "region", "parcel", "({a})<-[:LOCATED_IN]-({n})"),
        _rel("region.banks", "region", "bank", IN_REGION.format(x="{a}", n="{n}")),
        _rel("region.banks_direct", "region", "bank", "({a})<-[:LOCATED_IN]-({n})"),
        _rel("chain.segments", "chain", "segment", "({a})<-[:PART_OF]-({n})"),
        _rel(
            "chain.enterprises",
            "chain",
            "enterprise",
            "({a})<-[:PART_OF]-(:ChainSegment)<-[:IN_SEGMENT]-({n})",
            distinct=True,
        ),
        _rel(
            "chain.projects",
            "chain",
            "project",
            "({a})<-[:PART_OF]-(:ChainSegment)<-[:BUILDS_IN]-({n})",
            distinct=True,
        ),
        _rel("segment.chain", "segment", "chain", "({a})-[:PART_OF]->({n})", many=False),
        _rel("segment.supplies", "segment", "segment", "({a})-[:SUPPLIES]->({n})"),
        _rel("segment.supplied_by", "segment", "segment", "({a})<-[:SUPPLIES]-({n})"),
        _rel("segment.products", "segment", "product", "({a})<-[:IN_SEGMENT]-({n})"),
        _rel("segment.enterprises", "segment", "enterprise", "({a})<-[:IN_SEGMENT]-({n})"),
        _rel("segment.projects", "segment", "project", "({a})<-[:BUILDS_IN]-({n})"),
        _rel("product.segment", "product", "segment", "({a})-[:IN_SEGMENT]->({n})", many=False),
        _rel("product.enterprises", "product", "enterprise", "({a})<-[:MAKES]-({n})"),
        _rel("enterprise.region", "enterprise", "region", "({a})-[:LOCATED_IN]->({n})", many=False),
        _rel("enterprise.segments", "enterprise", "segment", "({a})-[:IN_SEGMENT]->({n})"),
        _rel("enterprise.products", "enterprise", "product", "({a})-[:MAKES]->({n})"),
        _rel("enterprise.projects", "enterprise", "project", "({a})<-[:OWNED_BY]-({n})"),
        _rel("parcel.region", "parcel", "region", "({a})-[:LOCATED_IN]->({n})", many=False),
        _rel("parcel.projects", "parcel", "project", "({a})<-[:ON_PARCEL]-({n})"),
        _rel("project.owner", "project", "enterprise", "({a})-[:OWNED_BY]->({n})", many=False),
        _rel("project.region", "project", "region", "({a})-[:LOCATED_IN]->({n})", many=False),
        _rel("project.segments", "project", "segment", "({a})-[:BUILDS_IN]->({n})"),
        _rel("project.parcels", "project", "parcel", "({a})-[:ON_PARCEL]->({n})"),
        _rel("project.sensors", "project", "sensor", "({a})<-[:MONITORS]-({n})"),
        _rel("bank.region", "bank", "region", "({a})-[:LOCATED_IN]->({n})", many=False),
        _rel("sensor.project", "sensor", "project", "({a})-[:MONITORS]->({n})", many=False),
    )
}


# --- the shape of one request ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    """Sort keys (name, descending) then the entity key ascending, which makes the order total.
    ``backward`` walks the same order from the end (``last``/``before``)."""

    keys: tuple[tuple[str, bool], ...]
    backward: bool = False

    @property
    def signature(self) -> str:
        return ",".join(f"{name}:{'desc' if desc else 'asc'}" for name, desc in self.keys)


def _sort_exprs(ns: NodeSet, order: Order, var: str) -> list[tuple[str, bool]]:
    """(expression, descending) per position, the entity key last, before reversal."""
    exprs = [(ns.sorts[name].expr(var, desc), desc) for name, desc in order.keys]
    exprs.append((f"{var}.{ns.key}", False))
    return exprs


def _order_by(ns: NodeSet, order: Order, var: str) -> str:
    parts = []
    for expr, desc in _sort_exprs(ns, order, var):
        effective = desc != order.backward
        parts.append(f"{expr} DESC" if effective else expr)
    return ", ".join(parts)


def _cursor_condition(
    ns: NodeSet, order: Order, var: str, exprs: Sequence[tuple[str, bool]] | None = None
) -> str:
    """Rows strictly after ``$cursor`` in the (possibly reversed) order (over ``exprs`` when
    given: the sort values already projected under names of their own)."""
    if exprs is None:
        exprs = _sort_exprs(ns, order, var)
    alternatives = []
    for i, (expr, desc) in enumerate(exprs):
        effective = desc != order.backward
        equal = [f"{e} = $cursor[{j}]" for j, (e, _) in enumerate(exprs[:i])]
        strict = f"{expr} {'<' if effective else '>'} $cursor[{i}]"
        alternatives.append("(" + " AND ".join([*equal, strict]) + ")")
    return "(" + " OR ".join(alternatives) + ")"


def _seek(ns: NodeSet, order: Order, dialect: Dialect) -> str | None:
    """A range on the leading sort property that every row after ``$cursor`` satisfies
    (inclusive, so ties stay; the cursor condition still decides), written on ``n.<prop>``
    itself so the planner starts the page from the property's range index at the cursor
    instead of reading every node of the label. None where no index range holds the rows:
    relevance, and a nullable date, whose missing values sort last and are in no range.

    Neo4j only. FalkorDB 4.22 reads a range from its index far slower than it scans the
    label, and does not use the index's order for ORDER BY: measured at hubei scale (11,287
    projects, by code), the page after row 50 took 324 ms with the seek against 18.5 ms
    scanning, after row 5,000 179 against 47 ms, after row 10,000 37 against 31 ms. Its
    ranges are also wrong in places (docs/architecture.md): an upper bound alone on a string
    gives every node, and a numeric index leaves out nodes whose value is 0.
    """
    if dialect is Dialect.FALKORDB:
        return None
    if order.keys:
        name, desc = order.keys[0]
        sort = ns.sorts[name]
        if not sort.prop or sort.nulls is not Nulls.NEVER:
            return None
        prop = sort.prop
    else:
        prop, desc = SPECS[ns.entity].key, False
    effective = desc != order.backward
    return f"n.{identifier(prop)} {'<=' if effective else '>='} $cursor[0]"


def properties_of(entity: str) -> frozenset[str]:
    """The properties a node of ``entity`` may have: its record's own and the derived ones."""
    spec = SPECS[entity]
    return frozenset((*spec.property_fields, *DERIVED_PROPERTIES.get(entity, ()), spec.key))


def _props(entity: str, var: str, fields: tuple[str, ...] | None) -> str:
    """``properties(var)``, or a map of just ``fields`` (a projection; names from the model,
    never from input)."""
    if fields is None:
        return f"properties({var})"
    unknown = set(fields) - properties_of(entity)
    if unknown:
        raise ValueError(f"{entity} has no properties {sorted(unknown)}")
    return "{" + ", ".join(f"{identifier(f)}: {var}.{identifier(f)}" for f in fields) + "}"


def _cursor_values(ns: NodeSet, order: Order, var: str) -> str:
    return "[" + ", ".join(e for e, _ in _sort_exprs(ns, order, var)) + "]"


def _condition(f: Filter, var: str, dialect: Dialect, param: str | None = None) -> str:
    prop = f"{var}.{identifier(f.prop)}" if f.prop else ""
    param = f"${param or f.param}"
    match f.op:
        case Op.EQ:
            return f"{prop} = {param}"
        case Op.IN:
            return f"{prop} IN {param}"
        case Op.MIN | Op.MAX:
            compare = ">=" if f.op is Op.MIN else "<="
            if dialect is Dialect.FALKORDB:
                # FalkorDB 4.22's range indexes are wrong on bounds: an upper bound alone on a
                # string property (an ISO date) returned every node (`planned_start <=
                # '2025-04-30'` gave 2025-07-01 too, issue 4), and a numeric index leaves
                # out the value 0 (`total_investment >= 0`, and even `>= -1`, missed a
                # project of 0.0; `<= 0` found none). Through a function the index is not
                # used; coalesce(x, null) keeps a missing value missing.
                return f"coalesce({prop}, null) {compare} {param}"
            return f"{prop} {compare} {param}"
        case Op.ANY:
            return f"any(v IN {param} WHERE v IN {prop})"
        case Op.ALL:
            return f"all(v IN {param} WHERE v IN {prop})"
        case Op.CONTAINS:
            return f"toLower({prop}) CONTAINS toLower({param})"
        case Op.AFTER_OR_MISSING:
            return f"({prop} IS NULL OR {prop} > {param})"
    raise ValueError(f"{f.op} is not a property condition")


def _anchor(f: Filter) -> str:
    spec = SPECS[f.anchor]
    return f"x_{f.name}:{identifier(spec.label)} {{{identifier(spec.key)}: ${f.param}}}"


def _term(ns: NodeSet, term: Term, prefix: str, var: str, dialect: Dialect) -> str:
    """One condition of an OR/NOT alternative: a related filter becomes a pattern predicate
    from its anchor to ``var`` (FalkorDB has neither EXISTS {} nor exists(pattern), and refuses a
    pattern comprehension in WHERE; a bare pattern both stores take), the others their usual
    condition."""
    if isinstance(term, Branch):
        return _branch(ns, term, var, dialect)
    f = ns.filters[term]
    param = f"f_{prefix}{f.name}"
    if f.op is Op.SEARCH:
        raise ValueError("search cannot be inside OR or NOT")
    if f.op is Op.RELATED:
        spec = SPECS[f.anchor]
        anchor = f":{identifier(spec.label)} {{{identifier(spec.key)}: ${param}}}"
        return f.path.format(x=anchor, n=var)
    return _condition(f, var, dialect, param)


def _branch(ns: NodeSet, branch: Branch, var: str, dialect: Dialect) -> str:
    parts = []
    for prefix, terms in branch.alternatives:
        conds = [_term(ns, t, prefix, var, dialect) for t in terms]
        parts.append("(" + " AND ".join(conds) + ")" if conds else "true")
    if branch.negated:
        return f"NOT {parts[0]}"
    # OR of no alternative matches nothing, as an empty disjunction.
    return "(" + " OR ".join(parts) + ")" if parts else "false"


def _branches(filters: Sequence[Term]) -> list[Branch]:
    return [t for t in filters if isinstance(t, Branch)]


def _distinct(active: Sequence[Filter], relation: Relation | None) -> bool:
    return any(f.distinct for f in active) or bool(relation and relation.distinct)


def _active(ns: NodeSet, names: Sequence[Term]) -> list[Filter]:
    # Related filters first, in table order, so the most selective anchor starts the match.
    chosen = [ns.filters[n] for n in names if isinstance(n, str)]
    return sorted(chosen, key=lambda f: (f.op is not Op.RELATED, list(ns.filters).index(f.name)))


def _match(
    ns: NodeSet,
    active: Sequence[Filter],
    relation: Relation | None,
    dialect: Dialect,
    branches: Sequence[Branch] = (),
    seek: str | None = None,
) -> tuple[list[str], str]:
    """Clauses that bind ``n`` to every matching node (maybe more than once, see ``_distinct``),
    and the variables they carry: ``key`` for nested lists, ``score`` for a search.

    The first clause starts from the most selective place (the parents' keys, the full-text
    index, or the first related filter's anchor); property conditions follow in a ``WITH ...
    WHERE`` of their own, which FalkorDB evaluates per row (attached to a multi-clause MATCH it
    took 17 ms instead of 1.6 ms); the remaining related filters then expand from ``n``."""
    labelled = f"n:{ns.label}"
    related = [f for f in active if f.op is Op.RELATED]
    searching = any(f.op is Op.SEARCH for f in active)
    if relation is not None:
        if searching:
            raise ValueError("search applies to top-level lists only")
        parent = NODE_SETS[relation.source]
        lines = [
            "UNWIND $keys AS key",
            f"MATCH (a:{parent.label} {{{parent.key}: key}})",
            "MATCH " + relation.path.format(a="a", n=labelled),
        ]
        carried = "key, n"
    elif searching:
        if ns.fulltext is None:
            raise ValueError(f"{ns.entity} has no full-text index")
        call = RULES[dialect].fulltext_call(ns.fulltext, "f_search")
        lines = [f"{call} YIELD node AS n, score"]
        carried = "n, score"
    elif related:
        first, related = related[0], related[1:]
        path = first.path.format(x=f"x_{first.name}", n=labelled)
        lines = [f"MATCH ({_anchor(first)})", f"MATCH {path}"]
        carried = "n"
    else:
        lines = [f"MATCH ({labelled})"]
        carried = "n"
    conds = [_condition(f, "n", dialect) for f in active if f.op not in (Op.RELATED, Op.SEARCH)]
    conds += [_branch(ns, b, "n", dialect) for b in branches]
    if seek is not None:
        # With the filters, on the node itself: both planners turn it into an index seek.
        conds.append(seek)
    if conds:
        lines.append(f"WITH {carried} WHERE " + " AND ".join(conds))
    for f in related:
        lines.append("MATCH " + f.path.format(x=_anchor(f), n="n"))
    return lines, carried


# Builders that take a projection are bounded caches: projections vary with what clients
# select. The others have one entry per shape.
_PROJECTED = 4096


@lru_cache(maxsize=_PROJECTED)
def page(
    entity: str,
    filters: tuple[Term, ...],
    order: Order,
    with_cursor: bool,
    dialect: Dialect,
    relation: str | None = None,
    fields: tuple[str, ...] | None = None,
    skip: bool = False,
) -> Statement:
    """One page: ``$limit`` rows after ``$cursor`` (when ``with_cursor``) in ``order``, the
    first ``$offset`` of them skipped when ``skip`` (top level only).

    Top level: rows ``props``, ``cursor``. Nested (``relation``): one row per parent ``key``
    with ``total`` (all matches, ignoring the cursor) and ``page`` (a list of {props, cursor}).
    ``props`` holds every property, or only ``fields`` when given.
    """
    ns = NODE_SETS[entity]
    rel = RELATIONS[relation] if relation else None
    active = _active(ns, filters)
    # A keyset page starts from the sort index at the cursor (top level: a nested page's rows
    # start from their parents).
    seek = _seek(ns, order, dialect) if with_cursor and rel is None else None
    lines, carried = _match(ns, active, rel, dialect, _branches(filters), seek)
    distinct = "DISTINCT " if _distinct(active, rel) else ""
    if skip and rel is not None:
        raise ValueError("offset applies to top-level lists only")
    skipping = " SKIP $offset" if skip else ""
    if rel is None and (dialect is Dialect.FALKORDB or seek is not None):
        # Neo4j, with a seek: the range on n.<prop> is the only condition on the node, so the
        # plan is one index seek from the cursor whose order serves ORDER BY (PartialTop: the
        # demo's page after row 100 by name read 54 entries instead of 825). Written on
        # n.<prop>, the cursor's OR became a union of two seeks, then a sort of every row after
        # the cursor.
        # FalkorDB: the sort values get names of their own before the cursor condition. Written on
        # n.<prop> directly, the condition makes FalkorDB scan the range index from the
        # cursor, which at 11,287 projects took 12.5 ms near the start of the list against
        # 2.4 ms for a label scan that filters and keeps the top rows (bench api, issue 3);
        # measured again for issue 28, see _seek.
        exprs = _sort_exprs(ns, order, "n")
        names = [(f"k{i}", desc) for i, (_, desc) in enumerate(exprs)]
        keys = ", ".join(k for k, _ in names)
        projected = ", ".join(f"{e} AS k{i}" for i, (e, _) in enumerate(exprs))
        cursor = f" WHERE {_cursor_condition(ns, order, 'n', names)}" if with_cursor else ""
        ordered = ", ".join(k if desc == order.backward else f"{k} DESC" for k, desc in names)
        lines += [
            f"WITH {distinct}{carried}, {projected}{cursor}",
            f"WITH {carried}, {keys} ORDER BY {ordered}{skipping} LIMIT $limit",
            f"RETURN {_props(entity, 'n', fields)} AS props, [{keys}] AS cursor",
        ]
        name = f"api.{entity}.page"
    elif rel is None:
        # Neo4j without a seek (no cursor, a nullable date, relevance): conditions on n.<prop>.
        cursor = f" WHERE {_cursor_condition(ns, order, 'n')}" if with_cursor else ""
        if distinct or cursor:
            lines.append(f"WITH {distinct}{carried}{cursor}")
        lines += [
            f"WITH {carried} ORDER BY {_order_by(ns, order, 'n')}{skipping} LIMIT $limit",
            f"RETURN {_props(entity, 'n', fields)} AS props, "
            f"{_cursor_values(ns, order, 'n')} AS cursor",
        ]
        name = f"api.{entity}.page"
    else:
        keep = f"[x IN ns WHERE {_cursor_condition(ns, order, 'x')}]" if with_cursor else "ns"
        lines += [
            f"WITH {distinct}key, n ORDER BY {_order_by(ns, order, 'n')}",
            "WITH key, collect(n) AS ns",
            "RETURN key, size(ns) AS total, "
            f"[x IN {keep}[0..$limit] | {{props: {_props(entity, 'x', fields)}, "
            f"cursor: {_cursor_values(ns, order, 'x')}}}] AS page",
        ]
        name = f"api.{relation}.page"
    return Statement(name, " ".join(lines))


# OR/NOT make the shapes as many as clients write: bounded like the projections.
@lru_cache(maxsize=_PROJECTED)
def count(
    entity: str, filters: tuple[Term, ...], dialect: Dialect, relation: str | None = None
) -> Statement:
    """``total`` matching rows; nested: one row per parent ``key`` that has any."""
    ns = NODE_SETS[entity]
    rel = RELATIONS[relation] if relation else None
    active = _active(ns, filters)
    lines, _ = _match(ns, active, rel, dialect, _branches(filters))
    counted = "count(DISTINCT n)" if _distinct(active, rel) else "count(n)"
    lines.append(f"RETURN key, {counted} AS total" if rel else f"RETURN {counted} AS total")
    return Statement(f"api.{relation or entity}.count", " ".join(lines))


def _stats(ns: NodeSet) -> str:
    parts = ["count(n) AS count"]
    for m in ns.measures:
        prop = f"n.{identifier(m)}"
        parts += [
            f"sum({prop}) AS {m}_sum",
            f"avg({prop}) AS {m}_avg",
            f"min({prop}) AS {m}_min",
            f"max({prop}) AS {m}_max",
        ]
    return ", ".join(parts)


@lru_cache(maxsize=_PROJECTED)
def aggregate(
    entity: str,
    filters: tuple[Term, ...],
    dialect: Dialect,
    group: str | None = None,
    relation: str | None = None,
) -> Statement:
    """Count and per-measure sum/avg/min/max over the matching rows, optionally per group
    (columns ``group_key``, ``group_label``); nested lists add the parent ``key``."""
    ns = NODE_SETS[entity]
    rel = RELATIONS[relation] if relation else None
    active = _active(ns, filters)
    lines, _ = _match(ns, active, rel, dialect, _branches(filters))
    carry = "key, " if rel else ""
    if _distinct(active, rel):
        lines.append(f"WITH DISTINCT {carry}n")
    if group is None:
        lines.append(f"RETURN {carry}{_stats(ns)}")
    else:
        g = ns.groups[group]
        if g.clause:
            lines.append(g.clause.format(n="n"))
        lines += [
            f"WITH {'DISTINCT ' if g.distinct else ''}{carry}{g.key.format(n='n')} AS group_key, "
            f"{g.label.format(n='n')} AS group_label, n",
            f"RETURN {carry}group_key, group_label, {_stats(ns)} ORDER BY {carry}group_key",
        ]
    name = f"api.{relation or entity}.aggregate" + (f".{group}" if group else "")
    return Statement(name, " ".join(lines))


@cache
def by_key(entity: str) -> Statement:
    """Nodes by key: rows ``key``, ``props``."""
    ns = NODE_SETS[entity]
    return Statement(
        f"api.{entity}.by_key",
        f"UNWIND $keys AS key MATCH (n:{ns.label} {{{ns.key}: key}}) "
        "RETURN key, properties(n) AS props",
    )


@lru_cache(maxsize=_PROJECTED)
def related_one(relation: str, fields: tuple[str, ...] | None = None) -> Statement:
    """The one node a to-one relation reaches from each parent: rows ``key``, ``props``
    (every property, or only ``fields``)."""
    rel = RELATIONS[relation]
    parent, target = NODE_SETS[rel.source], NODE_SETS[rel.target]
    path = rel.path.format(a="a", n=f"n:{target.label}")
    return Statement(
        f"api.{relation}",
        f"UNWIND $keys AS key MATCH (a:{parent.label} {{{parent.key}: key}}) MATCH {path} "
        f"RETURN key, {_props(rel.target, 'n', fields)} AS props",
    )


def default_order(entity: str, *, searching: bool = False) -> Order:
    ns = NODE_SETS[entity]
    if searching:
        return Order((("relevance", True),))
    return Order(((ns.default_sort, False),) if ns.default_sort != ns.key else ())


def catalog(dialect: Dialect) -> list[Statement]:
    """One statement of every shape, for linting. Directions and cursor sides only flip
    operators, so each sort appears once; every filter of a node set appears together in one
    statement (and, for full-text sets, once more with the search call)."""
    out: list[Statement] = []
    for entity, ns in NODE_SETS.items():
        plain = tuple(n for n, f in ns.filters.items() if f.op is not Op.SEARCH)
        shapes = [plain] + ([tuple(ns.filters)] if ns.fulltext else [])
        for filters in shapes:
            leading = True
            for sort in ns.sorts:
                if ns.sorts[sort].prop or "search" in filters:
                    order = Order(((sort, True),), backward=sort == ns.default_sort)
                    # Filters and sort are independent fragments (WHERE ... AND ..., then
                    # ORDER BY and the cursor's condition): every filter together with the
                    # first sort, the other sorts with only the search they may rank by. The
                    # Neo4j linter pays per character, and repeating every filter for each
                    # of a set's 20 sorts was most of its minute.
                    searched = tuple(f for f in filters if ns.filters[f].op is Op.SEARCH)
                    out.append(page(entity, filters if leading else searched, order, True, dialect))
                    leading = False
            out.append(count(entity, filters, dialect))
        out.append(page(entity, (), default_order(entity), False, dialect))
        out.append(aggregate(entity, plain, dialect))
        out += [aggregate(entity, (), dialect, g) for g in ns.groups]
        out.append(by_key(entity))
    for name, rel in RELATIONS.items():
        if not rel.many:
            out.append(related_one(name))
            continue
        ns = NODE_SETS[rel.target]
        plain = tuple(n for n, f in ns.filters.items() if f.op is not Op.SEARCH)
        order = Order(((next(iter(ns.sorts)), True),))
        out.append(page(rel.target, plain, order, True, dialect, name))
        out.append(count(rel.target, plain, dialect, name))
        out.append(aggregate(rel.target, (), dialect, None, name))
    out += [aggregate("project", (), dialect, "region", "region.projects")]
    # Projections only change the returned map: one of each builder.
    shown = ("code", "name")
    first = default_order("project")
    out.append(page("project", (), first, True, dialect, None, shown))
    out.append(page("project", (), first, True, dialect, "parcel.projects", shown))
    out.append(related_one("sensor.project", shown))
    # OR/NOT (every kind of condition in a branch, related ones as pattern predicates) and
    # offset: one statement each.
    ns = NODE_SETS["project"]
    plain = tuple(n for n, f in ns.filters.items() if f.op is not Op.SEARCH)
    tree = Branch(False, (("or0_", plain), ("or1_", (Branch(True, (("or1_not_", plain),)),))))
    out.append(page("project", ("region", tree), first, True, dialect))
    out.append(count("project", (tree,), dialect, "region.projects"))
    out.append(page("project", (), first, True, dialect, None, None, True))
    return list(dict.fromkeys(out))
