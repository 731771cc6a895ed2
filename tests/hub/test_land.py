"""Land tracking (地项通) and red lines on the hand-built graph, on a fixed clock.

P1 (杭州 西湖区) follows the approved template from 2025-01-01; P2 (宁波 海曙区) the filed one
from 2025-01-20. Node days (hub/projects/land_templates.json) accumulate: P1's first three nodes are
due 01-11 (10 days), 01-21 (+10) and 01-26 (+5); all 26 nodes take 315 days, so the last is
due 2025-11-12. P2's first node is due 01-30.

Completed: P1 site_intention on 01-10 (a day early), plan_conformity on 01-25 (4 days late).
At 2025-02-01: P1 placement_confirmed is 6 days overdue (due 01-26), land_quota is due 02-05
(not yet); P2 site_intention is 2 days overdue. At 2025-01-26 nothing is overdue (a node due
today is not late).

Red lines: P1's parcel is the 0.01° × 0.01° box from (120.00, 30.00). Its area on the WGS 84
ellipsoid, by the small-cell formula M·N·cos φ·Δφ·Δλ at φ = 30.005°, is 1,069,521.17 m².
The farmland layer (two features) covers the parcel east of 120.005 (half of it: a cell's
area is proportional to its longitude span), the ecological layer east of 120.0075 (a quarter).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from graph_schema.errors import InvalidInput
from graph_schema.falkordb_store import FalkorDBStore
from hub.clock import ZONE
from hub.projects import land, redline
from hub.projects.land_import import import_land_files
from hub.roles import Role
from tests.hub import handbuilt as hb

pytestmark = pytest.mark.anyio

FEB_1 = dt.datetime(2025, 2, 1, 9, 0, tzinfo=ZONE)
TRACK = """mutation($p: String!, $t: LandTemplateKind!, $s: Date!) {
  trackLand(projectCode: $p, template: $t, startOn: $s) { total stages { code } } }"""
COMPLETE = """mutation($items: [LandNodeCompletionInput!]!) {
  completeLandNodes(items: $items) { accepted rejected items { key ok errors { code field } } } }"""
PROGRESS = """query($p: String!, $asOf: Date) { landProgress(projectCode: $p, asOf: $asOf) {
  template asOf done total share currentStage overdueNodes
  stages { code name status done total share dueOn overdueNodes
    nodes { code dueOn completedOn overdueDays lateDays } }
  redLineFlags { code beforeStage overlap { layerId kind share overlapM2 } } } }"""
OVERDUE = """query($asOf: Date, $region: String) { landOverdueNodes(asOf: $asOf, region: $region) {
  totalCount nodes { code key projectCode stageCode nodeCode dueOn daysOverdue } } }"""


def _cell_area(west: float, south: float, east: float, north: float) -> float:
    """M·N·cos φ·Δφ·Δλ at the middle latitude: the textbook area of a small lon/lat cell."""
    a, f = 6_378_137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = math.radians((south + north) / 2)
    w = 1 - e2 * math.sin(phi) ** 2
    m, n = a * (1 - e2) / w**1.5, a / math.sqrt(w)
    return float(m * n * math.cos(phi) * math.radians(north - south) * math.radians(east - west))


PARCEL_AREA = _cell_area(120.00, 30.00, 120.01, 30.01)


@pytest.fixture
async def graph(store: FalkorDBStore) -> FalkorDBStore:
    """A graph of the test's own on the shared embedded FalkorDB (tests/conftest.py)."""
    await hb.build(store)
    data = await hb.ok(store, TRACK, role=Role.OPERATOR, p=hb.P1, t="APPROVED", s="2025-01-01")
    assert data["trackLand"]["total"] == 26
    data = await hb.ok(store, TRACK, role=Role.OPERATOR, p=hb.P2, t="FILED", s="2025-01-20")
    assert data["trackLand"]["total"] == 23
    done = [
        {"projectCode": hb.P1, "nodeCode": "site_intention", "completedOn": "2025-01-10"},
        {"projectCode": hb.P1, "nodeCode": "plan_conformity", "completedOn": "2025-01-25"},
    ]
    data = await hb.ok(store, COMPLETE, role=Role.OPERATOR, now=FEB_1, items=done)
    assert data["completeLandNodes"]["accepted"] == 2
    return store


def test_templates_are_the_seed_stages() -> None:
    approved, filed = (
        land.templates()[land.TemplateKind.APPROVED],
        land.templates()[land.TemplateKind.FILED],
    )
    assert [s.name for s in approved.stages] == [
        "空间落位",
        "空间适配",
        "选址预审",
        "勘测定界",
        "土地征收",
        "用地报批",
        "实施征收",
        "土地供应",
    ]
    assert (len(approved.stages), approved.node_count()) == (8, 26)
    assert (len(filed.stages), filed.node_count()) == (7, 23)
    assert "site_pre_review" not in {s.code for s in filed.stages}
    assert approved.red_line_check_before == "site_pre_review"


async def test_due_dates_progress_and_overdue_on_a_fixed_clock(graph: FalkorDBStore) -> None:
    data = await hb.ok(graph, PROGRESS, role=Role.VIEWER, now=FEB_1, p=hb.P1, asOf=None)
    p = data["landProgress"]
    assert p["asOf"] == "2025-02-01"  # from the injected clock
    assert (p["template"], p["done"], p["total"]) == ("APPROVED", 2, 26)
    assert p["share"] == pytest.approx(2 / 26)
    assert (p["currentStage"], p["overdueNodes"]) == ("spatial_placement", 1)
    first = p["stages"][0]
    assert (first["status"], first["done"], first["total"], first["dueOn"]) == (
        "IN_PROGRESS",
        2,
        3,
        "2025-01-26",
    )
    assert first["nodes"] == [
        {
            "code": "site_intention",
            "dueOn": "2025-01-11",
            "completedOn": "2025-01-10",
            "overdueDays": 0,
            "lateDays": 0,
        },
        {
            "code": "plan_conformity",
            "dueOn": "2025-01-21",
            "completedOn": "2025-01-25",
            "overdueDays": 0,
            "lateDays": 4,
        },
        {
            "code": "placement_confirmed",
            "dueOn": "2025-01-26",
            "completedOn": None,
            "overdueDays": 6,
            "lateDays": 0,
        },
    ]
    assert p["stages"][1]["nodes"][0] == {
        "code": "land_quota",
        "dueOn": "2025-02-05",
        "completedOn": None,
        "overdueDays": 0,
        "lateDays": 0,
    }
    assert p["stages"][1]["status"] == "NOT_STARTED"
    assert p["stages"][-1]["nodes"][-1]["dueOn"] == "2025-11-12"
    data = await hb.ok(graph, OVERDUE, role=Role.VIEWER, now=FEB_1, asOf=None, region=None)
    overdue = data["landOverdueNodes"]
    assert overdue["totalCount"] == 2
    assert overdue["nodes"] == [
        {
            "code": "LAND_NODE_OVERDUE",
            "key": f"{hb.P1}/placement_confirmed@2025-01-26",
            "projectCode": hb.P1,
            "stageCode": "spatial_placement",
            "nodeCode": "placement_confirmed",
            "dueOn": "2025-01-26",
            "daysOverdue": 6,
        },
        {
            "code": "LAND_NODE_OVERDUE",
            "key": f"{hb.P2}/site_intention@2025-01-30",
            "projectCode": hb.P2,
            "stageCode": "spatial_placement",
            "nodeCode": "site_intention",
            "dueOn": "2025-01-30",
            "daysOverdue": 2,
        },
    ]
    data = await hb.ok(graph, OVERDUE, role=Role.VIEWER, asOf="2025-02-01", region="330200")
    assert [n["projectCode"] for n in data["landOverdueNodes"]["nodes"]] == [hb.P2]
    data = await hb.ok(graph, OVERDUE, role=Role.VIEWER, asOf="2025-01-26", region=None)
    assert data["landOverdueNodes"]["totalCount"] == 0
    # The service on its own, for the alert lifecycle: the same findings on the same clock.
    found = await land.overdue(graph, dt.date(2025, 2, 1))
    assert [(o.code, o.key, o.days_overdue) for o in found] == [
        ("LAND_NODE_OVERDUE", f"{hb.P1}/placement_confirmed@2025-01-26", 6),
        ("LAND_NODE_OVERDUE", f"{hb.P2}/site_intention@2025-01-30", 2),
    ]
    # Completing the node ends the finding; reopening brings it back.
    item = {"projectCode": hb.P1, "nodeCode": "placement_confirmed", "completedOn": "2025-01-31"}
    await hb.ok(graph, COMPLETE, role=Role.OPERATOR, now=FEB_1, items=[item])
    assert [o.node.code for o in await land.overdue(graph, dt.date(2025, 2, 1))] == [
        "site_intention"
    ]
    data = await hb.ok(graph, PROGRESS, role=Role.VIEWER, now=FEB_1, p=hb.P1, asOf=None)
    assert data["landProgress"]["stages"][0]["status"] == "DONE"
    assert data["landProgress"]["currentStage"] == "spatial_fit"
    await hb.ok(
        graph, COMPLETE, role=Role.OPERATOR, now=FEB_1, items=[{**item, "completedOn": None}]
    )
    assert len(await land.overdue(graph, dt.date(2025, 2, 1))) == 2


async def test_bad_completions_and_tracking_are_refused_clearly(graph: FalkorDBStore) -> None:
    items = [
        {"projectCode": hb.P1, "nodeCode": "no_such_node", "completedOn": "2025-01-20"},
        {"projectCode": hb.P1, "nodeCode": "land_quota", "completedOn": "2025-03-01"},
        {"projectCode": hb.P2, "nodeCode": "pre_review_opinion", "completedOn": "2025-01-20"},
        {"projectCode": hb.P2, "nodeCode": "Bad Code", "completedOn": "2025-01-20"},
        {"projectCode": hb.P2, "nodeCode": "site_intention", "completedOn": "2025-01-29"},
    ]
    data = await hb.ok(graph, COMPLETE, role=Role.OPERATOR, now=FEB_1, items=items)
    result = data["completeLandNodes"]
    assert (result["accepted"], result["rejected"]) == (1, 4)
    codes = [
        (i["errors"][0]["code"], i["errors"][0]["field"]) if i["errors"] else None
        for i in result["items"]
    ]
    assert codes == [
        ("NOT_FOUND", "nodeCode"),
        ("BAD_USER_INPUT", "completedOn"),  # in the future of the clock
        ("NOT_FOUND", "nodeCode"),  # filed projects have no site pre-review
        ("BAD_USER_INPUT", "nodeCode"),
        None,
    ]
    _, errors = await hb.run(graph, TRACK, role=Role.OPERATOR, p=hb.P1, t="FILED", s="2025-01-01")
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]
    unknown = "2025-330106-36-01-Z99999"
    _, errors = await hb.run(graph, TRACK, role=Role.OPERATOR, p=unknown, t="FILED", s="2025-01-01")
    assert [e["code"] for e in errors] == ["NOT_FOUND"]
    _, errors = await hb.run(graph, COMPLETE, role=Role.VIEWER, items=items[:1])
    assert [e["code"] for e in errors] == ["FORBIDDEN"]


def test_equal_area_matches_the_ellipsoid_on_hand_computed_cells() -> None:
    for west, south in ((120.0, 30.0), (87.6, 43.8), (110.3, 20.0)):
        cell = shape(hb.box(west, south, west + 0.01, south + 0.01))
        expected = _cell_area(west, south, west + 0.01, south + 0.01)
        assert redline.area_m2(cell) == pytest.approx(expected, rel=1e-7)
    assert pytest.approx(1_069_521.17, abs=0.01) == PARCEL_AREA
    # A 1° cell at the equator, about 111.32 km of longitude × 110.57 km of latitude: the
    # small-cell formula still holds to 1e-4 at this size.
    one_degree = redline.area_m2(shape(hb.box(100, 0, 101, 1)))
    assert one_degree == pytest.approx(_cell_area(100, 0, 101, 1), rel=1e-4)
    assert one_degree / 1e6 == pytest.approx(111.32 * 110.57, rel=1e-4)


def _collection(*boxes: tuple[float, float, float, float]) -> dict[str, Any]:
    features = [{"type": "Feature", "properties": {}, "geometry": hb.box(*b)} for b in boxes]
    return {"type": "FeatureCollection", "features": features}


IMPORT = """mutation($id: String!, $kind: RedLineKind!, $name: String!, $g: JSON!) {
  importRedLineLayer(id: $id, kind: $kind, name: $name, geojson: $g) {
    id kind features areaM2 } }"""


async def test_parcel_overlap_with_red_lines(graph: FalkorDBStore) -> None:
    farmland = _collection((120.005, 29.99, 120.0075, 30.02), (120.0075, 29.99, 120.02, 30.02))
    data = await hb.ok(
        graph,
        IMPORT,
        role=Role.OPERATOR,
        id="pbf-xihu",
        kind="PERMANENT_BASIC_FARMLAND",
        name="西湖区永久基本农田",
        g=farmland,
    )
    layer = data["importRedLineLayer"]
    assert (layer["features"], layer["kind"]) == (2, "PERMANENT_BASIC_FARMLAND")
    assert layer["areaM2"] == pytest.approx(_cell_area(120.005, 29.99, 120.02, 30.02), rel=1e-6)
    eco = {"type": "Feature", "geometry": hb.box(120.0075, 30.0, 120.03, 30.01)}
    await hb.ok(
        graph,
        IMPORT,
        role=Role.OPERATOR,
        id="eco-1",
        kind="ECOLOGICAL_PROTECTION",
        name="生态",
        g=eco,
    )
    far = hb.box(121.0, 31.0, 121.1, 31.1)
    await hb.ok(
        graph,
        IMPORT,
        role=Role.OPERATOR,
        id="eco-2",
        kind="ECOLOGICAL_PROTECTION",
        name="远",
        g=far,
    )
    query = """query($ids: [String!]!) { parcelRedLineOverlaps(parcelIds: $ids) {
      parcelId layerId kind parcelAreaM2 overlapM2 share } }"""
    data = await hb.ok(graph, query, role=Role.VIEWER, ids=[hb.PARCEL])
    rows = {r["layerId"]: r for r in data["parcelRedLineOverlaps"]}
    assert rows["eco-1"]["parcelAreaM2"] == pytest.approx(PARCEL_AREA, rel=1e-7)
    assert rows["pbf-xihu"]["share"] == pytest.approx(0.5, abs=1e-9)
    assert rows["pbf-xihu"]["overlapM2"] == pytest.approx(PARCEL_AREA / 2, rel=1e-7)
    assert rows["eco-1"]["share"] == pytest.approx(0.25, abs=1e-9)
    assert rows["eco-1"]["overlapM2"] == pytest.approx(PARCEL_AREA / 4, rel=1e-7)
    assert (rows["eco-2"]["share"], rows["eco-2"]["overlapM2"]) == (0.0, 0.0)
    # Flagged on P1 until its site pre-review (the stage the check guards) is done.
    data = await hb.ok(graph, PROGRESS, role=Role.VIEWER, now=FEB_1, p=hb.P1, asOf=None)
    flags = data["landProgress"]["redLineFlags"]
    assert [(f["code"], f["beforeStage"], f["overlap"]["layerId"]) for f in flags] == [
        ("RED_LINE_OVERLAP", "site_pre_review", "eco-1"),
        ("RED_LINE_OVERLAP", "site_pre_review", "pbf-xihu"),
    ]
    codes = ("pre_review_filing", "land_saving_review", "pre_review_opinion")
    items = [{"projectCode": hb.P1, "nodeCode": c, "completedOn": "2025-01-31"} for c in codes]
    await hb.ok(graph, COMPLETE, role=Role.OPERATOR, now=FEB_1, items=items)
    data = await hb.ok(graph, PROGRESS, role=Role.VIEWER, now=FEB_1, p=hb.P1, asOf=None)
    assert data["landProgress"]["redLineFlags"] == []


async def test_bad_red_line_layers_are_bad_user_input(graph: FalkorDBStore) -> None:
    with pytest.raises(InvalidInput, match="kind"):
        redline.layer_from_geojson("x1", "farmland", "x", hb.box(120, 30, 121, 31))
    with pytest.raises(InvalidInput, match="feature 0"):
        redline.layer_from_geojson(
            "x1", "ecological_protection", "x", hb.box(30, 120, 31, 121)
        )  # lat/lon swapped
    _, errors = await hb.run(
        graph,
        IMPORT,
        role=Role.OPERATOR,
        id="bad id!",
        kind="ECOLOGICAL_PROTECTION",
        name="x",
        g=hb.box(120, 30, 121, 31),
    )
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_completions_and_layers_import_from_files(
    graph: FalkorDBStore, tmp_path: Path
) -> None:
    (tmp_path / "done.csv").write_text(
        "project_code,node_code,completed_on\n"
        f"{hb.P1},placement_confirmed,2025-01-30\n"
        f"{hb.P1},no_such_node,2025-01-30\n"
        f"{hb.P2},site_intention,\n",  # empty: reopened (it was open anyway)
        encoding="utf-8",
    )
    (tmp_path / "more.jsonl").write_text(
        json.dumps(
            {"project_code": hb.P2, "node_code": "site_intention", "completed_on": "2025-01-29"}
        )
        + "\nnot json\n",
        encoding="utf-8",
    )
    (tmp_path / "pbf-west.geojson").write_text(
        json.dumps(_collection((119.99, 29.99, 120.005, 30.02))), encoding="utf-8"
    )
    report = await import_land_files(
        graph,
        [tmp_path / "done.csv", tmp_path / "more.jsonl", tmp_path / "pbf-west.geojson"],
        FEB_1,
        kind="permanent_basic_farmland",
    )
    assert report.completed == 3
    assert report.layers == ["pbf-west"]
    assert [str(b).replace(str(tmp_path), "") for b in report.bad] == [
        f"/done.csv:3: NOT_FOUND node_code: no land node no_such_node tracked for project {hb.P1}",
        "/more.jsonl:2: BAD_USER_INPUT not JSON: Expecting value: line 1 column 1 (char 0)",
    ]
    assert await land.overdue(graph, dt.date(2025, 2, 1)) == []
    overlaps = await land.parcel_overlaps(graph, [hb.PARCEL])
    assert [(o.layer_id, round(o.share, 9)) for o in overlaps[hb.PARCEL]] == [("pbf-west", 0.5)]


def test_the_import_land_command(tmp_path: Path) -> None:
    layer = tmp_path / "eco-x.geojson"
    layer.write_text(json.dumps(hb.box(120.0, 30.0, 120.01, 30.01)), encoding="utf-8")
    rows = tmp_path / "nodes.csv"
    rows.write_text("project_code,node_code,completed_on\nnope,site_intention,2025-01-01\n")
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "hub", "import-land", "--kind", "ecological_protection"]
    done = subprocess.run(
        [*command, str(layer), str(rows)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3, done.stderr
    assert "nodes.csv:2: NOT_FOUND node_code: no land node site_intention" in done.stderr
    assert "layers imported: eco-x" in done.stderr


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on LandProgress { projectCode project { code } }
  ... on LandNode { code }
  ... on RedLineLayer { layerId } } }"""


async def test_land_types_round_trip_through_node(graph: FalkorDBStore) -> None:
    query = """{ landProgresses { nodes { id projectCode project { code }
      stages { nodes { id code } } } } }"""
    data = await hb.ok(graph, query, role=Role.VIEWER)
    progresses = data["landProgresses"]["nodes"]
    assert {p["projectCode"] for p in progresses} == {hb.P1, hb.P2}
    for p in progresses:
        assert p["project"] == {"code": p["projectCode"]}
        found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=p["id"]))["node"]
        assert found == {"__typename": "LandProgress", "id": p["id"],
                         "projectCode": p["projectCode"], "project": p["project"]}  # fmt: skip
        nodes = [n for s in p["stages"] for n in s["nodes"]]
        for n in (nodes[0], nodes[-1]):
            found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=n["id"]))["node"]
            assert found == {"__typename": "LandNode", "id": n["id"], "code": n["code"]}
    # The project's global id names it as its code does.
    project = f'{{ project(code: "{hb.P1}") {{ id }} }}'
    project_id = (await hb.ok(graph, project, role=Role.VIEWER))["project"]["id"]
    one = "query($p: String!) { landProgress(projectCode: $p) { id projectCode } }"
    data = await hb.ok(graph, one, role=Role.VIEWER, p=project_id)
    assert data["landProgress"]["projectCode"] == hb.P1
    # A red-line layer too; its global id names it when it is replaced.
    eco = {"type": "Feature", "geometry": hb.box(120.0075, 30.0, 120.03, 30.01)}
    args = {"kind": "ECOLOGICAL_PROTECTION", "name": "生态", "g": eco}
    layer = await hb.ok(graph, IMPORT, role=Role.OPERATOR, id="eco-1", **args)
    layer_id = layer["importRedLineLayer"]["id"]
    found = (await hb.ok(graph, NODE, role=Role.VIEWER, id=layer_id))["node"]
    assert found == {"__typename": "RedLineLayer", "id": layer_id, "layerId": "eco-1"}
    again = await hb.ok(graph, IMPORT, role=Role.OPERATOR, id=layer_id, **args)
    assert again["importRedLineLayer"]["id"] == layer_id
    # The bank role reaches none of it.
    _, errors = await hb.run(graph, NODE, role=Role.BANK, subject="bank-a", id=layer_id)
    assert [e["code"] for e in errors] == ["FORBIDDEN"]


async def test_land_progresses_sort(graph: FalkorDBStore) -> None:
    query = """query($sort: [LandProgressSort!]) { landProgresses(sort: $sort) {
      nodes { projectCode total } } }"""
    default = await hb.ok(graph, query, role=Role.VIEWER, sort=None)
    codes = [n["projectCode"] for n in default["landProgresses"]["nodes"]]
    assert codes == sorted(codes)
    desc = [{"field": "PROJECT_CODE", "direction": "DESC"}]
    data = await hb.ok(graph, query, role=Role.VIEWER, sort=desc)
    assert [n["projectCode"] for n in data["landProgresses"]["nodes"]] == codes[::-1]
    # A cursor of one order is refused in another.
    paged = """query($sort: [LandProgressSort!], $after: String) {
      landProgresses(sort: $sort, first: 1, after: $after) { pageInfo { endCursor } } }"""
    page = await hb.ok(graph, paged, role=Role.VIEWER, sort=None, after=None)
    cursor = page["landProgresses"]["pageInfo"]["endCursor"]
    _, errors = await hb.run(graph, paged, role=Role.VIEWER, sort=desc, after=cursor)
    assert [e["code"] for e in errors] == ["BAD_USER_INPUT"]


async def test_overdue_nodes_filter_sort_and_link(graph: FalkorDBStore) -> None:
    query = """query($where: LandOverdueWhere, $sort: [LandOverdueSort!]) {
      landOverdueNodes(asOf: "2025-02-01", where: $where, sort: $sort) {
        nodes { projectCode daysOverdue project { code } region { code } } } }"""
    data = await hb.ok(graph, query, role=Role.VIEWER, where=None, sort=None)
    nodes = data["landOverdueNodes"]["nodes"]
    assert [n["daysOverdue"] for n in nodes] == [6, 2]  # most overdue first by default
    assert all(n["project"]["code"] == n["projectCode"] for n in nodes)
    assert [n["region"]["code"] for n in nodes] == ["330106", "330203"]
    by_due = [{"field": "DAYS_OVERDUE", "direction": "ASC"}]
    data = await hb.ok(graph, query, role=Role.VIEWER, where=None, sort=by_due)
    assert [n["daysOverdue"] for n in data["landOverdueNodes"]["nodes"]] == [2, 6]
    for where, expected in (
        ({"region": "330200"}, [hb.P2]),
        ({"projectCode": hb.P1}, [hb.P1]),
        ({"minDaysOverdue": 3}, [hb.P1]),
        ({"stageCode": "spatial_placement", "minDaysOverdue": 7}, []),
    ):
        data = await hb.ok(graph, query, role=Role.VIEWER, where=where, sort=None)
        found = [n["projectCode"] for n in data["landOverdueNodes"]["nodes"]]
        assert found == expected, where
