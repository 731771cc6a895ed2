"""The monitoring types as Nodes (issue 27): alerts, supervision cases, dead letters and
reading conflicts round-trip through node(id:) and through every argument that names them by
global id; their lists page forwards and backwards by the Relay arguments, sorted; the bank
sees none of them. Real embedded FalkorDB and SQLite telemetry; the clock is injected."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import ExecutionResult

from graph_schema.falkordb_store import FalkorDBStore
from hub.api.context import Context
from hub.api.paging import encode_global_id
from hub.clock import fixed
from hub.monitoring.watch import Watch
from hub.roles import Role
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from hub.telemetry import Telemetry
from ingest.bus import LiveBus
from ingest.model import Message, Reading
from tests.hub import handbuilt, sites
from tests.waiting import finishes

pytestmark = pytest.mark.anyio
SEVERITY_RANK = {"CRITICAL": 5, "MAJOR": 4, "MINOR": 3, "WARNING": 2, "INDETERMINATE": 1}


@pytest.fixture
async def hub(store: FalkorDBStore, tmp_path: Path) -> AsyncIterator[Api]:
    await sites.build_graph(store)
    telemetry_store = await sites.open_telemetry(tmp_path / "telemetry.db")
    bus = LiveBus()
    pipe = sites.pipeline(store, telemetry_store, bus)
    await pipe.commit_observations(sites.history(), sites.sensor_infos())
    watch = Watch(
        store,
        telemetry_store,
        fusion_rules=FusionSettings(),
        mpi_settings=MpiSettings(),
        alert_settings=AlertsSettings(),
        inactivity_timeout_s=10**9,
        clock=fixed(sites.NOW),
    )
    await watch.refresh()
    await watch.check_all()
    telemetry = Telemetry(
        store=telemetry_store,
        bus=bus,
        pipeline=pipe,
        timezone="Asia/Shanghai",
        inactivity_timeout_s=10**9,
        live_queue=100,
    )
    yield Api(watch, telemetry)
    await telemetry_store.close()


class Api:
    def __init__(self, watch: Watch, telemetry: Telemetry) -> None:
        self.watch = watch
        self.telemetry = telemetry

    async def call(
        self, query: str, role: Role = Role.MONITOR, key: str | None = "k1", **variables: Any
    ) -> tuple[dict[str, Any] | None, list[str | None]]:
        context = Context(
            store=self.watch.store, role=role, key_id=key, watch=self.watch,
            telemetry=self.telemetry, extra={"clock": fixed(sites.NOW)},
        )  # fmt: skip
        result = await handbuilt.schema().execute(
            query, variable_values=variables, context_value=context
        )
        codes = [
            (e.extensions or {}).get("code") or getattr(e.original_error, "code", None)
            for e in result.errors or []
        ]
        return result.data, codes

    async def ok(self, query: str, role: Role = Role.MONITOR, **variables: Any) -> dict[str, Any]:
        data, errors = await self.call(query, role, **variables)
        assert not errors and data is not None, errors
        return data


NODE = """query ($id: ID!) { node(id: $id) { __typename id
  ... on Alert { alertId }
  ... on SupervisionCase { caseId }
  ... on DeadLetter { letterId }
  ... on ReadingConflict { conflictId } } }"""


async def _pages(api: Api, field: str, args: str, backward: bool, **variables: Any) -> list[str]:
    """Every id of a list, a page of two at a time, forwards or backwards."""
    move, at = ("last", "before") if backward else ("first", "after")
    found: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        query = f"""query ($c: String) {{ {field}({move}: 2, {at}: $c{args}) {{
          edges {{ cursor node {{ id }} }}
          pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }} }}"""
        page = (await api.ok(query, c=cursor, **variables))[field]
        ids = [e["node"]["id"] for e in page["edges"]]
        info = page["pageInfo"]
        found = ids + found if backward else found + ids
        more = info["hasPreviousPage"] if backward else info["hasNextPage"]
        if not more:
            return found
        # The other way from a cursor: the page that was just left is there.
        assert info["hasNextPage" if backward else "hasPreviousPage"] == (cursor is not None)
        cursor = info["startCursor"] if backward else info["endCursor"]
    raise AssertionError("no last page")


async def test_alerts_round_trip_through_node_and_the_mutations_by_global_id(hub: Api) -> None:
    listed = (
        await hub.ok("""{ alerts(first: 100) { totalCount nodes { id alertId projectCode
          project { code } region { code } regionCodes } } }""")
    )["alerts"]
    alerts = listed["nodes"]
    assert len(alerts) == listed["totalCount"] >= 3
    for alert in alerts:
        assert alert["id"] == encode_global_id("Alert", alert["alertId"])
        found = (await hub.ok(NODE, id=alert["id"]))["node"]
        assert found == {"__typename": "Alert", "id": alert["id"], "alertId": alert["alertId"]}
        if alert["projectCode"] is not None:  # the link and its key agree
            assert alert["project"] == {"code": alert["projectCode"]}
            assert alert["region"]["code"] == alert["regionCodes"][0]
    many = await hub.ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[a["id"] for a in alerts]
    )
    assert [n["id"] for n in many["nodes"]] == [a["id"] for a in alerts]

    target = next(a for a in alerts if a["projectCode"] == sites.IDLE)
    one = "query ($a: String!) { alert(alertId: $a) { id alertId } }"
    by_id = (await hub.ok(one, a=target["id"]))["alert"]
    assert by_id == (await hub.ok(one, a=target["alertId"]))["alert"]  # the key, one release
    ack = "mutation ($a: String!) { acknowledgeAlert(alertId: $a) { id status acknowledgedBy } }"
    acked = (await hub.ok(ack, a=target["id"]))["acknowledgeAlert"]
    assert acked == {"id": target["id"], "status": "ACTIVE_ACK", "acknowledgedBy": "monitor:k1"}
    clear = "mutation ($a: String!) { clearAlert(alertId: $a) { id status clearedBy } }"
    cleared = (await hub.ok(clear, a=target["id"]))["clearAlert"]
    assert cleared == {"id": target["id"], "status": "CLEARED_ACK", "clearedBy": "monitor:k1"}

    # Another type's id is refused, not looked up as a key; a gone alert is null; banks see none.
    project_id = encode_global_id("Project", sites.IDLE)
    _, errors = await hub.call(ack, a=project_id)
    assert errors == ["BAD_USER_INPUT"]
    assert (await hub.ok(NODE, id=encode_global_id("Alert", "no-such")))["node"] is None
    _, errors = await hub.call(NODE, Role.BANK, "k3", id=target["id"])
    assert errors == ["FORBIDDEN"]


async def test_alerts_page_both_ways_sorted_with_where(hub: Api) -> None:
    everything = await hub.ok("{ alerts(first: 500) { nodes { id severity raisedAt } } }")
    newest_first = [a["id"] for a in everything["alerts"]["nodes"]]
    stamps = [a["raisedAt"] for a in everything["alerts"]["nodes"]]
    assert stamps == sorted(stamps, reverse=True)
    assert await _pages(hub, "alerts", "", backward=False) == newest_first
    assert await _pages(hub, "alerts", "", backward=True) == newest_first
    # No first: the default page like other lists (20), from the start.
    default = await hub.ok("{ alerts { nodes { id } pageInfo { hasPreviousPage } } }")
    assert [a["id"] for a in default["alerts"]["nodes"]] == newest_first[:20]

    by_severity = ", sort: [{field: SEVERITY, direction: DESC}]"
    sorted_ids = await _pages(hub, "alerts", by_severity, backward=False)
    assert sorted_ids == await _pages(hub, "alerts", by_severity, backward=True)
    severity = {a["id"]: a["severity"] for a in everything["alerts"]["nodes"]}
    ranks = [SEVERITY_RANK[severity[i]] for i in sorted_ids]
    assert sorted(sorted_ids) == sorted(newest_first) and ranks == sorted(ranks, reverse=True)

    # where names the project by code or by global id; filter still works, deprecated.
    where = "query ($p: String!) { alerts(where: {projectCode: $p}) { nodes { id } } }"
    by_code = await hub.ok(where, p=sites.IDLE)
    assert by_code["alerts"]["nodes"]
    assert by_code == await hub.ok(where, p=encode_global_id("Project", sites.IDLE))
    old = "query ($p: String!) { alerts(filter: {projectCode: $p}) { nodes { id } } }"
    assert by_code == await hub.ok(old, p=sites.IDLE)
    counts = "query ($p: String!) { alertCounts(where: {projectCode: $p}) { total } }"
    total = (await hub.ok(counts, p=sites.IDLE))["alertCounts"]["total"]
    assert total == len(by_code["alerts"]["nodes"])
    typed = await hub.ok("""{ alertCounts { bySeverity { key severity type region { code } }
      byType { key type severity } byRegion { key region { code } severity } } }""")
    groups = typed["alertCounts"]
    assert groups["bySeverity"] and groups["byType"] and groups["byRegion"]
    for row in groups["bySeverity"]:
        assert (row["severity"], row["type"], row["region"]) == (row["key"], None, None)
    assert all((r["type"], r["severity"]) == (r["key"], None) for r in groups["byType"])
    for row in groups["byRegion"]:
        expected = None if row["key"] == "none" else {"code": row["key"]}
        assert (row["region"], row["severity"]) == (expected, None)

    # Mistakes: where and filter at once, a cursor of another order, two sort keys, too big.
    cursor = (await hub.ok("{ alerts(first: 1) { pageInfo { endCursor } } }"))["alerts"]
    for query, variables in (
        ("{ alerts(where: {}, filter: {}) { nodes { id } } }", {}),
        (f"query ($c: String) {{ alerts(after: $c{by_severity}) {{ nodes {{ id }} }} }}",
         {"c": cursor["pageInfo"]["endCursor"]}),
        ("{ alerts(sort: [{field: SEVERITY}, {field: RAISED_AT}]) { nodes { id } } }", {}),
        ("{ alerts(first: 501) { nodes { id } } }", {}),
        ("{ alerts(first: 1, last: 1) { nodes { id } } }", {}),
    ):  # fmt: skip
        _, errors = await hub.call(query, **variables)
        assert errors == ["BAD_USER_INPUT"], query


CASE = "id caseId alertId alertType alertSeverity level levelRegionCode status"
CASE += " alert { id alertId } project { code } supervisingRegion { code }"


async def test_supervision_cases_round_trip_by_global_id_and_page(hub: Api) -> None:
    alerts = await hub.ok("{ alerts(first: 100) { nodes { id alertId projectCode } } }")
    opened = []
    for alert in [a for a in alerts["alerts"]["nodes"] if a["projectCode"]][:3]:
        query = f"""mutation ($a: String!) {{ openSupervisionCase(alertId: $a, unit: "西湖区发改局",
          person: "张科长") {{ {CASE} }} }}"""
        case = (await hub.ok(query, a=alert["id"]))["openSupervisionCase"]
        assert case["id"] == encode_global_id("SupervisionCase", case["caseId"])
        assert case["alert"] == {"id": alert["id"], "alertId": alert["alertId"]}
        assert case["project"] == {"code": alert["projectCode"]}
        assert case["level"] in ("COUNTY", "CITY", "PROVINCE") and case["status"] == "OPEN"
        assert case["supervisingRegion"] == {"code": case["levelRegionCode"]}
        opened.append(case)
    assert len(opened) == 3

    first = opened[0]
    found = (await hub.ok(NODE, id=first["id"]))["node"]
    assert found == {"__typename": "SupervisionCase", "id": first["id"], "caseId": first["caseId"]}
    one = f"query ($c: String!) {{ supervisionCase(caseId: $c) {{ {CASE} }} }}"
    assert (await hub.ok(one, c=first["id"]))["supervisionCase"] == first
    comment = """mutation ($c: String!) { commentSupervisionCase(caseId: $c, text: "已督促")
      { id events { action } } }"""
    commented = (await hub.ok(comment, Role.OPERATOR, c=first["id"]))["commentSupervisionCase"]
    assert commented["id"] == first["id"]
    assert [e["action"] for e in commented["events"]] == ["OPENED", "COMMENTED"]
    _, errors = await hub.call(NODE, Role.BANK, "k3", id=first["id"])
    assert errors == ["FORBIDDEN"]

    newest_first = await _pages(hub, "supervisionCasesConnection", "", backward=False)
    assert sorted(newest_first) == sorted(c["id"] for c in opened)
    assert await _pages(hub, "supervisionCasesConnection", "", backward=True) == newest_first
    ledger = """query ($by: LedgerBy!) { problemLedger(by: $by) { key total
      region { code } project { code } } }"""
    by_region = (await hub.ok(ledger, by="REGION"))["problemLedger"]
    assert by_region and all(
        r["region"] == {"code": r["key"]} and r["project"] is None for r in by_region
    )
    by_project = (await hub.ok(ledger, by="PROJECT"))["problemLedger"]
    assert {r["key"] for r in by_project} == {c["project"]["code"] for c in opened}
    assert all(r["project"] == {"code": r["key"]} and r["region"] is None for r in by_project)

    where = """query ($p: String!) { supervisionCasesConnection(where: {projectCode: $p})
      { totalCount nodes { id } } }"""
    of_project = await hub.ok(where, p=encode_global_id("Project", opened[1]["project"]["code"]))
    assert opened[1]["id"] in [n["id"] for n in of_project["supervisionCasesConnection"]["nodes"]]


async def test_dead_letters_and_conflicts_are_nodes_in_connections(hub: Api) -> None:
    junk = [Message(f"hub/v1/power/nobody-{n}", b"not json", sites.noon(sites.D)) for n in range(5)]
    await hub.telemetry.pipeline.process(junk)
    first = next(r for r in sites.history() if isinstance(r, Reading))
    await hub.telemetry.pipeline.commit_observations(
        [dataclasses.replace(first, value=first.value + 7)], sites.sensor_infos()
    )

    oldest_first = await _pages(hub, "deadLetters", "", backward=False)
    assert len(oldest_first) == 5
    assert await _pages(hub, "deadLetters", "", backward=True) == oldest_first
    newest_first = await _pages(hub, "deadLetters", ", sort: [{field: ARRIVAL, direction: DESC}]",
                                backward=False)  # fmt: skip
    assert newest_first == oldest_first[::-1]
    for letter_id in oldest_first:
        node = (await hub.ok(NODE, id=letter_id))["node"]
        assert node["__typename"] == "DeadLetter" and node["id"] == letter_id
        assert letter_id == encode_global_id("DeadLetter", str(node["letterId"]))
    # The deprecated page fields still answer; where replaces code and pending.
    old = await hub.ok("{ deadLetters(first: 2) { endCursor hasNextPage pageInfo { endCursor } } }")
    assert old["deadLetters"]["endCursor"] == old["deadLetters"]["pageInfo"]["endCursor"]
    assert old["deadLetters"]["hasNextPage"] is True
    codes = await hub.ok("{ deadLetters(first: 10) { nodes { code } } }")
    [code] = {n["code"] for n in codes["deadLetters"]["nodes"]}
    by_code = """query ($c: DeadLetterCode!) {
      deadLetters(where: {code: $c, pending: true}) { nodes { id } } }"""
    assert len((await hub.ok(by_code, c=code))["deadLetters"]["nodes"]) == 5
    other = "FUTURE" if code != "FUTURE" else "EXPIRED"
    assert (await hub.ok(by_code, c=other))["deadLetters"]["nodes"] == []
    _, errors = await hub.call("{ deadLetters(where: {}, pending: true) { nodes { id } } }")
    assert errors == ["BAD_USER_INPUT"]

    replay = """mutation ($ids: [String!]) { replayDeadLetters(letterIds: $ids) { replayed
      stillFailing { letterId code } } }"""
    outcome = (await hub.ok(replay, Role.OPERATOR, ids=oldest_first[:2]))["replayDeadLetters"]
    assert outcome["replayed"] == [] and len(outcome["stillFailing"]) == 2  # still junk
    _, errors = await hub.call(replay, Role.OPERATOR, ids=[encode_global_id("Alert", "1")])
    assert errors == ["BAD_USER_INPUT"]

    conflicts = await hub.ok("""{ readingConflicts { nodes { id conflictId sensorId
      sensor { id } storedValue sentValue } pageInfo { hasNextPage } } }""")
    [conflict] = conflicts["readingConflicts"]["nodes"]
    assert (conflict["sensorId"], conflict["sentValue"]) == (first.sensor_id, first.value + 7)
    assert conflict["sensor"] == {"id": encode_global_id("Sensor", first.sensor_id)}
    node = (await hub.ok(NODE, id=conflict["id"]))["node"]
    assert node == {"__typename": "ReadingConflict", "id": conflict["id"],
                    "conflictId": conflict["conflictId"]}  # fmt: skip
    # Dead letters are for monitoring staff and operators: not a viewer, not a bank.
    for role in (Role.VIEWER, Role.BANK):
        _, errors = await hub.call(NODE, role, "k9", id=conflict["id"])
        assert errors == ["FORBIDDEN"], role


async def test_the_live_feed_links_its_readings_and_takes_project_codes_or_ids(hub: Api) -> None:
    context = Context(
        store=hub.watch.store, role=Role.MONITOR, key_id="k1", watch=hub.watch,
        telemetry=hub.telemetry,
    )  # fmt: skip
    query = """subscription ($p: [String!]) { monitoringFeed(projectCodes: $p, kinds: [POWER]) {
      ... on FeedReading { sensorId projectCode value sensor { sensorId } project { code } } } }"""
    feed = await handbuilt.schema().subscribe(
        query,
        variable_values={"p": [encode_global_id("Project", sites.ACT)]},
        context_value=context,
    )
    assert not isinstance(feed, ExecutionResult), feed.errors
    bus = hub.telemetry.bus
    try:
        first = asyncio.ensure_future(anext(feed))

        async def subscribed() -> None:
            while not bus.subscribers:
                await asyncio.sleep(0.01)

        await finishes(subscribed(), ceiling=30, what="the feed subscribes")
        reading = Reading("pwr-act", sites.noon(sites.D) + 60_000, "energy_kwh", 42.0, "kWh")
        other = Reading("pwr-idle", sites.noon(sites.D) + 60_000, "energy_kwh", 41.0, "kWh")
        await hub.telemetry.pipeline.commit_observations([other, reading], sites.sensor_infos())
        result = await finishes(first, ceiling=30, what="the reading arrives")
        assert not result.errors, result.errors
        assert result.data == {"monitoringFeed": {
            "sensorId": "pwr-act", "projectCode": sites.ACT, "value": 42.0,
            "sensor": {"sensorId": "pwr-act"}, "project": {"code": sites.ACT},
        }}  # fmt: skip
    finally:
        await feed.aclose()
    both = """subscription { monitoringFeed(projectCodes: ["a"], projectIds: ["a"]) {
      ... on FeedReading { value } } }"""
    failed = await handbuilt.schema().subscribe(both, context_value=context)
    if isinstance(failed, ExecutionResult):
        errors = failed.errors
    else:
        errors = (await anext(failed)).errors
        await failed.aclose()
    assert errors and getattr(errors[0].original_error, "code", None) == "BAD_USER_INPUT"
