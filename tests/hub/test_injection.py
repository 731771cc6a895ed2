"""Every string argument of every root query and mutation, tried with Cypher-injection payloads
and an oversized string, as an admin on a real embedded FalkorDB holding the demo province.

Operations are generated from the schema itself (required arguments filled with valid values of
their type, every String/ID argument and input field set to the payload), so a field added
later is covered without touching this file. The hub must answer each with data or a coded
error, never INTERNAL or HTTP 500, and the graph must still hold everything it held.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    get_named_type,
)

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.statements.entities import COUNT_NODES
from graph_schema.store import GraphStore
from hub.api.schema import build_schema
from hub.app import create_app
from hub.roles import Role
from tests.graphs import GRAPH_STORES
from tests.hub.apps import api_settings, started
from tests.hub.keys import key_headers

pytestmark = pytest.mark.anyio

PAYLOADS = [
    "x' }) MATCH (n) DETACH DELETE n //",
    '"}) WITH 1 AS x MATCH (n) DETACH DELETE n RETURN 1 //',
    "330100` OR 1=1 CALL db.labels() YIELD label RETURN label //",
    "\\u0000\x00$keys{}[]",
    "长" * 30_000,  # oversized: 90 kB of UTF-8 in one value, under the body limit
]
SCHEMA = build_schema()._schema
# Scalars other than String/ID need a valid literal of their own.
SCALAR_VALUES: dict[str, Any] = {
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "Date": "2025-06-30",
    "DateTime": "2025-06-30T00:00:00+08:00",
    "Period": "2025-06",
    "JSON": {},
}


def _value(type_: GraphQLInputType, payload: str, depth: int = 0) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _value(type_.of_type, payload, depth)
    if isinstance(type_, GraphQLList):
        return [_value(type_.of_type, payload, depth)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        fields = type_.fields.items()
        return {
            name: _value(f.type, payload, depth + 1)
            for name, f in fields
            if depth < 2 and (isinstance(f.type, GraphQLNonNull) or _is_text(f.type))
        }
    assert isinstance(type_, GraphQLScalarType)
    if type_.name in ("String", "ID"):
        return payload
    return SCALAR_VALUES[type_.name]


def _is_text(type_: GraphQLInputType) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLScalarType) and named.name in ("String", "ID")


def _takes_text(arg: GraphQLArgument) -> bool:
    named = get_named_type(arg.type)
    return _is_text(arg.type) or isinstance(named, GraphQLInputObjectType)


def _operation(
    kind: str, name: str, field: GraphQLField, payload: str, *, text_only: bool = True
) -> dict[str, Any] | None:
    """An operation calling one root field with every required and every text argument set;
    ``None`` when ``text_only`` and the field takes no text."""
    args = {
        a: _value(arg.type, payload)
        for a, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) or _takes_text(arg)
    }
    if text_only and not any(_takes_text(arg) for arg in field.args.values()):
        return None
    declared = ", ".join(f"${a}: {field.args[a].type}" for a in args)
    passed = ", ".join(f"{a}: ${a}" for a in args)
    named = get_named_type(field.type)
    composite = GraphQLObjectType | GraphQLUnionType | GraphQLInterfaceType
    selection = " { __typename }" if isinstance(named, composite) else ""
    head = f"{kind} ({declared})" if declared else kind
    call = f"{name}({passed})" if passed else name
    return {"query": f"{head} {{ {call}{selection} }}", "variables": args}


def _cases() -> list[tuple[str, str]]:
    cases = []
    for kind, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            if _operation(kind, name, field, "x") is not None:
                cases.append((kind, name))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
async def falkordb_province(demo_template: FalkorDBStore) -> AsyncIterator[FalkorDBStore]:
    async with demo_template.snapshot() as graph:
        yield graph


@pytest.fixture(scope="module")
def neo4j_province(neo4j_writable: GraphStore) -> GraphStore:
    return neo4j_writable  # a server of the module's own on a copy of the demo (conftest.py)


@pytest.fixture(scope="module", params=GRAPH_STORES)
def province(request: pytest.FixtureRequest) -> GraphStore:
    """The demo province the payloads are thrown at, on each store (written to)."""
    graph: GraphStore = request.getfixturevalue(f"{request.param}_province")
    return graph


@pytest.fixture(scope="module")
async def admin(province: GraphStore) -> AsyncIterator[httpx.AsyncClient]:
    """One app and one admin key for every case: each case's own work is its five requests."""
    app = create_app(api_settings({}), store=province)
    headers = await key_headers(province, Role.ADMIN)
    async with started(app, headers=headers) as client:
        yield client


async def node_counts(store: GraphStore) -> dict[str, int]:
    # Nodes only: counting the demo's ~90,000 relationships by type would cost a second a case.
    return {row["label"]: int(row["count"]) for row in await store.run(COUNT_NODES)}


def test_the_generator_covers_queries_and_mutations() -> None:
    kinds = {kind for kind, _ in CASES}
    assert kinds == {"query", "mutation"} and len(CASES) > 40


@pytest.mark.parametrize(("kind", "name"), CASES)
async def test_no_payload_breaks_a_field_or_the_graph(
    province: GraphStore, admin: httpx.AsyncClient, kind: str, name: str
) -> None:
    nodes_before = await node_counts(province)
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    for payload in PAYLOADS:
        operation = _operation(kind, name, root.fields[name], payload)
        assert operation is not None
        response = await admin.post("/graphql", json=operation)
        assert response.status_code != 500, response.text[:500]
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        assert "INTERNAL" not in codes, json.dumps(body, ensure_ascii=False)[:1000]
        assert all(codes), body
    nodes_after = await node_counts(province)
    # Upserts may add nodes (with the payload as a literal value); nothing may disappear.
    for label, count in nodes_before.items():
        assert nodes_after.get(label, 0) >= count, (label, count, nodes_after.get(label))
