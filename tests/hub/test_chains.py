"""Industry-chain analytics on a small hand-built province, every expected figure worked out by
hand below, so each rule is shown to hold.

The province (330000) has four cities; Hangzhou (330100, counties 330106 and 330108) is the
region under study, the other cities are its peers. Chain ``tc``:

    tc.ore (upstream) -> tc.cell (midstream) -> tc.pack (downstream) -> tc.car (downstream)
    tc.bms (midstream, supplies nothing)      tc.cell -> oc.grid (another chain)

Enterprises (E#: home county, segment, output 万元, patents, tags, growth %):

    E1 330106 ore 100          E2 330203 ore 5000 pat 50 leader+listed +10
    E3 330302 ore 800 pat 200 high_tech +40    E4 330402 ore 3000 (owns project P1 in 330108)
    E5 330203 ore 50           E6 330106 cell 1000   E7, E8 330108 cell 100 each
    E9 330203 cell 10          E10 330106 pack 2000  E11 330108 oc.grid 500
    E12 330203 pack, E13 E14 330302 pack (300 each)  E15 330108 car 1000
    E16-E19 330203 bms, E20-E23 330302 bms, E24-E26 330402 bms   E27 330106 bms
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.identifiers import make_uscc
from graph_schema.model import validate
from graph_schema.store import GraphStore
from graph_schema.writer import upsert
from hub import texts
from hub.app import create_app
from hub.promotion import chains
from tests.graphs import GRAPH_STORES
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER
from tests.hub.stores import module_graph

pytestmark = pytest.mark.anyio

REGIONS = [
    {"code": "330000", "name": "浙江省", "level": "province"},
    {"code": "330100", "name": "杭州市", "level": "city", "parent_code": "330000"},
    {"code": "330200", "name": "宁波市", "level": "city", "parent_code": "330000"},
    {"code": "330300", "name": "温州市", "level": "city", "parent_code": "330000"},
    {"code": "330400", "name": "嘉兴市", "level": "city", "parent_code": "330000"},
    {"code": "330106", "name": "西湖区", "level": "county", "parent_code": "330100"},
    {"code": "330108", "name": "滨江区", "level": "county", "parent_code": "330100"},
    {"code": "330203", "name": "海曙区", "level": "county", "parent_code": "330200"},
    {"code": "330302", "name": "鹿城区", "level": "county", "parent_code": "330300"},
    {"code": "330402", "name": "南湖区", "level": "county", "parent_code": "330400"},
]
CHAINS = [{"id": "tc", "name": "测试链"}, {"id": "oc", "name": "其他链"}]
SEGMENTS: list[dict[str, Any]] = [
    {"id": "tc.ore", "chain_id": "tc", "name": "矿", "tier": "upstream"},
    {"id": "tc.cell", "chain_id": "tc", "name": "电芯", "tier": "midstream", "position": 0},
    {"id": "tc.bms", "chain_id": "tc", "name": "电控", "tier": "midstream", "position": 1},
    {"id": "tc.pack", "chain_id": "tc", "name": "电池包", "tier": "downstream", "position": 0},
    {"id": "tc.car", "chain_id": "tc", "name": "整车", "tier": "downstream", "position": 1},
    {"id": "oc.grid", "chain_id": "oc", "name": "电网", "tier": "downstream"},
]
SUPPLIES = [
    ("tc.ore", "tc.cell"),
    ("tc.cell", "tc.pack"),
    ("tc.pack", "tc.car"),
    ("tc.cell", "oc.grid"),
]


def uscc(n: int, region: str) -> str:
    return make_uscc(region, f"MA{n:07d}")


# n: (county, segment, output, patents, tags, growth)
FIRMS: dict[int, tuple[str, str, float, int, list[str], float | None]] = {
    1: ("330106", "tc.ore", 100, 0, [], None),
    2: ("330203", "tc.ore", 5000, 50, ["chain_leader", "listed"], 10.0),
    3: ("330302", "tc.ore", 800, 200, ["high_tech"], 40.0),
    4: ("330402", "tc.ore", 3000, 5, [], -5.0),
    5: ("330203", "tc.ore", 50, 0, [], None),
    6: ("330106", "tc.cell", 1000, 3, ["chain_leader"], None),
    7: ("330108", "tc.cell", 100, 1, ["high_tech"], None),
    8: ("330108", "tc.cell", 100, 0, [], None),
    9: ("330203", "tc.cell", 10, 0, [], None),
    10: ("330106", "tc.pack", 2000, 0, [], None),
    11: ("330108", "oc.grid", 500, 0, [], None),
    12: ("330203", "tc.pack", 300, 0, [], None),
    13: ("330302", "tc.pack", 300, 0, [], None),
    14: ("330302", "tc.pack", 300, 0, [], None),
    15: ("330108", "tc.car", 1000, 0, [], None),
    **{n: ("330203", "tc.bms", 10, 0, [], None) for n in range(16, 20)},
    **{n: ("330302", "tc.bms", 10, 0, [], None) for n in range(20, 24)},
    **{n: ("330402", "tc.bms", 10, 0, [], None) for n in range(24, 27)},
    27: ("330106", "tc.bms", 10, 0, [], None),
}
E = {n: uscc(n, home) for n, (home, *_) in FIRMS.items()}
PROJECTS = [
    # code, county, owner, segment, total, completed
    ("2024-330108-04-01-T00001", "330108", 4, "tc.cell", 1000.0, 200.0),
    ("2024-330106-04-01-T00002", "330106", 6, "tc.pack", 500.0, 100.0),
    ("2024-330203-04-01-T00003", "330203", 2, "tc.ore", 700.0, 0.0),
]


async def _load(store: GraphStore, entity: str, rows: list[dict[str, Any]]) -> None:
    result = await upsert(store, entity, [validate(entity, r) for r in rows])
    assert not result.rejections, result.rejections


@pytest.fixture(scope="module", params=GRAPH_STORES)
async def chain_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GraphStore]:
    async with module_graph(request, tmp_path_factory, "chains") as store:
        await _fill(store)
        yield store


async def _fill(store: GraphStore) -> None:
    await _load(store, "region", REGIONS)
    await _load(store, "chain", CHAINS)
    await _load(store, "segment", SEGMENTS)
    await _load(store, "supply", [{"from_segment": a, "to_segment": b} for a, b in SUPPLIES])
    await _load(
        store,
        "enterprise",
        [
            {
                "uscc": E[n],
                "name": f"企业{n}",
                "region_code": home,
                "segment_ids": [segment],
                "output": output,
                "employees": 10 * n,
                "patents": patents,
                "tags": tags,
                "output_growth": growth,
            }
            for n, (home, segment, output, patents, tags, growth) in FIRMS.items()
        ],
    )
    await _load(
        store,
        "project",
        [
            {
                "code": code,
                "name": f"项目{code[-1]}",
                "owner_uscc": E[owner],
                "region_code": county,
                "segment_ids": [segment],
                "stage": "construction",
                "actual_start": "2024-03-01",
                "kind": "new",
                "level": "provincial",
                "total_investment": total,
                "completed_investment": done,
            }
            for code, county, owner, segment, total, done in PROJECTS
        ],
    )


# --- the domain functions ----------------------------------------------------------------------


async def test_the_map_sums_the_region_and_its_sub_regions(chain_store: GraphStore) -> None:
    found = await chains.chain_map(chain_store, "tc", "330100")
    order = [n.segment["id"] for n in found.nodes]
    assert order == ["tc.ore", "tc.cell", "tc.bms", "tc.pack", "tc.car"]
    figures = {n.segment["id"]: n.figures for n in found.nodes}
    cell = figures["tc.cell"]  # E6, E7, E8; project P1 (owned from outside, built in 330108)
    assert (cell.enterprises, cell.leaders, cell.tagged) == (3, 1, 2)
    assert (cell.output, cell.employment, cell.patents) == (1200, 60 + 70 + 80, 4)
    assert (cell.projects, cell.planned_investment, cell.completed_investment) == (1, 1000, 200)
    assert figures["tc.ore"].enterprises == 1 and figures["tc.ore"].projects == 0
    assert figures["tc.pack"].projects == 1 and figures["tc.pack"].planned_investment == 500
    # Only edges between the chain's own segments; cell -> oc.grid leaves the chain.
    assert found.edges == [("tc.cell", "tc.pack"), ("tc.ore", "tc.cell"), ("tc.pack", "tc.car")]
    assert found.totals.enterprises == 1 + 3 + 1 + 1 + 1

    county = await chains.chain_map(chain_store, "tc", "330108")
    assert {n.segment["id"]: n.figures.enterprises for n in county.nodes} == {
        "tc.ore": 0,
        "tc.cell": 2,
        "tc.bms": 0,
        "tc.pack": 0,
        "tc.car": 1,
    }
    province = await chains.chain_map(chain_store, "tc", "330000")
    ore = next(n.figures for n in province.nodes if n.segment["id"] == "tc.ore")
    assert (ore.enterprises, ore.output, ore.projects, ore.leaders) == (5, 8950, 1, 1)


async def test_chokepoints_follow_each_rule(chain_store: GraphStore) -> None:
    rules = chains.Rules(
        min_enterprises=1, peer_ratio=0.5, external_share=0.6, single_supplier_share=0.6
    )
    found = {
        c.segment["id"]: c for c in await chains.chokepoints(chain_store, "tc", "330100", rules)
    }
    # ore: one local enterprise (peers 2, 1, 1: median 1, bar 0.5, so not few); its local
    # demand is the local cell output 1200 against 100 made locally: 1 - 100/1200 from outside;
    # and it is the only local supplier.
    ore = found["tc.ore"]
    assert [r.rule for r in ore.reasons] == [
        chains.Rule.DEMAND_SUPPLIED_FROM_OUTSIDE,
        chains.Rule.SINGLE_LOCAL_SUPPLIER,
    ]
    assert ore.reasons[0].value == pytest.approx(1 - 100 / 1200)
    assert ore.score == round(100 * ((1 - 100 / 1200) + 1.0) / 3, 1)
    assert ore.peer_median == 1 and ore.downstream_output == 1200
    # cell: demand 2000 (pack) + 500 (oc.grid, across chains), local 1200: 48 % from outside,
    # under 60 %; but E6 makes 1000 of 1200.
    cell = found["tc.cell"]
    assert [r.rule for r in cell.reasons] == [chains.Rule.SINGLE_LOCAL_SUPPLIER]
    assert cell.reasons[0].value == pytest.approx(1000 / 1200)
    assert cell.downstream_output == 2500
    # bms: one local enterprise against peers 4, 4, 3 (median 4, bar 2): few; nothing downstream.
    bms = found["tc.bms"]
    assert [r.rule for r in bms.reasons] == [chains.Rule.FEW_LOCAL_ENTERPRISES]
    assert bms.reasons[0].threshold == 2 and bms.reasons[0].strength == pytest.approx(0.5)
    assert bms.score == round(100 * 0.5 / 3, 1)
    # pack: the only local pack maker (demand 1000 from car, fully covered by 2000).
    assert [r.rule for r in found["tc.pack"].reasons] == [chains.Rule.SINGLE_LOCAL_SUPPLIER]
    # car: one local enterprise, none in peers, supplies nothing: not a chokepoint.
    assert "tc.car" not in found
    ranked = [c.segment["id"] for c in await chains.chokepoints(chain_store, "tc", "330100", rules)]
    assert ranked == ["tc.ore", "tc.pack", "tc.cell", "tc.bms"]

    strict = chains.Rules(min_enterprises=2)
    car = {
        c.segment["id"]: c for c in await chains.chokepoints(chain_store, "tc", "330100", strict)
    }
    assert [r.rule for r in car["tc.car"].reasons] == [chains.Rule.FEW_LOCAL_ENTERPRISES]
    assert car["tc.car"].reasons[0].strength == pytest.approx(0.5)


def _scaled(values: list[float]) -> list[float]:
    top = max(math.log1p(v) for v in values)
    return [math.log1p(v) / top for v in values]


async def test_targets_rank_outside_enterprises_without_a_project_in_the_region(
    chain_store: GraphStore,
) -> None:
    found = await chains.targets(chain_store, "tc.ore", "330100")
    # E4 is outside but owns P1 in 330108: left out. E1 is local: left out.
    # By hand, candidates E2, E3, E5: output 5000/800/50, patents 50/200/0, tags 1.0/0.4/0,
    # growth 10/40/unknown (scaled 0/1/0); weights 0.4, 0.25, 0.2, 0.15.
    output = _scaled([5000, 800, 50])
    patents = _scaled([50, 200, 0])
    expected = {
        E[2]: 0.4 * output[0] + 0.25 * patents[0] + 0.2 * 1.0,
        E[3]: 0.4 * output[1] + 0.25 * patents[1] + 0.2 * 0.4 + 0.15 * 1.0,
        E[5]: 0.4 * output[2],
    }
    assert [t.props["uscc"] for t in found] == [E[3], E[2], E[5]]
    for target in found:
        assert target.score == pytest.approx(100 * expected[target.props["uscc"]], abs=0.06)
    assert found[0].region_code == "330302"
    # Reasons are data: a code and parameters each, rendered per language.
    assert ("TARGET_GROWTH", {"growth": "+40.0"}) in found[0].reasons
    assert ("TARGET_TAG", {"tag": "chain_leader"}) in found[1].reasons
    assert "output growth +40.0% a year" in found[0].words(texts.Lang.EN)
    assert "产值年增长 +40.0%" in found[0].words(texts.Lang.ZH)
    assert "链主企业" in found[1].words(texts.Lang.ZH)

    helped = await chains.beneficiaries(chain_store, "tc.ore", "330100")
    assert [b.props["uscc"] for b in helped] == [E[6], *sorted([E[7], E[8]])]
    assert all(b.segments == ["tc.cell"] for b in helped)


async def test_neighbourhoods_and_paths_walk_the_supply_graph(chain_store: GraphStore) -> None:
    near = await chains.neighbourhood(chain_store, ["tc.cell"], 1, chains.Direction.BOTH)
    assert [(n.segment["id"], n.direction, n.hops) for n in near.neighbours] == [
        ("oc.grid", chains.Direction.DOWNSTREAM, 1),
        ("tc.pack", chains.Direction.DOWNSTREAM, 1),
        ("tc.ore", chains.Direction.UPSTREAM, 1),
    ]
    assert near.edges == [("tc.cell", "oc.grid"), ("tc.cell", "tc.pack"), ("tc.ore", "tc.cell")]
    assert near.paths == [
        ["tc.ore", "tc.cell", "oc.grid"],
        ["tc.ore", "tc.cell", "tc.pack", "tc.car"],
    ]
    down = await chains.neighbourhood(chain_store, ["tc.cell"], 2, chains.Direction.DOWNSTREAM)
    assert {(n.segment["id"], n.hops) for n in down.neighbours} == {
        ("oc.grid", 1),
        ("tc.pack", 1),
        ("tc.car", 2),
    }


# --- over GraphQL ------------------------------------------------------------------------------


def _client(
    store: GraphStore, **env: str
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **env}), store=store)
    return started(app)


async def _post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


async def _data(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    body = await _post(client, query, **variables)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


MAP = """query($r: String!, $after: String) { industryChain(id: "tc") { map(region: $r) {
  regionCode region { name }
  totals { enterprises projects }
  edges { fromSegmentId toSegmentId fromSegment { segmentId } toSegment { segmentId } }
  nodes {
    tier segment { segmentId }
    figures { enterprises leaders taggedEnterprises output employment patents projects
              plannedInvestment completedInvestment }
    enterprises(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { uscc }
    }
    projects { totalCount nodes { code owner { uscc } } }
  } } } }"""


async def test_the_map_and_its_drill_down_over_graphql(chain_store: GraphStore) -> None:
    async with _client(chain_store) as client:
        data = await _data(client, MAP, r="330100")
        found = data["industryChain"]["map"]
        assert found["region"]["name"] == "杭州市" and found["totals"]["enterprises"] == 7
        # Each SUPPLIES edge links its two segments as well as naming them.
        assert found["edges"] and all(
            (e["fromSegment"]["segmentId"], e["toSegment"]["segmentId"])
            == (e["fromSegmentId"], e["toSegmentId"])
            for e in found["edges"]
        )
        cell = next(n for n in found["nodes"] if n["segment"]["segmentId"] == "tc.cell")
        assert cell["tier"] == "MIDSTREAM"
        assert cell["figures"] == {
            "enterprises": 3,
            "leaders": 1,
            "taggedEnterprises": 2,
            "output": 1200.0,
            "employment": 210,
            "patents": 4,
            "projects": 1,
            "plannedInvestment": 1000.0,
            "completedInvestment": 200.0,
        }
        # The drill-down lists exactly the enterprises behind the figure, page by page.
        first = cell["enterprises"]
        assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
        rest = await _data(client, MAP, r="330100", after=first["pageInfo"]["endCursor"])
        cell_rest = next(
            n
            for n in rest["industryChain"]["map"]["nodes"]
            if n["segment"]["segmentId"] == "tc.cell"
        )
        seen = [e["uscc"] for e in first["nodes"] + cell_rest["enterprises"]["nodes"]]
        assert sorted(seen) == sorted([E[6], E[7], E[8]])
        assert cell["projects"]["nodes"] == [{"code": PROJECTS[0][0], "owner": {"uscc": E[4]}}]
        # The node's segment and region are fixed: narrowing is fine, changing them is not.
        narrowed = """{ industryChain(id: "tc") { map(region: "330100") { nodes {
            enterprises(where: {tagsAny: [CHAIN_LEADER]}) { totalCount } } } } }"""
        counts = (await _data(client, narrowed))["industryChain"]["map"]["nodes"]
        assert [n["enterprises"]["totalCount"] for n in counts] == [0, 1, 0, 0, 0]
        changed = narrowed.replace("tagsAny: [CHAIN_LEADER]", 'region: "330200"')
        refused = await _post(client, changed)
        assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "region is fixed" in refused["errors"][0]["message"]
        # Unknown region or chain: NOT_FOUND.
        body = await _post(client, MAP, r="339999")
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


CHOKE = """query { industryChain(id: "tc") { chokepoints(region: "330100") {
  regionCode region { code }
  thresholds { minEnterprises peerRatio externalShare singleSupplierShare }
  chokepoints { score segment { segmentId } peerMedianEnterprises downstreamOutput
                reasons { rule value threshold strength code params message } } } } }"""


async def test_chokepoints_over_graphql_use_the_settings(chain_store: GraphStore) -> None:
    async with _client(chain_store, HUB_CHAINS_MIN_ENTERPRISES="1") as client:
        report = (await _data(client, CHOKE))["industryChain"]["chokepoints"]
        assert report["region"] == {"code": report["regionCode"]} == {"code": "330100"}
        client.headers["Accept-Language"] = "en-GB,en;q=0.9"
        english = (await _data(client, CHOKE))["industryChain"]["chokepoints"]
    assert report["thresholds"] == {
        "minEnterprises": 1,
        "peerRatio": 0.5,
        "externalShare": 0.6,
        "singleSupplierShare": 0.6,
    }
    ids = [c["segment"]["segmentId"] for c in report["chokepoints"]]
    assert ids == ["tc.ore", "tc.pack", "tc.cell", "tc.bms"]
    bms = report["chokepoints"][-1]
    assert bms["peerMedianEnterprises"] == 4.0
    assert bms["reasons"][0]["rule"] == "FEW_LOCAL_ENTERPRISES"
    # The reason as data, its words in Chinese by default and in English when asked.
    assert bms["reasons"][0]["code"] == "CHOKEPOINT_FEW_AGAINST_PEERS"
    assert bms["reasons"][0]["params"] == {"count": 1, "median": "4", "ratio": "0.5"}
    assert (
        bms["reasons"][0]["message"] == "本地企业 1 家，同级地区中位数为 4 家（门槛：中位数 × 0.5）"
    )
    assert "median of 4" in english["chokepoints"][-1]["reasons"][0]["message"]


TARGETS = """query($first: Int, $after: String, $last: Int, $before: String) {
  segment(id: "tc.ore") {
    targets(region: "330100", first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { rank score regionCode region { code } reasons
                            reasonTexts { code params message } enterprise { uscc outputGrowth } } }
    }
    beneficiaries(region: "330100", first: 1) { totalCount nodes { enterprise { uscc }
      regionCode region { code } segmentIds segments { segmentId } } }
    neighbourhood(hops: 1) {
      centre { segmentId } segments { direction hops segment { segmentId } }
      paths { segments { segmentId } }
    }
  } }"""


async def test_targets_page_forward_and_back_over_graphql(chain_store: GraphStore) -> None:
    async with _client(chain_store) as client:
        page = (await _data(client, TARGETS, first=2))["segment"]
        targets = page["targets"]
        assert targets["totalCount"] == 3
        assert [e["node"]["enterprise"]["uscc"] for e in targets["edges"]] == [E[3], E[2]]
        assert [e["node"]["rank"] for e in targets["edges"]] == [1, 2]
        assert targets["edges"][0]["node"]["enterprise"]["outputGrowth"] == 40.0
        best = targets["edges"][0]["node"]
        growth = {
            "code": "TARGET_GROWTH",
            "params": {"growth": "+40.0"},
            "message": "产值年增长 +40.0%",
        }
        assert growth in best["reasonTexts"]
        assert best["reasons"] == [t["message"] for t in best["reasonTexts"]]
        assert targets["pageInfo"]["hasNextPage"] and not targets["pageInfo"]["hasPreviousPage"]
        after = targets["pageInfo"]["endCursor"]
        rest = (await _data(client, TARGETS, first=2, after=after))["segment"]["targets"]
        assert [e["node"]["enterprise"]["uscc"] for e in rest["edges"]] == [E[5]]
        assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]
        back = await _data(client, TARGETS, last=1, before=rest["edges"][0]["cursor"])
        assert [e["node"]["rank"] for e in back["segment"]["targets"]["edges"]] == [2]
        assert all(e["node"]["region"]["code"] == e["node"]["regionCode"] for e in targets["edges"])
        helped = page["beneficiaries"]
        assert helped["totalCount"] == 3 and len(helped["nodes"]) == 1
        (one,) = helped["nodes"]
        assert one["enterprise"] == {"uscc": E[6]} and one["region"]["code"] == one["regionCode"]
        assert [s["segmentId"] for s in one["segments"]] == one["segmentIds"] != []
        near = page["neighbourhood"]
        assert near["centre"] == [{"segmentId": "tc.ore"}]
        assert near["segments"] == [
            {"direction": "DOWNSTREAM", "hops": 1, "segment": {"segmentId": "tc.cell"}}
        ]
        assert [[s["segmentId"] for s in p["segments"]] for p in near["paths"]] == [
            ["tc.ore", "tc.cell", "oc.grid"],
            ["tc.ore", "tc.cell", "tc.pack", "tc.car"],
        ]
        # A cursor from another list, and hops out of range: BAD_USER_INPUT.
        other = '{ segment(id: "tc.cell") { targets(region: "330100", after: $a) { totalCount } } }'
        wrong = await _post(client, other.replace("$a", f'"{after}"'))
        assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        far_query = '{ segment(id: "tc.ore") { neighbourhood(hops: 9) { edges { toSegmentId } } } }'
        far = await _post(client, far_query)
        assert far["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_enterprise_neighbourhood_is_its_segments(chain_store: GraphStore) -> None:
    query = """query($u: String!) { enterprise(uscc: $u) {
      neighbourhood(hops: 1, direction: UPSTREAM) {
        centre { segmentId } segments { segment { segmentId } }
      } } }"""
    async with _client(chain_store) as client:
        data = await _data(client, query, u=E[6])
    assert data["enterprise"]["neighbourhood"] == {
        "centre": [{"segmentId": "tc.cell"}],
        "segments": [{"segment": {"segmentId": "tc.ore"}}],
    }


async def test_the_analytics_take_a_region_s_global_id(chain_store: GraphStore) -> None:
    async with _client(chain_store) as client:
        region = (await _data(client, '{ region(code: "330100") { id } }'))["region"]["id"]
        by_code = await _data(client, MAP, r="330100")
        by_id = await _data(client, MAP, r=region)
        assert by_id == by_code
        targets = """query($r: String!) { segment(id: "tc.ore") {
          targets(region: $r) { totalCount } beneficiaries(region: $r) { totalCount } } }"""
        assert await _data(client, targets, r=region) == await _data(client, targets, r="330100")
        chokepoints = """query($r: String!) { industryChain(id: "tc") {
          chokepoints(region: $r) { regionCode } } }"""
        found = await _data(client, chokepoints, r=region)
        assert found["industryChain"]["chokepoints"]["regionCode"] == "330100"
