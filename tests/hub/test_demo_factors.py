"""The demo's financing, land, schedule and approval data (hub/demo/factors.py), as served."""

from __future__ import annotations

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.demo.dates import AS_OF
from hub.demo.factors import (
    APPROVING,
    CREDIT_DISBURSED,
    CREDIT_GRANTED,
    LAND_TRACKED,
    SCHEDULED,
)
from hub.roles import Role
from tests.hub import handbuilt as hb

pytestmark = pytest.mark.anyio


async def test_demo_credit_totals_reproduce_the_seed_figures(demo_store: FalkorDBStore) -> None:
    query = """{ creditTotals(by: REGION, regionLevel: PROVINCE) { key granted disbursed }
                 byCity: creditTotals(by: REGION) { key granted } }"""
    data = await hb.ok(demo_store, query, role=Role.VIEWER)
    [province] = data["creditTotals"]
    assert province["key"] == "330000"
    assert province["granted"] == pytest.approx(CREDIT_GRANTED, abs=0.01)  # 314.79 亿元
    assert province["disbursed"] == pytest.approx(CREDIT_DISBURSED, abs=0.01)  # 82.31 亿元
    cities = data["byCity"]
    assert len(cities) > 3
    assert sum(c["granted"] for c in cities) == pytest.approx(CREDIT_GRANTED, abs=0.1)


async def test_demo_banks_see_matches_and_only_consented_owners(
    demo_store: FalkorDBStore,
) -> None:
    query = """{ financingOpportunities(first: 100) { totalCount
      nodes { score interest { consent } disclosure { ownerName } } } }"""
    consented = 0
    for bank in ("cdb-zj", "icbc-zj", "hzbank", "zjrcu"):
        data = await hb.ok(demo_store, query, role=Role.BANK, subject=bank)
        page = data["financingOpportunities"]
        assert page["totalCount"] > 0, bank
        for node in page["nodes"]:
            assert node["score"] >= 60
            granted = node["interest"]["consent"] == "GRANTED"
            assert (node["disclosure"] is not None) == granted
            consented += granted
    assert consented > 0


async def test_demo_land_tracking_has_overdue_nodes_and_red_line_flags(
    demo_store: FalkorDBStore,
) -> None:
    query = """query($asOf: Date!) {
      all: landProgresses(asOf: $asOf, first: 100) { totalCount }
      late: landProgresses(asOf: $asOf, where: {overdue: true}, first: 100) {
        totalCount nodes { projectCode overdueNodes redLineFlags { code overlap { share } } } }
      overdue: landOverdueNodes(asOf: $asOf, first: 5) { totalCount nodes { code daysOverdue } }
      layers: redLineLayers { id kind features }
    }"""
    data = await hb.ok(demo_store, query, role=Role.VIEWER, asOf=AS_OF.isoformat())
    assert data["all"]["totalCount"] == LAND_TRACKED
    late = data["late"]
    assert 0 < late["totalCount"] < LAND_TRACKED
    assert all(p["overdueNodes"] > 0 for p in late["nodes"])
    overdue = data["overdue"]
    assert overdue["totalCount"] >= late["totalCount"]
    assert {n["code"] for n in overdue["nodes"]} == {"LAND_NODE_OVERDUE"}
    assert {layer["kind"] for layer in data["layers"]} == {
        "PERMANENT_BASIC_FARMLAND",
        "ECOLOGICAL_PROTECTION",
    }


async def test_demo_schedules_and_approvals_are_served(demo_store: FalkorDBStore) -> None:
    query = """query($asOf: Date!) {
      projectSchedules(asOf: $asOf, first: 3) { totalCount nodes { projectCode
        tasks { status } investmentCurve { latest { warning deviationPoints } } } }
      approvalProgresses(asOf: $asOf, first: 100) { totalCount nodes { status
        phases { phase total } } }
    }"""
    data = await hb.ok(demo_store, query, role=Role.VIEWER, asOf=AS_OF.isoformat())
    schedules = data["projectSchedules"]
    assert schedules["totalCount"] == SCHEDULED
    assert all(len(s["tasks"]) == 5 for s in schedules["nodes"])
    assert all(s["investmentCurve"]["latest"] is not None for s in schedules["nodes"])
    approvals = data["approvalProgresses"]
    assert approvals["totalCount"] == APPROVING
    statuses = {a["status"] for a in approvals["nodes"]}
    assert "WITHIN" in statuses
    phases = ["PREPARATION", "CONSTRUCTION", "ACCEPTANCE"]
    assert all([p["phase"] for p in a["phases"]] == phases for a in approvals["nodes"])
