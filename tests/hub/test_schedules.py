"""Schedules (一表二图) and approvals on hand-built projects, at 2025-06-16 unless said.

P1's tasks:

| task | owner | planned | actual | status | start delay | finish delay |
|---|---|---|---|---|---|---|
| t1 可研批复 | 发改局 | 01-01..02-28 | 01-05..03-10 | done | 4 | 10 |
| t2 施工图设计 | 设计院 | 03-01..05-31 | 03-15.. | late | 14 | 16 (to 06-16) |
| t3 主体施工 | 总包单位 | 06-01..12-31 | 06-10.. | in progress | 9 | — |
| t4 设备安装 | 设备供应商 | 09-01..2026-03-31 | — | not started | — | — |

P1's investment (万元; total plan 2000; July's actual is after the as-of month and left out):

| month | plan | actual | plan cum. | actual cum. | deviation | points | warning (10/30) |
|---|---|---|---|---|---|---|---|
| 01 | 100 | 100 | 100 | 100 | 0 | 0 | green |
| 02 | 100 | 50 | 200 | 150 | −50 | −2.5 | green |
| 03 | 200 | 150 | 400 | 300 | −100 | −5 | green |
| 04 | 200 | 100 | 600 | 400 | −200 | −10 | yellow |
| 05 | 400 | 100 | 1000 | 500 | −500 | −25 | yellow |
| 06 | 400 | (none) | 1400 | — | | | |
| 07 | 600 | (10, after asOf) | 2000 | — | | | |

P2's approvals (enterprise, limit 45 working days; 2025 holidays and make-up days):
- preparation 项目备案 04-21..04-23: 2 (04-22, 04-23).
- preparation 用地规划许可 04-24..05-09: 9 (04-25, 04-27 make-up Sunday, 04-28..04-30,
  05-06..05-09; 05-01..05-05 holiday). Phase: 11 days, done 05-09.
- construction 施工许可 05-06..05-16: 8 (05-07..05-09, 05-12..05-16); 质量安全监督登记 from
  06-09, open: 5 at 06-16 (06-10..06-13, 06-16). Phase: 13, open.
- acceptance 竣工验收备案: not started.
- Whole process: 11 + 5 (05-12..05-16) + 5 (06-10..06-16) = 21 days with something under
  review; remaining 24; within the limit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.projects import approvals
from hub.roles import Role
from tests.hub import handbuilt as hb

pytestmark = pytest.mark.anyio

TASKS = """mutation($items: [ScheduleTaskInput!]!) { upsertScheduleTasks(items: $items) {
  accepted rejected items { key errors { code field message } } } }"""
MONTHS = """mutation($items: [InvestmentMonthInput!]!) { upsertInvestmentMonths(items: $items) {
  accepted rejected items { key errors { code field } } } }"""
APPROVALS = """mutation($items: [ApprovalItemInput!]!) { upsertApprovalItems(items: $items) {
  accepted rejected items { key errors { code field } } } }"""


def _task(
    code: str, name: str, owner: str, pos: int, plan: str, actual: str = ""
) -> dict[str, Any]:
    start, end = plan.split("..")
    a_start, _, a_end = actual.partition("..")
    return {
        "projectCode": hb.P1,
        "code": code,
        "name": name,
        "owner": owner,
        "position": pos,
        "plannedStart": start,
        "plannedEnd": end,
        "actualStart": a_start or None,
        "actualEnd": a_end or None,
    }


def _item(code: str, phase: str, start: str | None, done: str | None, **kw: Any) -> dict[str, Any]:
    return {
        "projectCode": hb.P2,
        "code": code,
        "name": code,
        "phase": phase,
        "regime": "ENTERPRISE",
        "startedOn": start,
        "completedOn": done,
        **kw,
    }


@pytest.fixture
async def graph(store: FalkorDBStore) -> FalkorDBStore:
    """A graph of the test's own on the shared embedded FalkorDB (tests/conftest.py)."""
    await hb.build(store)
    tasks = [
        _task("t1", "可研批复", "发改局", 1, "2025-01-01..2025-02-28", "2025-01-05..2025-03-10"),
        _task("t2", "施工图设计", "设计院", 2, "2025-03-01..2025-05-31", "2025-03-15"),
        _task("t3", "主体施工", "总包单位", 3, "2025-06-01..2025-12-31", "2025-06-10"),
        _task("t4", "设备安装", "设备供应商", 4, "2025-09-01..2026-03-31"),
    ]
    data = await hb.ok(store, TASKS, role=Role.OPERATOR, items=tasks)
    assert data["upsertScheduleTasks"]["accepted"] == 4
    plan = {"01": 100, "02": 100, "03": 200, "04": 200, "05": 400, "06": 400, "07": 600}
    actual = {"01": 100, "02": 50, "03": 150, "04": 100, "05": 100, "07": 10}
    months = [
        {"projectCode": hb.P1, "month": f"2025-{m}", "planned": p, "actual": actual.get(m)}
        for m, p in plan.items()
    ]
    data = await hb.ok(store, MONTHS, role=Role.OPERATOR, items=months)
    assert data["upsertInvestmentMonths"]["accepted"] == 7
    items = [
        _item("filing", "PREPARATION", "2025-04-21", "2025-04-23", position=1),
        _item("land_planning", "PREPARATION", "2025-04-24", "2025-05-09", position=2),
        _item("construction_permit", "CONSTRUCTION", "2025-05-06", "2025-05-16", position=1),
        _item("quality_safety", "CONSTRUCTION", "2025-06-09", None, position=2),
        _item("acceptance_filing", "ACCEPTANCE", None, None, authority="住建局"),
    ]
    data = await hb.ok(store, APPROVALS, role=Role.OPERATOR, items=items)
    assert data["upsertApprovalItems"]["accepted"] == 5
    return store


SCHEDULE = """query($p: String!, $y: Float!, $r: Float!) { projectSchedule(projectCode: $p) {
  asOf lateTasks
  tasks { code owner status plannedEnd actualStart actualEnd finished startDelayDays
          finishDelayDays }
  investmentCurve(yellowPoints: $y, redPoints: $r) { totalPlanned
    points { month planned actual plannedCumulative actualCumulative deviation deviationPoints
             warning }
    latest { month warning } } } }"""


async def test_gantt_and_curve_of_a_hand_built_project(graph: FalkorDBStore) -> None:
    data = await hb.ok(graph, SCHEDULE, role=Role.VIEWER, p=hb.P1, y=10.0, r=30.0)
    s = data["projectSchedule"]
    assert (s["asOf"], s["lateTasks"]) == ("2025-06-16", 1)
    rows = [
        (
            t["code"],
            t["owner"],
            t["status"],
            t["actualEnd"],
            t["finished"],
            t["startDelayDays"],
            t["finishDelayDays"],
        )
        for t in s["tasks"]
    ]
    assert rows == [
        ("t1", "发改局", "DONE", "2025-03-10", True, 4, 10),
        ("t2", "设计院", "LATE", "2025-06-16", False, 14, 16),
        ("t3", "总包单位", "IN_PROGRESS", "2025-06-16", False, 9, None),
        ("t4", "设备供应商", "NOT_STARTED", None, False, None, None),
    ]
    curve = s["investmentCurve"]
    assert curve["totalPlanned"] == 2000.0
    got = [
        (
            p["month"],
            p["plannedCumulative"],
            p["actualCumulative"],
            p["deviation"],
            p["deviationPoints"],
            p["warning"],
        )
        for p in curve["points"]
    ]
    assert got == [
        ("2025-01", 100.0, 100.0, 0.0, 0.0, "GREEN"),
        ("2025-02", 200.0, 150.0, -50.0, -2.5, "GREEN"),
        ("2025-03", 400.0, 300.0, -100.0, -5.0, "GREEN"),
        ("2025-04", 600.0, 400.0, -200.0, -10.0, "YELLOW"),
        ("2025-05", 1000.0, 500.0, -500.0, -25.0, "YELLOW"),
        ("2025-06", 1400.0, None, None, None, None),
        ("2025-07", 2000.0, None, None, None, None),
    ]
    assert curve["latest"] == {"month": "2025-05", "warning": "YELLOW"}
    # Stricter thresholds: 5 points behind is yellow, beyond 20 red.
    data = await hb.ok(graph, SCHEDULE, role=Role.VIEWER, p=hb.P1, y=5.0, r=20.0)
    warnings = [p["warning"] for p in data["projectSchedule"]["investmentCurve"]["points"]]
    assert warnings == ["GREEN", "GREEN", "YELLOW", "YELLOW", "RED", None, None]
    # Later, July's actual counts: 2000 planned against 510.
    later = dt.datetime(2025, 8, 1, tzinfo=hb.NOW.tzinfo)
    data = await hb.ok(graph, SCHEDULE, role=Role.VIEWER, now=later, p=hb.P1, y=10.0, r=30.0)
    latest = data["projectSchedule"]["investmentCurve"]["points"][-1]
    assert (latest["actualCumulative"], latest["deviationPoints"], latest["warning"]) == (
        510.0,
        -74.5,
        "RED",
    )
    _, errors = await hb.run(graph, SCHEDULE, role=Role.VIEWER, p=hb.P1, y=40.0, r=30.0)
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_bad_schedule_items_are_rejected_item_by_item(graph: FalkorDBStore) -> None:
    tasks = [
        _task("t9", "x", "y", 9, "2025-02-01..2025-01-01"),
        {
            **_task("t8", "x", "y", 8, "2025-01-01..2025-02-01"),
            "projectCode": "2025-330106-36-01-Z00009",
        },
        _task("T7 bad", "x", "y", 7, "2025-01-01..2025-02-01"),
    ]
    data = await hb.ok(graph, TASKS, role=Role.OPERATOR, items=tasks)
    result = data["upsertScheduleTasks"]
    assert (result["accepted"], result["rejected"]) == (0, 3)
    assert [i["errors"][0]["code"] for i in result["items"]] == [
        "BAD_USER_INPUT",
        "NOT_FOUND",
        "BAD_USER_INPUT",
    ]
    # A month is a Period: a malformed one fails the request before anything runs; a period of
    # another length (a quarter, a half-month) is a Period but not a month, refused item by item.
    months = [{"projectCode": hb.P1, "month": "2025-13", "planned": 1}]
    refused, errors = await hb.run(graph, MONTHS, role=Role.OPERATOR, items=months)
    assert refused is None and "2025-13" in errors[0]["message"]
    for period in ("2025-Q1", "2025-06-H1", "2025"):
        months = [{"projectCode": hb.P1, "month": period, "planned": 1}]
        data = await hb.ok(graph, MONTHS, role=Role.OPERATOR, items=months)
        item = data["upsertInvestmentMonths"]["items"][0]
        assert [(e["code"], e["field"]) for e in item["errors"]] == [("BAD_USER_INPUT", "month")]
    items = [_item("late", "ACCEPTANCE", "2025-05-02", "2025-05-01")]
    data = await hb.ok(graph, APPROVALS, role=Role.OPERATOR, items=items)
    assert data["upsertApprovalItems"]["rejected"] == 1
    _, errors = await hb.run(graph, TASKS, role=Role.VIEWER, items=tasks[:1])
    assert [e["code"] for e in errors] == ["FORBIDDEN"]


def test_working_days_follow_the_2025_calendar() -> None:
    wd = approvals.working_days
    # Spring Festival: 01-26 (Sunday) and 02-08 (Saturday) are make-up working days.
    assert wd(dt.date(2025, 1, 24), dt.date(2025, 2, 10)) == 7
    assert wd(dt.date(2025, 4, 24), dt.date(2025, 5, 9)) == 9
    assert wd(dt.date(2025, 5, 9), dt.date(2025, 5, 9)) == 0
    assert wd(dt.date(2025, 5, 9), dt.date(2025, 5, 1)) == 0


APPROVAL = """query($p: String!, $asOf: Date) { approvalProgress(projectCode: $p, asOf: $asOf) {
  asOf regime limitWorkingDays elapsedWorkingDays remainingWorkingDays completed status
  phases { phase done total startedOn completedOn elapsedWorkingDays
           items { code status elapsedWorkingDays } } } }"""


async def test_three_parallel_phases_against_the_limit(graph: FalkorDBStore) -> None:
    data = await hb.ok(graph, APPROVAL, role=Role.VIEWER, p=hb.P2, asOf=None)
    a = data["approvalProgress"]
    assert (a["asOf"], a["regime"], a["limitWorkingDays"]) == ("2025-06-16", "ENTERPRISE", 45)
    assert (a["elapsedWorkingDays"], a["remainingWorkingDays"]) == (21, 24)
    assert (a["completed"], a["status"]) == (False, "WITHIN")
    phases = {p["phase"]: p for p in a["phases"]}
    prep = phases["PREPARATION"]
    assert (prep["done"], prep["total"], prep["elapsedWorkingDays"]) == (2, 2, 11)
    assert (prep["startedOn"], prep["completedOn"]) == ("2025-04-21", "2025-05-09")
    assert [(i["code"], i["elapsedWorkingDays"]) for i in prep["items"]] == [
        ("filing", 2),
        ("land_planning", 9),
    ]
    build = phases["CONSTRUCTION"]
    assert (build["done"], build["total"], build["elapsedWorkingDays"]) == (1, 2, 13)
    assert build["completedOn"] is None
    assert [(i["status"], i["elapsedWorkingDays"]) for i in build["items"]] == [
        ("DONE", 8),
        ("IN_PROGRESS", 5),
    ]
    accept = phases["ACCEPTANCE"]
    assert (accept["done"], accept["elapsedWorkingDays"], accept["startedOn"]) == (0, None, None)
    assert accept["items"] == [
        {"code": "acceptance_filing", "status": "NOT_STARTED", "elapsedWorkingDays": None}
    ]


async def test_at_risk_and_exceeded_under_the_commitment_system(graph: FalkorDBStore) -> None:
    item = {**_item("permit", "CONSTRUCTION", "2025-03-03", None), "regime": "COMMITMENT"}
    await hb.ok(graph, APPROVALS, role=Role.OPERATOR, items=[{**item, "projectCode": hb.P1}])
    # 03-03 (Mon) to 04-25 (Fri): 39 weekdays less 04-04 (清明) = 38; 04-27 (make-up
    # Sunday) 39; 04-28 40: at the limit of 40, still open, so at risk; 04-29 exceeds it.
    data = await hb.ok(graph, APPROVAL, role=Role.VIEWER, p=hb.P1, asOf="2025-04-28")
    a = data["approvalProgress"]
    assert (a["regime"], a["limitWorkingDays"], a["elapsedWorkingDays"], a["status"]) == (
        "COMMITMENT",
        40,
        40,
        "AT_RISK",
    )
    data = await hb.ok(graph, APPROVAL, role=Role.VIEWER, p=hb.P1, asOf="2025-04-29")
    a = data["approvalProgress"]
    assert (a["elapsedWorkingDays"], a["remainingWorkingDays"], a["status"]) == (
        41,
        -1,
        "EXCEEDED",
    )
    data = await hb.ok(graph, APPROVAL, role=Role.VIEWER, p=hb.P1, asOf="2025-03-31")
    assert data["approvalProgress"]["status"] == "WITHIN"
    listing = """{ approvalProgresses(asOf: "2025-04-29", status: EXCEEDED) {
      totalCount nodes { projectCode } } }"""
    data = await hb.ok(graph, listing, role=Role.VIEWER)
    assert data["approvalProgresses"] == {"totalCount": 1, "nodes": [{"projectCode": hb.P1}]}
    data = await hb.ok(
        graph,
        '{ approvalProgresses(region: "330200") { nodes { projectCode } } }',
        role=Role.VIEWER,
    )
    assert data["approvalProgresses"]["nodes"] == [{"projectCode": hb.P2}]


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on ProjectSchedule { projectCode lateTasks }
  ... on ScheduleTask { code owner }
  ... on ApprovalProgress { projectCode status }
  ... on ApprovalItem { code itemStatus: status } } }"""


async def test_schedule_types_round_trip_through_node(graph: FalkorDBStore) -> None:
    project = f'{{ project(code: "{hb.P1}") {{ id }} }}'
    project_id = (await hb.ok(graph, project, role=Role.VIEWER))["project"]["id"]
    # The project's global id names it as its code does.
    query = """query($p: String!, $p2: String!) {
      projectSchedule(projectCode: $p) { id projectCode lateTasks project { code }
        tasks { id code owner } }
      approvalProgress(projectCode: $p2) { id projectCode status project { code }
        phases { items { id code itemStatus: status } } } }"""
    data = await hb.ok(graph, query, role=Role.VIEWER, p=project_id, p2=hb.P2)
    schedule, approvals = data["projectSchedule"], data["approvalProgress"]
    assert schedule["project"] == {"code": hb.P1} and approvals["project"] == {"code": hb.P2}
    found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=schedule["id"]))["node"]
    assert found == {"__typename": "ProjectSchedule", "id": schedule["id"], "projectCode": hb.P1,
                     "lateTasks": schedule["lateTasks"]}  # fmt: skip
    assert len(schedule["tasks"]) == 4
    for task in schedule["tasks"]:
        found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=task["id"]))["node"]
        assert found == {"__typename": "ScheduleTask", **task}
    found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=approvals["id"]))["node"]
    assert found == {"__typename": "ApprovalProgress", "id": approvals["id"],
                     "projectCode": hb.P2, "status": approvals["status"]}  # fmt: skip
    items = [i for phase in approvals["phases"] for i in phase["items"]]
    assert len(items) == 5
    for item in items:
        found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=item["id"]))["node"]
        assert found == {"__typename": "ApprovalItem", **item}


async def test_schedule_lists_filter_and_sort(graph: FalkorDBStore) -> None:
    query = """query($where: ProjectScheduleWhere, $sort: [ProjectScheduleSort!]) {
      projectSchedules(where: $where, sort: $sort) { nodes { projectCode lateTasks } } }"""
    data = await hb.ok(graph, query, role=Role.VIEWER, where={"late": True}, sort=None)
    assert [n["projectCode"] for n in data["projectSchedules"]["nodes"]] == [hb.P1]
    data = await hb.ok(graph, query, role=Role.VIEWER, where={"late": False}, sort=None)
    assert data["projectSchedules"]["nodes"] == []
    query = """query($where: ApprovalProgressWhere, $sort: [ApprovalProgressSort!]) {
      approvalProgresses(where: $where, sort: $sort) { nodes { projectCode status } } }"""
    sort = [{"field": "ELAPSED_WORKING_DAYS", "direction": "DESC"}]
    data = await hb.ok(graph, query, role=Role.VIEWER, where={"region": "330200"}, sort=sort)
    assert [n["projectCode"] for n in data["approvalProgresses"]["nodes"]] == [hb.P2]
    data = await hb.ok(graph, query, role=Role.VIEWER, where={"region": "330100"}, sort=sort)
    assert data["approvalProgresses"]["nodes"] == []
