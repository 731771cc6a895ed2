"""The Major Project Progress Index (重大项目推进指数) per region and half-month period.

Over the projects of one built-in list (``HUB_MPI_LIST``, provincial by default) located in a
region or below it, for the half-month period ``YYYY-MM-H1`` (days 1–15) or ``YYYY-MM-H2``
(16 to the month's end), as of ``end`` (the period's last day, or today within it):

- **Resumption rate** (续建项目复工率): continuing projects (kind ``continuing``, not completed
  before the period) that resumed ÷ all of them. Resumed: with power readings in the period,
  a day at or above 30% of the project's baseline kWh; without power but with other
  evidence, a day ACTIVE; without any evidence, the reported stage (construction counts).
  Suspended projects have not resumed.
- **Start rate** (新开工项目开工率): new projects (kind ``new``) planned to start from 1 January
  to ``end`` that started (``actual_start``) by ``end`` ÷ those planned.
- **Completion rate** (年度投资完成率): Σ completed this year ÷ Σ annual plan; the index uses
  it against schedule (÷ the share of the year elapsed at ``end``), capped at 1. The amounts
  are the ones the projects carry now, whatever the period.
- **Verification rate** (大数据核验): projects with evidence in the period (any day not
  NO_DATA) whose reports no evidence contradicts (no mismatch found by ``end``) ÷ those with
  evidence.

MPI = 100 × Σ weightᵢ × scoreᵢ ÷ Σ weightᵢ over the rates that have a basis (a rate over
nothing drops out), rated red below ``HUB_MPI_RED``, yellow below ``HUB_MPI_YELLOW``, else
green. Ranks are competition ranks among regions of the same level. Each figure is a sum
over the projects behind it (``Contribution``), so a drill-down lists exactly those projects.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graph_schema.errors import InvalidInput
from hub import texts
from hub.monitoring.fusion import Activity, DayEvidence, Mismatch, Project
from hub.projects.financing import RegionTree
from hub.promotion.scoreboard import WarningLevel, ranks, schedule_share, warning
from hub.settings import FusionSettings, MpiSettings

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})-H([12])$")


@dataclass(frozen=True, slots=True, order=True)
class HalfMonth:
    year: int
    month: int
    half: int

    @classmethod
    def parse(cls, text: str) -> HalfMonth:
        m = _PERIOD_RE.match(text.strip())
        if m is None or not 1 <= int(m.group(2)) <= 12 or not 2000 <= int(m.group(1)) <= 2100:
            raise InvalidInput(f"period {text[:40]!r}: write YYYY-MM-H1 or YYYY-MM-H2")
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    @classmethod
    def of(cls, day: dt.date) -> HalfMonth:
        return cls(day.year, day.month, 1 if day.day <= 15 else 2)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-H{self.half}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1 if self.half == 1 else 16)

    @property
    def end(self) -> dt.date:
        last = calendar.monthrange(self.year, self.month)[1]
        return dt.date(self.year, self.month, 15 if self.half == 1 else last)

    def previous(self) -> HalfMonth:
        if self.half == 2:
            return HalfMonth(self.year, self.month, 1)
        if self.month == 1:
            return HalfMonth(self.year - 1, 12, 2)
        return HalfMonth(self.year, self.month - 1, 2)

    def __str__(self) -> str:
        return self.key


def year_periods(today: dt.date) -> list[HalfMonth]:
    """Every half-month of ``today``'s year up to the one holding ``today``."""
    out = [HalfMonth.of(today)]
    while (p := out[-1].previous()).year == today.year:
        out.append(p)
    return out[::-1]


class RateKind(StrEnum):
    RESUMPTION = "resumption"
    START = "start"
    COMPLETION = "completion"
    VERIFICATION = "verification"


def on_list(project: Project, list_id: str) -> bool:
    if list_id == "all":
        return True
    if list_id == "leaders":
        return project.leader_project
    return project.level == list_id


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one project adds to one rate: to its basis, and to its count (or amount)."""

    project_code: str
    region_code: str | None
    rate: RateKind
    basis: float  # 1 for counts; the annual plan for completion
    counted: float  # 1/0 for counts; the completed amount for completion
    code: str  # why, as a hub.texts code (MPI_*); its parameters are named in REASON_PARAMS
    args: tuple[Any, ...] = ()  # kept positional: a board holds hundreds of thousands

    @property
    def params(self) -> dict[str, Any]:
        return {
            name: v.isoformat() if isinstance(v, dt.date) else v
            for name, v in zip(REASON_PARAMS[self.code], self.args, strict=True)
        }

    @property
    def reason(self) -> str:
        """In English (the API renders ``code`` and ``params`` in the request's language)."""
        return texts.render(self.code, self.params, texts.Lang.EN)


# The parameters' names of each reason code, in the order Contribution.args holds them.
REASON_PARAMS: dict[str, tuple[str, ...]] = {
    "MPI_SUSPENDED": (),
    "MPI_POWER": ("share", "n", "days"),
    "MPI_ACTIVITY": ("n", "days"),
    "MPI_NO_EVIDENCE": ("stage",),
    "MPI_STARTED": ("planned", "started"),
    "MPI_NOT_STARTED": ("planned",),
    "MPI_COMPLETION": ("done", "plan"),
    "MPI_AGREES": ("days",),
    "MPI_MISMATCH": ("mismatches",),
}


def contributions(
    project: Project,
    history: Mapping[dt.date, DayEvidence],
    found: Sequence[Mismatch],
    period: HalfMonth,
    end: dt.date,
    rules: FusionSettings,
    window: tuple[dt.date, dt.date] | None = None,
) -> list[Contribution]:
    """The project's part in each rate; ``window`` bounds the days ``history`` can hold."""
    out: list[Contribution] = []
    code, region = project.code, project.region_code
    first, last = period.start, end
    if window is not None:
        first, last = max(first, window[0]), min(last, window[1])
    span = [history[d] for d in _days(first, last) if d in history] if first <= last else []
    observed = [e for e in span if e.status is not Activity.NO_DATA]
    ended = project.actual_end is not None and project.actual_end < period.start
    if project.kind == "continuing" and not ended:
        powered = [e.power_resumed for e in span if e.power_resumed is not None]
        if project.stage == "suspended":
            out.append(Contribution(code, region, RateKind.RESUMPTION, 1, 0, "MPI_SUSPENDED"))
        elif powered:
            n = sum(powered)
            out.append(
                Contribution(code, region, RateKind.RESUMPTION, 1, 1 if n else 0,
                             "MPI_POWER",
                             (rules.resumption_share, n, len(powered)))
            )  # fmt: skip
        elif observed:
            n = sum(e.status is Activity.ACTIVE for e in observed)
            out.append(
                Contribution(code, region, RateKind.RESUMPTION, 1, 1 if n else 0,
                             "MPI_ACTIVITY",
                             (n, len(observed)))
            )  # fmt: skip
        else:
            yes = project.stage == "construction"
            out.append(
                Contribution(code, region, RateKind.RESUMPTION, 1, 1 if yes else 0,
                             "MPI_NO_EVIDENCE", (project.stage,))
            )  # fmt: skip
    due = project.planned_start
    if project.kind == "new" and due is not None and due.year == end.year and due <= end:
        started = project.actual_start is not None and project.actual_start <= end
        out.append(
            Contribution(code, region, RateKind.START, 1, 1 if started else 0,
                         "MPI_STARTED" if started else "MPI_NOT_STARTED",
                         (due, project.actual_start) if started else (due,))
        )  # fmt: skip
    if project.annual_plan > 0:
        out.append(
            Contribution(code, region, RateKind.COMPLETION, project.annual_plan,
                         project.year_completed, "MPI_COMPLETION",
                         (project.year_completed, project.annual_plan))
        )  # fmt: skip
    if observed:
        against = [m for m in found if m.since <= end]
        if against:
            why = tuple({"kind": m.kind.value, "params": dict(m.params)} for m in against)
            out.append(Contribution(code, region, RateKind.VERIFICATION, 1, 0, "MPI_MISMATCH",
                                    (why,)))  # fmt: skip
        else:
            out.append(
                Contribution(code, region, RateKind.VERIFICATION, 1, 1,
                             "MPI_AGREES", (len(observed),))
            )  # fmt: skip
    return out


def _days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rate:
    kind: RateKind
    basis: float  # projects (or 万元 planned, for completion)
    counted: float  # projects (or 万元 completed)
    rate: float | None
    score: float | None  # what enters the index, 0..1

    @property
    def projects(self) -> int:
        return round(self.basis) if self.kind is not RateKind.COMPLETION else -1


@dataclass(frozen=True, slots=True)
class RegionScore:
    code: str
    name: str
    level: str
    period: HalfMonth
    end: dt.date
    rates: dict[RateKind, Rate]
    mpi: float | None
    warning: WarningLevel | None
    rank: int | None


@dataclass(frozen=True, slots=True)
class Board:
    """Every region's MPI for one period, with the contributions behind it."""

    list_id: str
    period: HalfMonth
    end: dt.date
    schedule_share: float
    regions: dict[str, RegionScore]
    entries: tuple[Contribution, ...]
    tree: RegionTree

    def drill(self, region: str, kind: RateKind) -> list[Contribution]:
        return [c for c in self.entries if c.rate is kind and region in self.tree.up(c.region_code)]


def compute(
    projects: Mapping[str, Project],
    history: Mapping[str, Mapping[dt.date, DayEvidence]],
    found: Mapping[str, Sequence[Mismatch]],
    regions: Sequence[dict[str, Any]],
    period: HalfMonth,
    as_of: dt.date,
    settings: MpiSettings,
    rules: FusionSettings,
    list_id: str | None = None,
) -> Board:
    """Every region's MPI for ``period`` as of ``as_of`` (capped to the period's end)."""
    list_id = list_id or settings.list
    if as_of < period.start:
        raise InvalidInput(f"period {period} has not begun on {as_of}")
    end = min(as_of, period.end)
    tree = RegionTree(regions)
    entries: list[Contribution] = []
    sums: dict[tuple[str, RateKind], list[float]] = defaultdict(lambda: [0.0, 0.0])
    chains: dict[str | None, tuple[str, ...]] = {}
    # Every project's evidence covers the same window of days (``fusion.assess``).
    sample = next((h for h in history.values() if h), None)
    window = (min(sample), max(sample)) if sample else None
    empty: dict[dt.date, DayEvidence] = {}
    for code, project in projects.items():
        if not on_list(project, list_id):
            continue
        made = contributions(project, history.get(code, empty), found.get(code, ()), period,
                             end, rules, window)  # fmt: skip
        entries += made
        chain = chains.get(project.region_code)
        if chain is None:
            chain = chains[project.region_code] = tree.up(project.region_code)
        for c in made:
            for region in chain:
                acc = sums[(region, c.rate)]
                acc[0] += c.basis
                acc[1] += c.counted
    share = schedule_share(end)
    weights = {
        RateKind.RESUMPTION: settings.weight_resumption,
        RateKind.START: settings.weight_start,
        RateKind.COMPLETION: settings.weight_completion,
        RateKind.VERIFICATION: settings.weight_verification,
    }
    scores: list[tuple[dict[str, Any], dict[RateKind, Rate], float | None]] = []
    for row in regions:
        code = str(row["code"])
        rates: dict[RateKind, Rate] = {}
        for kind in RateKind:
            basis, counted = sums.get((code, kind), (0.0, 0.0))
            rate = counted / basis if basis > 0 else None
            score = rate
            if kind is RateKind.COMPLETION and rate is not None:
                score = min(1.0, rate / share)
            rates[kind] = Rate(kind, basis, counted, rate, score)
        weight = sum(weights[k] for k, r in rates.items() if r.score is not None)
        total = sum(weights[k] * r.score for k, r in rates.items() if r.score is not None)
        mpi = 100 * total / weight if weight > 0 else None
        scores.append((row, rates, None if mpi is None else round(mpi, 2)))
    by_level: dict[str, list[int]] = defaultdict(list)
    for i, (row, _, _) in enumerate(scores):
        by_level[str(row.get("level"))].append(i)
    rank_of: dict[int, int | None] = {}
    for members in by_level.values():
        for i, r in zip(members, ranks([scores[i][2] for i in members]), strict=True):
            rank_of[i] = r
    out = {}
    for i, (row, rates, mpi) in enumerate(scores):
        code = str(row["code"])
        out[code] = RegionScore(
            code=code,
            name=str(row.get("name") or code),
            level=str(row.get("level") or ""),
            period=period,
            end=end,
            rates=rates,
            mpi=mpi,
            warning=warning(mpi, settings.red, settings.yellow),
            rank=rank_of[i],
        )
    return Board(list_id, period, end, share, out, tuple(entries), tree)
