"""Compiled reads (hub.api.compiled): the root fields they cover answer from one statement,
and the answer is the resolvers' (the suite's API tests run in compare mode; these check that
the reads of issue 28 really compile and agree, on both graph stores)."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.dialect import Dialect
from graph_schema.errors import ConfigurationError
from graph_schema.store import GraphStore
from hub.api.paging import encode_global_id
from hub.app import create_app
from hub.demo import DemoData
from hub.settings import ExecutionMode, load_settings
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER

pytestmark = pytest.mark.anyio

CITY_PAGE = """
query City($region: String!, $after: String) {
  projects(first: 50, after: $after, where: {region: $region},
           sort: [{field: TOTAL_INVESTMENT, direction: DESC}]) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id code name stage totalInvestment plannedStart
      owner { uscc name tags } region { code name }
      segments { totalCount nodes { segmentId name tier } } } }
  }
}"""

BY_CODE = """
query One($code: String!) {
  project(code: $code) { __typename id code name stage kind level leaderProject
    totalInvestment annualPlanInvestment completedInvestment plannedStart plannedEnd
    actualStart actualEnd permitDate owner { name } region { code name parent { code } } }
}"""

ENTERPRISE = """
query Ent($uscc: String!) {
  enterprise(uscc: $uscc) { uscc name
    projects(first: 20) { totalCount pageInfo { hasNextPage endCursor }
      nodes { code name stage totalInvestment } } }
}"""

BY_STAGE = """
query Stages($region: String!) {
  projects(where: {region: $region}) {
    aggregate { count totalInvestment { sum avg min max } }
    groups(by: STAGE) { key label aggregate { count totalInvestment { sum } } }
  }
}"""

DEEP = """
query Deep($offset: Int) {
  projects(first: 50, offset: $offset) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    nodes { code name totalInvestment }
  }
}"""


@contextlib.asynccontextmanager
async def _app(store: GraphStore, mode: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, "HUB_API_EXECUTION": mode}), store=store)
    async with started(app) as http:
        yield http


async def _post(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body


NODE = """
query Lookup($id: ID!) {
  node(id: $id) {
    id
    ... on Project { code name stage totalInvestment owner { name } }
    ... on Enterprise { uscc }
  }
}"""

ROOTS = ("projects", "project", "enterprise", "projects", "projects", "node")


def _cases(demo: DemoData) -> list[tuple[str, dict[str, Any]]]:
    """The five reads of issue 28 with variables from the demo province."""
    cities = [r for r in demo.region if r.level == "city"]
    city = max(cities, key=lambda c: sum(p.region_code[:4] == c.code[:4] for p in demo.project))
    owners = Counter(p.owner_uscc for p in demo.project)
    uscc, _ = owners.most_common(1)[0]
    code = sorted(p.code for p in demo.project)[len(demo.project) // 2]
    return [
        (CITY_PAGE, {"region": city.code}),
        (BY_CODE, {"code": code}),
        (ENTERPRISE, {"uscc": uscc}),
        (BY_STAGE, {"region": city.code}),
        (DEEP, {"offset": min(5000, len(demo.project) - 10)}),
        (NODE, {"id": encode_global_id("Project", code)}),
    ]


async def test_the_five_reads_compile(
    demo_store: GraphStore, demo_data: DemoData, caplog: pytest.LogCaptureFixture
) -> None:
    """Compare mode: each read runs compiled and through the resolvers, and an answer that
    differs would be an INTERNAL error; none of them falls back."""
    caplog.set_level(logging.DEBUG, logger="hub.api.compiled.executor")
    async with _app(demo_store, "compare") as http:
        for query, variables in _cases(demo_data):
            body = await _post(http, query, **variables)
            assert body["data"], query
    said = [r.getMessage() for r in caplog.records if r.name == "hub.api.compiled.executor"]
    assert said == [f"compiled {root} agrees with its resolvers" for root in ROOTS], said


async def test_a_page_walks_on_with_its_cursor(demo_store: GraphStore, demo_data: DemoData) -> None:
    city = _cases(demo_data)[0][1]["region"]
    async with _app(demo_store, "compare") as http:
        first = await _post(http, CITY_PAGE, region=city)
        page = first["data"]["projects"]
        assert page["pageInfo"]["hasNextPage"]
        second = await _post(http, CITY_PAGE, region=city, after=page["pageInfo"]["endCursor"])
        codes = [e["node"]["code"] for e in second["data"]["projects"]["edges"]]
        assert codes and not set(codes) & {e["node"]["code"] for e in page["edges"]}


RELATED_BELOW = """
query Ent($uscc: String!, $chain: String!) {
  enterprise(uscc: $uscc) { uscc
    segments(where: {chain: $chain}) { totalCount nodes { segmentId } }
    projects(where: {OR: [{stage: [CONSTRUCTION]}, {chain: $chain}]}) { nodes { code } } }
}"""


async def test_a_nested_list_under_a_related_filter(
    demo_store: GraphStore, demo_data: DemoData, caplog: pytest.LogCaptureFixture
) -> None:
    """FalkorDB cannot filter a pattern comprehension by a pattern (nested.expressible): the
    root field falls back there and compiles on Neo4j; both answer alike."""
    caplog.set_level(logging.DEBUG, logger="hub.api.compiled.executor")
    uscc = Counter(p.owner_uscc for p in demo_data.project).most_common(1)[0][0]
    chain = demo_data.chain[0].id
    async with _app(demo_store, "compare") as http:
        body = await _post(http, RELATED_BELOW, uscc=uscc, chain=chain)
    assert body["data"]["enterprise"]["uscc"] == uscc
    said = " ".join(r.getMessage() for r in caplog.records if r.name.endswith("executor"))
    falls_back = demo_store.dialect is Dialect.FALKORDB
    assert ("runs its resolvers" in said or "fell back" in said) == falls_back, said
    assert ("agrees" in said) != falls_back, said


async def test_compiled_mode_answers_as_resolver_mode(
    demo_store: GraphStore, demo_data: DemoData
) -> None:
    """The two production modes, each alone, give the same HTTP answers."""
    answers: dict[str, list[Any]] = {}
    for mode in ("resolvers", "compiled"):
        async with _app(demo_store, mode) as http:
            answers[mode] = [await _post(http, q, **v) for q, v in _cases(demo_data)]
    assert answers["compiled"] == answers["resolvers"]


def test_the_execution_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUB_API_EXECUTION", raising=False)  # tests/conftest.py sets compare
    assert load_settings({}).api.execution is ExecutionMode.COMPILED
    assert load_settings({"HUB_API_EXECUTION": "compare"}).api.execution is ExecutionMode.COMPARE
    with pytest.raises(ConfigurationError, match="HUB_API_EXECUTION"):
        load_settings({"HUB_API_EXECUTION": "fast"})


WIDE_NODES = """
query { regions(first: 2) { nodes { code projects(first: 3) { nodes { code } } } } }"""
WIDE_COUNT = """
query Chain($key: String!) {
  industryChain(key: $key) {
    name segments(first: 100) { nodes { segmentId name tier enterprises { totalCount } } }
  }
}"""


async def test_wide_relations_compile_their_counts_not_their_nodes(
    demo_store: GraphStore, demo_data: DemoData, caplog: pytest.LogCaptureFixture
) -> None:
    """A region's projects (sub-regions included) can be thousands: their nested page stays
    with the resolvers (nested.WIDE), while a count of a segment's enterprises compiles."""
    caplog.set_level(logging.DEBUG, logger="hub.api.compiled.executor")
    async with _app(demo_store, "compare") as http:
        await _post(http, WIDE_NODES)
        await _post(http, WIDE_COUNT, key=demo_data.chain[0].id)
    said = [r.getMessage() for r in caplog.records if r.name.endswith("executor")]
    assert "region.projects" in said[0] and "fell back" in said[0], said
    assert said[1:] == ["compiled industryChain agrees with its resolvers"], said


def test_leaf_serializers_give_what_graphql_gives_for_every_leaf_type() -> None:
    """plan.serializer passes plain values through without calling ``serialize``; for every
    scalar and enum of the schema it returns, or refuses, exactly what ``serialize`` does."""
    import enum
    import math

    from graphql import GraphQLEnumType, GraphQLScalarType

    from hub.api.compiled.plan import serializer
    from hub.api.schema import build_schema

    class Text(str):
        pass

    class Other(enum.Enum):
        A = "a"

    plain: list[Any] = [
        "x",
        Text("t"),
        "",
        0,
        -(2**31),
        2**31 - 1,
        2**31,
        -(2**31) - 1,
        10**20,
        True,
        False,
        1.5,
        -0.0,
        2.0,
        math.inf,
        -math.inf,
        math.nan,
        Other.A,
        [1],
        b"b",
        object(),
    ]
    schema = build_schema()._schema
    checked = 0
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            continue
        members = list(getattr(type_, "wrapped_cls", None) or [])
        fast = serializer(type_)
        for value in [*plain, *members, *[m.value for m in members]]:
            try:
                expected: Any = ("ok", type_.serialize(value))
            except Exception as exc:  # noqa: BLE001 (what serialize raises, fast must raise)
                expected = ("error", type(exc), str(exc))
            try:
                found: Any = ("ok", fast(value))
            except Exception as exc:  # noqa: BLE001 (what serialize raises, fast must raise)
                found = ("error", type(exc), str(exc))
            same = found == expected or (
                found[0] == expected[0] == "ok" and math.isnan(found[1]) and math.isnan(expected[1])
            )
            assert same, (type_.name, value, found, expected)
            if found[0] == "ok":
                assert type(found[1]) is type(expected[1]), (type_.name, value)
        assert fast(None) is None
        checked += 1
    assert checked > 20
