"""Every alert type walked through every project stage (docs/alerts.md).

The hand-built province (tests/hub/sites.py) carries one trigger for each alert type:
IDLE's meter has been down to 2% for eight days and its gate silent (PROJECT_IDLE,
VERIFICATION_MISMATCH NO_ACTIVITY; the gate is not stale: nobody passes a stopped site's
gate), LOW's second camera is tampered (CAMERA_HEALTH) and its gate, added here, last
reported three days ago while its meter shows work (FEED_STALE), the satellite confirmed a
change on LATE's parcel two days ago (SATELLITE_CHANGE or the mismatch
SATELLITE_CONSTRUCTION), and ACT tracks land nodes long overdue (LAND_NODE_OVERDUE). The
same graph and readings are re-reported stage after stage, and the active alerts must be
exactly the ones the documented rules open, with the others cleared.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import ProjectStage, validate
from graph_schema.statements import schedules as ss
from graph_schema.writer import Outcome
from hub import texts
from hub.api.context import Context
from hub.bulk import import_records
from hub.clock import ZONE, fixed
from hub.monitoring import fusion, mpi
from hub.monitoring.alerts import Alert, AlertFilter, AlertType, Severity, Status
from hub.monitoring.watch import Watch
from hub.projects import land, schedules
from hub.roles import Role
from hub.settings import AlertsSettings, FusionSettings, MpiSettings
from ingest.bus import LiveBus
from ingest.model import Attendance, SensorInfo, to_ms
from tests.hub import handbuilt, sites
from tests.hub.sites import ACT, IDLE, LATE, LOW, D

pytestmark = pytest.mark.anyio
ACTIVE = (Status.ACTIVE_UNACK, Status.ACTIVE_ACK)
PASS_DAY = D - dt.timedelta(days=2)  # the satellite's change in sites.history()
WALKED = (ACT, IDLE, LATE, LOW)

# Stage-independent: a device fault or overdue paperwork is news whatever the stage.
ALWAYS = {
    (AlertType.FEED_STALE, "lab-low", Severity.MINOR),
    (AlertType.CAMERA_HEALTH, "cam-low-2", Severity.CRITICAL),
    (AlertType.LAND_NODE_OVERDUE, ACT, Severity.MAJOR),
}
IDLE_SITE = {
    (AlertType.PROJECT_IDLE, IDLE, Severity.MAJOR),
    (AlertType.VERIFICATION_MISMATCH, f"{IDLE}/NO_ACTIVITY", Severity.MAJOR),
}
NOT_STARTED = {(AlertType.VERIFICATION_MISMATCH, f"{LATE}/SATELLITE_CONSTRUCTION", Severity.MAJOR)}

# (stage, what the projects report besides it, the alerts beyond ALWAYS)
WALK: list[tuple[ProjectStage, dict[str, Any], set[tuple[AlertType, str, Severity]]]] = [
    (ProjectStage.PLANNING, {"actual_start": None}, NOT_STARTED),
    (ProjectStage.PREPARATION, {"actual_start": None}, NOT_STARTED),
    # Under construction: idle is news, the satellite's change is the evidence it reports.
    (ProjectStage.CONSTRUCTION, {"actual_start": "2025-03-10"}, IDLE_SITE),
    # ... unless the report disagrees: a start reported after the change was seen.
    (
        ProjectStage.CONSTRUCTION,
        {"actual_start": (D - dt.timedelta(days=1)).isoformat()},
        IDLE_SITE | {(AlertType.SATELLITE_CHANGE, "sat-late", Severity.MINOR)},
    ),
    # Completed before the change: work where none should be. Idle is not news.
    (
        ProjectStage.COMPLETED,
        {"actual_start": "2025-03-10", "actual_end": (D - dt.timedelta(days=10)).isoformat()},
        {(AlertType.SATELLITE_CHANGE, "sat-late", Severity.MINOR)},
    ),
    # Completed after the change: the change was the finishing works.
    (
        ProjectStage.COMPLETED,
        {"actual_start": "2025-03-10", "actual_end": (D - dt.timedelta(days=1)).isoformat()},
        set(),
    ),
    (
        ProjectStage.SUSPENDED,
        {"actual_start": "2025-03-10"},
        {(AlertType.SATELLITE_CHANGE, "sat-late", Severity.MAJOR)},
    ),
]


@pytest.fixture
async def watch(store: FalkorDBStore, tmp_path: Path) -> AsyncIterator[Watch]:
    await sites.build_graph(store)
    telemetry = await sites.open_telemetry(tmp_path / "telemetry.db")
    pipe = sites.pipeline(store, telemetry, LiveBus())
    await pipe.commit_observations(sites.history(), sites.sensor_infos())
    # A gate on LOW (working) that went silent three days ago: stale, unlike IDLE's.
    gate = {"id": "lab-low", "kind": "labor", "project_code": LOW, "stale_after_s": 86400}
    await import_records(store, "sensor", [validate("sensor", gate)])
    morning = to_ms(dt.datetime.combine(D - dt.timedelta(days=3), dt.time(8), ZONE))
    await pipe.commit_observations(
        [Attendance("lab-low", morning, sites.worker(0), "in", LOW)],
        {"lab-low": SensorInfo("lab-low", "labor", LOW)},
    )
    await land.track(store, ACT, land.TemplateKind.FILED, dt.date(2026, 1, 5))
    yield Watch(
        store,
        telemetry,
        fusion_rules=FusionSettings(),
        mpi_settings=MpiSettings(),
        alert_settings=AlertsSettings(),
        inactivity_timeout_s=3600,  # noon readings stay fresh while the walk steps minutes
        clock=fixed(sites.NOW),
    )
    await telemetry.close()


async def _report(store: FalkorDBStore, stage: ProjectStage, fields: dict[str, Any]) -> None:
    rows = []
    for p in sites.PROJECTS:
        if p.code not in WALKED:
            continue
        row = p.model_dump(mode="json", exclude_none=True)
        row.pop("actual_end", None)
        rows.append(validate("project", {**row, "stage": stage.value, **fields}))
    counts = await import_records(store, "project", rows)
    assert counts[Outcome.REJECTED] == 0, counts


async def _active(watch: Watch) -> set[tuple[AlertType, str, Severity]]:
    alerts = await watch.alerts.list(AlertFilter(statuses=ACTIVE), limit=100)
    return {(a.type, a.subject, a.severity) for a in alerts}


async def test_every_alert_type_through_every_stage(watch: Watch, store: FalkorDBStore) -> None:
    walked: set[ProjectStage] = set()
    for step, (stage, fields, expected) in enumerate(WALK):
        watch.clock = fixed(sites.NOW + dt.timedelta(minutes=step))
        await _report(store, stage, fields)
        await watch.refresh()
        await watch.check_all()
        assert await _active(watch) == ALWAYS | expected, (stage, fields)
        walked.add(stage)
    assert walked == set(ProjectStage)
    raised = {t for _, _, found in WALK for t, _, _ in found | ALWAYS}
    assert raised == set(AlertType), "every alert type opens somewhere in the walk"
    # Back to construction with a report that agrees: the suspended site's alert is cleared,
    # with the reason recorded.
    watch.clock = fixed(sites.NOW + dt.timedelta(minutes=len(WALK)))
    await _report(store, ProjectStage.CONSTRUCTION, {"actual_start": "2025-03-10"})
    await watch.refresh()
    await watch.check_all()
    sat, *earlier = await watch.alerts.list(
        AlertFilter(types=(AlertType.SATELLITE_CHANGE,), subject="sat-late"), limit=10
    )
    # The late start's alert stayed open (refreshed) when the stage became completed: one.
    assert len(earlier) == 1
    assert sat.status is Status.CLEARED_UNACK
    assert sat.clear_reason == "no change against the report"
    assert sat.details["reason"] == "WHILE_SUSPENDED"


async def test_a_reported_standstill_makes_a_construction_sites_change_an_alert(
    watch: Watch, store: FalkorDBStore
) -> None:
    await _report(store, ProjectStage.CONSTRUCTION, {"actual_start": "2025-03-10"})
    month = PASS_DAY.strftime("%Y-%m")
    outcomes = await schedules.upsert(
        store,
        ss.InvestmentMonth,
        ss.UPSERT_MONTHS,
        [{"project_code": LATE, "month": month, "planned": 50, "actual": 0}],
        schedules.month_key,
    )
    assert all(o.key for o in outcomes)
    await watch.refresh()
    await watch.check_devices()
    [sat] = await watch.alerts.list(
        AlertFilter(types=(AlertType.SATELLITE_CHANGE,), statuses=ACTIVE), limit=10
    )
    assert (sat.subject, sat.details["reason"]) == ("sat-late", "REPORTED_STANDSTILL")
    # Reporting the month's investment resolves it.
    await schedules.upsert(
        store,
        ss.InvestmentMonth,
        ss.UPSERT_MONTHS,
        [{"project_code": LATE, "month": month, "planned": 50, "actual": 30}],
        schedules.month_key,
    )
    await watch.refresh()
    await watch.check_devices()
    assert await watch.alerts.active_subjects(AlertType.SATELLITE_CHANGE) == set()


def test_satellite_verdicts_by_stage() -> None:
    base = {"code": "P", "permit_date": "2025-01-01", "actual_start": "2025-03-01"}
    day = dt.date(2026, 11, 18)
    verdict = fusion.SatelliteVerdict

    def of(
        stage: str, inputs: fusion.Inputs | None = None, **extra: Any
    ) -> fusion.SatelliteVerdict:
        project = fusion.Project.of({**base, "stage": stage, **extra})
        return fusion.satellite_verdict(project, inputs or fusion.Inputs(), day)

    assert of("construction") is verdict.EVIDENCE
    assert of("planning", actual_start=None) is verdict.PRE_START
    assert of("preparation", actual_start=None) is verdict.PRE_START
    assert of("suspended") is verdict.WHILE_SUSPENDED
    assert of("completed", actual_end="2026-11-01") is verdict.AFTER_COMPLETION
    assert of("completed", actual_end="2026-11-19") is verdict.EVIDENCE
    assert of("construction", actual_start="2026-11-19") is verdict.BEFORE_REPORTED_START
    # The pass's month reported with nothing invested; with no report for it, the month
    # before counts; with no report at all, nothing contradicts the change.
    standstill = fusion.Inputs(months={"2026-10": 40.0, "2026-11": 0.0})
    assert of("construction", standstill) is verdict.REPORTED_STANDSTILL
    assert of("construction", fusion.Inputs(months={"2026-10": 0.0})) is (
        verdict.REPORTED_STANDSTILL
    )
    assert of("construction", fusion.Inputs(months={"2026-10": 12.0})) is verdict.EVIDENCE


# --- texts as data ----------------------------------------------------------------------------

LATIN = re.compile(r"[A-Za-z]{2,}")


def _ids_removed(text: str, alert: Alert) -> str:
    """The text without the identifiers it names (sensor ids, project codes): codes, not
    words, and allowed on the Chinese page."""
    for value in (alert.subject, alert.sensor_id, alert.project_code):
        if value:
            text = text.replace(value, "")
    return text


async def test_every_alert_is_a_code_with_params_rendered_in_zh_and_en(
    watch: Watch, store: FalkorDBStore
) -> None:
    seen: dict[str, Alert] = {}
    for step, (stage, fields, _) in enumerate(WALK):
        watch.clock = fixed(sites.NOW + dt.timedelta(minutes=step))
        await _report(store, stage, fields)
        await watch.refresh()
        await watch.check_all()
        for a in await watch.alerts.list(AlertFilter(statuses=ACTIVE), limit=100):
            seen.setdefault(a.code, a)
    assert set(seen) == {t.value for t in AlertType if t is not AlertType.VERIFICATION_MISMATCH} | {
        "MISMATCH_NO_ACTIVITY",
        "MISMATCH_SATELLITE_CONSTRUCTION",
    }
    for code, a in seen.items():
        assert code in texts.TEMPLATES
        zh, en = a.text(texts.Lang.ZH), a.text(texts.Lang.EN)
        assert code not in zh and code not in en, (zh, en)  # rendered, not the fallback
        assert LATIN.findall(_ids_removed(zh, a)) == [], zh
        assert LATIN.findall(_ids_removed(en, a)), en
    # The API: code, params and the message in the request's language (zh-CN by default).
    query = """{ alerts(filter: {active: true}, first: 50) { nodes { code params message } } }"""
    for lang in (texts.Lang.ZH, texts.Lang.EN):
        context = Context(
            store=watch.store, role=Role.MONITOR, key_id="k1", watch=watch,
            extra={"clock": watch.clock}, language=lang,
        )  # fmt: skip
        result = await handbuilt.schema().execute(query, context_value=context)
        assert result.errors is None and result.data is not None
        nodes = result.data["alerts"]["nodes"]
        assert nodes and all(n["code"] and isinstance(n["params"], dict) for n in nodes)
        assert [n["message"] for n in nodes] == [
            texts.render(n["code"], n["params"], lang) for n in nodes
        ]


def test_accept_language_picks_zh_by_default_and_en_when_asked() -> None:
    assert texts.language(None) is texts.Lang.ZH
    assert texts.language("zh-CN,zh;q=0.9,en;q=0.8") is texts.Lang.ZH
    assert texts.language("en-US,en;q=0.9") is texts.Lang.EN
    assert texts.language("fr-FR, en;q=0.5, zh;q=0.4") is texts.Lang.EN
    assert texts.language("de") is texts.Lang.ZH
    assert texts.language("en;q=0.2, zh-TW;q=0.8") is texts.Lang.ZH
    # An unknown code or a missing parameter is shown as data, never an error.
    assert texts.render("NO_SUCH_CODE", {"a": 1}) == "NO_SUCH_CODE(a=1)"
    assert texts.render("PROJECT_IDLE", {"days": 3}).startswith("PROJECT_IDLE(")


def test_every_reason_code_renders_in_both_languages_without_english_in_zh() -> None:
    # Chokepoint, target and MPI reasons are codes plus parameters like alerts: every code a
    # contribution can carry has a template, and its Chinese words hold no Latin letters.
    mismatch = {"kind": "NO_ACTIVITY", "params": {"feeds": ["power", "labor"], "days": 7,
                "first": "2026-11-01", "last": "2026-11-07"}}  # fmt: skip
    samples: dict[str, dict[str, object]] = {
        "MPI_SUSPENDED": {},
        "MPI_POWER": {"share": 0.3, "n": 2, "days": 5},
        "MPI_ACTIVITY": {"n": 0, "days": 4},
        "MPI_NO_EVIDENCE": {"stage": "construction"},
        "MPI_STARTED": {"planned": "2026-03-01", "started": "2026-03-09"},
        "MPI_NOT_STARTED": {"planned": "2026-03-01"},
        "MPI_COMPLETION": {"done": 270.0, "plan": 300.0},
        "MPI_AGREES": {"days": 12},
        "MPI_MISMATCH": {"mismatches": [mismatch]},
        "CHOKEPOINT_FEW_LOCAL": {"count": 1, "minimum": 3},
        "CHOKEPOINT_FEW_AGAINST_PEERS": {"count": 1, "median": "4", "ratio": "0.5"},
        "CHOKEPOINT_DEMAND_OUTSIDE": {"covered": 0.25, "external": 0.75},
        "CHOKEPOINT_SINGLE_SUPPLIER": {"top": 0.8},
        "TARGET_OUTPUT": {"amount": "5,000"},
        "TARGET_PATENTS": {"count": 50},
        "TARGET_TAG": {"tag": "little_giant"},
        "TARGET_GROWTH": {"growth": "+40.0"},
    }
    assert set(mpi.REASON_PARAMS) <= set(samples)
    for code, params in samples.items():
        if code in mpi.REASON_PARAMS:
            assert set(params) == set(mpi.REASON_PARAMS[code]), code
        zh, en = texts.render(code, params, texts.Lang.ZH), texts.render(code, params)
        assert code not in zh and code not in en, (zh, en)
        assert LATIN.findall(zh) == [], zh
    assert texts.render("MPI_COMPLETION", samples["MPI_COMPLETION"], texts.Lang.EN) == (
        "270 of 300 万元"
    )
    assert texts.render("MPI_MISMATCH", samples["MPI_MISMATCH"]) == (
        "上报施工建设，但 2026-11-01 至 2026-11-07 的 7 天里电力、劳务闸机均无活动"
    )


async def test_alert_counts_by_severity_type_and_region(watch: Watch) -> None:
    await watch.refresh()
    await watch.check_all()
    query = """query ($f: AlertFilterInput) { alertCounts(filter: $f) { total
      bySeverity { key count } byType { key count } byRegion { key count } } }"""

    async def run(role: Role, **f: object) -> tuple[Any, Any]:
        context = Context(store=watch.store, role=role, key_id="k1", watch=watch,
                          extra={"clock": watch.clock})  # fmt: skip
        result = await handbuilt.schema().execute(
            query, variable_values={"f": f or None}, context_value=context
        )
        return result.data, result.errors

    data, errors = await run(Role.VIEWER, active=True)
    assert errors is None and data is not None
    counts = data["alertCounts"]
    # Construction stage as built: ALWAYS and the idle site's two, with LATE's mismatch.
    assert counts["total"] == len(ALWAYS | IDLE_SITE | NOT_STARTED)
    assert counts["bySeverity"] == [
        {"key": "CRITICAL", "count": 1}, {"key": "MAJOR", "count": 4},
        {"key": "MINOR", "count": 1},
    ]  # fmt: skip
    assert {c["key"]: c["count"] for c in counts["byType"]} == {
        "VERIFICATION_MISMATCH": 2, "FEED_STALE": 1, "CAMERA_HEALTH": 1, "PROJECT_IDLE": 1,
        "LAND_NODE_OVERDUE": 1,
    }  # fmt: skip
    assert counts["byRegion"] == [{"key": sites.A, "count": 4}, {"key": sites.B, "count": 2}]
    data, _ = await run(Role.VIEWER, active=True, region=sites.B, severities=["CRITICAL"])
    assert data is not None and data["alertCounts"]["total"] == 1
    # By the stage the project reports now (the wall's stage filter): the not-started
    # project's mismatch alone; nothing on completed projects.
    data, _ = await run(Role.VIEWER, active=True, stages=["PLANNING", "PREPARATION"])
    assert data is not None and data["alertCounts"]["byType"] == [
        {"key": "VERIFICATION_MISMATCH", "count": 1}
    ]
    data, _ = await run(Role.VIEWER, active=True, stages=["COMPLETED"])
    assert data is not None and data["alertCounts"]["total"] == 0
    data, _ = await run(Role.VIEWER, active=True, stages=["CONSTRUCTION"])
    assert data is not None and data["alertCounts"]["total"] == counts["total"] - 1
    _, errors = await run(Role.BANK)
    assert errors and (errors[0].extensions or {}).get("code") == "FORBIDDEN"
