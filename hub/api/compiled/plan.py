"""The plan of a root field: what its selection asks of each object, decided once per
document, operation, role and variables' shape (``hub.api.compiled.executor`` caches it).

A root field compiles when everything it selects is a graph read whose answer does not depend
on anything but the stored properties and relations: plain fields of entity types (no resolver,
no permission class), ``id``, ``__typename``, the related fields of ``Surface.relation_fields``
that answer from the look-ahead (none has a permission class), and the fields of connections
(``nodes``, ``edges``, ``pageInfo``, ``totalCount``; ``aggregate`` and ``groups`` at the top
level). Anything else raises ``NotCompilable`` and the whole root field runs its resolvers.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from graphql.execution.values import VariableValues
from graphql.type import scalars
from strawberry.schema.schema_converter import GraphQLCoreConverter

from graph_schema.statements import reads
from hub.api import lists
from hub.api.lookahead import selected

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

CONNECTION_FIELDS = frozenset(
    {"nodes", "edges", "pageInfo", "totalCount", "__typename", "aggregate", "groups"}
)
PAGE_INFO_FIELDS = frozenset(
    {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
)


class NotCompilable(Exception):
    """The root field selects something the compiler does not cover: run its resolvers."""


Serialize = Callable[[Any], Any]


@dataclass(slots=True)
class Field:
    """One response key of an object: ``kind`` is leaf, id, typename, one or many."""

    key: str
    kind: str
    attr: str = ""
    serialize: Serialize | None = None
    nullable: bool = True
    node: FieldNode | None = None
    definition: GraphQLField | None = None
    spec: lists.ToOne | lists.ToMany | None = None
    target: ObjectPlan | ConnectionPlan | None = None
    text: bool = False  # a String or ID leaf: a plain str is its own response value


@dataclass(slots=True)
class ObjectPlan:
    """What a selection asks of objects of one entity type."""

    entity: str
    type_name: str
    fields: list[Field]
    projection: tuple[str, ...]


@dataclass(slots=True)
class ConnectionPlan:
    """What a selection asks of a connection: its keys in order, and one item plan (the
    compiler covers ``nodes`` or ``edges { node }``, not both with different selections)."""

    entity: str
    keys: list[tuple[str, str, Any]]  # (response key, connection field, sub-plan)
    selected: frozenset[str]
    item: ObjectPlan | None


@dataclass(slots=True)
class Root:
    """A root field: ``kind`` list (a top-level list), lookup (by key or id) or node."""

    kind: str
    entity: str
    field: GraphQLField
    node: FieldNode
    target: ObjectPlan | ConnectionPlan | None
    key_arg: str = ""
    # node(id:): the plan of each entity type an id has named so far (by GraphQL type name;
    # None: that type's selection does not compile).
    by_type: dict[str, ObjectPlan | None] = dataclasses.field(default_factory=dict)
    nodes: Sequence[FieldNode] = ()


@dataclass(frozen=True, slots=True)
class Request:
    """What planning reads of the running operation."""

    schema: GraphQLSchema
    surface: lists.Surface
    fragments: dict[str, FragmentDefinitionNode]
    variables: VariableValues


# --- selections -----------------------------------------------------------------------------


def grouped(
    request: Request, type_: GraphQLObjectType, parents: Iterable[FieldNode]
) -> dict[str, list[FieldNode]]:
    """Response key → the field nodes selected under it on ``type_``, in the order GraphQL
    answers them (fragments entered, ``@skip``/``@include`` honoured)."""
    found: dict[str, list[FieldNode]] = {}
    for sel in selected(request, type_, parents):
        key = sel.alias.value if sel.alias else sel.name.value
        found.setdefault(key, []).append(sel)
    return found


# --- serialization ----------------------------------------------------------------------------


def serializer(type_: GraphQLOutputType) -> Serialize:
    """What graphql-core's ``complete_value`` does to a leaf value of ``type_``."""
    if isinstance(type_, GraphQLNonNull):
        return serializer(type_.of_type)
    if isinstance(type_, GraphQLList):
        inner = serializer(type_.of_type)
        return lambda v: None if v is None else [inner(x) for x in v]
    if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
        serialize = type_.serialize
        return _fast(type_, serialize) or (lambda v: None if v is None else serialize(v))
    raise NotCompilable(f"{type_} is not a leaf")


def _is_text(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLScalarType) and (
        type_.serialize is scalars.serialize_string or type_.serialize is scalars.serialize_id
    )


_INF = float("inf")
_MISSING = object()


def _fast(type_: GraphQLScalarType | GraphQLEnumType, serialize: Serialize) -> Serialize | None:
    """A serializer that returns the values ``serialize`` returns unchanged without calling it
    (a plain ``str`` for String and ID, an ``int`` in Int's 32 bits, a finite ``float``, a
    ``bool``, a member of a Python enum: its GraphQL name, asked of ``serialize`` once here),
    and calls it for everything else."""

    def slow(v: Any) -> Any:
        return None if v is None else serialize(v)

    if serialize is scalars.serialize_string or serialize is scalars.serialize_id:
        return lambda v: v if type(v) is str else slow(v)
    if serialize is scalars.serialize_int:
        low, high = scalars.GRAPHQL_MIN_INT, scalars.GRAPHQL_MAX_INT
        return lambda v: v if type(v) is int and low <= v <= high else slow(v)
    if serialize is scalars.serialize_float:
        return lambda v: v if type(v) is float and -_INF < v < _INF else slow(v)
    if serialize is scalars.serialize_boolean:
        return lambda v: v if type(v) is bool else slow(v)
    wrapped = getattr(type_, "wrapped_cls", None)  # strawberry's enum type
    if isinstance(wrapped, type) and issubclass(wrapped, Enum):
        # Keyed by identity: members are singletons, and an Enum's __hash__ is a Python call.
        # A member serialize refuses is left out, so it is refused as before.
        names: dict[int, Any] = {}
        for member in wrapped:
            with contextlib.suppress(GraphQLError, ValueError):
                names[id(member)] = serialize(member)

        def enum(v: Any) -> Any:
            if type(v) is wrapped:
                found = names.get(id(v), _MISSING)
                if found is not _MISSING:
                    return found
            return slow(v)

        return enum
    return None


# --- objects and connections --------------------------------------------------------------------


def _field_def(type_: GraphQLObjectType, name: str) -> GraphQLField:
    found: GraphQLField | None = type_.fields.get(name)
    if found is None:
        raise NotCompilable(name)
    return found


def _unwrap_object(type_: GraphQLOutputType) -> GraphQLObjectType:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompilable(f"{named} is not an object type")
    return named


def object_plan(
    request: Request, type_: GraphQLObjectType, nodes: Sequence[FieldNode]
) -> ObjectPlan:
    surface = request.surface
    entity = surface.entity_of_type.get(type_.name)
    if entity is None:
        raise NotCompilable(f"{type_.name} is not an entity type")
    wanted = {reads.NODE_SETS[entity].key, *surface.built_from[entity]}
    fields: list[Field] = []
    for key, group in grouped(request, type_, nodes).items():
        node = group[0]
        name = node.name.value
        if name == "__typename":
            fields.append(Field(key, "typename", attr=type_.name))
            continue
        definition = _field_def(type_, name)
        strawberry_field = definition.extensions[_BACKREF]
        if strawberry_field.permission_classes:
            raise NotCompilable(f"{type_.name}.{name} has permissions")
        nullable = not isinstance(definition.type, GraphQLNonNull)
        spec = surface.relation_fields.get((type_.name, name))
        if spec is not None:
            if (type_.name, name) not in surface.answering:
                raise NotCompilable(f"{type_.name}.{name} does not answer ahead")
            target_type = _unwrap_object(definition.type)
            target: ObjectPlan | ConnectionPlan
            if isinstance(spec, lists.ToOne):
                target = object_plan(request, target_type, group)
                kind = "one"
            else:
                target = connection_plan(request, target_type, spec.entity, group, nested=True)
                kind = "many"
            fields.append(
                Field(
                    key,
                    kind,
                    nullable=nullable,
                    node=node,
                    definition=definition,
                    spec=spec,
                    target=target,
                )
            )
            continue
        if name == "id" and strawberry_field.base_resolver is not None:
            fields.append(Field(key, "id"))
            continue
        if strawberry_field.base_resolver is not None or node.arguments:
            raise NotCompilable(f"{type_.name}.{name} has a resolver")
        props = surface.reads.get((type_.name, name))
        if props is None:
            raise NotCompilable(f"{type_.name}.{name} reads unknown properties")
        wanted.update(props)
        attr = strawberry_field.python_name
        fields.append(
            Field(
                key,
                "leaf",
                attr=attr,
                serialize=serializer(definition.type),
                text=_is_text(definition.type),
            )
        )
    return ObjectPlan(entity, type_.name, fields, tuple(sorted(wanted)))


def connection_plan(
    request: Request,
    type_: GraphQLObjectType,
    entity: str,
    nodes: Sequence[FieldNode],
    *,
    nested: bool,
) -> ConnectionPlan:
    keys: list[tuple[str, str, Any]] = []
    items: list[tuple[GraphQLObjectType, list[FieldNode]]] = []
    for key, group in grouped(request, type_, nodes).items():
        name = group[0].name.value
        if name not in CONNECTION_FIELDS or (nested and name in ("aggregate", "groups")):
            raise NotCompilable(f"{type_.name}.{name}")
        sub: Any = None
        if name == "nodes":
            item_type = _unwrap_object(_field_def(type_, "nodes").type)
            items.append((item_type, group))
        elif name == "edges":
            edge_type = _unwrap_object(_field_def(type_, "edges").type)
            sub = []
            for edge_key, edge_group in grouped(request, edge_type, group).items():
                edge_field = edge_group[0].name.value
                if edge_field == "node":
                    items.append((_unwrap_object(_field_def(edge_type, "node").type), edge_group))
                elif edge_field not in ("cursor", "__typename"):
                    raise NotCompilable(f"{edge_type.name}.{edge_field}")
                sub.append((edge_key, edge_field, edge_type.name))
        elif name == "pageInfo":
            info_type = _unwrap_object(_field_def(type_, "pageInfo").type)
            sub = []
            for info_key, info_group in grouped(request, info_type, group).items():
                info_field = info_group[0].name.value
                if info_field not in PAGE_INFO_FIELDS:
                    raise NotCompilable(f"PageInfo.{info_field}")
                sub.append((info_key, info_field, info_type.name))
        elif name == "__typename":
            sub = type_.name
        elif name in ("aggregate", "groups"):
            sub = aggregate_plan(request, type_, name, group)
        keys.append((key, name, sub))
    item: ObjectPlan | None = None
    if items:
        item_type = items[0][0]
        if len(items) > 1:
            # nodes and edges { node } (or several of either): one plan must serve both.
            plans = [object_plan(request, t, g) for t, g in items]
            if any(_signature(p) != _signature(plans[0]) for p in plans[1:]):
                raise NotCompilable("nodes and edges select differently")
            item = plans[0]
        else:
            item = object_plan(request, item_type, items[0][1])
    selected = frozenset(name for _, name, _ in keys)
    return ConnectionPlan(entity, keys, selected, item)


def _signature(plan: ObjectPlan) -> Any:
    return [
        (
            f.key,
            f.kind,
            f.attr,
            f.node.arguments if f.node else None,
            _signature(f.target) if isinstance(f.target, ObjectPlan) else id(f.target),
        )
        for f in plan.fields
    ]


# --- aggregates ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Totals:
    """The response keys of an aggregate object: ``count``, ``__typename`` or an amount's
    ``Stats`` (its keys: sum, avg, min, max, __typename)."""

    origin: Any  # the aggregate's class (``Totals.of`` builds it from a row)
    keys: list[tuple[str, str, Serialize | None, list[tuple[str, str, Serialize | None]]]]


@dataclass(slots=True)
class AggregatePlan:
    """``aggregate`` (one row) or ``groups(by:, regionLevel:)`` (one row per group) of a
    top-level list."""

    kind: str  # aggregate | groups
    field: GraphQLField
    node: FieldNode
    group_type: GraphQLObjectType | None
    group_keys: list[tuple[str, str, Serialize | None]]  # (key, field name, serialize)
    totals: Totals | None


def _totals(request: Request, type_: GraphQLObjectType, nodes: Sequence[FieldNode]) -> Totals:
    keys: list[tuple[str, str, Serialize | None, list[tuple[str, str, Serialize | None]]]] = []
    for key, group in grouped(request, type_, nodes).items():
        name = group[0].name.value
        if name == "__typename":
            keys.append((key, "__typename", None, []))
            continue
        definition = _field_def(type_, name)
        attr = definition.extensions[_BACKREF].python_name
        if name == "count":
            keys.append((key, attr, serializer(definition.type), []))
            continue
        stats_type = _unwrap_object(definition.type)
        stats: list[tuple[str, str, Serialize | None]] = []
        for stat_key, stat_nodes in grouped(request, stats_type, group).items():
            stat = stat_nodes[0].name.value
            if stat == "__typename":
                stats.append((stat_key, "__typename", None))
            elif stat in ("sum", "avg", "min", "max"):
                stats.append((stat_key, stat, serializer(_field_def(stats_type, stat).type)))
            else:
                raise NotCompilable(f"{stats_type.name}.{stat}")
        keys.append((key, attr, None, stats))
    return Totals(type_.extensions[_BACKREF].origin, keys)


def aggregate_plan(
    request: Request, connection: GraphQLObjectType, name: str, group: list[FieldNode]
) -> AggregatePlan:
    definition = _field_def(connection, name)
    if definition.extensions[_BACKREF].permission_classes:
        raise NotCompilable("aggregate with permissions")
    target = _unwrap_object(definition.type)
    if name == "aggregate":
        return AggregatePlan(name, definition, group[0], None, [], _totals(request, target, group))
    group_keys: list[tuple[str, str, Serialize | None]] = []
    below: list[FieldNode] = []
    for key, nodes in grouped(request, target, group).items():
        field_name = nodes[0].name.value
        if field_name in ("key", "label"):
            group_keys.append((key, field_name, serializer(_field_def(target, field_name).type)))
        elif field_name in ("aggregate", "__typename"):
            group_keys.append((key, field_name, None))
            below += nodes if field_name == "aggregate" else []
        else:
            raise NotCompilable(f"{target.name}.{field_name}")
    if sum(1 for _, name_, _ in group_keys if name_ == "aggregate") > 1:
        raise NotCompilable("aggregate selected twice under groups")
    totals_type = _unwrap_object(_field_def(target, "aggregate").type)
    totals = _totals(request, totals_type, below) if below else None
    return AggregatePlan(name, definition, group[0], target, group_keys, totals)


# --- roots -------------------------------------------------------------------------------------


def node_plan(request: Request, root: Root, type_name: str) -> ObjectPlan:
    """The plan of ``node(id:)`` for an id of ``type_name`` (made once per type)."""
    if type_name not in root.by_type:
        type_ = request.schema.get_type(type_name)
        plan: ObjectPlan | None = None
        if isinstance(type_, GraphQLObjectType) and type_name in request.surface.entity_of_type:
            try:
                plan = object_plan(request, type_, root.nodes)
            except NotCompilable:
                plan = None
        root.by_type[type_name] = plan
    found = root.by_type[type_name]
    if found is None:
        raise NotCompilable(f"node of {type_name}")
    return found


def root_plan(request: Request, query: GraphQLObjectType, nodes: Sequence[FieldNode]) -> Root:
    node = nodes[0]
    name = node.name.value
    definition = _field_def(query, name)
    if definition.extensions[_BACKREF].permission_classes:
        raise NotCompilable(f"{name} has permissions")
    surface = request.surface
    returns = get_named_type(definition.type)
    assert isinstance(returns, GraphQLNamedType)
    connections = {cls.__name__: entity for entity, cls in surface.connections.items()}
    if returns.name in connections and isinstance(returns, GraphQLObjectType):
        resolver = definition.extensions[_BACKREF].base_resolver
        if not getattr(getattr(resolver, "wrapped_func", None), "compiled_as_page", False):
            # Its resolver does something of its own with the arguments (hub.api.aggregates.
            # top_list's does not): answering from the page statement could differ.
            raise NotCompilable(f"{name} has a resolver of its own")
        entity = connections[returns.name]
        plan = connection_plan(request, returns, entity, nodes, nested=False)
        return Root("list", entity, definition, node, plan)
    if name == "node" and list(definition.args) == ["id"]:
        return Root("node", "", definition, node, None, nodes=list(nodes))
    entity_name = surface.entity_of_type.get(returns.name)
    if entity_name is not None and isinstance(returns, GraphQLObjectType):
        keys = [a for a in definition.args if a != "id"]
        if "id" not in definition.args or len(keys) != 1:
            raise NotCompilable(f"{name} is not a lookup")
        target = object_plan(request, returns, nodes)
        return Root("lookup", entity_name, definition, node, target, key_arg=keys[0])
    raise NotCompilable(f"{name} is not a graph read")
