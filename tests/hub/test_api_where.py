"""OR and NOT in every ``where`` (issue 27 item 7), on both stores, checked against the demo
records: top level and nested lists, related filters inside OR/NOT, injection-style values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import graphql
import httpx
import pytest

from graph_schema.model import Enterprise, EnterpriseTag, Project, ProjectKind, ProjectStage
from graph_schema.store import GraphStore
from hub.api.cost import cost_rule
from hub.api.paging import MAX_OFFSET
from hub.api.schema import build_schema
from hub.app import create_app
from hub.demo import DemoData
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER
from tests.hub.test_api_reads import _within, gql, gql_errors

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(demo_store: GraphStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(ANONYMOUS_VIEWER), store=demo_store)
    async with started(app) as http:
        yield http


def _projects(demo_data: DemoData) -> list[Project]:
    return [p for p in demo_data.records("project") if isinstance(p, Project)]


async def _codes(client: httpx.AsyncClient, where: dict[str, Any]) -> tuple[int, list[str]]:
    """totalCount and every code of ``projects(where:)``, paged through."""
    query = """query($w: ProjectWhere, $after: String) {
        projects(where: $w, first: 100, after: $after) {
            totalCount nodes { code } pageInfo { hasNextPage endCursor } } }"""
    codes: list[str] = []
    after = None
    while True:
        page = (await gql(client, query, w=where, after=after))["projects"]
        codes += [n["code"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return page["totalCount"], codes
        after = page["pageInfo"]["endCursor"]


async def test_or_and_not_select_what_the_records_say(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    projects = _projects(demo_data)
    where = {
        "OR": [{"stage": ["CONSTRUCTION"]}, {"region": "330100", "kind": ["NEW"]}],
        "NOT": {"leaderProject": True},
    }
    expected = sorted(
        p.code
        for p in projects
        if (
            p.stage is ProjectStage.CONSTRUCTION
            or (_within(demo_data, "330100", p.region_code) and p.kind is ProjectKind.NEW)
        )
        and not p.leader_project
    )
    total, codes = await _codes(client, where)
    assert codes == expected and total == len(expected)
    assert 0 < total < len(projects)

    # Nested: NOT inside OR, with a range and a related filter (a pattern predicate).
    nested = {
        "OR": [
            {"NOT": {"region": "330100"}, "totalInvestment": {"min": 100000}},
            {"stage": ["PLANNING"]},
        ]
    }
    expected = sorted(
        p.code
        for p in projects
        if (not _within(demo_data, "330100", p.region_code) and p.total_investment >= 100000)
        or p.stage is ProjectStage.PLANNING
    )
    total, codes = await _codes(client, nested)
    assert codes == expected and total == len(expected) > 0

    # Beside a plain filter, OR narrows it; an empty OR matches nothing; NOT {} nothing too.
    total, _ = await _codes(client, {"region": "330100", "OR": [{"kind": ["NEW"]}]})
    assert total == sum(
        1
        for p in projects
        if _within(demo_data, "330100", p.region_code) and p.kind is ProjectKind.NEW
    )
    assert (await _codes(client, {"OR": []}))[0] == 0
    assert (await _codes(client, {"NOT": {}}))[0] == 0
    assert (await _codes(client, {"OR": [{}]}))[0] == len(projects)


async def test_or_reaches_aggregates_and_nested_lists(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    enterprises = [e for e in demo_data.records("enterprise") if isinstance(e, Enterprise)]
    where = {"OR": [{"tagsAny": ["LITTLE_GIANT"]}, {"employees": {"min": 2000}}]}
    query = """query($w: EnterpriseWhere) {
        enterprises(where: $w) { totalCount }
        regions(where: {codes: ["330100"]}) { nodes {
            enterprises(where: $w, first: 100) { totalCount nodes { uscc } } } } }"""
    data = await gql(client, query, w=where)

    def hit(e: Enterprise) -> bool:
        return EnterpriseTag.LITTLE_GIANT in e.tags or (e.employees or 0) >= 2000

    assert data["enterprises"]["totalCount"] == sum(1 for e in enterprises if hit(e))
    local = data["regions"]["nodes"][0]["enterprises"]
    expected = {
        e.uscc for e in enterprises if hit(e) and _within(demo_data, "330100", e.region_code)
    }
    assert local["totalCount"] == len(expected) > 0
    assert {n["uscc"] for n in local["nodes"]} <= expected

    aggregate = """query($w: ProjectWhere) { projects(where: $w) {
        aggregate { count totalInvestment { sum } } } }"""
    where = {"OR": [{"stage": ["COMPLETED"]}, {"stage": ["SUSPENDED"]}]}
    got = (await gql(client, aggregate, w=where))["projects"]["aggregate"]
    mine = [
        p
        for p in _projects(demo_data)
        if p.stage in (ProjectStage.COMPLETED, ProjectStage.SUSPENDED)
    ]
    assert got["count"] == len(mine)
    assert got["totalInvestment"]["sum"] == pytest.approx(sum(p.total_investment for p in mine))


INJECTIONS = [
    "') OR 1=1 //",
    "x'}) MATCH (n) DETACH DELETE n //",
    '" OR true OR "',
    "$f_region",
    "330100` OR true //",
]


@pytest.mark.parametrize("value", INJECTIONS)
async def test_values_inside_or_and_not_stay_values(
    client: httpx.AsyncClient, demo_data: DemoData, value: str
) -> None:
    projects = _projects(demo_data)
    where = {"OR": [{"nameContains": value}, {"region": value}], "NOT": {"nameContains": value}}
    assert await _codes(client, where) == (0, [])
    total, _ = await _codes(client, {"NOT": {"OR": [{"nameContains": value}, {"owner": value}]}})
    assert total == len(projects)


async def test_bad_or_and_not_are_bad_user_input(client: httpx.AsyncClient) -> None:
    deep: dict[str, Any] = {"stage": ["PLANNING"]}
    for _ in range(5):
        deep = {"NOT": deep}
    cases = [
        {"OR": [{"search": "产业园"}]},
        {"NOT": {"nameContains": "x" * 201}},
        deep,
        {"OR": [{"codes": [str(i)]} for i in range(51)]},
    ]
    query = "query($w: ProjectWhere) { projects(where: $w) { totalCount } }"
    for where in cases:
        errors = await gql_errors(client, query, w=where)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (where, errors)
    errors = await gql_errors(client, query, w=cases[0])
    assert "where.OR[0].search" in errors[0]["message"]


# --- offset for page-N tables ---------------------------------------------------------------


async def test_offset_pages_are_slices_of_the_whole_order(client: httpx.AsyncClient) -> None:
    whole = """{ projects(first: 100, sort: [{field: NAME}]) { nodes { code } } }"""
    codes = [n["code"] for n in (await gql(client, whole))["projects"]["nodes"]]
    query = """query($o: Int, $after: String) {
        projects(first: 10, offset: $o, after: $after, sort: [{field: NAME}]) {
            totalCount nodes { code } pageInfo { hasPreviousPage hasNextPage endCursor } } }"""
    page = (await gql(client, query, o=25))["projects"]
    assert [n["code"] for n in page["nodes"]] == codes[25:35]
    assert page["pageInfo"]["hasPreviousPage"] and page["pageInfo"]["hasNextPage"]
    assert page["totalCount"] > 35
    # After a cursor, the offset counts from the cursor on.
    after = (await gql(client, query, o=0))["projects"]["pageInfo"]["endCursor"]
    page = (await gql(client, query, o=5, after=after))["projects"]
    assert [n["code"] for n in page["nodes"]] == codes[15:25]
    first = (await gql(client, query, o=0))["projects"]
    assert not first["pageInfo"]["hasPreviousPage"]

    for bad in (
        "{ projects(last: 5, offset: 3) { nodes { code } } }",
        "{ projects(first: 5, offset: 10001) { nodes { code } } }",
        "{ projects(first: 5, offset: -1) { nodes { code } } }",
    ):
        errors = await gql_errors(client, bad)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (bad, errors)


def test_offset_is_priced_by_the_rows_it_skips() -> None:
    schema = build_schema()._schema

    def cheapest(document: str) -> int:
        parsed = graphql.parse(document)
        return next(
            limit
            for limit in range(1, 2000)
            if not graphql.validate(schema, parsed, [cost_rule(limit, 100)])
        )

    base = cheapest("{ projects(first: 10) { nodes { code } } }")
    assert cheapest("{ projects(first: 10, offset: 200) { nodes { code } } }") == base + 200 // 20
    assert cheapest("{ projects(first: 10, offset: 19) { nodes { code } } }") == base
    # A variable may hold the largest offset.
    variable = "query($o: Int) { projects(first: 10, offset: $o) { nodes { code } } }"
    assert cheapest(variable) == base + MAX_OFFSET // 20
