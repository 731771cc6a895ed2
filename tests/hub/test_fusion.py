"""Scenario: a hand-built province with thirty days of readings (tests/hub/sites.py); the
statuses, mismatches, alerts and MPI computed by the hub equal the ones worked out by hand
here."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from hub.api.context import Context
from hub.api.paging import encode_global_id
from hub.api.schema import error_code
from hub.clock import fixed
from hub.monitoring import fusion
from hub.monitoring.alerts import AlertFilter, AlertType, Severity, Status
from hub.monitoring.mpi import HalfMonth, RateKind
from hub.monitoring.watch import Watch
from hub.promotion.scoreboard import WarningLevel
from hub.roles import Role
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from tests.hub import handbuilt, sites
from tests.hub.sites import ACT, CITYLIST, IDLE, LATE, LOW, NODATA, STARTED, D

pytestmark = pytest.mark.anyio
ACTIVE = (Status.ACTIVE_UNACK, Status.ACTIVE_ACK)


@pytest.fixture
async def watch(store: FalkorDBStore, tmp_path: Path) -> AsyncIterator[Watch]:
    await sites.build_graph(store)
    telemetry = await sites.open_telemetry(tmp_path / "telemetry.db")
    pipe = sites.pipeline(store, telemetry, LiveBus())
    await pipe.commit_observations(sites.history(), sites.sensor_infos())
    yield Watch(
        store,
        telemetry,
        fusion_rules=FusionSettings(),
        mpi_settings=MpiSettings(),
        alert_settings=AlertsSettings(),
        inactivity_timeout_s=1800,
        clock=fixed(sites.NOW),
    )
    await telemetry.close()


async def test_statuses_follow_the_evidence_of_every_feed(watch: Watch) -> None:
    snap = await watch.refresh()
    day = {code: snap.history[code][D] for code in snap.projects}
    before = {code: snap.history[code][D - dt.timedelta(days=1)] for code in snap.projects}
    assert all(e.partial for e in day.values()) and not any(e.partial for e in before.values())
    # Power 100 of a 100 kWh baseline, 20 of 20 workers, camera active half the day.
    assert (day[ACT].status, day[ACT].confidence) == (fusion.Activity.ACTIVE, 0.9)
    assert day[ACT].power_resumed is True
    # Yesterday: power 2 kWh of 100 (idle); the gate has been silent for 8 days, so no labor
    # evidence. Confidence: power's weight 0.4 of 1.0, all of it agreeing.
    assert (before[IDLE].status, before[IDLE].confidence) == (fusion.Activity.IDLE, 0.4)
    labor = before[IDLE].feed("labor")
    assert labor is not None and labor.level is None
    # Today is in progress: 2 kWh so far proves nothing yet.
    assert day[IDLE].status is fusion.Activity.NO_DATA
    power = day[IDLE].feed("power")
    assert power is not None and power.note == "day in progress: 2 kWh so far"
    # Yesterday: power 20% (low), the healthy camera 10% (low), the tampered one ignored:
    # score (0.4 × ½ + 0.2 × ½) / 0.6 = ½ → LOW; confidence 0.6 × 1.
    assert (before[LOW].status, before[LOW].score, before[LOW].confidence) == (
        fusion.Activity.LOW, 0.5, 0.6,
    )  # fmt: skip
    camera = before[LOW].feed("camera")
    assert camera is not None and camera.value == 0.1 and "cam-low-2 tampered" in camera.note
    # Today: 100 kWh by noon already crosses 30%; no camera activity today: power alone.
    assert (day[LOW].status, day[LOW].confidence) == (fusion.Activity.ACTIVE, 0.4)
    # Only the satellite (weight 0.1): change confirmed two days ago.
    assert (day[LATE].status, day[LATE].confidence) == (fusion.Activity.ACTIVE, 0.1)
    assert (day[NODATA].status, day[NODATA].confidence) == (fusion.Activity.NO_DATA, 0.0)
    # Labor is expected from 30 days after the permit: before that, no gate is no evidence.
    early = fusion.labor_evidence(
        snap.inputs[IDLE], snap.projects[IDLE], dt.date(2025, 3, 1), watch.tz, watch.rules
    )
    assert early is not None and early.level is None and "2025-03-22" in early.note
    # Judged on complete days: D-7 to D-1.
    assert fusion.idle_run(snap.history[IDLE], D) == 7


async def test_mismatches_are_found_and_explained(watch: Watch) -> None:
    snap = await watch.refresh()
    found = {c: [m.kind for m in ms] for c, ms in snap.mismatches.items() if ms}
    assert found == {
        IDLE: [fusion.MismatchKind.NO_ACTIVITY],
        LATE: [fusion.MismatchKind.SATELLITE_CONSTRUCTION],
    }
    [idle] = snap.mismatches[IDLE]
    assert idle.since == D - dt.timedelta(days=7)
    assert "reported under construction" in idle.explanation and "power" in idle.explanation
    [late] = snap.mismatches[LATE]
    assert "reported not started (preparation)" in late.explanation
    assert "confirmed" in late.explanation


def test_a_jump_in_reported_investment_without_activity_is_a_mismatch() -> None:
    rules = FusionSettings()
    project = fusion.Project.of(
        {"code": "P", "stage": "construction", "kind": "continuing", "permit_date": "2025-01-01"}
    )
    inputs = fusion.Inputs(months={"2026-08": 100.0, "2026-09": 120.0, "2026-10": 400.0})
    quiet = {
        dt.date(2026, 10, d): fusion.combine(
            "P", dt.date(2026, 10, d),
            [fusion.FeedEvidence("power", fusion.Level.IDLE if d > 5 else fusion.Level.ACTIVE,
                                 1.0, 100.0, "")],
            rules,
        )
        for d in range(1, 21)
    }  # fmt: skip
    found = fusion.mismatches(project, inputs, quiet, dt.date(2026, 10, 20), rules)
    # Idle for the last 7 days under construction, too.
    assert [m.kind.value for m in found] == ["NO_ACTIVITY", "INVESTMENT_JUMP"]
    jump = found[1]
    assert "3.6× the median 110" in jump.explanation and "25%" in jump.explanation
    busy = {d: e for d, e in quiet.items() if d.day <= 5}
    assert fusion.mismatches(project, inputs, busy, dt.date(2026, 10, 20), rules) == []


async def test_checks_raise_the_expected_alerts(watch: Watch) -> None:
    await watch.refresh()
    await watch.check_all()
    active = await watch.alerts.list(AlertFilter(statuses=ACTIVE), limit=100)
    seen = {(a.type, a.subject, a.severity) for a in active}
    assert seen == {
        (AlertType.PROJECT_IDLE, IDLE, Severity.MAJOR),  # 7 complete days ≥ 7
        (AlertType.VERIFICATION_MISMATCH, f"{IDLE}/NO_ACTIVITY", Severity.MAJOR),
        (AlertType.VERIFICATION_MISMATCH, f"{LATE}/SATELLITE_CONSTRUCTION", Severity.MAJOR),
        # lab-idle, silent 8 days (timeout 1 day), is not stale: its site is idle, and
        # nobody passes a stopped site's gate.
        (AlertType.CAMERA_HEALTH, "cam-low-2", Severity.CRITICAL),  # tampered
        # sat-late's change on LATE (preparation, not started) is the mismatch above, not a
        # second SATELLITE_CHANGE alert.
    }
    # A second round changes nothing: still one active alert each.
    await watch.check_all()
    assert await watch.alerts.count(AlertFilter(statuses=ACTIVE)) == len(seen)
    # Every alert propagates to the city and the province; county B sees only its own.
    assert await watch.alerts.count(AlertFilter(region="330000", statuses=ACTIVE)) == 4
    in_b = await watch.alerts.list(AlertFilter(region=sites.B, statuses=ACTIVE), limit=10)
    assert [a.subject for a in in_b] == ["cam-low-2"]


async def test_mpi_of_a_small_region_equals_the_hand_computed_values(watch: Watch) -> None:
    board = await watch.board(HalfMonth.parse("2026-11-H2"))
    assert board.end == D
    share = 324 / 365  # 2026-11-20 is day 324 of 365
    assert board.schedule_share == pytest.approx(share)

    def index(resumption: float, start: float, completion: float, verification: float) -> float:
        score = min(1.0, completion / share)
        return 100 * (0.3 * resumption + 0.3 * start + 0.25 * score + 0.15 * verification)

    a = board.regions[sites.A]
    # Resumption: ACT resumed (power ≥ 30%), IDLE not (2%) → 1/2. Start: LATE due 2026-10-01,
    # not started → 0/1. Completion: (90 + 20) / (100 + 100). Verification: ACT agrees,
    # IDLE and LATE contradicted → 1/3.
    assert [a.rates[k].rate for k in RateKind] == pytest.approx([0.5, 0.0, 0.55, 1 / 3])
    assert a.mpi == pytest.approx(round(index(0.5, 0.0, 0.55, 1 / 3), 2))
    assert a.warning is WarningLevel.RED
    b = board.regions[sites.B]
    # Resumption: LOW resumed on the 16th–19th, NODATA by its report → 2/2. Start: STARTED
    # → 1/1. Completion: 270 / 300 = 0.9, ahead of schedule → 1. Verification: LOW → 1/1.
    # CITYLIST is not on the provincial list.
    assert [b.rates[k].rate for k in RateKind] == pytest.approx([1.0, 1.0, 0.9, 1.0])
    assert (b.mpi, b.warning, b.rank, a.rank) == (100.0, WarningLevel.GREEN, 1, 2)
    city = board.regions["330100"]
    assert [city.rates[k].rate for k in RateKind] == pytest.approx([0.75, 0.5, 0.76, 0.5])
    assert city.mpi == pytest.approx(round(index(0.75, 0.5, 0.76, 0.5), 2))
    assert board.regions["330000"].mpi == city.mpi
    # Drill-down: the projects behind county A's resumption rate, with the reasons.
    behind = {c.project_code: (c.counted, c.reason) for c in board.drill(sites.A,
              RateKind.RESUMPTION)}  # fmt: skip
    assert set(behind) == {ACT, IDLE}
    assert behind[ACT][0] == 1 and "on 5 of 5 days" in behind[ACT][1]
    # Today's 2 kWh so far is no evidence yet: four days judged.
    assert behind[IDLE][0] == 0 and "on 0 of 4 days" in behind[IDLE][1]
    every = {c.project_code for c in board.entries}
    assert CITYLIST not in every and STARTED in every
    # History: a snapshot per region and period.
    assert await watch.save_snapshot(board) == 4
    [stored] = await watch.history(sites.A)
    assert (stored["period"], stored["mpi"], stored["warning"]) == ("2026-11-H2", a.mpi, "red")


async def test_an_incremental_refresh_follows_new_readings(
    watch: Watch, store: FalkorDBStore
) -> None:
    await watch.refresh()
    await watch.check_all()
    assert await watch.alerts.active_subjects(AlertType.PROJECT_IDLE) == {IDLE}
    # The idle site's meter jumps back to its baseline today: it resumes.
    pipe = sites.pipeline(store, watch.telemetry, LiveBus())  # type: ignore[arg-type]
    later = sites.noon(D) + 1000
    from ingest.model import Reading

    await pipe.commit_observations(
        [Reading("pwr-idle", later, "energy_kwh", 98.0, "kWh")], sites.sensor_infos()
    )
    before = watch.version
    watch._dirty.add(IDLE)
    await watch.settle()
    assert watch.version == before + 1
    snap = watch.snapshot
    assert snap is not None and snap.history[IDLE][D].status is fusion.Activity.ACTIVE
    assert await watch.alerts.active_subjects(AlertType.PROJECT_IDLE) == set()
    board = await watch.board(HalfMonth.parse("2026-11-H2"))
    assert board.regions[sites.A].rates[RateKind.RESUMPTION].rate == 1.0


# --- GraphQL --------------------------------------------------------------------------------


async def _gql(
    watch: Watch,
    query: str,
    role: Role = Role.MONITOR,
    key: str | None = "k1",
    **variables: object,
) -> tuple[dict[str, Any] | None, list[Any]]:
    clock = {"clock": fixed(sites.NOW)}
    context = Context(store=watch.store, role=role, key_id=key, watch=watch, extra=clock)
    result = await handbuilt.schema().execute(
        query, variable_values=variables, context_value=context
    )
    return result.data, [error_code(e) for e in result.errors or []]


ALERTS = """query ($after: String, $region: String) {
  alerts(filter: {region: $region, active: true}, first: 2, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { alertId type subject status } } }"""
MPI = """{ mpi(period: "2026-11-H2") { period end
  regions(level: "county") { code mpi warning rank
    resumption { rate basis counted projects(counted: false) { projectCode code params reason } }
    verification { rate projects(counted: false) { projectCode code params reason } } } } }"""
ACTIVITY = """query ($p: String!) { projectActivity(project: $p, days: 2) {
  day status confidence provisional powerResumed
  feeds { kind level value baseline share note } } }"""


async def test_graphql_pages_alerts_computes_mpi_and_keeps_roles(watch: Watch) -> None:
    await watch.refresh()
    await watch.check_all()
    data, errors = await _gql(watch, ALERTS)
    assert not errors and data is not None
    page = data["alerts"]
    assert (page["totalCount"], len(page["nodes"]), page["pageInfo"]["hasNextPage"]) == (
        4, 2, True,
    )  # fmt: skip
    seen = [n["alertId"] for n in page["nodes"]]
    while page["pageInfo"]["hasNextPage"]:
        data, _ = await _gql(watch, ALERTS, after=page["pageInfo"]["endCursor"])
        assert data is not None
        page = data["alerts"]
        seen += [n["alertId"] for n in page["nodes"]]
    assert len(seen) == len(set(seen)) == 4
    _, errors = await _gql(watch, ALERTS, after="bm90IGEgY3Vyc29y")
    assert errors == ["BAD_USER_INPUT"]
    # Banks see no alerts; viewers read but cannot acknowledge; monitors can.
    _, errors = await _gql(watch, ALERTS, role=Role.BANK)
    assert errors == ["FORBIDDEN"]
    ack = "mutation ($id: String!) { acknowledgeAlert(alertId: $id) { status acknowledgedBy } }"
    _, errors = await _gql(watch, ack, role=Role.VIEWER, id=seen[0])
    assert errors == ["FORBIDDEN"]
    # An anonymous monitor (HUB_AUTH_ANONYMOUS_ROLE) reads only.
    _, errors = await _gql(watch, ack, role=Role.MONITOR, key=None, id=seen[0])
    assert errors == ["FORBIDDEN"]
    data, errors = await _gql(watch, ack, role=Role.MONITOR, id=seen[0])
    assert not errors and data == {
        "acknowledgeAlert": {"status": "ACTIVE_ACK", "acknowledgedBy": "monitor:k1"}
    }
    _, errors = await _gql(watch, ack, id="no-such-alert")
    assert errors == ["NOT_FOUND"]
    clear = "mutation ($id: String!) { clearAlert(alertId: $id) { status clearedBy } }"
    data, errors = await _gql(watch, clear, role=Role.OPERATOR, key="k2", id=seen[0])
    assert data == {"clearAlert": {"status": "CLEARED_ACK", "clearedBy": "operator:k2"}}

    data, errors = await _gql(watch, MPI)
    assert not errors and data is not None
    counties = data["mpi"]["regions"]
    assert [(c["code"], c["rank"], c["warning"]) for c in counties] == [
        (sites.B, 1, "GREEN"), (sites.A, 2, "RED"),
    ]  # fmt: skip
    a = counties[1]
    assert a["resumption"]["rate"] == 0.5 and a["verification"]["rate"] == pytest.approx(1 / 3)
    assert [p["projectCode"] for p in a["resumption"]["projects"]] == [IDLE]
    # Drill-down reasons are data (code, params) and words in the request's language (zh).
    [idle] = a["resumption"]["projects"]
    assert (idle["code"], idle["params"]["n"], idle["params"]["days"]) == ("MPI_POWER", 0, 4)
    assert idle["reason"].startswith("4 天中有 0 天用电达到基线的")
    against = a["verification"]["projects"]
    assert {p["code"] for p in against} == {"MPI_MISMATCH"} and len(against) == 2
    kinds = {m["kind"] for p in against for m in p["params"]["mismatches"]}
    assert kinds == {"NO_ACTIVITY", "SATELLITE_CONSTRUCTION"}
    assert not [p["reason"] for p in against if re.search("[A-Za-z]", p["reason"])]
    _, errors = await _gql(watch, '{ mpi(period: "2026-11-H3") { period } }')
    assert errors == ["BAD_USER_INPUT"]  # not a Period
    _, errors = await _gql(watch, '{ mpi(period: "2026-11") { period } }')
    assert errors == ["BAD_USER_INPUT"]  # a Period, not a half-month
    _, errors = await _gql(watch, MPI, role=Role.BANK)
    assert errors == ["FORBIDDEN"]

    data, errors = await _gql(watch, ACTIVITY, p=LOW)
    assert not errors and data is not None
    yesterday, today = data["projectActivity"]
    assert (yesterday["status"], yesterday["confidence"], yesterday["provisional"]) == (
        "LOW", 0.6, False,
    )  # fmt: skip
    assert (today["status"], today["provisional"]) == ("ACTIVE", True)
    power = next(f for f in yesterday["feeds"] if f["kind"] == "POWER")
    assert (power["level"], power["value"], power["baseline"], power["share"]) == (
        "LOW", 20.0, 100.0, 0.2,
    )  # fmt: skip
    mismatches = """{ verificationMismatches(region: "330106") {
        projectCode kind code params explanation } }"""
    data, errors = await _gql(watch, mismatches)
    assert data is not None
    found = data["verificationMismatches"]
    assert [(m["projectCode"], m["kind"]) for m in found] == [
        (IDLE, "NO_ACTIVITY"), (LATE, "SATELLITE_CONSTRUCTION"),
    ]  # fmt: skip
    assert found[1]["code"] == "MISMATCH_SATELLITE_CONSTRUCTION_DETAIL"
    assert found[1]["params"]["stage"] == "preparation"
    assert found[1]["explanation"].startswith("上报未开工（前期工作），但卫星在")


ACTIVITIES = """query ($region: String, $statuses: [ActivityStatus!]) {
  projectActivities(region: $region, statuses: $statuses) {
    projectCode regionCode status idleDays day { day status provisional } } }"""


async def test_project_activities_give_every_projects_last_judged_day_in_one_call(
    watch: Watch,
) -> None:
    # For the console's map: one call, each project's newest day that can be judged. Today is
    # in progress: IDLE's 2 kWh so far prove nothing, so its row is yesterday's (the last 7
    # complete days idle, as idle_run counts them);
    # ACT and LOW already show work today.
    await watch.refresh()
    data, errors = await _gql(watch, ACTIVITIES, role=Role.VIEWER, region="330106")
    assert not errors and data is not None
    rows = {r["projectCode"]: r for r in data["projectActivities"]}
    assert set(rows) == {ACT, IDLE, LATE}
    assert rows[ACT]["status"] == "ACTIVE" and rows[ACT]["day"]["day"] == D.isoformat()
    assert rows[ACT]["day"]["provisional"] is True
    yesterday = (D - dt.timedelta(days=1)).isoformat()
    assert (rows[IDLE]["status"], rows[IDLE]["idleDays"], rows[IDLE]["day"]["day"]) == (
        "IDLE", 7, yesterday,
    )  # fmt: skip
    assert rows[IDLE]["regionCode"] == "330106"
    data, errors = await _gql(watch, ACTIVITIES, statuses=["IDLE"])
    assert not errors and data is not None
    assert [r["projectCode"] for r in data["projectActivities"]] == [IDLE]
    # The same verdicts as projectActivity's, project by project.
    data, errors = await _gql(watch, ACTIVITIES)
    assert not errors and data is not None
    everyone = {r["projectCode"]: r["status"] for r in data["projectActivities"]}
    assert everyone[LOW] == "ACTIVE" and everyone[NODATA] == "NO_DATA"
    assert set(everyone) == set((await watch.current()).projects)
    _, errors = await _gql(watch, ACTIVITIES, role=Role.BANK)
    assert errors == ["FORBIDDEN"]


CONNECTION = """query ($w: ProjectActivityWhere, $s: [ProjectActivitySort!], $first: Int,
  $after: String, $last: Int, $before: String) {
  projectActivitiesConnection(where: $w, sort: $s, first: $first, after: $after, last: $last,
    before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { projectCode stage status idleDays project { code stage } region { code } } } }"""


async def _activity_pages(watch: Watch, backward: bool, **variables: Any) -> list[str]:
    move, at = ("last", "before") if backward else ("first", "after")
    found: list[str] = []
    cursor = None
    while True:
        moving: dict[str, Any] = {move: 2, at: cursor, **variables}
        data, errors = await _gql(watch, CONNECTION, **moving)
        assert not errors and data is not None, errors
        page = data["projectActivitiesConnection"]
        codes = [n["projectCode"] for n in page["nodes"]]
        found = codes + found if backward else found + codes
        info = page["pageInfo"]
        if not info["hasPreviousPage" if backward else "hasNextPage"]:
            return found
        cursor = info["startCursor" if backward else "endCursor"]


async def test_project_activities_connection_pages_the_list_with_where_and_sort(
    watch: Watch,
) -> None:
    await watch.refresh()
    data, errors = await _gql(watch, ACTIVITIES)
    assert not errors and data is not None
    everyone = [r["projectCode"] for r in data["projectActivities"]]
    assert len(everyone) > 4
    assert await _activity_pages(watch, backward=False) == everyone
    assert await _activity_pages(watch, backward=True) == everyone
    data, errors = await _gql(watch, CONNECTION)  # no first: the default page of 20
    assert not errors and data is not None
    page = data["projectActivitiesConnection"]
    assert page["totalCount"] == len(everyone) == len(page["nodes"])
    for row in page["nodes"]:  # the stage is the project's own enum, and the links agree
        assert row["project"] == {"code": row["projectCode"], "stage": row["stage"]}
    stages = {r["projectCode"]: r["stage"] for r in page["nodes"]}
    assert stages[IDLE] == "CONSTRUCTION"

    by_idle = [{"field": "IDLE_DAYS", "direction": "DESC"}]
    ranked = await _activity_pages(watch, backward=False, s=by_idle)
    idle = {r["projectCode"]: r["idleDays"] for r in page["nodes"]}
    assert sorted(ranked) == sorted(everyone) and ranked[0] == IDLE
    assert [idle[c] for c in ranked] == sorted(idle.values(), reverse=True)
    assert await _activity_pages(watch, backward=True, s=by_idle) == ranked

    where = {"region": encode_global_id("Region", "330106"), "stages": ["CONSTRUCTION"]}
    data, errors = await _gql(watch, CONNECTION, w=where)
    assert not errors and data is not None
    chosen = data["projectActivitiesConnection"]["nodes"]
    assert {r["projectCode"] for r in chosen} == {
        c for c in (ACT, IDLE, LATE) if stages[c] == "CONSTRUCTION"
    }
    assert {r["region"]["code"] for r in chosen} == {"330106"}
    _, errors = await _gql(watch, CONNECTION, role=Role.BANK)
    assert errors == ["FORBIDDEN"]
    _, errors = await _gql(watch, CONNECTION, first=1, after="bm90IGEgY3Vyc29y")
    assert errors == ["BAD_USER_INPUT"]


BOARD = """query ($level: RegionLevel, $within: String) { mpi(period: "2026-11-H2") { period
  regions(regionLevel: $level, within: $within) { regionCode code level region { code name } name
    resumption { projects { projectCode project { code } region { code } } } } } }"""


async def test_mpi_regions_are_linked_with_enum_levels_and_global_ids(watch: Watch) -> None:
    await watch.refresh()
    city = encode_global_id("Region", "330100")
    data, errors = await _gql(watch, BOARD, level="COUNTY", within=city)
    assert not errors and data is not None
    board = data["mpi"]
    assert board["period"] == "2026-11-H2"
    counties = board["regions"]
    assert {r["regionCode"] for r in counties} == {sites.A, sites.B}
    for r in counties:
        assert r["level"] == "COUNTY" and r["code"] == r["regionCode"]
        assert r["region"] == {"code": r["regionCode"], "name": r["name"]}
        for p in r["resumption"]["projects"]:
            assert p["project"] == {"code": p["projectCode"]}
    old = '{ mpi(period: "2026-11-H2") { regions(level: "county") { regionCode } } }'
    data, errors = await _gql(watch, old)
    assert not errors and data is not None
    assert {r["regionCode"] for r in data["mpi"]["regions"]} == {sites.A, sites.B}
    both = '{ mpi { regions(level: "county", regionLevel: COUNTY) { regionCode } } }'
    _, errors = await _gql(watch, both)
    assert errors == ["BAD_USER_INPUT"]
    # The list it covers is a link, and the list argument takes its global id too.
    listed = """query ($l: String) { mpi(period: "2026-11-H2", list: $l) { listId
      projectList { id listId builtIn } } }"""
    provincial = encode_global_id("ProjectList", "provincial")
    data, errors = await _gql(watch, listed, l=provincial)
    assert not errors and data is not None
    assert data["mpi"] == {"listId": "provincial", "projectList": {
        "id": provincial, "listId": "provincial", "builtIn": True}}  # fmt: skip
    data, errors = await _gql(watch, listed, l="provincial")
    assert not errors and data is not None and data["mpi"]["listId"] == "provincial"
    _, errors = await _gql(watch, listed, l=encode_global_id("Project", "provincial"))
    _, errors = await _gql(watch, both)
    assert errors == ["BAD_USER_INPUT"]
    mismatches = """{ verificationMismatches(sort: [{field: PROJECT_CODE, direction: DESC}])
      { projectCode project { code } } }"""
    data, errors = await _gql(watch, mismatches)
    assert not errors and data is not None
    codes = [m["projectCode"] for m in data["verificationMismatches"]]
    assert codes and codes == sorted(codes, reverse=True)
    assert all(m["project"] == {"code": m["projectCode"]} for m in data["verificationMismatches"])


async def test_readings_raise_and_clear_device_alerts_at_once_even_concurrently(
    watch: Watch, store: FalkorDBStore
) -> None:
    from ingest.bus import ReadingEvent
    from ingest.model import Reading

    await watch.refresh()
    bus = LiveBus()
    follower = asyncio.create_task(watch.follow(bus))
    feed = watch.feed.subscribe(sites.B)
    try:
        await asyncio.sleep(0.05)
        pipe = sites.pipeline(store, watch.telemetry, bus)  # type: ignore[arg-type]
        at = sites.noon(D) + 5000
        await pipe.commit_observations(
            [Reading("cam-low-1", at, "camera_health", 1.0, "1")], sites.sensor_infos()
        )
        raised = await asyncio.wait_for(anext(feed), 2)
        assert (raised.change.value, raised.alert.type, raised.alert.severity) == (
            "raised", AlertType.CAMERA_HEALTH, Severity.MAJOR,
        )  # fmt: skip
        assert "offline" in raised.alert.message
        await pipe.commit_observations(
            [Reading("cam-low-1", at + 1000, "camera_health", 0.0, "1")], sites.sensor_infos()
        )
        cleared = await asyncio.wait_for(anext(feed), 2)
        assert (cleared.change.value, cleared.alert.id) == ("cleared", raised.alert.id)
    finally:
        follower.cancel()
        feed.close()
    # Ten concurrent triggers for the same camera: exactly one active alert.
    event = ReadingEvent("camera", "cam-low-1", LOW, "camera_health", sites.noon(D), 5.0, "1")
    await asyncio.gather(*(watch.on_reading(event) for _ in range(10)))
    active = await watch.alerts.list(
        AlertFilter(types=(AlertType.CAMERA_HEALTH,), subject="cam-low-1", statuses=ACTIVE),
        limit=20,
    )
    assert [(a.occurrences, a.details["health"]) for a in active] == [(10, 5)]


async def test_overdue_land_nodes_become_alerts_and_clear_when_completed(
    watch: Watch, store: FalkorDBStore
) -> None:
    from hub.projects import land

    await land.track(store, ACT, land.TemplateKind.FILED, dt.date(2026, 1, 5))
    found = await land.overdue(store, D)
    assert found, "the template's first nodes are long overdue on D"
    await watch.refresh()
    await watch.check_land()
    assert len(found) > 1, "several nodes overdue: still one alert"
    active = await watch.alerts.list(
        AlertFilter(types=(AlertType.LAND_NODE_OVERDUE,), statuses=ACTIVE), limit=100
    )
    [alert] = active
    assert (alert.subject, alert.project_code, alert.regions[0]) == (ACT, ACT, sites.A)
    listed = [n["key"] for n in alert.details["nodes"]]
    assert listed == [o.key for o in found]  # most overdue first
    assert alert.details["count"] == len(found)
    first = found[-1]  # the least overdue
    await land.complete(
        store,
        [{"project_code": ACT, "node_code": first.node.code, "completed_on": D.isoformat()}],
        D,
    )
    await watch.check_land()
    [still] = await watch.alerts.list(
        AlertFilter(types=(AlertType.LAND_NODE_OVERDUE,), statuses=ACTIVE), limit=100
    )
    assert still.id == alert.id
    assert [n["key"] for n in still.details["nodes"]] == [o.key for o in found[:-1]]
    await land.complete(
        store,
        [
            {"project_code": ACT, "node_code": o.node.code, "completed_on": D.isoformat()}
            for o in found[:-1]
        ],
        D,
    )
    await watch.check_land()
    assert await watch.alerts.active_subjects(AlertType.LAND_NODE_OVERDUE) == set()
