"""Project is the hub of its data (issue 27 item 6): its links to land, schedule, approvals,
financing needs, supervision cases, alerts and activity answer exactly what the root queries
of those modules answer for the project, with the same permissions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graph_schema.store import GraphStore
from hub.api.access import ROOT_FIELDS
from hub.api.context import Context
from hub.clock import fixed
from hub.demo.dates import AS_OF
from hub.monitoring.watch import Watch
from hub.roles import Role
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from tests.hub import handbuilt as hb
from tests.hub import sites

pytestmark = pytest.mark.anyio

LAND = "projectCode stages { name } overdueNodes"
SCHEDULE = "projectCode tasks { code status } lateTasks"
APPROVALS = "projectCode status"


async def test_land_schedule_approvals_and_financing_links_answer_as_the_roots(
    demo_store: GraphStore,
) -> None:
    codes = await hb.ok(
        demo_store,
        """query($asOf: Date!) {
            landProgresses(asOf: $asOf, first: 1) { nodes { projectCode } }
            projectSchedules(asOf: $asOf, first: 1) { nodes { projectCode } }
            approvalProgresses(asOf: $asOf, first: 1) { nodes { projectCode } }
            financingNeeds(first: 1) { nodes { projectCode } } }""",
        role=Role.OPERATOR,
        asOf=AS_OF.isoformat(),
    )
    picked = {name: page["nodes"][0]["projectCode"] for name, page in codes.items()}
    for name, code in picked.items():
        query = f"""query($c: String!, $asOf: Date!) {{
            root: landProgress(projectCode: $c, asOf: $asOf) {{ {LAND} }}
            schedule: projectSchedule(projectCode: $c, asOf: $asOf) {{ {SCHEDULE} }}
            approvals: approvalProgress(projectCode: $c, asOf: $asOf) {{ {APPROVALS} }}
            needs: financingNeeds(projectCode: $c, first: 50) {{ totalCount nodes {{ id }} }}
            project(code: $c) {{
                landProgress(asOf: $asOf) {{ {LAND} }}
                schedule(asOf: $asOf) {{ {SCHEDULE} }}
                approvals(asOf: $asOf) {{ {APPROVALS} }}
                financingNeeds(first: 50) {{ totalCount nodes {{ id }} }} }} }}"""
        data = await hb.ok(demo_store, query, role=Role.OPERATOR, c=code, asOf=AS_OF.isoformat())
        linked = data["project"]
        assert linked["landProgress"] == data["root"], name
        assert linked["schedule"] == data["schedule"], name
        assert linked["approvals"] == data["approvals"], name
        assert linked["financingNeeds"] == data["needs"], name
        which = {
            "landProgresses": "landProgress",
            "projectSchedules": "schedule",
            "approvalProgresses": "approvals",
        }
        if name in which:
            assert linked[which[name]] is not None and linked[which[name]]["projectCode"] == code
        else:
            assert linked["financingNeeds"]["totalCount"] > 0

    # Financing needs in full are for operators and admins, on the project as at the root.
    denied, errors = await hb.run(
        demo_store,
        "query($c: String!) { project(code: $c) { code financingNeeds { totalCount } } }",
        role=Role.VIEWER,
        c=picked["financingNeeds"],
    )
    assert denied == {"project": {"code": picked["financingNeeds"], "financingNeeds": None}}
    assert [(e["path"], e["code"]) for e in errors] == [
        (["project", "financingNeeds"], "FORBIDDEN")
    ]


@pytest.fixture
async def watch(store: GraphStore, tmp_path: Path) -> AsyncIterator[Watch]:
    """The fusion and alerts over tests/hub/sites.py's projects (as tests/hub/test_supervision.py
    builds them)."""
    await sites.build_graph(store)
    telemetry = await sites.open_telemetry(tmp_path / "telemetry.db")
    pipe = sites.pipeline(store, telemetry, LiveBus())
    await pipe.commit_observations(sites.history(), sites.sensor_infos())
    found = Watch(
        store,
        telemetry,
        fusion_rules=FusionSettings(),
        mpi_settings=MpiSettings(),
        alert_settings=AlertsSettings(),
        inactivity_timeout_s=10**9,
        clock=fixed(sites.NOW),
    )
    await found.refresh()
    await found.check_all()
    yield found
    await telemetry.close()


async def test_alert_case_and_activity_links_answer_as_the_roots(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run(query: str, role: Role, **variables: Any) -> Any:
        context = Context(
            store=watch.store, role=role, key_id="k1", watch=watch,
            extra={"clock": fixed(sites.NOW)},
        )  # fmt: skip
        return await hb.schema().execute(query, variable_values=variables, context_value=context)

    some = await run("{ projects(first: 20) { nodes { code } } }", Role.OPERATOR)
    alerted = 0
    for node in some.data["projects"]["nodes"]:
        code = node["code"]
        query = """query($c: String!) {
            alerts(filter: {projectCode: $c}, first: 20) { nodes { alertId } }
            supervisionCases(projectCode: $c) { caseId }
            projectActivity(project: $c, days: 14) { day status }
            project(code: $c) {
                alerts(first: 20) { nodes { alertId } }
                supervisionCases { caseId }
                activity(days: 14, first: 14) { totalCount nodes { day status } } } }"""
        result = await run(query, Role.OPERATOR, c=code)
        assert not result.errors, result.errors
        data = result.data
        linked = data["project"]
        assert linked["alerts"] == data["alerts"]
        assert linked["supervisionCases"] == data["supervisionCases"]
        newest_first = sorted(data["projectActivity"], key=lambda d: d["day"], reverse=True)
        assert linked["activity"]["nodes"] == newest_first
        assert linked["activity"]["totalCount"] == len(newest_first) > 0
        alerted += len(linked["alerts"]["nodes"]) > 0
    assert alerted > 0

    # A region links its projects' alerts and its MPI, as the roots answer them.
    query = """query($r: String!) {
        alerts(filter: {region: $r}, first: 50) { nodes { alertId } }
        mpi { region(code: $r) { code mpi rank } }
        mpiHistory(region: $r) { period mpi }
        region(code: $r) {
            alerts(first: 50) { nodes { alertId } }
            mpi { code mpi rank }
            mpiHistory { period mpi } } }"""
    for region in (sites.A, "330100", "330000"):
        result = await run(query, Role.OPERATOR, r=region)
        assert not result.errors, result.errors
        data = result.data
        assert data["region"]["alerts"] == data["alerts"]
        assert data["region"]["alerts"]["nodes"]
        assert data["region"]["mpi"] == data["mpi"]["region"]
        assert data["region"]["mpiHistory"] == data["mpiHistory"]

    # Not for the bank role, as at the roots: the link alone is null, with FORBIDDEN.
    code = some.data["projects"]["nodes"][0]["code"]
    query = "query($c: String!) { project(code: $c) { code alerts { nodes { alertId } } } }"
    # (Unconfined: the bank role may use only the financing entry points.)
    monkeypatch.delitem(ROOT_FIELDS, Role.BANK)
    result = await run(query, Role.BANK, c=code)
    assert result.data == {"project": {"code": code, "alerts": None}}
    assert [(e.path, e.extensions["code"]) for e in result.errors] == [
        (["project", "alerts"], "FORBIDDEN")
    ]


async def test_an_enterprise_links_the_financing_needs_of_its_projects(
    demo_store: GraphStore,
) -> None:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:  # every need, in the root's order
        page = (
            await hb.ok(
                demo_store,
                """query($after: String) { financingNeeds(first: 100, after: $after) {
                    nodes { id projectCode } pageInfo { hasNextPage endCursor } } }""",
                role=Role.OPERATOR,
                after=after,
            )
        )["financingNeeds"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    first = await hb.ok(
        demo_store,
        "query($c: String!) { project(code: $c) { owner { uscc } } }",
        role=Role.OPERATOR,
        c=nodes[0]["projectCode"],
    )
    uscc = first["project"]["owner"]["uscc"]
    data = await hb.ok(
        demo_store,
        """query($u: String!) { enterprise(uscc: $u) {
            projects(first: 100) { totalCount nodes { code } }
            financingNeeds(first: 100) { totalCount nodes { id } } } }""",
        role=Role.OPERATOR,
        u=uscc,
    )
    owned = data["enterprise"]["projects"]
    assert owned["totalCount"] == len(owned["nodes"])
    codes = {p["code"] for p in owned["nodes"]}
    mine = [{"id": n["id"]} for n in nodes if n["projectCode"] in codes]
    assert data["enterprise"]["financingNeeds"] == {"totalCount": len(mine), "nodes": mine}
    assert mine
