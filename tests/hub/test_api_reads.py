"""The read side of the GraphQL API over HTTP, against the embedded store with demo data.

Expected figures come from the generated demo records (``demo_data``), not from the API itself,
so a wrong filter or a lost row shows up as a mismatch.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import Enterprise, Project, Region, Sensor
from hub.api.access import ROOT_FIELDS
from hub.app import create_app
from hub.demo import DemoData
from hub.roles import Role
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER, key_headers

pytestmark = pytest.mark.anyio

LISTS = {
    "region": "regions",
    "chain": "industryChains",
    "segment": "segments",
    "product": "products",
    "enterprise": "enterprises",
    "parcel": "parcels",
    "project": "projects",
    "bank": "banks",
    "sensor": "sensors",
}


def _client(
    store: FalkorDBStore, headers: dict[str, str] | None = None, **env: str
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **env}), store=store)
    return started(app, headers=headers)


@pytest.fixture
async def client(demo_store: FalkorDBStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(demo_store) as http:
        yield http


async def gql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """Data of a query that must succeed."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def gql_errors(client: httpx.AsyncClient, query: str, **variables: Any) -> list[Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    errors: list[Any] = response.json()["errors"]
    return errors


def _projects(demo_data: DemoData) -> list[Project]:
    return [p for p in demo_data.records("project") if isinstance(p, Project)]


def _regions(demo_data: DemoData) -> dict[str, Region]:
    return {r.code: r for r in demo_data.records("region") if isinstance(r, Region)}


def _within(demo_data: DemoData, code: str, region_code: str) -> bool:
    regions = _regions(demo_data)
    current: str | None = region_code
    while current is not None:
        if current == code:
            return True
        current = regions[current].parent_code
    return False


# --- every entity is reachable ------------------------------------------------------------


@pytest.mark.parametrize("entity", sorted(LISTS))
async def test_every_list_counts_every_record_and_its_nodes_resolve_by_global_id(
    client: httpx.AsyncClient, demo_data: DemoData, entity: str
) -> None:
    field = LISTS[entity]
    data = await gql(client, f"{{ {field}(first: 5) {{ totalCount nodes {{ __typename id }} }} }}")
    page = data[field]
    assert page["totalCount"] == demo_data.counts()[entity]
    assert len(page["nodes"]) == min(5, page["totalCount"])
    ids = [n["id"] for n in page["nodes"]]
    found = await gql(client, "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", ids=ids)
    assert found["nodes"] == page["nodes"]
    one = await gql(client, "query($id: ID!) { node(id: $id) { id } }", id=ids[0])
    assert one["node"] == {"id": ids[0]}


async def test_lookups_by_key_and_unknown_keys_are_null(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    project = _projects(demo_data)[0]
    query = """query($c: String!, $missing: String!) {
        project(code: $c) { code name totalInvestment stage plannedStart }
        missing: project(code: $missing) { code } }"""
    data = await gql(client, query, c=project.code, missing="2024-330106-04-01-ZZZZZZ")
    got = data["project"]
    assert got["code"] == project.code
    assert got["name"] == project.name
    assert got["totalInvestment"] == pytest.approx(project.total_investment)
    assert got["stage"] == project.stage.name
    assert got["plannedStart"] == (
        project.planned_start.isoformat() if project.planned_start else None
    )
    assert data["missing"] is None


async def test_relationships_navigate_both_ways(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    project = next(p for p in _projects(demo_data) if p.parcel_ids and len(p.segment_ids) == 2)
    query = """query($c: String!) { project(code: $c) {
        code
        owner { uscc projects(first: 100) { nodes { code } } }
        region { code parent { code children(first: 50) { nodes { code } } } }
        segments { totalCount nodes {
            segmentId chain { chainId segments(first: 50) { totalCount } } } }
        parcels { nodes { parcelId projects { nodes { code } } region { code } } }
        sensors { totalCount nodes { sensorId project { code } } }
    } }"""
    got = (await gql(client, query, c=project.code))["project"]
    assert got["owner"]["uscc"] == project.owner_uscc
    assert project.code in {p["code"] for p in got["owner"]["projects"]["nodes"]}
    assert got["region"]["code"] == project.region_code
    city = got["region"]["parent"]
    assert city["code"] == _regions(demo_data)[project.region_code].parent_code
    assert project.region_code in {c["code"] for c in city["children"]["nodes"]}
    assert sorted(s["segmentId"] for s in got["segments"]["nodes"]) == project.segment_ids
    assert got["segments"]["totalCount"] == 2
    for segment in got["segments"]["nodes"]:
        assert segment["chain"]["chainId"] == segment["segmentId"].split(".")[0]
        assert segment["chain"]["segments"]["totalCount"] >= 10
    for parcel in got["parcels"]["nodes"]:
        assert parcel["parcelId"] in project.parcel_ids
        assert project.code in {p["code"] for p in parcel["projects"]["nodes"]}
    sensors = [s for s in demo_data.records("sensor") if isinstance(s, Sensor)]
    mine = {s.id for s in sensors if s.project_code == project.code}
    assert got["sensors"]["totalCount"] == len(mine)
    assert {s["sensorId"] for s in got["sensors"]["nodes"]} == mine
    assert all(s["project"]["code"] == project.code for s in got["sensors"]["nodes"])


async def test_region_lists_include_sub_regions_unless_told_not_to(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = """query($r: String!) { region(code: $r) {
        all: projects { totalCount } direct: projects(includeSubRegions: false) { totalCount }
        enterprises { totalCount } } }"""
    got = (await gql(client, query, r="330100"))["region"]
    projects = _projects(demo_data)
    assert got["all"]["totalCount"] == sum(
        _within(demo_data, "330100", p.region_code) for p in projects
    )
    assert got["all"]["totalCount"] > 0
    assert got["direct"]["totalCount"] == sum(p.region_code == "330100" for p in projects)
    enterprises = [e for e in demo_data.records("enterprise") if isinstance(e, Enterprise)]
    assert got["enterprises"]["totalCount"] == sum(
        _within(demo_data, "330100", e.region_code) for e in enterprises
    )


# --- filters --------------------------------------------------------------------------------


async def _all_codes(client: httpx.AsyncClient, where: dict[str, Any]) -> list[str]:
    query = """query($w: ProjectWhere, $after: String) {
        projects(where: $w, first: 100, after: $after) {
            totalCount pageInfo { hasNextPage endCursor } nodes { code } } }"""
    codes: list[str] = []
    after = None
    while True:
        page = (await gql(client, query, w=where, after=after))["projects"]
        codes += [n["code"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(codes) == page["totalCount"]
            return codes
        after = page["pageInfo"]["endCursor"]


async def test_project_filters_match_the_records(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    projects = _projects(demo_data)
    cases: list[tuple[dict[str, Any], Any]] = [
        ({"region": "330200"}, lambda p: _within(demo_data, "330200", p.region_code)),
        ({"chain": "nev"}, lambda p: any(s.startswith("nev.") for s in p.segment_ids)),
        ({"segment": "ic.packaging-test"}, lambda p: "ic.packaging-test" in p.segment_ids),
        (
            {"stage": ["PREPARATION", "SUSPENDED"]},
            lambda p: p.stage in ("preparation", "suspended"),
        ),
        ({"leaderProject": True}, lambda p: p.leader_project),
        (
            {"totalInvestment": {"min": 100000, "max": 500000}},
            lambda p: 100000 <= p.total_investment <= 500000,
        ),
        (
            {"plannedStart": {"from": "2025-01-01", "to": "2025-12-31"}},
            lambda p: p.planned_start is not None and p.planned_start.year == 2025,
        ),
        (
            {"region": "330100", "chain": "ic", "stage": ["CONSTRUCTION"]},
            lambda p: (
                _within(demo_data, "330100", p.region_code)
                and any(s.startswith("ic.") for s in p.segment_ids)
                and p.stage == "construction"
            ),
        ),
        ({"nameContains": "杭州"}, lambda p: "杭州" in p.name),
        ({"owner": projects[0].owner_uscc}, lambda p: p.owner_uscc == projects[0].owner_uscc),
    ]
    for where, keep in cases:
        expected = sorted(p.code for p in projects if keep(p))
        assert expected, where
        got = await _all_codes(client, where)
        assert got == expected, where


async def test_enterprise_tag_and_range_filters(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    enterprises = [e for e in demo_data.records("enterprise") if isinstance(e, Enterprise)]
    query = """query($w: EnterpriseWhere) { enterprises(where: $w) { totalCount } }"""
    leaders = sum("chain_leader" in e.tags for e in enterprises)
    data = await gql(client, query, w={"tagsAny": ["CHAIN_LEADER"]})
    assert data["enterprises"]["totalCount"] == leaders > 0
    both = sum({"chain_leader", "listed"} <= set(e.tags) for e in enterprises)
    data = await gql(client, query, w={"tagsAll": ["CHAIN_LEADER", "LISTED"]})
    assert data["enterprises"]["totalCount"] == both
    big = sum(e.employees >= 1000 for e in enterprises)
    data = await gql(client, query, w={"employees": {"min": 1000}})
    assert data["enterprises"]["totalCount"] == big


async def test_full_text_search_finds_names_and_survives_query_syntax(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = """query($s: String!) { enterprises(where: {search: $s}, first: 100) {
        totalCount nodes { name } edges { cursor } } }"""
    page = (await gql(client, query, s="汽车"))["enterprises"]
    expected = sum(
        "汽车" in e.name for e in demo_data.records("enterprise") if isinstance(e, Enterprise)
    )
    assert page["totalCount"] == expected > 0
    assert all("汽车" in n["name"] for n in page["nodes"])
    # RediSearch syntax in the input is escaped: no error, just (probably) no match.
    for text in ["@name:{x} | -汽车", '"unbalanced', "*", "a)(b", "%%汽车%%"]:
        await gql(client, query, s=text)
    errors = await gql_errors(client, query, s="   ")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    nested = """{ region(code: "330100") { projects(where: {search: "汽车"}) { totalCount } } }"""
    errors = await gql_errors(client, nested)
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- sorting and pagination ---------------------------------------------------------------


async def test_sorting_orders_by_the_field_then_the_key(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = """query($s: [ProjectSort!]) { projects(first: 100, sort: $s) {
        nodes { code totalInvestment actualStart } } }"""
    desc = await gql(client, query, s=[{"field": "TOTAL_INVESTMENT", "direction": "DESC"}])
    nodes = desc["projects"]["nodes"]
    top = sorted(_projects(demo_data), key=lambda p: (-p.total_investment, p.code))[:100]
    assert [n["code"] for n in nodes] == [p.code for p in top]
    asc = await gql(client, query, s=[{"field": "ACTUAL_START"}])
    starts = [n["actualStart"] for n in asc["projects"]["nodes"]]
    assert starts == sorted(starts)  # the 86 projects without a start sort last, not first
    assert None not in starts


async def test_forward_and_backward_pages_cover_the_list_exactly_once(
    client: httpx.AsyncClient,
) -> None:
    where = {"region": "330300"}
    everything = await _all_codes(client, where)
    forward = """query($after: String) {
        projects(where: {region: "330300"}, first: 7, after: $after) {
        pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { code } } } }"""
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await gql(client, forward, after=after))["projects"]
        pages += 1
        seen += [e["node"]["code"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == everything
    assert pages == -(-len(everything) // 7)

    backward = """query($before: String) {
        projects(where: {region: "330300"}, last: 7, before: $before) {
        pageInfo { hasPreviousPage startCursor } nodes { code } } }"""
    seen_back: list[str] = []
    before = None
    while True:
        page = (await gql(client, backward, before=before))["projects"]
        seen_back = [n["code"] for n in page["nodes"]] + seen_back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen_back == everything


async def test_bad_paging_arguments_are_bad_user_input(client: httpx.AsyncClient) -> None:
    cursor_q = """{ projects(first: 2) { pageInfo { endCursor } } }"""
    cursor = (await gql(client, cursor_q))["projects"]["pageInfo"]["endCursor"]
    cases = [
        "{ projects(first: 101) { totalCount } }",
        "{ projects(first: 2, last: 2) { totalCount } }",
        '{ projects(first: 2, after: "garbage!") { nodes { code } } }',
        # A cursor is only valid on the list and sort order it came from.
        f'{{ projects(first: 2, after: "{cursor}", sort: [{{field: NAME}}]) {{ totalCount }} }}',
        f'{{ enterprises(first: 2, after: "{cursor}") {{ nodes {{ uscc }} }} }}',
        "{ projects(sort: [{field: RELEVANCE}]) { totalCount nodes { code } } }",
        '{ node(id: "bm9wZQ") { id } }',
    ]
    for query in cases:
        errors = await gql_errors(client, query)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", (query, errors)


# --- aggregates -----------------------------------------------------------------------------


async def test_aggregates_and_groups_match_the_records(
    client: httpx.AsyncClient, demo_data: DemoData
) -> None:
    query = """{ projects(where: {region: "330100"}) {
        totalCount
        aggregate { count totalInvestment { sum min max } completedInvestment { sum } }
        byStage: groups(by: STAGE) { key aggregate { count totalInvestment { sum } } }
        byCounty: groups(by: REGION, regionLevel: COUNTY) { key label aggregate { count } }
    } }"""
    got = (await gql(client, query))["projects"]
    mine = [p for p in _projects(demo_data) if _within(demo_data, "330100", p.region_code)]
    assert got["aggregate"]["count"] == got["totalCount"] == len(mine)
    total = got["aggregate"]["totalInvestment"]
    assert total["sum"] == pytest.approx(sum(p.total_investment for p in mine))
    assert total["min"] == pytest.approx(min(p.total_investment for p in mine))
    assert total["max"] == pytest.approx(max(p.total_investment for p in mine))
    stages = Counter(p.stage.value for p in mine)
    assert {g["key"]: g["aggregate"]["count"] for g in got["byStage"]} == dict(stages)
    counties = Counter(p.region_code for p in mine)
    assert {g["key"]: g["aggregate"]["count"] for g in got["byCounty"]} == dict(counties)
    names = _regions(demo_data)
    assert all(g["label"] == names[g["key"]].name for g in got["byCounty"])


async def test_nested_aggregates_per_parent(client: httpx.AsyncClient, demo_data: DemoData) -> None:
    query = """{ regions(where: {level: CITY}, first: 20) { nodes { code
        projects { aggregate { count totalInvestment { sum } } } } } }"""
    got = (await gql(client, query))["regions"]["nodes"]
    projects = _projects(demo_data)
    for city in got:
        mine = [p for p in projects if _within(demo_data, city["code"], p.region_code)]
        agg = city["projects"]["aggregate"]
        assert agg["count"] == len(mine)
        assert agg["totalInvestment"]["sum"] == pytest.approx(sum(p.total_investment for p in mine))


# --- batching -------------------------------------------------------------------------------

NESTED_PAGE = """query($n: Int!) { projects(first: $n) { totalCount nodes {
    code name owner { uscc name } region { code name }
    segments { nodes { segmentId chain { chainId } } }
    parcels { nodes { parcelId } } sensors { totalCount }
} } }"""


async def _round_trips(store: FalkorDBStore, client: httpx.AsyncClient, size: int) -> int:
    before = store.stats.round_trips
    data = await gql(client, NESTED_PAGE, n=size)
    assert len(data["projects"]["nodes"]) == size
    return store.stats.round_trips - before


async def test_a_page_costs_the_same_round_trips_whatever_its_size(
    demo_store: FalkorDBStore,
) -> None:
    # 100 projects with their (unpaged) segments and parcels price over the default cost
    # budget (hub/api/cost.py); this test is about round trips, so it lifts the budget.
    budget = {"HUB_HTTP_MAX_COST": "1000000"}
    async with _client(demo_store, None, **budget) as client:
        ten = await _round_trips(demo_store, client, 10)
        hundred = await _round_trips(demo_store, client, 100)
    # page, count, owner, region, segments, segment chains, parcels, sensor counts
    assert ten == hundred == 8
    settings = api_settings({**ANONYMOUS_VIEWER, **budget})
    naive = create_app(settings, store=demo_store, batching=False)
    async with started(naive) as client:
        assert await _round_trips(demo_store, client, 10) > 40
        assert await _round_trips(demo_store, client, 100) > 400


# --- roles ----------------------------------------------------------------------------------


async def test_field_visibility_follows_the_role(
    demo_store: FalkorDBStore, demo_data: DemoData, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _projects(demo_data)[0]
    sensor = next(s for s in demo_data.records("sensor") if isinstance(s, Sensor))
    query = """query($c: String!) { project(code: $c) { code sensors { totalCount } } }"""
    bank_key = await key_headers(demo_store, Role.BANK, bank=demo_data.bank[0].id)
    async with _client(demo_store, bank_key) as bank:
        # The bank role is confined to the financing entry points (issue 9): the general
        # graph would show owners.
        errors = await gql_errors(bank, "{ projects(first: 1) { nodes { owner { name } } } }")
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
        # Field permissions hold on their own too: unconfined, a bank still gets no sensors.
        with monkeypatch.context() as patch:
            patch.delitem(ROOT_FIELDS, Role.BANK)
            response = await bank.post(
                "/graphql", json={"query": query, "variables": {"c": project.code}}
            )
            body = response.json()
            assert body["data"]["project"] == {"code": project.code, "sensors": None}
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert body["errors"][0]["path"] == ["project", "sensors"]
    async with _client(demo_store) as viewer:
        data = await gql(viewer, query, c=project.code)
        assert data["project"]["sensors"]["totalCount"] > 0
        found = await gql(viewer, "query($k: String!) { sensor(key: $k) { id } }", k=sensor.id)
        sensor_id = found["sensor"]["id"]
    async with _client(demo_store, bank_key) as bank:
        errors = await gql_errors(bank, "query($id: ID!) { node(id: $id) { id } }", id=sensor_id)
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
