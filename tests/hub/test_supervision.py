"""Supervision (督办) end to end through GraphQL: a case raised from an alert, assigned, past
its deadline and escalated county → city → province by the watch's own round, replied with
attachments, closed, reopened; every step with its time and actor, visible to the roles that
may see it and refused to the others; the problem ledger counts it. The clock is injected."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.api.context import Context
from hub.clock import fixed
from hub.monitoring.alerts import AlertFilter, AlertType, Status
from hub.monitoring.watch import Watch
from hub.roles import Role
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from tests.hub import handbuilt, sites
from tests.hub.sites import IDLE

pytestmark = pytest.mark.anyio
DAY = dt.timedelta(days=1)
CITY, PROVINCE = "330100", "330000"


@pytest.fixture
async def watch(store: FalkorDBStore, tmp_path: Path) -> AsyncIterator[Watch]:
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
        inactivity_timeout_s=10**9,  # the clock moves by days here: no stale feeds
        clock=fixed(sites.NOW),
    )
    await found.refresh()
    await found.check_all()
    yield found
    await telemetry.close()


class Api:
    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.now = sites.NOW

    def at(self, moment: dt.datetime) -> None:
        self.now = moment
        self.watch.clock = fixed(moment)

    async def __call__(
        self, query: str, role: Role, key: str | None = "k1", **variables: Any
    ) -> tuple[dict[str, Any] | None, list[str | None]]:
        context = Context(
            store=self.watch.store, role=role, key_id=key, watch=self.watch,
            extra={"clock": fixed(self.now)},
        )  # fmt: skip
        result = await handbuilt.schema().execute(
            query, variable_values=variables, context_value=context
        )
        codes = [
            (e.extensions or {}).get("code") or getattr(e.original_error, "code", None)
            for e in result.errors or []
        ]
        return result.data, codes


CASE = "caseId status level levelRegionCode unit person deadline overdue escalations "
CASE += "replyText attachments { name url sha256 } events { at by action status level note }"
OPEN = f"""mutation ($a: String!) {{ openSupervisionCase(alertId: $a, unit: "西湖区发改局",
  person: "张科长") {{ {CASE} }} }}"""
ASSIGN = f"""mutation ($c: String!) {{ assignSupervisionCase(caseId: $c, unit: "西湖区住建局",
  person: "李主任") {{ {CASE} }} }}"""
COMMENT = f"""mutation ($c: String!) {{ commentSupervisionCase(caseId: $c,
  text: "已电话督促") {{ {CASE} }} }}"""
REPLY = f"""mutation ($c: String!) {{ replySupervisionCase(caseId: $c, text: "已复工，附照片",
  attachments: [{{name: "site.jpg", url: "https://files.example.cn/site.jpg",
  sha256: "{"ab" * 32}", size: 1024}}]) {{ {CASE} }} }}"""
CLOSE = f"""mutation ($c: String!) {{ closeSupervisionCase(caseId: $c) {{ {CASE} }} }}"""
REOPEN = f"""mutation ($c: String!) {{ reopenSupervisionCase(caseId: $c,
  note: "复查仍未复工") {{ {CASE} }} }}"""
CASES = f"""query ($r: String, $o: Boolean) {{ supervisionCases(region: $r, overdue: $o)
  {{ {CASE} }} }}"""
LEDGER = """query ($r: String, $by: LedgerBy!) { problemLedger(region: $r, by: $by) {
  key total open replied closed overdue escalated } }"""


async def test_a_case_from_alert_to_escalation_reply_and_closure(watch: Watch) -> None:
    api = Api(watch)
    [alert] = await watch.alerts.list(
        AlertFilter(types=(AlertType.PROJECT_IDLE,), statuses=(Status.ACTIVE_UNACK,)), limit=5
    )
    assert alert.project_code == IDLE and alert.regions[0] == sites.A
    # Opening: a supervisor with a key; not a viewer, an operator, a bank or a keyless monitor.
    for role, key in ((Role.VIEWER, "k9"), (Role.OPERATOR, "k2"), (Role.BANK, "k3"),
                      (Role.MONITOR, None)):  # fmt: skip
        data, errors = await api(OPEN, role, key, a=alert.id)
        assert errors == ["FORBIDDEN"], role
    data, errors = await api(OPEN, Role.MONITOR, a=alert.id)
    assert not errors and data is not None
    case = data["openSupervisionCase"]
    cid = case["caseId"]
    assert (case["status"], case["level"], case["levelRegionCode"]) == ("OPEN", "COUNTY", sites.A)
    assert dt.datetime.fromisoformat(case["deadline"]) == sites.NOW + 5 * DAY
    _, errors = await api(OPEN, Role.MONITOR, a=alert.id)
    assert errors == ["CONFLICT"], "one open case per alert"
    # Reading: every monitoring reader, never the bank.
    data, errors = await api(CASES, Role.VIEWER, r=sites.A)
    assert not errors and data is not None and [c["caseId"] for c in data["supervisionCases"]]
    _, errors = await api(CASES, Role.BANK)
    assert errors == ["FORBIDDEN"]
    data, _ = await api(CASES, Role.VIEWER, r=sites.B)
    assert data == {"supervisionCases": []}, "county B does not see county A's case"
    # Assigned to another unit; commented by the responsible side.
    data, errors = await api(ASSIGN, Role.MONITOR, c=cid)
    assert not errors and data is not None
    assert data["assignSupervisionCase"]["unit"] == "西湖区住建局"
    _, errors = await api(ASSIGN, Role.OPERATOR, "k2", c=cid)
    assert errors == ["FORBIDDEN"]
    data, errors = await api(COMMENT, Role.OPERATOR, "k2", c=cid)
    assert not errors
    _, errors = await api(COMMENT, Role.VIEWER, "k9", c=cid)
    assert errors == ["FORBIDDEN"]

    # Past the deadline: overdue, and the watch's round escalates it to the city.
    api.at(sites.NOW + 6 * DAY)
    data, _ = await api(CASES, Role.VIEWER, o=True)
    assert data is not None and [c["caseId"] for c in data["supervisionCases"]] == [cid]
    await watch.check_cases()
    data, _ = await api(CASES, Role.VIEWER, r=CITY)
    assert data is not None
    [case] = data["supervisionCases"]
    assert (case["level"], case["levelRegionCode"], case["escalations"], case["overdue"]) == (
        "CITY", CITY, 1, False,
    )  # fmt: skip
    assert dt.datetime.fromisoformat(case["deadline"]) == sites.NOW + 9 * DAY
    # A second round before the new deadline changes nothing; after it, the province.
    await watch.check_cases()
    api.at(sites.NOW + 10 * DAY)
    await watch.check_cases()
    api.at(sites.NOW + 13 * DAY)
    await watch.check_cases()  # at the top: stays, overdue
    data, _ = await api(CASES, Role.VIEWER, r=PROVINCE)
    assert data is not None
    [case] = data["supervisionCases"]
    assert (case["level"], case["levelRegionCode"], case["escalations"], case["overdue"]) == (
        "PROVINCE", PROVINCE, 2, True,
    )  # fmt: skip
    data, _ = await api(LEDGER, Role.VIEWER, r=PROVINCE, by="REGION")
    assert data is not None and data["problemLedger"] == [
        {"key": PROVINCE, "total": 1, "open": 1, "replied": 0, "closed": 0, "overdue": 1,
         "escalated": 1},
    ]  # fmt: skip

    # The rectification reply: the responsible side, not the supervisor; then closed.
    _, errors = await api(REPLY, Role.MONITOR, c=cid)
    assert errors == ["FORBIDDEN"]
    data, errors = await api(REPLY, Role.OPERATOR, "k2", c=cid)
    assert not errors and data is not None
    case = data["replySupervisionCase"]
    assert (case["status"], case["overdue"], case["replyText"]) == (
        "REPLIED",
        False,
        "已复工，附照片",
    )
    assert case["attachments"] == [
        {"name": "site.jpg", "url": "https://files.example.cn/site.jpg", "sha256": "ab" * 32}
    ]
    _, errors = await api(CLOSE, Role.OPERATOR, "k2", c=cid)
    assert errors == ["FORBIDDEN"]
    api.at(sites.NOW + 14 * DAY)
    data, errors = await api(CLOSE, Role.MONITOR, c=cid)
    assert not errors and data is not None and data["closeSupervisionCase"]["status"] == "CLOSED"
    _, errors = await api(CLOSE, Role.MONITOR, c=cid)
    assert errors == ["CONFLICT"], "closing a closed case"
    # Reopened: the reply did not hold; a fresh deadline at the province (2 days).
    data, errors = await api(REOPEN, Role.MONITOR, c=cid)
    assert not errors and data is not None
    case = data["reopenSupervisionCase"]
    assert case["status"] == "OPEN"
    assert dt.datetime.fromisoformat(case["deadline"]) == sites.NOW + 16 * DAY
    # Every transition: when, who, what, in order.
    steps = [(e["action"], e["by"], e["level"], dt.datetime.fromisoformat(e["at"]))
             for e in case["events"]]  # fmt: skip
    assert steps == [
        ("OPENED", "monitor:k1", "COUNTY", sites.NOW),
        ("ASSIGNED", "monitor:k1", "COUNTY", sites.NOW),
        ("COMMENTED", "operator:k2", "COUNTY", sites.NOW),
        ("ESCALATED", "system:escalation", "CITY", sites.NOW + 6 * DAY),
        ("ESCALATED", "system:escalation", "PROVINCE", sites.NOW + 10 * DAY),
        ("REPLIED", "operator:k2", "PROVINCE", sites.NOW + 13 * DAY),
        ("CLOSED", "monitor:k1", "PROVINCE", sites.NOW + 14 * DAY),
        ("REOPENED", "monitor:k1", "PROVINCE", sites.NOW + 14 * DAY),
    ]
    data, _ = await api(LEDGER, Role.VIEWER, by="PROJECT")
    assert data is not None and data["problemLedger"] == [
        {"key": IDLE, "total": 1, "open": 1, "replied": 0, "closed": 0, "overdue": 0,
         "escalated": 1},
    ]  # fmt: skip


async def test_bad_input_gets_a_clear_code(watch: Watch) -> None:
    api = Api(watch)
    [alert] = await watch.alerts.list(AlertFilter(types=(AlertType.PROJECT_IDLE,)), limit=1)
    past = (sites.NOW - DAY).isoformat()
    bad_deadline = """mutation ($a: String!, $d: DateTime) { openSupervisionCase(alertId: $a,
      unit: "u", person: "p", deadline: $d) { caseId } }"""
    _, errors = await api(bad_deadline, Role.MONITOR, a=alert.id, d=past)
    assert errors == ["BAD_USER_INPUT"]
    blank = """mutation ($a: String!) { openSupervisionCase(alertId: $a, unit: " ",
      person: "p") { caseId } }"""
    _, errors = await api(blank, Role.MONITOR, a=alert.id)
    assert errors == ["BAD_USER_INPUT"]
    _, errors = await api(OPEN, Role.MONITOR, a="no-such-alert")
    assert errors == ["NOT_FOUND"]
    data, _ = await api(OPEN, Role.MONITOR, a=alert.id)
    assert data is not None
    cid = data["openSupervisionCase"]["caseId"]
    not_a_url = """mutation ($c: String!) { replySupervisionCase(caseId: $c, text: "ok",
      attachments: [{name: "x", url: "file:///etc/passwd"}]) { caseId } }"""
    _, errors = await api(not_a_url, Role.OPERATOR, "k2", c=cid)
    assert errors == ["BAD_USER_INPUT"]
    _, errors = await api(CLOSE, Role.MONITOR, c=cid)
    assert errors == ["CONFLICT"], "an unreplied case cannot be closed"


async def test_the_demo_scenario_is_a_case_past_its_deadline_and_escalated(watch: Watch) -> None:
    from hub.demo.live import supervision_scenario

    case = await supervision_scenario(watch, IDLE, clock=fixed(sites.NOW), poll_s=0.01)
    assert (case.level, case.level_region, case.escalations) == ("city", CITY, 1)
    assert [(e.action.value, e.at) for e in case.events] == [
        ("OPENED", sites.NOW - 7 * DAY),
        ("ESCALATED", sites.NOW),
    ]
    assert case.events[1].params["missed"] == (sites.NOW - 2 * DAY).astimezone(dt.UTC).isoformat(
        timespec="microseconds"
    )
    # Visible through GraphQL to the city's readers; a restart does not open a second one.
    data, _ = await Api(watch)(CASES, Role.VIEWER, r=CITY)
    assert data is not None and [c["caseId"] for c in data["supervisionCases"]] == [case.id]
    again = await supervision_scenario(watch, IDLE, clock=fixed(sites.NOW), poll_s=0.01)
    assert again.id == case.id


async def test_alerts_and_cases_take_their_own_ids_in_id_variables(watch: Watch) -> None:
    # Issue 27 item 4: a client passes an object's id field (type ID) in an ID variable, as
    # client generators declare it; the alertId/caseId keys stay as their own arguments.
    api = Api(watch)
    [alert] = await watch.alerts.list(
        AlertFilter(types=(AlertType.PROJECT_IDLE,), statuses=(Status.ACTIVE_UNACK,)), limit=5
    )
    data, errors = await api(
        "query ($a: String!) { alert(alertId: $a) { id } }", Role.VIEWER, a=alert.id
    )
    assert not errors and data is not None
    alert_gid = data["alert"]["id"]
    data, errors = await api(
        "query ($id: ID!) { alert(id: $id) { alertId } }", Role.VIEWER, id=alert_gid
    )
    assert (errors, data) == ([], {"alert": {"alertId": alert.id}})
    opened = """mutation ($id: ID!) { openSupervisionCase(alert: $id, unit: "西湖区发改局",
      person: "张科长") { id caseId } }"""
    data, errors = await api(opened, Role.MONITOR, id=alert_gid)
    assert not errors and data is not None
    case_gid, case_id = data["openSupervisionCase"]["id"], data["openSupervisionCase"]["caseId"]
    data, errors = await api(
        "query ($id: ID!) { supervisionCase(id: $id) { caseId } }", Role.VIEWER, id=case_gid
    )
    assert (errors, data) == ([], {"supervisionCase": {"caseId": case_id}})
    comment = """mutation ($id: ID!) { commentSupervisionCase(id: $id, text: "已电话督促") {
      events { action } } }"""
    data, errors = await api(comment, Role.MONITOR, id=case_gid)
    assert not errors and data is not None
    assert data["commentSupervisionCase"]["events"][-1]["action"] == "COMMENTED"
    data, errors = await api(
        "mutation ($id: ID!) { acknowledgeAlert(id: $id) { status } }", Role.MONITOR, id=alert_gid
    )
    assert (errors, data) == ([], {"acknowledgeAlert": {"status": "ACTIVE_ACK"}})
    # Exactly one of the id and the key.
    for query, variables in (
        ('mutation ($id: ID!) { clearAlert(id: $id, alertId: "x") { status } }', {"id": alert_gid}),
        ("mutation { clearAlert { status } }", {}),
        ('query ($id: ID!) { supervisionCase(id: $id, caseId: "x") { caseId } }', {"id": case_gid}),
    ):
        _, errors = await api(query, Role.MONITOR, **variables)
        assert errors == ["BAD_USER_INPUT"], query
