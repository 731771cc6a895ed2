"""Demo factors of production and schedules (issue 9): financing needs matched to the demo
banks, land tracking with overdue nodes and red-line layers, 一表二图 schedules and approval
stages, all as seen on the demo's fixed day (``dates.AS_OF``).

Credit recorded on consented needs totals the seed's 融项通 figures exactly: 314.79 亿元
granted, 82.31 亿元 disbursed. Everything is written through the same services the API uses,
and drawn from its own random stream, so the rest of the demo is unchanged by it.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Sequence
from typing import Any, Final

from graph_schema.model import LandParcel, Project, ProjectStage
from graph_schema.statements import financing as fs
from graph_schema.statements import land as ls
from graph_schema.statements import schedules as ss
from graph_schema.store import GraphStore
from hub.clock import ZONE
from hub.demo.dates import AS_OF, between, shift
from hub.demo.generator import DemoData
from hub.projects import financing, land, schedules

log = logging.getLogger(__name__)

# 融项通 in Zhejiang's first months (seed figures), in 万元.
CREDIT_GRANTED: Final = 3_147_900.0  # 314.79 亿元
CREDIT_DISBURSED: Final = 823_100.0  # 82.31 亿元
NEEDS: Final = 240
LAND_TRACKED: Final = 120
SCHEDULED: Final = 60
APPROVING: Final = 120

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_PREFERENCE_BY_KIND: Final = {
    # kind: (chains drawn, amount min, amount max, longest term)
    "policy": (0, 5000.0, 1e9, 300),
    "state_owned": (2, 1000.0, 500_000.0, 180),
    "joint_stock": (2, 500.0, 100_000.0, 120),
    "city_commercial": (0, 100.0, 50_000.0, 96),
    "rural": (0, 0.0, 10_000.0, 60),
}
_TASKS: Final = (
    ("design", "施工图设计", "设计院"),
    ("site", "场地平整与三通一平", "总包单位"),
    ("structure", "主体结构施工", "总包单位"),
    ("equipment", "设备采购与安装", "设备供应商"),
    ("acceptance", "竣工验收", "建设单位"),
)
_APPROVALS: Final = (
    ("preparation", "filing", "项目审批（核准、备案）", "发展改革部门"),
    ("preparation", "land_pre_review", "用地预审与选址意见书", "自然资源部门"),
    ("preparation", "land_planning", "建设用地规划许可证", "自然资源部门"),
    ("preparation", "works_planning", "建设工程规划许可证", "自然资源部门"),
    ("construction", "drawing_review", "施工图审查", "住房城乡建设部门"),
    ("construction", "construction_permit", "建筑工程施工许可证", "住房城乡建设部门"),
    ("acceptance", "planning_check", "规划核实", "自然资源部门"),
    ("acceptance", "fire_acceptance", "消防验收", "住房城乡建设部门"),
    ("acceptance", "completion_filing", "竣工验收备案", "住房城乡建设部门"),
)


async def seed_factors(store: GraphStore, data: DemoData, seed: int = 2026) -> dict[str, int]:
    """Write the demo's financing, land, schedule and approval data; returns what it wrote."""
    rng = random.Random(f"e-ledger-demo:{seed}:factors")
    now = dt.datetime.combine(AS_OF, dt.time(10, 0), tzinfo=ZONE)
    projects = sorted(data.project, key=lambda p: p.code)
    counts: dict[str, int] = {}
    counts.update(await _financing(store, rng, data, projects, now))
    counts.update(await _land(store, rng, data, projects, now))
    counts.update(await _schedules(store, rng, projects))
    counts.update(await _approvals(store, rng, projects))
    log.info("demo factors: %s", counts)
    return counts


async def _financing(
    store: GraphStore,
    rng: random.Random,
    data: DemoData,
    projects: Sequence[Project],
    now: dt.datetime,
) -> dict[str, int]:
    chains = sorted({c.id for c in data.chain})
    for bank in sorted(data.bank, key=lambda b: b.id):
        drawn, low, high, term = _PREFERENCE_BY_KIND[bank.kind.value]
        pref = {
            "bank_id": bank.id,
            "chain_ids": rng.sample(chains, drawn) if drawn else [],
            "region_codes": [bank.region_code],
            "amount_min": low,
            "amount_max": high,
            "term_max_months": term,
        }
        await financing.set_preference(store, pref, now)
    open_stages = (ProjectStage.PREPARATION, ProjectStage.CONSTRUCTION)
    candidates = [p for p in projects if p.stage in open_stages and p.segment_ids]
    chosen = rng.sample(candidates, min(NEEDS, len(candidates)))
    needs: list[dict[str, Any]] = []
    for project in sorted(chosen, key=lambda p: p.code):
        amount = round(project.total_investment * rng.uniform(0.08, 0.45), 1)
        needs.append(
            {
                "id": f"fn-{rng.getrandbits(64):016x}",
                "project_code": project.code,
                "amount": max(amount, 50.0),
                "term_months": rng.choice((36, 60, 96, 120, 180)),
                "purpose": rng.choice([p.value for p in fs.FinancingPurpose]),
                "collateral": rng.choice([c.value for c in fs.Collateral]),
                "contact_name": rng.choice(_SURNAMES) + rng.choice(("经理", "总", "主任")),
                "contact_phone": f"13{rng.randint(5, 9)}{rng.randint(0, 99_999_999):08d}",
                "submitted_on": between(rng, shift(AS_OF, -200), shift(AS_OF, -5)).isoformat(),
            }
        )
    await financing.submit_needs(store, needs, now)
    # The best-matched bank shows interest in about half of the needs; owners consent to
    # three in four; credit goes to the consented ones.
    rows = await store.run(fs.NEED_MATCHES, {"ids": [n["id"] for n in needs]})
    best: dict[str, tuple[int, str]] = {}
    for row in rows:
        score = int(row["match"]["score"])
        if row["need"] not in best or (score, row["bank"]) > best[row["need"]]:
            best[row["need"]] = (score, row["bank"])
    consented: list[tuple[str, str, float]] = []
    amounts = {n["id"]: float(n["amount"]) for n in needs}
    for need_id in sorted(best):
        if rng.random() >= 0.5:
            continue
        lender = best[need_id][1]
        await financing.express_interest(store, lender, need_id, now)
        agree = rng.random() < 0.75
        await financing.respond(store, need_id, lender, agree, now)
        if agree:
            consented.append((need_id, lender, amounts[need_id]))
    credit = _credit(rng, consented)
    await financing.record_credit(store, credit, now)
    return {"financing_need": len(needs), "credit": len(credit), "matched": len(best)}


def _credit(
    rng: random.Random, consented: Sequence[tuple[str, str, float]]
) -> list[dict[str, Any]]:
    """Credit lines whose totals are exactly the seed figures (in 0.01 万元)."""
    if not consented:
        return []
    weights = [amount * rng.uniform(0.6, 1.4) for _, _, amount in consented]
    scale = CREDIT_GRANTED / sum(weights)
    granted = [round(w * scale, 2) for w in weights]
    granted[-1] = round(CREDIT_GRANTED - sum(granted[:-1]), 2)
    share = CREDIT_DISBURSED / CREDIT_GRANTED
    disbursed = [round(g * share, 2) for g in granted]
    disbursed[-1] = round(CREDIT_DISBURSED - sum(disbursed[:-1]), 2)
    return [
        {
            "need_id": need,
            "bank_id": bank,
            "granted": g,
            "disbursed": min(d, g),
            "granted_on": between(rng, shift(AS_OF, -120), AS_OF).isoformat(),
        }
        for (need, bank, _), g, d in zip(consented, granted, disbursed, strict=True)
    ]


async def _land(
    store: GraphStore,
    rng: random.Random,
    data: DemoData,
    projects: Sequence[Project],
    now: dt.datetime,
) -> dict[str, int]:
    early = (ProjectStage.PLANNING, ProjectStage.PREPARATION)
    # Land is tracked until it is supplied, so every project not yet built is (most have no
    # parcel yet), and so are new projects that started within the year, their land done.
    early_ones = [p for p in projects if p.stage in early][:LAND_TRACKED]
    recent = [
        p
        for p in projects
        if p.stage is ProjectStage.CONSTRUCTION
        and p.actual_start is not None
        and p.actual_start >= shift(AS_OF, -365)
    ]
    extra = rng.sample(recent, max(0, min(LAND_TRACKED - len(early_ones), len(recent))))
    chosen = sorted(early_ones + extra, key=lambda p: p.code)
    done: list[dict[str, Any]] = []
    for project in chosen:
        kind = land.TemplateKind.APPROVED if rng.random() < 0.6 else land.TemplateKind.FILED
        if project.actual_start is not None:
            start = shift(project.actual_start, -rng.randint(330, 420))
        else:
            start = between(rng, shift(AS_OF, -330), shift(AS_OF, -20))
        stages = land.plan(project.code, kind, start)
        await store.run(ls.INSTANTIATE, {"project": project.code, "stages": stages})
        diligence = rng.uniform(0.7, 0.97)
        built = project.actual_start is not None  # its land was supplied: every node done
        for stage in stages:
            for node in stage["nodes"]:
                due = dt.date.fromisoformat(node["props"]["due_on"])
                finished = min(shift(due, rng.randint(-6, 12)), AS_OF)
                # Work stalls now and then, mostly on recent nodes: those become overdue.
                lately = due > shift(AS_OF, -60)
                stalled = not built and (
                    (lately and rng.random() > diligence) or rng.random() < 0.02
                )
                if due > shift(AS_OF, 10) or stalled or finished < start:
                    break
                done.append({"id": node["id"], "completed_on": finished.isoformat()})
            else:
                continue
            break
    if done:
        await store.run(ls.COMPLETE, {"rows": done})
    layers = await _red_lines(store, rng, data, chosen, now)
    return {"land_tracked": len(chosen), "land_nodes_done": len(done), "red_line_layers": layers}


async def _red_lines(
    store: GraphStore,
    rng: random.Random,
    data: DemoData,
    tracked: Sequence[Project],
    now: dt.datetime,
) -> int:
    """A farmland and an ecological layer, each overlapping a strip of a dozen tracked
    projects' parcels (and so flagged before their site pre-review)."""
    parcels = {p.id: p for p in data.parcel}
    picked = [parcels[p.parcel_ids[0]] for p in tracked if p.parcel_ids]
    rng.shuffle(picked)
    for layer_id, kind, name, group in (
        ("zj-pbf-demo", "permanent_basic_farmland", "浙江省永久基本农田（演示）", picked[:12]),
        ("zj-eco-demo", "ecological_protection", "浙江省生态保护红线（演示）", picked[12:20]),
    ):
        if not group:
            continue
        features = [_strip(rng, parcel) for parcel in group]
        geojson = {"type": "FeatureCollection", "features": features}
        await land.import_layer(store, layer_id, kind, name, geojson, now)
    return 2 if len(picked) > 12 else int(bool(picked))


def _strip(rng: random.Random, parcel: LandParcel) -> dict[str, Any]:
    """A rectangle over the western 15-60% of a parcel's bounding box, a little beyond it."""
    ring = parcel.geometry["coordinates"][0]
    if parcel.geometry["type"] == "MultiPolygon":
        ring = ring[0]
    lons, lats = [c[0] for c in ring], [c[1] for c in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    cut = west + (east - west) * rng.uniform(0.15, 0.6)
    pad = (north - south) * 0.2
    coords = [
        [west - 0.002, south - pad],
        [cut, south - pad],
        [cut, north + pad],
        [west - 0.002, north + pad],
        [west - 0.002, south - pad],
    ]
    return {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [coords]},
    }


async def _schedules(
    store: GraphStore, rng: random.Random, projects: Sequence[Project]
) -> dict[str, int]:
    """一表二图 for a set of demonstration projects under construction."""
    candidates = [
        p
        for p in projects
        if p.stage is ProjectStage.CONSTRUCTION and p.planned_start and p.planned_end
    ]
    chosen = sorted(rng.sample(candidates, min(SCHEDULED, len(candidates))), key=lambda p: p.code)
    tasks: list[dict[str, Any]] = []
    months: list[dict[str, Any]] = []
    pace = {p.code: rng.uniform(0.55, 1.1) for p in chosen}
    for project in chosen:
        assert project.planned_start is not None and project.planned_end is not None
        start, end = project.planned_start, project.planned_end
        span = max((end - start).days, 60)
        lag = rng.randint(0, 30)
        for i, (code, name, owner) in enumerate(_TASKS):
            p_start = shift(start, span * i // len(_TASKS))
            p_end = shift(start, span * (i + 1) // len(_TASKS) - 1)
            a_start = shift(p_start, lag + rng.randint(-5, 10))
            a_end = shift(p_end, int((lag + rng.randint(-5, 25)) / pace[project.code]))
            started = a_start <= AS_OF
            tasks.append(
                {
                    "project_code": project.code,
                    "code": code,
                    "name": name,
                    "owner": owner,
                    "position": i,
                    "planned_start": p_start.isoformat(),
                    "planned_end": p_end.isoformat(),
                    "actual_start": a_start.isoformat() if started else None,
                    "actual_end": a_end.isoformat() if started and a_end <= AS_OF else None,
                }
            )
        month_list = _month_range(start, end)[:48]
        share = project.total_investment / len(month_list)
        for month in month_list:
            reported = month < AS_OF.isoformat()[:7]
            months.append(
                {
                    "project_code": project.code,
                    "month": month,
                    "planned": round(share, 2),
                    "actual": round(share * pace[project.code] * rng.uniform(0.7, 1.3), 2)
                    if reported
                    else None,
                }
            )
    await schedules.upsert(store, ss.ScheduleTask, ss.UPSERT_TASKS, tasks, schedules.task_key)
    await schedules.upsert(store, ss.InvestmentMonth, ss.UPSERT_MONTHS, months, schedules.month_key)
    return {"schedule_task": len(tasks), "investment_month": len(months)}


def _month_range(start: dt.date, end: dt.date) -> list[str]:
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


async def _approvals(
    store: GraphStore, rng: random.Random, projects: Sequence[Project]
) -> dict[str, int]:
    open_stages = (ProjectStage.PREPARATION, ProjectStage.CONSTRUCTION)
    candidates = [p for p in projects if p.stage in open_stages]
    chosen = sorted(rng.sample(candidates, min(APPROVING, len(candidates))), key=lambda p: p.code)
    items: list[dict[str, Any]] = []
    for project in chosen:
        regime = rng.choice([r.value for r in ss.ApprovalRegime])
        building = project.stage is ProjectStage.CONSTRUCTION
        first = between(rng, shift(AS_OF, -150), shift(AS_OF, -20))
        cursor = {"preparation": first, "construction": shift(first, rng.randint(5, 20))}
        for position, (phase, code, name, authority) in enumerate(_APPROVALS):
            started: dt.date | None = None
            completed: dt.date | None = None
            if phase != "acceptance" and (building or phase == "preparation" or rng.random() < 0.4):
                started = cursor[phase]
                took = rng.randint(2, 18)
                if shift(started, took) <= AS_OF and (building or rng.random() < 0.7):
                    completed = shift(started, took)
                    cursor[phase] = shift(completed, rng.randint(0, 3))
                else:
                    cursor[phase] = AS_OF
                if started > AS_OF:
                    started = completed = None
            items.append(
                {
                    "project_code": project.code,
                    "code": code,
                    "name": name,
                    "phase": phase,
                    "regime": regime,
                    "authority": authority,
                    "position": position,
                    "started_on": started.isoformat() if started else None,
                    "completed_on": completed.isoformat() if completed else None,
                }
            )
    await schedules.upsert(
        store, ss.ApprovalItem, ss.UPSERT_APPROVALS, items, schedules.approval_key
    )
    return {"approval_item": len(items)}
