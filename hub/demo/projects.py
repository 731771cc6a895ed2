"""Projects, their schedules and money, and the parcels they are built on.

Two seed figures of Zhejiang's 924 provincial major projects are built in exactly:

- New-project start rate 88.7%: of the ``new`` projects whose ``planned_start`` is on or before
  ``AS_OF`` ("due to start"), ``round(0.887 × due)`` have an ``actual_start``; the ones left
  unstarted are drawn with a bias towards the most recently due, and are in preparation (缓建
  ones suspended). New projects planned for later in the year and 谋划 projects planned for next
  year are not due.
- Annual completion 93.7%: Σ ``year_completed_investment`` ÷ Σ (``annual_plan_investment`` ×
  ``YEAR_FRACTION``), the 序时进度 of 319/365 of the year's plan at 2026-11-15, over all projects.
  Projects completed this year and unstarted projects are what they are; the year's investment of
  projects under construction is scaled by one factor (found by bisection, each capped below its
  remaining investment) until the ratio is 0.937.

Resumption is 100%: every ``continuing`` project is under construction or completed.

The project code's DD part is the central supervising department; the demo uses the two-digit
GB/T 4754 division of the project's segment (36 vehicles, 39 electronics, 27 medicine…) as a
stand-in, since the department table is not published with the standard.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Final

from graph_schema.geometry import area_m2
from graph_schema.model import LandUse, ProjectKind, ProjectLevel, ProjectStage
from hub.demo.chains import Chain, Segment
from hub.demo.dates import AS_OF, YEAR_FRACTION, YEAR_START, between, clamp, shift
from hub.demo.enterprises import Firm, chain_pickers, city_picker, county_pickers
from hub.demo.names import Namer
from hub.demo.parcels import ParcelPlanner
from hub.demo.regions import Division
from hub.demo.sampling import Picker, lognormal, weighted_sample

START_RATE: Final = 0.887
ANNUAL_COMPLETION: Final = 0.937
NEW_SHARE: Final = 0.45
PLANNING_SHARE: Final = 0.03  # 谋划 projects, planned to start next year
MIN_TOTAL: Final = 10_000.0  # 万元: 1亿元, the floor of a major project
MEDIAN_TOTAL: Final = 45_000.0  # 万元: before the 1亿元 floor; the median is ~5亿元
TOTAL_SIGMA: Final = 1.1  # mean ≈ 9亿元, ~1% above 65亿元, a few above 100亿元
LAST_YEAR_END: Final = dt.date(AS_OF.year - 1, 12, 31)

# Project type (TT): 基本建设 and 技术改造 dominate.
_TYPES: Final = Picker(("01", "02", "03", "04", "05"), (0.56, 0.33, 0.03, 0.05, 0.03))
# Planned start month of new projects: spring's 集中开工 and a thin December.
_MONTHS: Final = Picker(range(1, 13), (6, 10, 14, 12, 10, 10, 8, 7, 8, 6, 5, 4))
_CODE_CHARS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LAND_USE: Final = {
    "bio.hospitals": LandUse.PUBLIC_SERVICE,
    "nev.charging": LandUse.INFRASTRUCTURE,
    "bio.distribution": LandUse.WAREHOUSING,
}
# Offices and labs sit on commercial land almost as often as on industrial (M0) land.
_OFFICE_SEGMENTS: Final = frozenset(
    ("ic.eda-ip", "ic.design", "bio.cro", "bio.pharmacies", "bio.innovative-drugs")
)


@dataclass(frozen=True, slots=True)
class ProjectMix:
    count: int
    provincial: int
    leaders: int
    city_share: float  # of the projects that are not provincial


@dataclass(slots=True)
class Draft:
    owner: Firm
    county: Division
    chain: Chain
    project_type: str
    total: float
    kind: ProjectKind
    duration: int
    stage: ProjectStage = ProjectStage.PREPARATION
    level: ProjectLevel = ProjectLevel.PROVINCIAL
    leader: bool = False
    planned_start: dt.date = AS_OF
    planned_end: dt.date = AS_OF
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None
    permit_date: dt.date | None = None
    before: float = 0.0  # invested up to last year's end
    annual_plan: float = 0.0
    year_done: float = 0.0
    progress: float = 0.0  # this year's investment before calibration
    code: str = ""
    name: str = ""
    parcel_ids: list[str] = field(default_factory=list)

    @property
    def segments(self) -> list[Segment]:
        return self.owner.segments

    @property
    def due(self) -> bool:
        return self.kind is ProjectKind.NEW and self.planned_start <= AS_OF

    @property
    def cap(self) -> float:
        # Under construction means not yet done: stop short of the total.
        return max(0.0, 0.97 * self.total - self.before)

    def record(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "owner_uscc": self.owner.uscc,
            "region_code": self.county.code,
            "segment_ids": [s.id for s in self.segments],
            "parcel_ids": self.parcel_ids,
            "stage": self.stage.value,
            "kind": self.kind.value,
            "level": self.level.value,
            "leader_project": self.leader,
            "total_investment": self.total,
            "annual_plan_investment": round(min(self.annual_plan, self.total), 2),
            "completed_investment": round(self.before + self.year_done, 2),
            "year_completed_investment": round(self.year_done, 2),
            "planned_start": self.planned_start,
            "planned_end": self.planned_end,
            "actual_start": self.actual_start,
            "actual_end": self.actual_end,
            "permit_date": self.permit_date,
        }


def draft_projects(
    rng: random.Random,
    firms: list[Firm],
    mix: ProjectMix,
    namer: Namer,
    planner: ParcelPlanner,
) -> tuple[list[Draft], list[dict[str, Any]]]:
    """The projects (as drafts, with ``record()``) and the raw parcel records they sit on."""
    drafts = _locate(rng, firms, mix.count)
    for draft in drafts:
        _schedule(rng, draft)
    _hold_back(rng, drafts)
    _rank(rng, drafts, mix)
    for draft in drafts:
        _budget(rng, draft)
    _calibrate(drafts)
    _identify(rng, drafts, namer)
    parcels = _parcels(rng, drafts, planner)
    return drafts, parcels


def _locate(rng: random.Random, firms: list[Firm], count: int) -> list[Draft]:
    cities, counties, chains = city_picker(), county_pickers(), chain_pickers()
    # Major projects are built by sizeable firms; bigger ones build more of them.
    local: dict[tuple[str, str], list[Firm]] = defaultdict(list)
    chain_wide: dict[str, list[Firm]] = defaultdict(list)
    for firm in firms:
        if firm.output >= 2_000:
            local[firm.chain.id, firm.city_code].append(firm)
            chain_wide[firm.chain.id].append(firm)
    owners = {key: Picker(pool, [f.output**0.6 for f in pool]) for key, pool in local.items()}
    owners_anywhere = {
        key: Picker(pool, [f.output**0.6 for f in pool]) for key, pool in chain_wide.items()
    }
    drafts: list[Draft] = []
    for _ in range(count):
        city = cities.pick(rng)
        chain = chains[city.code].pick(rng)
        picker = owners.get((chain.id, city.code)) or owners_anywhere[chain.id]
        owner = picker.pick(rng)
        same_city = owner.city_code == city.code
        county = owner.county if same_city and rng.random() < 0.7 else counties[city.code].pick(rng)
        total = lognormal(rng, MEDIAN_TOTAL, TOTAL_SIGMA)
        while total < MIN_TOTAL:
            total = lognormal(rng, MEDIAN_TOTAL, TOTAL_SIGMA)
        total = float(round(min(total, 3_000_000)))
        project_type = _TYPES.pick(rng)
        # Big projects take longer; renovation and purchases are quick.
        years = (1.2 + 0.5 * math.log10(total / MIN_TOTAL)) * rng.uniform(0.8, 1.25)
        if project_type in ("03", "04"):
            years *= 0.6
        duration = min(max(round(365 * years), 240), 1800)
        roll = rng.random()
        kind = ProjectKind.NEW if roll < NEW_SHARE else ProjectKind.CONTINUING
        draft = Draft(owner, county, chain, project_type, total, kind, duration)
        if roll < PLANNING_SHARE:
            draft.stage = ProjectStage.PLANNING
        drafts.append(draft)
    return drafts


def _schedule(rng: random.Random, d: Draft) -> None:
    if d.stage is ProjectStage.PLANNING:
        next_year = AS_OF.year + 1
        d.planned_start = between(rng, dt.date(next_year, 1, 1), dt.date(next_year, 9, 30))
        d.planned_end = shift(d.planned_start, d.duration)
        return
    if d.kind is ProjectKind.NEW:
        month = _MONTHS.pick(rng)
        first = dt.date(AS_OF.year, month, 1)
        last = shift(dt.date(AS_OF.year + month // 12, month % 12 + 1, 1), -1)
        d.planned_start = between(rng, first, last)
        d.planned_end = shift(d.planned_start, d.duration)
        if d.due:
            # Started unless _hold_back picks it; the stage is settled there.
            start = shift(d.planned_start, rng.randint(-15, 45))
            d.actual_start = clamp(start, shift(YEAR_START, 1), shift(AS_OF, -1))
            d.stage = ProjectStage.CONSTRUCTION
            end = shift(d.actual_start, round(d.duration * rng.uniform(0.75, 1.0)))
            if d.duration <= 420 and rng.random() < 0.5 and end <= shift(AS_OF, -3):
                d.stage, d.actual_end = ProjectStage.COMPLETED, end
        return
    # Continuing: started before this year and not finished by its start.
    earliest = max(dt.date(2021, 1, 1), shift(dt.date(AS_OF.year, 2, 1), -d.duration))
    d.actual_start = between(rng, earliest, dt.date(AS_OF.year - 1, 12, 15))
    d.planned_start = shift(d.actual_start, rng.randint(-30, 45))
    d.planned_end = shift(d.planned_start, d.duration)
    d.stage = ProjectStage.CONSTRUCTION
    if rng.random() < (0.8 if d.planned_end <= AS_OF else 0.04):
        first = max(dt.date(AS_OF.year, 1, 10), shift(d.actual_start, 120))
        end = shift(d.planned_end, rng.randint(-30, 60))
        d.stage, d.actual_end = ProjectStage.COMPLETED, clamp(end, first, shift(AS_OF, -3))


def _hold_back(rng: random.Random, drafts: list[Draft]) -> None:
    due = [d for d in drafts if d.due]
    unstarted = len(due) - round(START_RATE * len(due))
    # The most recently due are the likeliest still waiting for land, permits or money.
    lateness = [0.3 + (d.planned_start - YEAR_START).days / 365 for d in due]
    for d in weighted_sample(rng, due, lateness, unstarted):
        d.actual_start = d.actual_end = None
        d.stage = ProjectStage.SUSPENDED if rng.random() < 0.25 else ProjectStage.PREPARATION


def _rank(rng: random.Random, drafts: list[Draft], mix: ProjectMix) -> None:
    weights = [(d.total / MIN_TOTAL) ** 0.8 for d in drafts]
    provincial = (
        drafts
        if mix.provincial >= len(drafts)
        else weighted_sample(rng, drafts, weights, mix.provincial)
    )
    chosen = {id(d) for d in provincial}
    for d in drafts:
        if id(d) not in chosen:
            d.level = ProjectLevel.CITY if rng.random() < mix.city_share else ProjectLevel.COUNTY
    # Leaders take on the big, visible ones.
    sizes = [math.sqrt(d.total / MIN_TOTAL) for d in provincial]
    for d in weighted_sample(rng, provincial, sizes, mix.leaders):
        d.leader = True


def _budget(rng: random.Random, d: Draft) -> None:
    total = d.total
    if d.stage is ProjectStage.PLANNING:
        return
    if d.actual_start is None:
        # Not started: a plan for the part of the year after the start that has not happened.
        d.annual_plan = total * (rng.uniform(0.15, 0.35) if d.due else rng.uniform(0.03, 0.1))
        if rng.random() < 0.35:
            d.permit_date = between(rng, shift(d.planned_start, -90), AS_OF)
        return
    d.permit_date = shift(d.actual_start, -rng.randint(3, 45))
    if d.kind is ProjectKind.CONTINUING:
        elapsed = (LAST_YEAR_END - d.actual_start).days / d.duration
        d.before = total * min(max(elapsed * rng.uniform(0.75, 1.0), 0.03), 0.85)
    remaining = total - d.before
    if d.stage is ProjectStage.COMPLETED:
        d.annual_plan = min(total, remaining * rng.uniform(0.9, 1.1))
        d.year_done = max(total * rng.uniform(0.95, 1.0) - d.before, 0.0)
        return
    if d.planned_end.year <= AS_OF.year:
        d.annual_plan = remaining * rng.uniform(0.8, 1.0)
    elif d.kind is ProjectKind.NEW and d.duration <= 540:
        d.annual_plan = total * rng.uniform(0.45, 0.8)
    else:
        d.annual_plan = min(total * rng.uniform(0.2, 0.4), remaining * 0.9)
    pace = 1.0
    if d.kind is ProjectKind.NEW:
        # A project that started in August cannot have done the year's pro-rated share.
        pace = min(1.0, 1.2 * (AS_OF - d.actual_start).days / (AS_OF - YEAR_START).days)
    d.progress = d.annual_plan * YEAR_FRACTION * pace * lognormal(rng, 1.0, 0.25)


def _calibrate(drafts: list[Draft]) -> None:
    plan = sum(d.annual_plan for d in drafts) * YEAR_FRACTION
    fixed = sum(d.year_done for d in drafts if d.stage is ProjectStage.COMPLETED)
    building = [d for d in drafts if d.stage is ProjectStage.CONSTRUCTION]
    need = ANNUAL_COMPLETION * plan - fixed

    def done(k: float) -> float:
        return sum(min(k * d.progress, d.cap) for d in building)

    if not 0 <= need <= done(math.inf):
        raise RuntimeError(f"cannot reach {ANNUAL_COMPLETION:.1%} completion (need {need:.0f})")
    low, high = 0.0, 1.0
    while done(high) < need:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if done(mid) < need else (low, mid)
    for d in building:
        d.year_done = min(high * d.progress, d.cap)


def _identify(rng: random.Random, drafts: list[Draft], namer: Namer) -> None:
    tails: set[str] = set()
    for d in drafts:
        anchor = d.actual_start or d.planned_start
        year = min(max(shift(anchor, -rng.randint(60, 540)).year, 2020), AS_OF.year)
        codes = d.segments[0].industry_codes
        department = codes[0][:2] if codes else d.chain.department
        while True:
            tail = "".join(rng.choices(_CODE_CHARS, k=6))
            if tail not in tails:
                tails.add(tail)
                break
        d.code = f"{year}-{d.county.code}-{department}-{d.project_type}-{tail}"
        d.name = namer.project(d.owner.brand, d.segments[0], d.project_type)


def _parcels(
    rng: random.Random, drafts: list[Draft], planner: ParcelPlanner
) -> list[dict[str, Any]]:
    serials: dict[tuple[str, int], int] = {}
    rows: list[dict[str, Any]] = []
    for d in drafts:
        count = _parcel_count(rng, d)
        if count == 0:
            continue
        renovation = d.project_type in ("02", "03", "04")
        anchor = d.actual_start or d.planned_start
        if renovation:
            # Renovation happens on the plant's existing land.
            year = rng.randint(2005, 2020)
        else:
            year = min(max(shift(anchor, -rng.randint(30, 300)).year, 2010), AS_OF.year)
        hectares = min(max(3 * math.sqrt(d.total / MIN_TOTAL) * lognormal(rng, 1, 0.3), 2), 40)
        shares = (1.0,) if count == 1 else (0.6, 0.4)
        for share in shares:
            key = (d.county.code, year)
            serials[key] = serials.get(key, rng.randint(0, 40)) + rng.randint(1, 6)
            parcel_id = f"{d.county.code}-{year}-{serials[key]:04d}"
            geometry = planner.draw(d.county, max(hectares * share, 2.0) * 10_000)
            rows.append(
                {
                    "id": parcel_id,
                    "region_code": d.county.code,
                    "use": _land_use(rng, d).value,
                    "area_m2": round(area_m2(geometry), 1),
                    "geometry": geometry,
                }
            )
            d.parcel_ids.append(parcel_id)
    return rows


def _parcel_count(rng: random.Random, d: Draft) -> int:
    if d.stage is ProjectStage.PLANNING:
        return 0
    if d.actual_start is None:
        return 1 if rng.random() < 0.55 else 0  # land supplied ahead of the start, or not yet
    if d.project_type in ("02", "03", "04"):
        return 1 if rng.random() < 0.75 else 0
    return 2 if rng.random() < 0.1 else 1


def _land_use(rng: random.Random, d: Draft) -> LandUse:
    segment_id = d.segments[0].id
    if segment_id in _LAND_USE:
        return _LAND_USE[segment_id]
    if segment_id in _OFFICE_SEGMENTS and rng.random() < 0.4:
        return LandUse.COMMERCIAL
    return LandUse.WAREHOUSING if rng.random() < 0.07 else LandUse.INDUSTRIAL
