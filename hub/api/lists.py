"""Resolving lists and related objects against the read statements of
``graph_schema.statements.reads``.

Top-level lists run their page statement directly (one round trip, plus one for ``totalCount``
when asked). Lists and objects under a parent are usually fetched ahead by
``hub.api.lookahead``; otherwise they go through the request's batch loaders, so all parents on
a page share one round trip per field. A list asked only for ``totalCount`` runs a count
instead of fetching rows.

``Surface`` says, once, which GraphQL type shows each entity and what every related field of
every type reaches; ``hub.api.schema`` assembles it and hangs it on the schema.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.types import Info

from graph_schema.cypher import Statement
from graph_schema.errors import InvalidInput
from graph_schema.statements import reads
from graph_schema.store import Row
from hub.api.context import Context
from hub.api.inputs import branches as where_branches
from hub.api.inputs import filters as where_filters
from hub.api.inputs import plain, sort_keys
from hub.api.paging import MAX_OFFSET, decode_cursor, encode_cursor, window

T = TypeVar("T")

ITEM_FIELDS = frozenset({"edges", "nodes", "pageInfo"})


@dataclass(frozen=True, slots=True)
class Scope:
    """What a list is over: its entity, filters and, for nested lists, the parent."""

    entity: str
    filters: tuple[reads.Term, ...]  # names, then the OR/NOT branches
    params: dict[str, Any]
    relation: str | None = None
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class ToOne:
    """A field reaching at most one node through ``relation``."""

    relation: str


@dataclass(frozen=True, slots=True)
class ToMany:
    """A connection field over ``entity`` reached through ``relation``; ``direct`` is the
    relation used instead when the client turns ``includeSubRegions`` off."""

    entity: str
    relation: str
    direct: str | None = None

    def relation_for(self, sub_regions: bool) -> str:
        return self.relation if sub_regions or self.direct is None else self.direct


RelationFields = Mapping[tuple[str, str], ToOne | ToMany]
FieldReads = Mapping[tuple[str, str], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Surface:
    """The schema's entity types as lists, the look-ahead and global ids see them.

    The type modules declare their parts as constants; ``hub.api.schema`` assembles them, and
    ``hub.api.lookahead.install`` adds what it derives from the built schema."""

    # Entity name → its GraphQL object type and its connection type.
    node_types: Mapping[str, Any]
    connections: Mapping[str, Any]
    # (GraphQL type name, GraphQL field name) → what the field reaches. Resolvers and the
    # look-ahead both read it.
    relation_fields: RelationFields
    # Entity → the properties ``from_props`` cannot do without; projections always include them.
    built_from: Mapping[str, tuple[str, ...]]
    # (GraphQL type name, field name) → properties a field with a resolver reads (besides the key).
    resolved_from: FieldReads
    # From the built schema (hub.api.lookahead.install): the properties each field of each
    # entity type reads, for every field known to read only those; the relation fields that
    # answer from the look-ahead.
    reads: FieldReads = field(default_factory=dict)
    answering: frozenset[tuple[str, str]] = frozenset()
    # GraphQL type name → entity name, for global ids.
    entity_of_type: Mapping[str, str] = field(init=False)

    def __post_init__(self) -> None:
        of_type = {cls.__name__: entity for entity, cls in self.node_types.items()}
        object.__setattr__(self, "entity_of_type", of_type)

    def node_of(self, entity: str, props: dict[str, Any]) -> Any:
        return self.node_types[entity].from_props(props)


@dataclass(frozen=True, slots=True)
class Part:
    """One entity's share of the ``Surface``, declared beside its GraphQL type: the type and its
    connection, the properties ``from_props`` cannot do without, what each related field
    reaches (GraphQL field name → relation) and what each field with a resolver reads."""

    entity: str
    node_type: Any
    connection: Any
    built_from: tuple[str, ...]
    relations: Mapping[str, ToOne | ToMany] = field(default_factory=dict)
    resolved_from: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def surface_from(parts: Sequence[Part]) -> Surface:
    """The surface of ``parts``; an entity declared twice is a mistake caught here."""
    entities = [part.entity for part in parts]
    twice = sorted({e for e in entities if entities.count(e) > 1})
    if twice:
        raise ValueError(f"entities declared twice: {twice}")
    return Surface(
        node_types={p.entity: p.node_type for p in parts},
        connections={p.entity: p.connection for p in parts},
        relation_fields={
            (p.node_type.__name__, name): spec for p in parts for name, spec in p.relations.items()
        },
        built_from={p.entity: p.built_from for p in parts},
        resolved_from={
            (p.node_type.__name__, name): props
            for p in parts
            for name, props in p.resolved_from.items()
        },
    )


class SurfaceSchema(strawberry.Schema):
    """A schema that carries its ``Surface`` (set by ``hub.api.schema.build_schema``)."""

    surface: Surface


def surface_of(info: Info[Context, None]) -> Surface:
    """The surface of the schema running the request."""
    return cast(SurfaceSchema, info.schema).surface


@dataclass(slots=True)
class Page:
    """One page of a list. Cursors are encoded only when a client asks for them."""

    scope: Scope
    nodes: list[Any]
    cursor_values: list[list[Any]]
    signature: str
    has_next: bool
    has_previous: bool
    known_total: int | None
    count: Callable[[], Awaitable[int]]

    def cursor(self, index: int) -> str:
        return encode_cursor(self.signature, self.cursor_values[index])

    def total(self) -> int | Awaitable[int]:
        """How many nodes match across all pages: known already, or counted now."""
        return self.known_total if self.known_total is not None else self.count()


@dataclass(frozen=True, slots=True)
class PagePlan:
    """Everything one list request needs but its rows: the scope, order and slice, and the
    statement that fetches them (``None`` when the selection needs no rows).

    Nested plans hold no parent: one plan serves every parent on a page."""

    scope: Scope
    signature: str
    size: int
    backward: bool
    with_cursor: bool
    statement: Statement | None
    params: dict[str, Any]
    counting: bool  # nested only: ``statement`` counts, no rows asked for
    offset: int = 0  # top level only: rows skipped before the page


def node_of(info: Info[Context, None], entity: str, props: dict[str, Any]) -> Any:
    """The GraphQL object of ``entity`` built from its node's properties."""
    return surface_of(info).node_of(entity, props)


def wanted(info: Info[Context, None]) -> frozenset[str]:
    """Names of the sub-fields the client selected on the current field (fragments included)."""
    raw = info._raw_info
    node = raw.field_nodes[0]
    memo = info.context.selections
    found = memo.get(id(node))
    if found is None:
        names: set[str] = set()

        def walk(selection_set: SelectionSetNode | None) -> None:
            for sel in selection_set.selections if selection_set else ():
                if isinstance(sel, FieldNode):
                    names.add(sel.name.value)
                elif isinstance(sel, InlineFragmentNode):
                    walk(sel.selection_set)
                elif isinstance(sel, FragmentSpreadNode):
                    walk(raw.fragments[sel.name.value].selection_set)

        for field_node in raw.field_nodes:
            walk(field_node.selection_set)
        found = memo[id(node)] = frozenset(names)
    return found


def scope_of(
    ctx: Context,
    entity: str,
    where: Any,
    *,
    relation: str | None = None,
    parent: str | None = None,
    fixed: dict[str, Any] | None = None,
) -> Scope:
    """The list's filters: the client's ``where`` and the ``fixed`` ones of a drill-down (filter
    name → value), which the client may narrow but not change."""
    anchors = {
        name: f.anchor
        for name, f in reads.NODE_SETS[entity].filters.items()
        if f.op is reads.Op.RELATED
    }
    values = where_filters(where, "where", anchors)
    if fixed:
        clash = sorted(set(values) & set(fixed))
        if clash:
            raise InvalidInput(f"where: {', '.join(clash)} is fixed by this list")
        values.update({name: plain(value) for name, value in fixed.items()})
    if "search" in values:
        if relation is not None:
            raise InvalidInput("where.search: full-text search applies to top-level lists only")
        text = ctx.store.rules.fulltext_text(values["search"])
        if not text:
            raise InvalidInput("where.search: give at least one word")
        values["search"] = text
    either, params = where_branches(where, anchors)
    names: tuple[reads.Term, ...] = (*sorted(values), *either)
    params.update({f"f_{k}": v for k, v in values.items()})
    return Scope(entity, names, params, relation, parent)


def plan_page(
    ctx: Context,
    entity: str,
    selected: frozenset[str],
    *,
    where: Any = None,
    sort: list[Any] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    relation: str | None = None,
    fields: tuple[str, ...] | None = None,
    fixed: dict[str, Any] | None = None,
    offset: int | None = None,
) -> PagePlan:
    """The plan of one page of ``entity`` (under parents through ``relation`` when given);
    ``selected`` names the connection's sub-fields the client asked for, ``fields`` the
    properties to fetch (all when ``None``), ``fixed`` filters the client may not change."""
    scope = scope_of(ctx, entity, where, relation=relation, fixed=fixed)
    searching = "search" in scope.filters
    keys = sort_keys(sort) or reads.default_order(entity, searching=searching).keys
    if not searching and any(name == "relevance" for name, _ in keys):
        raise InvalidInput("sort: RELEVANCE needs where.search")
    win = window(first, after, last, before, ctx.max_page_size)
    skip = offset or 0
    if offset is not None and not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset: must be between 0 and {MAX_OFFSET}")
    if skip and win.backward:
        raise InvalidInput("offset: pages forward only (first/after), not with last/before")
    order = reads.Order(keys, win.backward)
    signature = f"{entity}|{order.signature}"
    params: dict[str, Any] = {**scope.params, "limit": win.size + 1}
    if skip:
        params["offset"] = skip
    if win.cursor is not None:
        argument = "before" if win.backward else "after"
        params["cursor"] = decode_cursor(win.cursor, signature, len(keys) + 1, argument)
    with_cursor = win.cursor is not None
    dialect = ctx.store.dialect
    statement: Statement | None = None
    counting = False
    if relation is None:
        if selected & ITEM_FIELDS and win.size > 0:
            statement = reads.page(
                entity, scope.filters, order, with_cursor, dialect, None, fields, bool(skip)
            )
    elif selected & ITEM_FIELDS:
        statement = reads.page(entity, scope.filters, order, with_cursor, dialect, relation, fields)
    elif "totalCount" in selected:
        statement = reads.count(entity, scope.filters, dialect, relation)
        params = dict(scope.params)
        counting = True
    return PagePlan(
        scope, signature, win.size, win.backward, with_cursor, statement, params, counting, skip
    )


def assemble(
    ctx: Context,
    surface: Surface,
    plan: PagePlan,
    rows: list[Row],
    known_total: int | None = None,
    parent: str | None = None,
) -> Page:
    """The page from the rows its statement returned (top level: the rows; nested: the
    parent's ``page``, with ``known_total``)."""
    has_more = len(rows) > plan.size
    rows = rows[: plan.size]
    if plan.backward:
        rows.reverse()
    scope = plan.scope if parent is None else replace(plan.scope, parent=parent)

    async def count() -> int:
        statement = reads.count(scope.entity, scope.filters, ctx.store.dialect)
        found = await ctx.store.run(statement, scope.params)
        return int(found[0]["total"]) if found else 0

    factory = surface.node_types[scope.entity]
    return Page(
        scope=scope,
        nodes=[factory.from_props(r["props"]) for r in rows],
        cursor_values=[r["cursor"] for r in rows],
        signature=plan.signature,
        # Relay: moving forward, more rows after the page; moving back, the cursor row itself.
        has_next=has_more if not plan.backward else plan.with_cursor,
        has_previous=has_more if plan.backward else plan.with_cursor or plan.offset > 0,
        known_total=known_total,
        count=count,
    )


def nested_page(
    ctx: Context, surface: Surface, plan: PagePlan, parent: str, row: Row | None
) -> Page:
    """A parent's page from its row of a nested plan's statement (``None``: no row, so no
    matches)."""
    if plan.statement is None:
        return assemble(ctx, surface, plan, [], None, parent)
    if plan.counting:
        return assemble(ctx, surface, plan, [], int(row["total"]) if row else 0, parent)
    if row is None:
        return assemble(ctx, surface, plan, [], 0, parent)
    return assemble(ctx, surface, plan, list(row["page"]), int(row["total"]), parent)


async def page(
    info: Info[Context, None],
    entity: str,
    *,
    relation: str | None = None,
    parent: str | None = None,
    fields: tuple[str, ...] | None = None,
    **args: Any,
) -> Page:
    """One page of ``entity`` (under ``parent`` through ``relation`` when given): top-level
    lists run their statement directly, nested ones through the request's batch loader.
    ``fields``: the properties to fetch (all when ``None``)."""
    ctx = info.context
    plan = plan_page(ctx, entity, wanted(info), relation=relation, fields=fields, **args)
    if relation is None:
        rows = await ctx.store.run(plan.statement, plan.params) if plan.statement else []
        return assemble(ctx, surface_of(info), plan, rows)
    assert parent is not None
    row = None
    if plan.statement is not None:
        row = await ctx.loaders.one(plan.statement, plan.params, parent)
    return nested_page(ctx, surface_of(info), plan, parent, row)


def _spec(info: Info[Context, None]) -> ToOne | ToMany:
    raw = info._raw_info
    return surface_of(info).relation_fields[(raw.parent_type.name, raw.field_name)]


async def to_one[T](info: Info[Context, None], source: Any, cls: type[T]) -> T | None:
    """The resolver of a to-one field of ``Surface.relation_fields``."""
    spec = _spec(info)
    assert isinstance(spec, ToOne)
    return await related(info, spec.relation, source.node_key(), cls)


async def required_one[T](info: Info[Context, None], source: Any, cls: type[T]) -> T:
    """The resolver of a to-one field the model requires (non-null in the schema): the writer
    refuses a record without it and a delete that would take it away, so a missing one is
    the hub's fault (INTERNAL), not an answer."""
    found = await to_one(info, source, cls)
    if found is None:
        spec = _spec(info)
        raise RuntimeError(f"{source.node_key()!r} has lost its {spec.relation} link")
    return found


async def to_many(
    info: Info[Context, None], source: Any, *, sub_regions: bool = True, **args: Any
) -> Page:
    """The resolver of a connection field of ``Surface.relation_fields``."""
    spec = _spec(info)
    assert isinstance(spec, ToMany)
    relation = spec.relation_for(sub_regions)
    return await page(info, spec.entity, relation=relation, parent=source.node_key(), **args)


async def related_connection(info: Info[Context, None], source: Any, **args: Any) -> Any:
    """The resolver of a connection field of ``Surface.relation_fields`` for a type that names
    the connection lazily: the page wrapped in the target entity's connection type."""
    spec = _spec(info)
    assert isinstance(spec, ToMany)
    page = await to_many(info, source, **args)
    return surface_of(info).connections[spec.entity].of(page)


async def related[T](info: Info[Context, None], relation: str, key: str, cls: type[T]) -> T | None:
    """The one node a to-one relation reaches from ``key`` (batched across parents)."""
    row = await info.context.loaders.one(reads.related_one(relation), {}, key)
    if row is None:
        return None
    return _typed(node_of(info, reads.RELATIONS[relation].target, row["props"]), cls)


async def by_key[T](info: Info[Context, None], entity: str, key: str, cls: type[T]) -> T | None:
    """The node of ``entity`` with ``key`` (batched with other lookups of the same entity)."""
    row = await info.context.loaders.one(reads.by_key(entity), {}, key)
    return _typed(node_of(info, entity, row["props"]), cls) if row else None


def _typed[T](node: Any, cls: type[T]) -> T:
    if not isinstance(node, cls):
        raise TypeError(f"{type(node).__name__} is not a {cls.__name__}")
    return node


async def aggregate_rows(
    info: Info[Context, None], scope: Scope, group: str | None = None, **extra: Any
) -> list[Row]:
    """Aggregate rows for a list's scope (one row, or one per group)."""
    ctx = info.context
    statement = reads.aggregate(
        scope.entity, scope.filters, ctx.store.dialect, group, scope.relation
    )
    params = {**scope.params, **extra}
    if scope.relation is None:
        return await ctx.store.run(statement, params)
    assert scope.parent is not None
    return await ctx.loaders.rows(statement, params).load(scope.parent)
