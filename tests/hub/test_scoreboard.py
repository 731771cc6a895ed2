"""The city scoreboard on a small hand-built graph, figures worked out by hand below.

Period 2025-Q2 (2025-04-01 to 2025-06-30); schedule share at its end = 181/365. Thresholds
are set in the environment: landing red 0.4 / yellow 0.7, completion red 0.7 / yellow 0.9.

Leaders' list (leader_project true), per city (a city's projects include its counties'):

| city | project | planned start | actual start | due | landed | plan | done this year |
|---|---|---|---|---|---|---|---|
| 330100 杭州 | H1 (county 330106) | 04-10 | 04-20 | yes | yes | 100 | 60 |
| | H2 | 05-01 | 07-05 (after the end) | yes | no | 200 | 20 |
| | H3 | 06-30 (last day) | — | yes | no | 0 | 0 |
| | H4 | 03-31 (before the start) | 03-01 | no (cumulative: yes, landed) | | 100 | 80 |
| | H6 | 07-01 (after) | — | no | | 100 | 0 |
| | H5 (not a leader, in the city itself) | 04-15 | 03-20 (early) | all-list only | yes | 50 | 50 |
| 330200 宁波 | N1 | 04-02 | 04-03 | yes | yes | 100 | 90 |
| | N2 | 06-01 | 06-30 (last day) | yes | yes | 100 | 40 |
| | N3 (level city) | 05-05 | — | yes | no | 100 | 10 |
| 330300 温州 | W1 | 04-20 | 04-21 | yes | yes | 200 | 80 |
| 330400 嘉兴 | (none) | | | | | | |
| 340100 合肥 | A1 | 05-01 | 05-02 | yes | yes | 100 | 100 |

Landing: 杭州 1/3 (red), 宁波 2/3 (yellow), 温州 1 (green), 合肥 1 (green), 嘉兴 none.
Completion: 杭州 160/500 = 0.32, ÷ share = 0.645 (red); 宁波 140/300 = 0.467, 0.941 (green);
温州 80/200 = 0.4, 0.807 (yellow); 合肥 100/100 = 1 (green); 嘉兴 none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph_schema.identifiers import make_uscc
from graph_schema.model import validate
from graph_schema.statements.scoreboard import Figure
from graph_schema.store import GraphStore
from hub.app import create_app
from hub.bulk import import_records
from hub.promotion import scoreboard
from hub.roles import Role
from hub.settings import load_settings
from tests.graphs import GRAPH_STORES
from tests.hub.apps import api_settings, started
from tests.hub.keys import ANONYMOUS_VIEWER, key_headers
from tests.hub.stores import module_graph
from tests.hub.test_api_reads import gql, gql_errors

pytestmark = pytest.mark.anyio

SHARE = 181 / 365
ENV = {
    "HUB_SCOREBOARD_LANDING_RED": "0.4",
    "HUB_SCOREBOARD_LANDING_YELLOW": "0.7",
    "HUB_SCOREBOARD_COMPLETION_RED": "0.7",
    "HUB_SCOREBOARD_COMPLETION_YELLOW": "0.9",
}
OWNER = make_uscc("330106", "000000001")
ANHUI_OWNER = make_uscc("340102", "000000002")


def _region(code: str, name: str, level: str, parent: str | None) -> dict[str, Any]:
    return {"code": code, "name": name, "level": level, "parent_code": parent}


REGIONS = [
    _region("330000", "浙江省", "province", None),
    _region("330100", "杭州市", "city", "330000"),
    _region("330106", "西湖区", "county", "330100"),
    _region("330200", "宁波市", "city", "330000"),
    _region("330203", "海曙区", "county", "330200"),
    _region("330300", "温州市", "city", "330000"),
    _region("330302", "鹿城区", "county", "330300"),
    _region("330400", "嘉兴市", "city", "330000"),
    _region("340000", "安徽省", "province", None),
    _region("340100", "合肥市", "city", "340000"),
    _region("340102", "瑶海区", "county", "340100"),
]


def _project(
    code: str,
    region: str,
    planned: str,
    actual: str | None,
    plan: float,
    done: float,
    *,
    leader: bool = True,
    level: str = "provincial",
) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"项目{code[-6:]}",
        "owner_uscc": ANHUI_OWNER if region.startswith("34") else OWNER,
        "region_code": region,
        "stage": "construction" if actual else "preparation",
        "kind": "new",
        "level": level,
        "leader_project": leader,
        "total_investment": 1000,
        "annual_plan_investment": plan,
        "completed_investment": done,
        "year_completed_investment": done,
        "planned_start": planned,
        "actual_start": actual,
    }


H1 = "2025-330106-36-01-H00001"
H2 = "2025-330106-36-01-H00002"
H3 = "2025-330106-36-01-H00003"
H4 = "2025-330106-36-01-H00004"
H5 = "2025-330100-36-01-H00005"
H6 = "2025-330106-36-01-H00006"
N1 = "2025-330203-36-01-N00001"
N2 = "2025-330203-36-01-N00002"
N3 = "2025-330203-36-01-N00003"
W1 = "2025-330302-36-01-W00001"
A1 = "2025-340102-36-01-A00001"

PROJECTS = [
    _project(H1, "330106", "2025-04-10", "2025-04-20", 100, 60),
    _project(H2, "330106", "2025-05-01", "2025-07-05", 200, 20),
    _project(H3, "330106", "2025-06-30", None, 0, 0),
    _project(H4, "330106", "2025-03-31", "2025-03-01", 100, 80),
    _project(H5, "330100", "2025-04-15", "2025-03-20", 50, 50, leader=False),
    _project(H6, "330106", "2025-07-01", None, 100, 0),
    _project(N1, "330203", "2025-04-02", "2025-04-03", 100, 90),
    _project(N2, "330203", "2025-06-01", "2025-06-30", 100, 40),
    _project(N3, "330203", "2025-05-05", None, 100, 10, level="city"),
    _project(W1, "330302", "2025-04-20", "2025-04-21", 200, 80),
    _project(A1, "340102", "2025-05-01", "2025-05-02", 100, 100),
]


@pytest.fixture(scope="module", params=GRAPH_STORES)
async def board_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[GraphStore]:
    async with module_graph(request, tmp_path_factory, "board") as store:
        await _fill(store)
        yield store


async def _fill(store: GraphStore) -> None:
    await import_records(store, "region", [validate("region", r) for r in REGIONS])
    firms = [
        {"uscc": OWNER, "name": "杭州测试有限公司", "region_code": "330106"},
        {"uscc": ANHUI_OWNER, "name": "合肥测试有限公司", "region_code": "340102"},
    ]
    await import_records(store, "enterprise", [validate("enterprise", f) for f in firms])
    await import_records(store, "project", [validate("project", p) for p in PROJECTS])
    mine = {"id": "mine", "name": "我的清单", "project_codes": [H2, N3, W1]}
    await import_records(store, "project_list", [validate("project_list", mine)])


def _client(
    store: GraphStore, headers: dict[str, str] | None = None, **env: str
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    app = create_app(api_settings({**ANONYMOUS_VIEWER, **ENV, **env}), store=store)
    return started(app, headers=headers)


@pytest.fixture
async def client(board_store: GraphStore) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(board_store) as http:
        yield http


BOARD = """query($list: String!, $period: Period!, $asOf: Date, $cumulative: Boolean!,
               $within: String, $rankBy: ScoreboardRanking!) {
  cityScoreboard(list: $list, period: $period, asOf: $asOf, cumulative: $cumulative,
                 within: $within, rankBy: $rankBy) {
    period from to cumulative
    list { listId name builtIn }
    thresholds { landingRed landingYellow completionRed completionYellow }
    cities {
      city { code name level }
      warning
      landing { due landed rate rank warning }
      completion { projectCount plannedInvestment completedInvestment rate scheduleShare
                   rank warning }
    }
  }
}"""


async def _board(client: httpx.AsyncClient, **args: Any) -> dict[str, Any]:
    variables = {
        "list": "leaders",
        "period": "2025-Q2",
        "asOf": None,
        "cumulative": False,
        "within": None,
        "rankBy": "LANDING_RATE",
        **args,
    }
    data = await gql(client, BOARD, **variables)
    board: dict[str, Any] = data["cityScoreboard"]
    return board


def _rows(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["city"]["code"]: row for row in board["cities"]}


async def test_leaders_scoreboard_matches_the_hand_computed_figures(
    client: httpx.AsyncClient,
) -> None:
    board = await _board(client)
    assert board["period"] == "2025-Q2"
    assert (board["from"], board["to"], board["cumulative"]) == ("2025-04-01", "2025-06-30", False)
    assert board["list"] == {"listId": "leaders", "name": "领导联系项目", "builtIn": True}
    assert board["thresholds"] == {
        "landingRed": 0.4,
        "landingYellow": 0.7,
        "completionRed": 0.7,
        "completionYellow": 0.9,
    }
    # Ranked by landing rate; equal rates share a rank; no rate comes last.
    order = [row["city"]["code"] for row in board["cities"]]
    assert order == ["330300", "340100", "330200", "330100", "330400"]
    rows = _rows(board)
    landing = {code: row["landing"] for code, row in rows.items()}
    assert landing["330100"] == {
        "due": 3,
        "landed": 1,
        "rate": pytest.approx(1 / 3),
        "rank": 4,
        "warning": "RED",
    }
    assert landing["330200"] == {
        "due": 3,
        "landed": 2,
        "rate": pytest.approx(2 / 3),
        "rank": 3,
        "warning": "YELLOW",
    }
    assert landing["330300"] == {"due": 1, "landed": 1, "rate": 1.0, "rank": 1, "warning": "GREEN"}
    assert landing["340100"]["rank"] == 1
    assert landing["330400"] == {"due": 0, "landed": 0, "rate": None, "rank": None, "warning": None}
    completion = {code: row["completion"] for code, row in rows.items()}
    assert completion["330100"] == {
        "projectCount": 5,
        "plannedInvestment": 500.0,
        "completedInvestment": 160.0,
        "rate": pytest.approx(0.32),
        "scheduleShare": pytest.approx(SHARE),
        "rank": 4,
        "warning": "RED",  # 0.32 / (181/365) = 0.645 < 0.7
    }
    assert completion["330200"]["rate"] == pytest.approx(140 / 300)
    assert completion["330200"]["warning"] == "GREEN"  # 0.467 / 0.496 = 0.941
    assert completion["330300"]["rate"] == pytest.approx(0.4)
    assert completion["330300"]["warning"] == "YELLOW"  # 0.807
    assert [completion[c]["rank"] for c in ("340100", "330200", "330300", "330100")] == [1, 2, 3, 4]
    assert completion["330400"]["rate"] is None
    assert completion["330400"]["projectCount"] == 0
    # A city's warning is the worse of its two.
    assert {code: row["warning"] for code, row in rows.items()} == {
        "330100": "RED",
        "330200": "YELLOW",
        "330300": "YELLOW",
        "340100": "GREEN",
        "330400": None,
    }
    assert rows["330100"]["city"] == {"code": "330100", "name": "杭州市", "level": "CITY"}


async def test_lists_change_what_is_counted(client: httpx.AsyncClient) -> None:
    everything = _rows(await _board(client, list="all"))
    # H5 (not a leader, started early, located in the city itself) joins Hangzhou's figures.
    assert everything["330100"]["landing"] == {
        "due": 4,
        "landed": 2,
        "rate": 0.5,
        "rank": 4,
        "warning": "YELLOW",
    }
    assert everything["330100"]["completion"]["plannedInvestment"] == 550.0
    assert everything["330100"]["completion"]["completedInvestment"] == 210.0
    city_level = _rows(await _board(client, list="city"))
    assert city_level["330200"]["landing"]["due"] == 1  # N3 only
    assert city_level["330200"]["landing"]["landed"] == 0
    assert city_level["330100"]["landing"]["due"] == 0
    provincial = _rows(await _board(client, list="provincial"))
    assert provincial["330200"]["landing"]["due"] == 2  # N1, N2
    mine = await _board(client, list="mine")
    assert mine["list"] == {"listId": "mine", "name": "我的清单", "builtIn": False}
    rows = _rows(mine)
    assert (rows["330100"]["landing"]["due"], rows["330100"]["landing"]["landed"]) == (1, 0)
    assert (rows["330300"]["landing"]["due"], rows["330300"]["landing"]["landed"]) == (1, 1)
    assert rows["330100"]["completion"]["rate"] == pytest.approx(20 / 200)
    assert rows["340100"]["completion"]["projectCount"] == 0


async def test_cumulative_as_of_within_and_rank_by_completion(client: httpx.AsyncClient) -> None:
    cumulative = _rows(await _board(client, cumulative=True))
    # H4 was planned before the quarter: due by its end, and it started.
    assert cumulative["330100"]["landing"]["due"] == 4
    assert cumulative["330100"]["landing"]["landed"] == 2
    as_of = await _board(client, asOf="2025-05-15")
    assert as_of["to"] == "2025-05-15"
    hangzhou = _rows(as_of)["330100"]
    assert (hangzhou["landing"]["due"], hangzhou["landing"]["landed"]) == (2, 1)  # H1, H2
    assert hangzhou["completion"]["scheduleShare"] == pytest.approx(135 / 365)
    within = await _board(client, within="330000")
    assert [r["city"]["code"] for r in within["cities"]] == ["330300", "330200", "330100", "330400"]
    by_completion = await _board(client, rankBy="COMPLETION_RATE")
    order = [r["city"]["code"] for r in by_completion["cities"]]
    assert order == ["340100", "330200", "330300", "330100", "330400"]


DRILL = """query($first: Int, $after: String, $where: ProjectWhere) {
  cityScoreboard(list: "leaders", period: "2025-Q2") {
    cities {
      city { code }
      landing {
        dueProjects(first: $first, after: $after, where: $where) {
          totalCount nodes { code } pageInfo { hasNextPage endCursor }
        }
        landedProjects { totalCount nodes { code } }
        notLandedProjects(sort: [{field: PLANNED_START, direction: DESC}]) {
          totalCount nodes { code plannedStart }
        }
      }
      completion {
        projects(first: 10) {
          totalCount
          nodes { code owner { name } }
          aggregate { count annualPlanInvestment { sum } yearCompletedInvestment { sum } }
        }
      }
    }
  }
}"""


async def test_every_figure_drills_down_to_its_projects_with_pagination(
    client: httpx.AsyncClient,
) -> None:
    data = await gql(client, DRILL, first=2)
    rows = {r["city"]["code"]: r for r in data["cityScoreboard"]["cities"]}
    hangzhou = rows["330100"]
    due = hangzhou["landing"]["dueProjects"]
    assert due["totalCount"] == 3
    assert [n["code"] for n in due["nodes"]] == [H1, H2]
    assert due["pageInfo"]["hasNextPage"] is True
    assert [n["code"] for n in hangzhou["landing"]["landedProjects"]["nodes"]] == [H1]
    not_landed = hangzhou["landing"]["notLandedProjects"]
    assert not_landed["totalCount"] == 2
    assert [n["code"] for n in not_landed["nodes"]] == [H3, H2]  # sorted as asked
    projects = hangzhou["completion"]["projects"]
    assert projects["totalCount"] == 5
    assert {n["code"] for n in projects["nodes"]} == {H1, H2, H3, H4, H6}
    assert all(n["owner"]["name"] == "杭州测试有限公司" for n in projects["nodes"])
    assert projects["aggregate"] == {
        "count": 5,
        "annualPlanInvestment": {"sum": 500.0},
        "yearCompletedInvestment": {"sum": 160.0},
    }
    # The next page of Hangzhou's due projects, by its cursor.
    cursor = due["pageInfo"]["endCursor"]
    again = await gql(client, DRILL, first=2, after=cursor)
    more = {r["city"]["code"]: r for r in again["cityScoreboard"]["cities"]}["330100"]
    page = more["landing"]["dueProjects"]
    assert [n["code"] for n in page["nodes"]] == [H3]
    assert page["pageInfo"]["hasNextPage"] is False
    # Every figure equals its drill-down's totalCount, in every city.
    for row in rows.values():
        board = _rows(await _board(client))[row["city"]["code"]]
        assert row["landing"]["dueProjects"]["totalCount"] == board["landing"]["due"]
        assert row["landing"]["landedProjects"]["totalCount"] == board["landing"]["landed"]
        landed, due_n = board["landing"]["landed"], board["landing"]["due"]
        assert row["landing"]["notLandedProjects"]["totalCount"] == due_n - landed
        assert row["completion"]["projects"]["totalCount"] == board["completion"]["projectCount"]


async def test_a_drill_down_narrows_but_cannot_change_the_figure(
    client: httpx.AsyncClient,
) -> None:
    data = await gql(client, DRILL, where={"stage": ["PREPARATION"]})
    hangzhou = {r["city"]["code"]: r for r in data["cityScoreboard"]["cities"]}["330100"]
    assert [n["code"] for n in hangzhou["landing"]["dueProjects"]["nodes"]] == [H3]
    errors = await gql_errors(client, DRILL, where={"region": "330200"})
    assert {e["extensions"]["code"] for e in errors} == {"BAD_USER_INPUT"}
    assert "region" in errors[0]["message"]


async def test_project_lists_built_in_and_stored(client: httpx.AsyncClient) -> None:
    query = """{ builtInProjectLists { listId builtIn }
      projectLists(first: 10) { totalCount nodes { id listId name description builtIn
        projects { totalCount nodes { code } } } }
      leaders: projectList(key: "leaders") { name projects(first: 1) { totalCount } }
      missing: projectList(key: "nope") { listId } }"""
    data = await gql(client, query)
    assert [x["listId"] for x in data["builtInProjectLists"]] == [
        "all",
        "leaders",
        "provincial",
        "city",
        "county",
    ]
    stored = data["projectLists"]
    assert stored["totalCount"] == 1
    mine = stored["nodes"][0]
    assert (mine["listId"], mine["builtIn"]) == ("mine", False)
    assert sorted(n["code"] for n in mine["projects"]["nodes"]) == [H2, N3, W1]
    found = await gql(client, "query($id: ID!) { node(id: $id) { id } }", id=mine["id"])
    assert found["node"] == {"id": mine["id"]}
    # The list's global id names it as its listId does; projectLists filters and sorts.
    by_id = """query($id: ID!, $list: String!) { projectList(id: $id) { listId }
      cityScoreboard(period: "2025-Q2", list: $list) { list { listId } } }"""
    named = await gql(client, by_id, id=mine["id"], list=mine["id"])
    assert named == {
        "projectList": {"listId": "mine"},
        "cityScoreboard": {"list": named["projectList"]},
    }
    lists = """query($where: ProjectListWhere, $sort: [ProjectListSort!]) {
      projectLists(where: $where, sort: $sort) { nodes { listId } } }"""
    where = {"ids": [mine["id"], "nope"], "nameContains": mine["name"][:1]}
    sort = [{"field": "NAME", "direction": "DESC"}]
    found = await gql(client, lists, where=where, sort=sort)
    assert found["projectLists"]["nodes"] == [{"listId": "mine"}]
    assert data["leaders"]["projects"]["totalCount"] == 10  # every project but H5
    assert data["missing"] is None
    on_list = await gql(client, '{ projects(where: {onList: "mine"}) { totalCount } }')
    assert on_list["projects"]["totalCount"] == 3
    by_date = await gql(client, '{ projects(where: {notStartedBy: "2025-06-30"}) { totalCount } }')
    assert by_date["projects"]["totalCount"] == 4  # H2 (started later), H3, H6, N3


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"period": "2025-13"}, "BAD_USER_INPUT"),
        ({"period": "Q2-2025"}, "BAD_USER_INPUT"),
        ({"period": "2025-06-H1"}, "BAD_USER_INPUT"),  # a Period, but not one the board takes
        ({"asOf": "2025-07-01"}, "BAD_USER_INPUT"),
        ({"list": "nope"}, "NOT_FOUND"),
    ],
)
async def test_bad_arguments_have_stable_codes(
    client: httpx.AsyncClient, args: dict[str, Any], code: str
) -> None:
    variables = {
        "list": "leaders",
        "period": "2025-Q2",
        "asOf": None,
        "cumulative": False,
        "within": None,
        "rankBy": "LANDING_RATE",
        **args,
    }
    errors = await gql_errors(client, BOARD, **variables)
    assert [e["extensions"]["code"] for e in errors] == [code]


UPSERT = """mutation($items: [ProjectListInput!]!) { upsertProjectLists(items: $items) {
  created updated unchanged rejected
  items { key outcome errors { code field message } node { ... on ProjectList { listId name } } }
} }"""


async def test_operators_keep_stored_lists_and_viewers_may_not(
    board_store: GraphStore,
) -> None:
    item = {"id": "autumn", "name": "秋季清单", "projectCodes": [H1, N1]}
    async with _client(board_store) as viewer:
        errors = await gql_errors(viewer, UPSERT, items=[item])
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
    operator_key = await key_headers(board_store, Role.OPERATOR)
    async with _client(board_store, operator_key) as operator:
        bad = [
            {"id": "leaders", "name": "x"},
            {"id": "ghost", "name": "x", "projectCodes": ["2025-330106-36-01-ZZZZZZ"]},
        ]
        data = (await gql(operator, UPSERT, items=[item, *bad]))["upsertProjectLists"]
        assert (data["created"], data["rejected"]) == (1, 2)
        assert data["items"][0]["node"] == {"listId": "autumn", "name": "秋季清单"}
        assert data["items"][1]["errors"][0]["code"] == "BAD_USER_INPUT"
        assert data["items"][2]["errors"][0]["code"] == "NOT_FOUND"
        again = (await gql(operator, UPSERT, items=[item]))["upsertProjectLists"]
        assert again["unchanged"] == 1
        # Projects named by their global ids are the same projects: nothing changes.
        query = "query($c: String!) { project(code: $c) { id } }"
        ids = [(await gql(operator, query, c=c))["project"]["id"] for c in (H1, N1)]
        by_id = await gql(operator, UPSERT, items=[{**item, "projectCodes": ids}])
        assert by_id["upsertProjectLists"]["unchanged"] == 1
        board = _rows(await _board(operator, list="autumn"))
        assert board["330100"]["landing"]["due"] == 1
        assert board["330200"]["landing"]["landed"] == 1
        link = """mutation($items: [LinkInput!]!) { link(items: $items) { applied } }"""
        linked = await gql(
            operator, link, items=[{"type": "PROJECT_LIST_PROJECT", "from": "autumn", "to": H2}]
        )
        assert linked["link"]["applied"] == 1
        board = _rows(await _board(operator, list="autumn"))
        assert board["330100"]["landing"]["due"] == 2
        found = await gql(operator, '{ projectList(key: "autumn") { id } }')
        deleted = await gql(
            operator,
            "mutation($ids: [ID!]!) { deleteNodes(ids: $ids) { applied } }",
            ids=[found["projectList"]["id"]],
        )
        assert deleted["deleteNodes"]["applied"] == 1
        errors = await gql_errors(operator, BOARD, **_vars(list="autumn"))
        assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]


def _vars(**args: Any) -> dict[str, Any]:
    return {
        "list": "leaders",
        "period": "2025-Q2",
        "asOf": None,
        "cumulative": False,
        "within": None,
        "rankBy": "LANDING_RATE",
        **args,
    }


async def test_the_scoreboard_costs_a_fixed_number_of_round_trips(
    board_store: GraphStore,
) -> None:
    window = scoreboard.window("leaders", "2025-Q2")
    before = board_store.stats.round_trips
    board = await scoreboard.compute(
        board_store, window, load_settings(ENV).scoreboard, scoreboard.RankBy.LANDING
    )
    assert board_store.stats.round_trips - before == 4  # cities and three aggregates
    assert len(board.cities) == 5


def test_rules_of_rates_ranks_and_warnings() -> None:
    assert scoreboard.ranks([0.5, None, 0.9, 0.9, 0.1]) == [3, None, 1, 1, 4]
    level = scoreboard.WarningLevel
    assert scoreboard.warning(0.39, 0.4, 0.7) is level.RED
    assert scoreboard.warning(0.4, 0.4, 0.7) is level.YELLOW  # at the red threshold: not red
    assert scoreboard.warning(0.7, 0.4, 0.7) is level.GREEN
    assert scoreboard.warning(None, 0.4, 0.7) is None
    assert scoreboard.schedule_share(dt.date(2025, 12, 31)) == 1.0
    assert scoreboard.schedule_share(dt.date(2024, 1, 1)) == pytest.approx(1 / 366)
    win = scoreboard.window("mine", "2025-02", cumulative=True, within="330000")
    assert (win.start, win.end) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    assert win.filters(Figure.NOT_LANDED, "330100") == {
        "on_list": "mine",
        "planned_start_max": "2025-02-28",
        "not_started_by": "2025-02-28",
        "region": "330100",
    }


async def test_an_upper_date_bound_alone_excludes_later_dates(client: httpx.AsyncClient) -> None:
    # FalkorDB's range index returned every project for `planned_start <= x` alone.
    query = '{ projects(where: {plannedStart: {to: "2025-06-30"}}) { totalCount } }'
    assert (await gql(client, query))["projects"]["totalCount"] == 10  # all but H6 (07-01)
    query = '{ projects(where: {plannedStart: {to: "2025-04-10"}}) { nodes { code } } }'
    codes = {n["code"] for n in (await gql(client, query))["projects"]["nodes"]}
    assert codes == {H1, H4, N1}


async def test_the_demo_province_reproduces_the_seed_completion_figure(
    demo_store: GraphStore,
) -> None:
    # The demo builds in Σ done ÷ (Σ plan × 319/365) = 93.7% over all projects on 2026-11-15.
    async with _client(demo_store) as http:
        board = await _board(http, list="all", period="2026", asOf="2026-11-15")
        rows = board["cities"]
        assert len(rows) == 11
        done = sum(r["completion"]["completedInvestment"] for r in rows)
        plan = sum(r["completion"]["plannedInvestment"] for r in rows)
        share = rows[0]["completion"]["scheduleShare"]
        assert share == pytest.approx(319 / 365)
        assert done / plan / share == pytest.approx(0.937, abs=0.001)
        assert sum(r["completion"]["projectCount"] for r in rows) == 924
        spring = await _board(http, list="spring-signing", period="2026-Q2")
        assert sum(r["landing"]["due"] for r in spring["cities"]) > 0
        series = await gql(
            http,
            '{ chainStatistics(chain: "nev", region: "330000", granularity: QUARTER) '
            "{ period output } }",
        )
        periods = [p["period"] for p in series["chainStatistics"]]
        assert periods == [f"2025-Q{q}" for q in range(1, 5)] + ["2026-Q1", "2026-Q2", "2026-Q3"]
        assert all(p["output"] > 0 for p in series["chainStatistics"])
