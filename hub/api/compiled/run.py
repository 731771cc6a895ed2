"""Running a planned root field: its arguments (validated exactly as the resolvers validate
them, through ``lists.plan_page``) become one statement and its parameters; the rows it returns
become the response value, shaped by the plan.

Scalars go through the GraphQL types' own ``serialize`` and objects through the entity types'
``from_props``, so every value is the one the resolvers would give; pages, cursors and
``pageInfo`` follow ``lists.assemble``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField
from graphql.execution.values import get_argument_values
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

from graph_schema.statements import nested, reads
from graph_schema.store import Row
from hub.api import lists
from hub.api.access import ROOT_FIELDS, may_read_type
from hub.api.compiled.plan import (
    AggregatePlan,
    ConnectionPlan,
    Field,
    NotCompilable,
    ObjectPlan,
    Request,
    Root,
    node_plan,
)
from hub.api.context import Context
from hub.api.paging import decode_global_id, encode_cursor, encode_global_id, key_of

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


@dataclass(slots=True)
class _Run:
    """One execution: the request, the parameters gathered so far, a counter for prefixes."""

    ctx: Context
    request: Request
    strawberry_schema: Any
    params: dict[str, Any] = field(default_factory=dict)
    counter: int = 0


def _kwargs(run: _Run, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
    args = get_argument_values(definition, node, run.request.variables)
    schema = run.strawberry_schema
    converted: dict[str, Any] = convert_arguments(
        args,
        definition.extensions[_BACKREF].arguments,
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )
    return converted


# --- levels: what the statement returns per object ---------------------------------------------


def _level(
    run: _Run, plan: ObjectPlan, first: int | None = None
) -> tuple[nested.Level, list[Callable[[Any, Any], Any]]]:
    """The statement level of ``plan`` and one producer per response key (object, row). A
    top-level row is a record whose columns are named ``c0``, ``c1``, ...; a nested one is a
    list whose columns start at index ``first``."""
    columns: list[nested.One | nested.Many] = []
    producers: list[Callable[[Any, Any], Any]] = []
    for f in plan.fields:
        producers.append(_producer(run, f, columns, first))
    level = nested.Level(plan.entity, plan.projection, tuple(columns))
    return level, producers


def _producer(
    run: _Run, f: Field, columns: list[nested.One | nested.Many], first: int | None
) -> Callable[[Any, Any], Any]:
    if f.kind == "leaf":
        attr, serialize = f.attr, f.serialize
        assert serialize is not None
        if f.text:  # most leaves: one call per value instead of two

            def text(obj: Any, row: Any) -> Any:
                value = getattr(obj, attr)
                return value if type(value) is str else serialize(value)

            return text
        return lambda obj, row: serialize(getattr(obj, attr))
    if f.kind == "id":
        return lambda obj, row: encode_global_id(type(obj).__name__, obj.node_key())
    if f.kind == "typename":
        name = f.attr
        return lambda obj, row: name
    column: str | int = f"c{len(columns)}" if first is None else first + len(columns)
    assert f.definition is not None and f.node is not None
    if f.kind == "one":
        assert isinstance(f.spec, lists.ToOne) and isinstance(f.target, ObjectPlan)
        one_level, producers = _level(run, f.target, 1)
        columns.append(nested.One(f.spec.relation, one_level))
        make = _objects(run, f.target, producers, positional=True)
        nullable = f.nullable

        def one(obj: Any, row: Any) -> Any:
            found = row[column]
            if found is None:
                if not nullable:
                    raise NotCompilable("a required link is missing")
                return None
            return make(found)

        return one
    assert isinstance(f.spec, lists.ToMany) and isinstance(f.target, ConnectionPlan)
    kwargs = _kwargs(run, f.definition, f.node)
    sub_regions = bool(kwargs.pop("include_sub_regions", True))
    relation = f.spec.relation_for(sub_regions)
    conn = f.target
    fields = conn.item.projection if conn.item else None
    page_plan = lists.plan_page(
        run.ctx, conn.entity, conn.selected, relation=relation, fields=fields, **kwargs
    )
    prefix = f"m{run.counter}_"
    run.counter += 1
    scope = page_plan.scope
    items = page_plan.statement is not None and not page_plan.counting
    if not nested.expressible(relation, scope.filters, run.ctx.store.dialect, items=items):
        raise NotCompilable(f"{relation} with these filters")
    run.params.update({prefix + k: v for k, v in scope.params.items()})
    keys = page_plan.signature.split("|", 1)[1]
    order = _order(keys, page_plan.backward)
    item_producers: list[Callable[[Any, Any], Any]] = []
    level: nested.Level | None = None
    if page_plan.statement is not None and not page_plan.counting:
        assert conn.item is not None or conn.selected & lists.ITEM_FIELDS
        if conn.item is not None:
            level, item_producers = _level(run, conn.item, 2)
        else:
            level = nested.Level(conn.entity, (reads.NODE_SETS[conn.entity].key,))
    columns.append(nested.Many(relation, scope.filters, order, prefix, level))
    distinct = reads.RELATIONS[relation].distinct or any(
        isinstance(t, str) and reads.NODE_SETS[conn.entity].filters[t].distinct
        for t in scope.filters
    )
    make_item = _objects(run, conn.item, item_producers, positional=True) if conn.item else None
    cursor = page_plan.params.get("cursor")
    key_prop = reads.NODE_SETS[conn.entity].key
    projection = level.fields if level is not None else None
    key_at = projection.index(key_prop) if projection is not None else -1

    def many(obj: Any, row: Any) -> Any:
        found = row[column]
        if page_plan.statement is None:
            return _connection(conn, page_plan, [], None, make_item)
        if page_plan.counting:
            total = len(set(found)) if distinct else int(found)
            return _connection(conn, page_plan, [], total, make_item)
        items = list(found)
        if distinct:
            seen: set[Any] = set()
            keyed = [(i[0][key_at] if key_at >= 0 else i[0][key_prop], i) for i in items]
            items = [i for k, i in keyed if k not in seen and not seen.add(k)]  # type: ignore[func-returns-value]
        ordered = _sorted(items, order, conn.entity)
        if cursor is not None:
            ordered = [i for i in ordered if _after(i[1], cursor, order, conn.entity)]
        rows = ordered[: page_plan.size + 1]
        return _connection(conn, page_plan, rows, len(items), make_item, positional=True)

    return many


def _order(signature: str, backward: bool) -> reads.Order:
    keys = tuple(
        (name, direction == "desc")
        for name, direction in (part.split(":") for part in signature.split(",") if part)
    )
    return reads.Order(keys, backward)


def _objects(
    run: _Run,
    plan: ObjectPlan,
    producers: list[Callable[[Any, Any], Any]],
    *,
    positional: bool = False,
) -> Callable[[Any], dict[str, Any]]:
    factory = run.request.surface.node_types[plan.entity].from_props
    keyed = list(zip((f.key for f in plan.fields), producers, strict=True))
    projection = plan.projection

    def make(row: Any) -> dict[str, Any]:
        values = row[0] if positional else row["props"]
        obj = factory(dict(zip(projection, values, strict=True)))
        return {key: produce(obj, row) for key, produce in keyed}

    return make


# --- nested order: reads.page's ORDER BY and cursor condition, in Python -----------------------


def _directions(order: reads.Order) -> list[bool]:
    """Per cursor position: whether it sorts descending in the walk (the key last)."""
    return [desc != order.backward for _, desc in order.keys] + [order.backward]


def _compare(a: Any, b: Any) -> int:
    # Cypher orders null after every value ascending (and so first descending).
    if a is None or b is None:
        return int(a is None) - int(b is None)
    return int(a > b) - int(a < b)


def _sorted(items: list[Any], order: reads.Order, entity: str) -> list[Any]:
    directions = _directions(order)

    def cmp(x: Any, y: Any) -> int:
        for a, b, desc in zip(x[1], y[1], directions, strict=True):
            c = _compare(a, b)
            if c:
                return -c if desc else c
        return 0

    return sorted(items, key=functools.cmp_to_key(cmp))


def _after(values: list[Any], cursor: list[Any], order: reads.Order, entity: str) -> bool:
    """reads._cursor_condition: strictly after ``cursor`` in the walk's order (a comparison
    with null holds for no row, as in Cypher)."""
    directions = _directions(order)
    for i, desc in enumerate(directions):
        if all(_eq(values[j], cursor[j]) for j in range(i)) and _strict(values[i], cursor[i], desc):
            return True
    return False


def _eq(a: Any, b: Any) -> bool:
    return a is not None and b is not None and _same_kind(a, b) and a == b


def _same_kind(a: Any, b: Any) -> bool:
    number = (int, float)
    return (isinstance(a, number) and isinstance(b, number)) or type(a) is type(b)


def _strict(a: Any, b: Any, desc: bool) -> bool:
    if a is None or b is None or not _same_kind(a, b):
        return False
    return bool(a < b) if desc else bool(a > b)


# --- connections ---------------------------------------------------------------------------------


def _connection(
    conn: ConnectionPlan,
    page_plan: lists.PagePlan,
    rows: list[Any],
    known_total: int | None,
    make_item: Callable[[Any], dict[str, Any]] | None,
    count: Callable[[], Any] | None = None,
    aggregates: dict[str, Any] | None = None,
    *,
    positional: bool = False,
) -> dict[str, Any]:
    """The connection's response value from its rows (``lists.assemble`` and ``Connection``)."""
    has_more = len(rows) > page_plan.size
    rows = rows[: page_plan.size]
    if page_plan.backward:
        rows.reverse()
    has_next = has_more if not page_plan.backward else page_plan.with_cursor
    has_previous = has_more if page_plan.backward else page_plan.with_cursor or page_plan.offset > 0
    items = [make_item(r) if make_item is not None else None for r in rows]
    cursors: list[str] | None = None

    def cursor_list() -> list[str]:
        nonlocal cursors
        if cursors is None:
            at: Any = 1 if positional else "cursor"
            cursors = [encode_cursor(page_plan.signature, r[at]) for r in rows]
        return cursors

    out: dict[str, Any] = {}
    for key, name, sub in conn.keys:
        if name == "nodes":
            out[key] = items
        elif name == "edges":
            edges = []
            for i, item in enumerate(items):
                edge: dict[str, Any] = {}
                for edge_key, edge_field, type_name in sub:
                    if edge_field == "node":
                        edge[edge_key] = item
                    elif edge_field == "cursor":
                        edge[edge_key] = cursor_list()[i]
                    else:
                        edge[edge_key] = type_name
                edges.append(edge)
            out[key] = edges
        elif name == "pageInfo":
            info: dict[str, Any] = {}
            for info_key, info_field, type_name in sub:
                if info_field == "hasNextPage":
                    info[info_key] = has_next
                elif info_field == "hasPreviousPage":
                    info[info_key] = has_previous
                elif info_field == "startCursor":
                    info[info_key] = cursor_list()[0] if rows else None
                elif info_field == "endCursor":
                    info[info_key] = cursor_list()[-1] if rows else None
                else:
                    info[info_key] = type_name
            out[key] = info
        elif name == "totalCount":
            out[key] = known_total
        elif name == "__typename":
            out[key] = sub
        else:
            assert aggregates is not None
            out[key] = aggregates[key]
    return out


# --- aggregates ---------------------------------------------------------------------------------


def _totals_value(plan: AggregatePlan, row: dict[str, Any] | None) -> dict[str, Any]:
    totals = plan.totals
    assert totals is not None
    obj = totals.origin.of(row)
    out: dict[str, Any] = {}
    for key, attr, serialize, stats in totals.keys:
        if attr == "__typename":
            out[key] = totals.origin.__name__
        elif serialize is not None:
            out[key] = serialize(getattr(obj, attr))
        else:
            value = getattr(obj, attr)
            out[key] = {
                k: ("Stats" if s == "__typename" else ser(getattr(value, s)))  # type: ignore[misc]
                for k, s, ser in stats
            }
    return out


async def _aggregate(run: _Run, plan: AggregatePlan, scope: lists.Scope) -> Any:
    ctx = run.ctx
    if plan.kind == "aggregate":
        statement = reads.aggregate(scope.entity, scope.filters, ctx.store.dialect)
        rows = await ctx.store.run(statement, scope.params)
        return _totals_value(plan, rows[0] if rows else None)
    kwargs = _kwargs(run, plan.field, plan.node)
    by = str(kwargs["by"].value)
    level = kwargs.get("region_level")
    extra = {"g_level": level.value} if by == "region" and level is not None else {}
    statement = reads.aggregate(scope.entity, scope.filters, ctx.store.dialect, by)
    rows = await ctx.store.run(statement, {**scope.params, **extra})
    assert plan.group_type is not None
    type_name = plan.group_type.name
    out = []
    for r in rows:
        group: dict[str, Any] = {}
        for key, name, serialize in plan.group_keys:
            if name == "key":
                assert serialize is not None
                group[key] = serialize(str(r["group_key"]))
            elif name == "label":
                assert serialize is not None
                group[key] = serialize(r["group_label"])
            elif name == "aggregate":
                group[key] = _totals_value(plan, r)
            else:
                group[key] = type_name
        out.append(group)
    return out


# --- roots --------------------------------------------------------------------------------------


async def run_root(ctx: Context, request: Request, strawberry_schema: Any, root: Root) -> Any:
    """The response value of a planned root field. Raises ``NotCompilable`` (or a hub error
    from validating its arguments) when the resolvers must answer instead."""
    run = _Run(ctx, request, strawberry_schema)
    if root.kind == "lookup":
        return await _lookup(run, root)
    if root.kind == "node":
        return await _node(run, root)
    return await _list(run, root)


async def _lookup(run: _Run, root: Root) -> Any:
    kwargs = _kwargs(run, root.field, root.node)
    global_id, key = kwargs.get("id"), kwargs.get(root.key_arg)
    if (global_id is None) == (key is None):
        raise NotCompilable("the resolver reports the missing or doubled argument")
    plan = root.target
    assert isinstance(plan, ObjectPlan)
    found = key_of(global_id, plan.type_name) if global_id is not None else key
    assert found is not None
    return await _object_by_key(run, plan, found)


async def _node(run: _Run, root: Root) -> Any:
    """``node(id:)`` of a graph entity, for a role that may read it (``schema._node``); every
    other case (another kind of node, a role confined or refused) runs the resolver."""
    kwargs = _kwargs(run, root.field, root.node)
    type_name, key = decode_global_id(kwargs["id"])
    role = run.ctx.role
    if role in ROOT_FIELDS or not may_read_type(role, type_name):
        raise NotCompilable("the resolver decides what this role may read")
    plan = node_plan(run.request, root, type_name)
    return await _object_by_key(run, plan, key)


async def _object_by_key(run: _Run, plan: ObjectPlan, key: str) -> Any:
    level, producers = _level(run, plan)
    statement = nested.extend(
        nested.lookup(plan.entity, plan.projection), level, run.ctx.store.dialect
    )
    rows = await run.ctx.store.run(statement, {**run.params, "key": key})
    if not rows:
        return None
    return _objects(run, plan, producers)(rows[0])


async def _list(run: _Run, root: Root) -> Any:
    conn = root.target
    assert isinstance(conn, ConnectionPlan)
    ctx = run.ctx
    kwargs = _kwargs(run, root.field, root.node)
    fields = conn.item.projection if conn.item else None
    page_plan = lists.plan_page(ctx, conn.entity, conn.selected, fields=fields, **kwargs)
    make_item = None
    rows: list[Row] = []
    if page_plan.statement is not None:
        statement = page_plan.statement
        if conn.item is not None:
            level, producers = _level(run, conn.item)
            statement = nested.extend(statement, level, ctx.store.dialect)
            make_item = _objects(run, conn.item, producers)
        rows = await ctx.store.run(statement, {**page_plan.params, **run.params})
    scope = page_plan.scope
    total: int | None = None
    if "totalCount" in conn.selected:
        counted = await ctx.store.run(
            reads.count(scope.entity, scope.filters, ctx.store.dialect), scope.params
        )
        total = int(counted[0]["total"]) if counted else 0
    aggregates: dict[str, Any] = {}
    for key, name, sub in conn.keys:
        if name in ("aggregate", "groups"):
            aggregates[key] = await _aggregate(run, sub, scope)
    return _connection(conn, page_plan, list(rows), total, make_item, aggregates=aggregates)
