"""Generated reads over the compiled subset (hub.api.compiled), answered in compare mode: each
runs compiled and through the resolvers, and any difference is an INTERNAL error. Selections,
aliases, fragments, nested arguments, filters, sorts and pages are drawn from the schema and
the demo province's data, on both graph stores (60 examples each, derandomized)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from strawberry.schema.schema_converter import GraphQLCoreConverter

from graph_schema.statements.nested import WIDE
from graph_schema.store import GraphStore
from hub.api.lists import ToMany
from hub.api.paging import encode_global_id
from hub.api.schema import build_schema
from hub.app import create_app
from hub.demo import DemoData
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio

_SCHEMA = build_schema()
_GQL = _SCHEMA._schema
_SURFACE = _SCHEMA.surface
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
EXAMPLES = 60
# Parts of names in the demo province, for nameContains filters of nested lists.
NAME_PARTS = ("公司", "项目", "产业", "新", "电", "材料", "a")
ROOT_LISTS = {"projects": "Project", "enterprises": "Enterprise", "regions": "Region"}


def _leaves(type_name: str) -> list[str]:
    """The plain fields of a type: no resolver, no arguments, no permission (and id)."""
    type_ = _GQL.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    out = ["__typename"]
    for name, f in type_.fields.items():
        definition = f.extensions[_BACKREF]
        plain = definition.base_resolver is None or name == "id"
        leaf = isinstance(get_named_type(f.type), GraphQLScalarType | GraphQLEnumType)
        if plain and leaf and not f.args and not definition.permission_classes:
            out.append(name)
    return out


def _relations(type_name: str) -> list[str]:
    return sorted(name for t, name in _SURFACE.answering if t == type_name)


def _sort_values(type_name: str, field: str) -> list[str]:
    owner = _GQL.type_map[type_name]
    assert isinstance(owner, GraphQLObjectType)
    arg = owner.fields[field].args["sort"]
    sort_input = get_named_type(arg.type)
    assert isinstance(sort_input, GraphQLInputObjectType)
    enum = get_named_type(sort_input.fields["field"].type)
    assert isinstance(enum, GraphQLEnumType)
    return [v for v in enum.values if v != "RELEVANCE"]


@st.composite
def _selection(draw: st.DrawFn, type_name: str, depth: int, fragments: list[str]) -> str:
    """A selection on ``type_name``: leaves under aliases, related fields while ``depth``
    allows, some of it inside an inline or a named fragment."""
    leaves = _leaves(type_name)
    chosen = draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=5, unique=True))
    parts = []
    for name in chosen:
        alias = draw(st.sampled_from(["", f"a_{name.strip('_')}: "]))
        parts.append(alias + name)
    type_ = _GQL.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    if depth > 0:
        for rel in draw(st.lists(st.sampled_from(_relations(type_name)), max_size=2, unique=True)):
            target = get_named_type(type_.fields[rel].type)
            if target.name.endswith("Connection"):
                if depth < 2:
                    continue
                assert isinstance(target, GraphQLObjectType)
                item = get_named_type(target.fields["nodes"].type)
                size = draw(st.integers(0, 3))
                args = [f"first: {size}"] if draw(st.booleans()) else [f"last: {size}"]
                where_type = get_named_type(type_.fields[rel].args["where"].type)
                assert isinstance(where_type, GraphQLInputObjectType)
                if "nameContains" in where_type.fields and draw(st.booleans()):
                    text = st.sampled_from(NAME_PARTS)
                    args.append(
                        draw(
                            st.sampled_from(
                                [
                                    f'where: {{nameContains: "{draw(text)}"}}',
                                    f'where: {{NOT: {{nameContains: "{draw(text)}"}}}}',
                                    f'where: {{OR: [{{nameContains: "{draw(text)}"}}, '
                                    f'{{nameContains: "{draw(text)}"}}]}}',
                                ]
                            )
                        )
                    )
                sorts = _sort_values(type_name, rel)
                if draw(st.booleans()):
                    key = draw(st.sampled_from(sorts))
                    direction = draw(st.sampled_from(["ASC", "DESC"]))
                    args.append(f"sort: [{{field: {key}, direction: {direction}}}]")
                spec = _SURFACE.relation_fields[(type_name, rel)]
                wide = isinstance(spec, ToMany) and spec.relation_for(True) in WIDE
                # A wide relation's nodes stay with the resolvers; its count compiles.
                shapes = ["count"] if wide else ["nodes", "edges", "count", "info"]
                shape = draw(st.sampled_from(shapes))
                inner = "" if shape == "count" else draw(_selection(item.name, 0, fragments))
                body = {
                    "nodes": f"nodes {{ {inner} }}",
                    "edges": f"edges {{ cursor node {{ {inner} }} }}",
                    "count": "totalCount",
                    "info": f"totalCount pageInfo {{ hasNextPage hasPreviousPage "
                    f"startCursor endCursor }} nodes {{ {inner} }}",
                }[shape]
                parts.append(f"{rel}({', '.join(args)}) {{ {body} }}")
            else:
                inner = draw(_selection(target.name, depth - 1, fragments))
                parts.append(f"{rel} {{ {inner} }}")
    how = draw(st.sampled_from(["plain", "inline", "named"]))
    if how == "inline":
        return f"... on {type_name} {{ {' '.join(parts)} }}"
    if how == "named":
        name = f"F{len(fragments)}"
        fragments.append(f"fragment {name} on {type_name} {{ {' '.join(parts)} }}")
        return f"...{name}"
    return " ".join(parts)


def _operations(demo: DemoData) -> st.SearchStrategy[str]:
    cities = sorted(r.code for r in demo.region if r.level == "city")
    codes = sorted(p.code for p in demo.project)
    usccs = sorted(e.uscc for e in demo.enterprise)
    stages = ["PLANNING", "PREPARATION", "CONSTRUCTION", "COMPLETED", "SUSPENDED"]

    @st.composite
    def operation(draw: st.DrawFn) -> str:
        fragments: list[str] = []
        kind = draw(st.sampled_from(["list", "list", "lookup", "node"]))
        if kind == "list":
            root = draw(st.sampled_from(sorted(ROOT_LISTS)))
            type_name = ROOT_LISTS[root]
            args = [f"first: {draw(st.integers(0, 8))}"]
            where = []
            if root != "regions" and draw(st.booleans()):
                where.append(f'region: "{draw(st.sampled_from(cities))}"')
            if root == "projects" and draw(st.booleans()):
                picked = draw(st.lists(st.sampled_from(stages), min_size=1, unique=True))
                where.append(f"stage: [{', '.join(picked)}]")
            if where:
                args.append(f"where: {{{', '.join(where)}}}")
            if draw(st.booleans()):
                key = draw(st.sampled_from(_sort_values("Query", root)))
                direction = draw(st.sampled_from(["ASC", "DESC"]))
                args.append(f"sort: [{{field: {key}, direction: {direction}}}]")
            if draw(st.booleans()):
                args.append(f"offset: {draw(st.integers(0, 40))}")
            inner = draw(_selection(type_name, 2, fragments))
            body = draw(
                st.sampled_from(
                    [
                        f"nodes {{ {inner} }}",
                        f"totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} "
                        f"edges {{ cursor node {{ {inner} }} }}",
                    ]
                )
            )
            text = f"{root}({', '.join(args)}) {{ {body} }}"
        elif kind == "lookup":
            code = draw(st.sampled_from(codes))
            inner = draw(_selection("Project", 2, fragments))
            text = f'project(code: "{code}") {{ {inner} }}'
        else:
            uscc = draw(st.sampled_from(usccs))
            inner = draw(_selection("Enterprise", 2, fragments))
            node_id = encode_global_id("Enterprise", uscc)
            text = f'node(id: "{node_id}") {{ id ... on Enterprise {{ {inner} }} }}'
        alias = draw(st.sampled_from(["", "r: "]))
        return "query { " + alias + text + " } " + " ".join(fragments)

    return operation()


class _Said(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _listening() -> Iterator[_Said]:
    logger = logging.getLogger("hub.api.compiled.executor")
    said, level = _Said(), logger.level
    logger.addHandler(said)
    logger.setLevel(logging.DEBUG)
    try:
        yield said
    finally:
        logger.removeHandler(said)
        logger.setLevel(level)


def _drawn(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    """``count`` operations drawn by Hypothesis, deterministically. They are drawn first and
    then sent, since the API client lives in the test's event loop (Hypothesis would run an
    async test body in a loop of its own); a failure names its operation instead of shrinking."""
    found: list[str] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(operation: str) -> None:
        found.append(operation)

    collect()
    return found


async def test_compiled_and_resolvers_agree(demo_store: GraphStore, demo_data: DemoData) -> None:
    env = {
        **ANONYMOUS_VIEWER,
        "HUB_API_EXECUTION": "compare",
        "HUB_HTTP_RATE_PER_S": "100000",
        "HUB_HTTP_RATE_BURST": "1000000",
    }
    app = create_app(api_settings(env), store=demo_store)
    operations = _drawn(_operations(demo_data), EXAMPLES)
    assert len(set(operations)) > EXAMPLES // 2
    async with started(app) as http:
        for query in operations:
            with _listening() as said:
                response = await http.post("/graphql", json={"query": query})
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, (query, body)
            assert any("agrees" in m for m in said.messages), (query, said.messages)
