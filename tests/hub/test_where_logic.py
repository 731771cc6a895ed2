"""OR and NOT in the ``where`` of every list beside the nine graph entities' (issue 27 item 7):
alerts (compiled into Cypher, both stores), dead letters (into SQL), and the lists the hub
filters in Python (supervision cases, projects' evidence, financing, land, schedules,
approvals) and stored project lists. Each list obeys the same laws, checked against its own
answers to the plain filters: OR is the union, NOT the complement, nesting composes, an empty
OR matches nothing, and the caps of every where are refused as BAD_USER_INPUT."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.store import GraphStore
from hub.demo.dates import AS_OF
from hub.roles import Role
from ingest.model import Message, Problem, Reason
from ingest.store import Batch
from tests.hub import handbuilt as hb
from tests.hub import sites
from tests.hub.test_monitoring_nodes import Api, hub

pytestmark = pytest.mark.anyio
__all__ = ["hub"]  # the fixture, used here

# A where in, the ids it selects and the error codes out.
Run = Callable[[dict[str, Any] | None], Awaitable[tuple[set[str] | None, list[str]]]]


async def _laws(run: Run, one: dict[str, Any], other: dict[str, Any]) -> None:
    """The laws of OR and NOT on one list, with two plain filters that select different,
    non-empty parts of it."""

    async def ids(where: dict[str, Any] | None) -> set[str]:
        found, errors = await run(where)
        assert not errors and found is not None, (where, errors)
        return found

    every, a, b = await ids({}), await ids(one), await ids(other)
    assert a and b and a != b and a | b <= every, (one, other)
    assert a != every or b != every, "the filters should leave something out"

    assert await ids({"OR": [one, other]}) == a | b
    assert await ids({"NOT": one}) == every - a
    assert await ids({"NOT": {"NOT": one}}) == a
    assert await ids({"OR": [{"NOT": one}, other]}) == (every - a) | b
    assert await ids({**other, "NOT": {"OR": [one]}}) == b - a
    assert await ids({"OR": [{"OR": [one]}, {"NOT": {"OR": [other, {"NOT": one}]}}]}) == a | (
        every - b - (every - a)
    )
    assert await ids({"OR": []}) == set()
    assert await ids({"NOT": {"OR": []}}) == every

    deep: dict[str, Any] = one
    for _ in range(5):
        deep = {"NOT": deep}
    too_many_filters = {"OR": [one] * 30, "NOT": {"OR": [one] * 30}}
    for bad in (deep, {"OR": [one] * 51}, too_many_filters):
        _, errors = await run(bad)
        assert errors == ["BAD_USER_INPUT"], (bad, errors)


def _through(
    call: Callable[..., Awaitable[tuple[dict[str, Any] | None, list[str]]]],
    field: str,
    where_type: str,
    args: str = "",
    key: str = "id",
    counted: bool = True,
) -> Run:
    """A Run over one connection field, every row in one page of up to 100."""
    query = f"""query ($w: {where_type}, $after: String) {{
      {field}(where: $w, first: 100, after: $after{args}) {{
        {"totalCount" if counted else ""} nodes {{ {key} }}
        pageInfo {{ hasNextPage endCursor }} }} }}"""

    async def run(where: dict[str, Any] | None) -> tuple[set[str] | None, list[str]]:
        found: set[str] = set()
        after = None
        while True:
            data, errors = await call(query, w=where, after=after)
            if errors or data is None:
                return None, errors
            page = data[field]
            found |= {str(n[key]) for n in page["nodes"]}
            if not page["pageInfo"]["hasNextPage"]:
                assert page.get("totalCount", len(found)) == len(found)
                return found, []
            after = page["pageInfo"]["endCursor"]

    return run


def _on_store(store: GraphStore, role: Role, subject: str | None = None) -> Any:
    async def call(query: str, **variables: Any) -> tuple[dict[str, Any] | None, list[str]]:
        data, errors = await hb.run(store, query, role=role, subject=subject, **variables)
        return data, [str(e.get("code")) for e in errors]

    return call


def _on_hub(api: Api) -> Any:
    async def call(query: str, **variables: Any) -> tuple[dict[str, Any] | None, list[str]]:
        data, codes = await api.call(query, **variables)
        return data, [str(c) for c in codes]

    return call


# --- Cypher and SQL: alerts (both stores), dead letters ------------------------------------


async def test_alerts_or_and_not_on_each_store(hub: Api) -> None:
    listed = await hub.ok("{ alerts(first: 100) { nodes { severity type projectCode } } }")
    alerts = listed["alerts"]["nodes"]
    severities = sorted({a["severity"] for a in alerts})
    kinds = sorted({a["type"] for a in alerts})
    assert len(severities) > 1 or len(kinds) > 1, alerts
    if len(severities) > 1:
        one, other = {"severities": [severities[0]]}, {"severities": [severities[1]]}
    else:
        one, other = {"types": [kinds[0]]}, {"types": [kinds[1]]}
    call = _on_hub(hub)
    await _laws(_through(call, "alerts", "AlertWhere", key="alertId"), one, other)

    # A project filter inside NOT: alerts without a project (a sensor's) are in the
    # complement, not dropped by a null comparison.
    project = next(a["projectCode"] for a in alerts if a["projectCode"])
    run = _through(call, "alerts", "AlertWhere", key="alertId")
    every, _ = await run(None)
    of_project, _ = await run({"projectCode": project})
    assert every is not None and of_project
    assert await run({"NOT": {"projectCode": project}}) == (every - of_project, [])

    # alertCounts counts what alerts lists, OR and NOT included.
    where = {"OR": [one, {"NOT": other}]}
    counted = await hub.ok("query ($w: AlertWhere) { alertCounts(where: $w) { total } }", w=where)
    found, _ = await run(where)
    assert found is not None and counted["alertCounts"]["total"] == len(found)
    # The deprecated filter: keeps its fields, without OR and NOT.
    _, errors = await hub.call("{ alerts(filter: {OR: []}) { totalCount } }")
    assert errors == ["GRAPHQL_VALIDATION_FAILED"] or errors == [None], errors


async def test_dead_letters_or_and_not_compile_into_sql(hub: Api) -> None:
    # Letters of three reasons, written as ingest writes them; then two of them replayed.
    when = sites.noon(sites.D)
    reasons = [Reason.UNDECODABLE] * 3 + [Reason.BAD_TOPIC] * 2 + [Reason.UNKNOWN_SENSOR] * 2
    dead = [
        (Message(f"hub/v1/power/s{n}", b"{}", when), Problem(reason, "test"))
        for n, reason in enumerate(reasons)
    ]
    store = hub.telemetry.store
    ids = (await store.commit(Batch(dead=dead))).dead_letter_ids
    await store.commit(Batch(replayed=[ids[0], ids[3]]))
    codes = await hub.ok("{ deadLetters(first: 100, where: {}) { nodes { code replayedAt } } }")
    nodes = codes["deadLetters"]["nodes"]
    assert len({n["code"] for n in nodes}) == 3 and sum(bool(n["replayedAt"]) for n in nodes) == 2
    run = _through(_on_hub(hub), "deadLetters", "DeadLetterWhere", counted=False)
    await _laws(run, {"code": "UNDECODABLE"}, {"code": "BAD_TOPIC"})
    await _laws(run, {"pending": True}, {"code": "UNDECODABLE"})


# --- filtered in Python: monitoring ---------------------------------------------------------


async def test_supervision_cases_and_project_evidence(hub: Api) -> None:
    alerts = await hub.ok("{ alerts(first: 100) { nodes { alertId projectCode } } }")
    projects: dict[str, str] = {}
    for alert in alerts["alerts"]["nodes"]:
        if alert["projectCode"] and alert["projectCode"] not in projects:
            projects[alert["projectCode"]] = alert["alertId"]
    assert len(projects) >= 2, projects
    for alert_id in projects.values():
        await hub.ok(
            """mutation ($a: String!) { openSupervisionCase(alertId: $a, unit: "发改局",
              person: "张科长") { id } }""",
            a=alert_id,
        )
    first, second = sorted(projects)[:2]
    call = _on_hub(hub)
    cases = _through(call, "supervisionCasesConnection", "SupervisionCaseWhere")
    await _laws(cases, {"projectCode": first}, {"projectCode": second, "statuses": ["OPEN"]})

    evidence = _through(
        call, "projectActivitiesConnection", "ProjectActivityWhere", key="projectCode"
    )
    rows = await hub.ok(
        "{ projectActivitiesConnection(first: 100) { nodes { projectCode status stage } } }"
    )
    statuses = sorted({r["status"] for r in rows["projectActivitiesConnection"]["nodes"]})
    assert len(statuses) > 1, statuses
    await _laws(evidence, {"statuses": statuses[:1]}, {"statuses": statuses[1:]})
    await _laws(evidence, {"region": sites.A}, {"statuses": statuses[:1]})


# --- filtered in Python: projects and promotion (the demo province, FalkorDB) --------------


async def test_financing_lists(falkordb_demo: FalkorDBStore) -> None:
    operator = _on_store(falkordb_demo, Role.OPERATOR)
    needs = await operator("{ financingNeeds(first: 100) { nodes { needId purpose amount } } }")
    assert needs[0] is not None
    rows = needs[0]["financingNeeds"]["nodes"]
    purposes = sorted({r["purpose"] for r in rows})
    amounts = sorted(float(r["amount"]) for r in rows)
    run = _through(operator, "financingNeeds", "FinancingNeedWhere", key="needId")
    await _laws(run, {"purpose": purposes[0]}, {"minAmount": amounts[len(amounts) // 2]})

    bank = _on_store(falkordb_demo, Role.BANK, "cdb-zj")
    found = await bank("{ financingOpportunities(first: 100) { nodes { score stage } } }")
    assert found[0] is not None
    scores = sorted(n["score"] for n in found[0]["financingOpportunities"]["nodes"])
    stages = sorted({n["stage"] for n in found[0]["financingOpportunities"]["nodes"]})
    run = _through(bank, "financingOpportunities", "FinancingOpportunityWhere", key="needId")
    await _laws(run, {"minScore": scores[len(scores) // 2]}, {"stage": stages[0]})


async def test_land_schedule_and_approval_lists(falkordb_demo: FalkorDBStore) -> None:
    viewer = _on_store(falkordb_demo, Role.VIEWER)
    as_of = f', asOf: "{AS_OF.isoformat()}"'
    city = "330100"  # Hangzhou: a region filter inside OR/NOT walks the region tree

    progress = _through(viewer, "landProgresses", "LandProgressWhere", as_of, "projectCode")
    await _laws(progress, {"overdue": True}, {"region": city})

    overdue = _through(viewer, "landOverdueNodes", "LandOverdueWhere", as_of, "key")
    listed = await viewer(
        f"{{ landOverdueNodes(first: 100{as_of}) {{ nodes {{ daysOverdue }} }} }}"
    )
    assert listed[0] is not None
    days = sorted(n["daysOverdue"] for n in listed[0]["landOverdueNodes"]["nodes"])
    await _laws(overdue, {"minDaysOverdue": days[len(days) // 2]}, {"region": city})

    schedules = _through(viewer, "projectSchedules", "ProjectScheduleWhere", as_of, "projectCode")
    await _laws(schedules, {"late": True}, {"region": city})

    approvals = _through(
        viewer, "approvalProgresses", "ApprovalProgressWhere", as_of, "projectCode"
    )
    listed = await viewer(f"{{ approvalProgresses(first: 100{as_of}) {{ nodes {{ status }} }} }}")
    assert listed[0] is not None
    status = sorted({n["status"] for n in listed[0]["approvalProgresses"]["nodes"]})
    await _laws(approvals, {"status": status[0]}, {"region": city})


async def test_stored_project_lists(own_store: FalkorDBStore) -> None:
    admin = _on_store(own_store, Role.ADMIN)
    items = [
        {"id": f"list-{n}", "name": name, "projectCodes": []}
        for n, name in enumerate(("重点 A", "重点 B", "储备 C", "储备 D"))
    ]
    data, errors = await admin(
        """mutation ($items: [ProjectListInput!]!) { upsertProjectLists(items: $items) {
          created rejected } }""",
        items=items,
    )
    assert not errors and data is not None, errors
    run = _through(admin, "projectLists", "ProjectListWhere", key="listId")
    # ids take listIds or global ids, inside OR and NOT too.
    await _laws(run, {"nameContains": "重点"}, {"ids": ["list-1", "list-2"]})
