"""Resolving lists and related objects against the read statements of ``graph_schema.reads``.

Top-level lists run their page statement directly (one round trip, plus one for ``totalCount``
when asked). Lists and objects under a parent go through the request's batch loaders, so all
parents on a page share one round trip per field. A list asked only for ``totalCount`` runs a
count instead of fetching rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.types import Info

from graph_schema import reads
from graph_schema.errors import InvalidInput
from graph_schema.store import Row
from hub.api.context import Context
from hub.api.inputs import filters as where_filters
from hub.api.inputs import sort_keys
from hub.api.paging import decode_cursor, encode_cursor, window

# Entity name → its GraphQL object type; filled in by hub.api.types.
NODE_TYPES: dict[str, Any] = {}
# GraphQL type name → entity name, for global ids.
ENTITY_OF_TYPE: dict[str, str] = {}

T = TypeVar("T")

ITEM_FIELDS = frozenset({"edges", "nodes", "pageInfo"})


@dataclass(frozen=True, slots=True)
class Scope:
    """What a list is over: its entity, filters and, for nested lists, the parent."""

    entity: str
    filters: tuple[str, ...]
    params: dict[str, Any]
    relation: str | None = None
    parent: str | None = None


@dataclass(slots=True)
class Page:
    scope: Scope
    nodes: list[Any]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    total: Callable[[], Awaitable[int]]


def node_of(entity: str, props: dict[str, Any]) -> Any:
    return NODE_TYPES[entity].from_props(props)


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
    info: Info[Context, None],
    entity: str,
    where: Any,
    *,
    relation: str | None = None,
    parent: str | None = None,
) -> Scope:
    values = where_filters(where)
    if "search" in values:
        if relation is not None:
            raise InvalidInput("where.search: full-text search applies to top-level lists only")
        text = info.context.store.rules.fulltext_text(values["search"])
        if not text:
            raise InvalidInput("where.search: give at least one word")
        values["search"] = text
    names = tuple(sorted(values))
    return Scope(entity, names, {f"f_{k}": v for k, v in values.items()}, relation, parent)


async def page(
    info: Info[Context, None],
    entity: str,
    *,
    where: Any = None,
    sort: list[Any] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    relation: str | None = None,
    parent: str | None = None,
) -> Page:
    """One page of ``entity`` (under ``parent`` through ``relation`` when given)."""
    ctx = info.context
    scope = scope_of(info, entity, where, relation=relation, parent=parent)
    searching = "search" in scope.filters
    keys = sort_keys(sort) or reads.default_order(entity, searching=searching).keys
    if not searching and any(name == "relevance" for name, _ in keys):
        raise InvalidInput("sort: RELEVANCE needs where.search")
    win = window(first, after, last, before, ctx.max_page_size)
    order = reads.Order(keys, win.backward)
    signature = f"{entity}|{order.signature}"
    params: dict[str, Any] = {**scope.params, "limit": win.size + 1}
    if win.cursor is not None:
        argument = "before" if win.backward else "after"
        params["cursor"] = decode_cursor(win.cursor, signature, len(keys) + 1, argument)
    with_cursor = win.cursor is not None
    selected = wanted(info)
    dialect = ctx.store.dialect
    rows: list[Row] = []
    known_total: int | None = None
    if relation is None:
        if selected & ITEM_FIELDS and win.size > 0:
            statement = reads.page(entity, scope.filters, order, with_cursor, dialect)
            rows = await ctx.store.run(statement, params)
    elif selected & ITEM_FIELDS:
        assert parent is not None
        statement = reads.page(entity, scope.filters, order, with_cursor, dialect, relation)
        row = await ctx.loaders.one(statement, params, parent)
        rows, known_total = (row["page"], row["total"]) if row else ([], 0)
    elif "totalCount" in selected:
        assert parent is not None
        counted = await ctx.loaders.one(
            reads.count(entity, scope.filters, dialect, relation), scope.params, parent
        )
        known_total = counted["total"] if counted else 0

    has_more = len(rows) > win.size
    rows = rows[: win.size]
    if win.backward:
        rows.reverse()

    async def total() -> int:
        if known_total is not None:
            return known_total
        statement = reads.count(entity, scope.filters, dialect)
        found = await ctx.store.run(statement, scope.params)
        return int(found[0]["total"]) if found else 0

    factory = NODE_TYPES[entity]
    return Page(
        scope=scope,
        nodes=[factory.from_props(r["props"]) for r in rows],
        cursors=[encode_cursor(signature, list(r["cursor"])) for r in rows],
        # Relay: moving forward, more rows after the page; moving back, the cursor row itself.
        has_next=has_more if not win.backward else with_cursor,
        has_previous=has_more if win.backward else with_cursor,
        total=total,
    )


async def related[T](info: Info[Context, None], relation: str, key: str, cls: type[T]) -> T | None:
    """The one node a to-one relation reaches from ``key`` (batched across parents)."""
    row = await info.context.loaders.one(reads.related_one(relation), {}, key)
    if row is None:
        return None
    return _typed(node_of(reads.RELATIONS[relation].target, row["props"]), cls)


async def by_key[T](info: Info[Context, None], entity: str, key: str, cls: type[T]) -> T | None:
    """The node of ``entity`` with ``key`` (batched with other lookups of the same entity)."""
    row = await info.context.loaders.one(reads.by_key(entity), {}, key)
    return _typed(node_of(entity, row["props"]), cls) if row else None


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
