"""Evidence, verification and the MPI in GraphQL (issue 8).

``projectActivity`` gives a project's daily evidence (status, confidence, each feed's
level and figures); ``verificationMismatches`` lists where reports and evidence disagree;
``mpi`` gives every region's Major Project Progress Index for a half-month period with the
four rates, red/yellow/green, ranks and a drill-down to the projects behind each rate;
``mpiHistory`` gives a region's stored snapshots. All for monitoring readers (not the bank).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_schema.errors import InvalidInput, NotFound
from graph_schema.statements.scoreboard import BUILT_IN
from hub import texts
from hub.api import lists
from hub.api.access import MONITORING_READERS, allow
from hub.api.alerts import ProjectRef, RegionRef, link, watch_of
from hub.api.context import Context
from hub.api.enums import ProjectStage, RegionLevel, SensorKind, SortDirection, WarningLevel
from hub.api.inputs import _DIRECTION, _NOT, _OR
from hub.api.logic import check, matching
from hub.api.monitoring import project_code_of
from hub.api.pages import ListPage
from hub.api.paging import args, key_of
from hub.api.relay import _W, After, Before, First, Last
from hub.api.scalars import Period
from hub.api.texts import MESSAGE, lang
from hub.monitoring import fusion
from hub.monitoring import mpi as index
from hub.promotion.scoreboard import WarningLevel as ServiceWarning

if TYPE_CHECKING:
    from hub.api.scoreboard import ProjectList

Ctx = Info[Context, None]
MAX_DAYS = 400


@strawberry.enum(
    description="A project's day: ACTIVE, LOW or IDLE by its weighted evidence; NO_DATA when "
    "no feed says anything."
)
class ActivityStatus(Enum):
    ACTIVE = strawberry.enum_value(
        "ACTIVE", description="Weighted evidence at or above HUB_FUSION_ACTIVE_SCORE."
    )
    LOW = strawberry.enum_value(
        "LOW", description="Between HUB_FUSION_LOW_SCORE and the active score."
    )
    IDLE = strawberry.enum_value("IDLE", description="Below HUB_FUSION_LOW_SCORE.")
    NO_DATA = strawberry.enum_value("NO_DATA", description="No feed has evidence for the day.")


@strawberry.enum(description="What one feed says about a day.")
class FeedLevel(Enum):
    ACTIVE = strawberry.enum_value(
        "active", description="At or above the active share of the baseline."
    )
    LOW = strawberry.enum_value("low", description="Some activity, below the active share.")
    IDLE = strawberry.enum_value("idle", description="Nothing worth counting.")


@strawberry.enum(
    description="NO_ACTIVITY: reported under construction, no power, labor or camera "
    "activity for HUB_FUSION_MISMATCH_DAYS days; INVESTMENT_JUMP: reported investment jumped "
    "without matching activity; SATELLITE_CONSTRUCTION: reported not started while the "
    "satellite shows construction."
)
class MismatchKind(Enum):
    NO_ACTIVITY = strawberry.enum_value(
        "NO_ACTIVITY", description="Under construction on paper, silent on site."
    )
    INVESTMENT_JUMP = strawberry.enum_value(
        "INVESTMENT_JUMP", description="Reported investment jumped, the site did not."
    )
    SATELLITE_CONSTRUCTION = strawberry.enum_value(
        "SATELLITE_CONSTRUCTION", description="Reported not started; the satellite sees works."
    )


@strawberry.enum(description="The four rates of the MPI.")
class MpiRateKind(Enum):
    RESUMPTION = strawberry.enum_value(
        "resumption", description="Continuing-project resumption rate (续建项目复工率)."
    )
    START = strawberry.enum_value("start", description="New-project start rate (新开工项目开工率).")
    COMPLETION = strawberry.enum_value(
        "completion", description="Annual investment completion rate (年度投资完成率)."
    )
    VERIFICATION = strawberry.enum_value(
        "verification", description="Big-data verification rate (大数据核验)."
    )


assert {str(k.value) for k in ActivityStatus} == {a.value for a in fusion.Activity}
assert {str(k.value) for k in FeedLevel} == {a.value for a in fusion.Level}
assert {str(k.value) for k in MismatchKind} == {a.value for a in fusion.MismatchKind}
assert {str(k.value) for k in MpiRateKind} == {a.value for a in index.RateKind}


@strawberry.type(description="One feed's evidence for one day.")
class FeedEvidence:
    kind: SensorKind = strawberry.field(description="POWER, LABOR, CAMERA or SATELLITE.")
    level: FeedLevel | None = strawberry.field(
        description="active, low or idle; null: no evidence from this feed that day."
    )
    value: float | None = strawberry.field(
        description="kWh, workers, active_fraction or change_state."
    )
    baseline: float | None = strawberry.field(
        description="The project's own baseline (power kWh, headcount)."
    )
    share: float | None = strawberry.field(description="value ÷ baseline.")
    note: str = strawberry.field(description="The evidence in words.")


@strawberry.type(description="A project's evidence for one local day.")
class ActivityDay:
    day: dt.date = strawberry.field(description="Local day.")
    status: ActivityStatus = strawberry.field(description="The verdict.")
    score: float | None = strawberry.field(
        description="Weighted level (active 1, low ½, idle 0) over the feeds with evidence."
    )
    confidence: float = strawberry.field(
        description="Weight of the feeds with evidence over all four, times the share of it "
        "that agrees with the status (0..1)."
    )
    power_resumed: bool | None = strawberry.field(
        description="Power at or above HUB_FUSION_RESUMPTION_SHARE of the baseline (null: no "
        "reading)."
    )
    feeds: list[FeedEvidence] = strawberry.field(description="Each feed's evidence.")
    provisional: bool = strawberry.field(
        description="The day is in progress: kWh and headcount so far show work, not idleness."
    )

    @classmethod
    def of(cls, e: fusion.DayEvidence) -> ActivityDay:
        return cls(
            day=e.day,
            status=ActivityStatus(e.status.value),
            score=e.score,
            confidence=e.confidence,
            power_resumed=e.power_resumed,
            provisional=e.partial,
            feeds=[
                FeedEvidence(
                    kind=SensorKind(f.kind),
                    level=FeedLevel(f.level.value) if f.level else None,
                    value=f.value,
                    baseline=f.baseline,
                    share=f.share,
                    note=f.note,
                )
                for f in e.feeds
            ],
        )


@strawberry.type(
    description="A project's newest day that can be judged (today, or yesterday while today "
    "shows nothing yet), for maps and lists of many projects."
)
class ProjectActivitySummary:
    project_code: str = strawberry.field(description="The project's code.")
    project_name: str = strawberry.field(description="Its name.")
    region_code: str | None = strawberry.field(description="Its region's code (county).")
    stage: ProjectStage = strawberry.field(description="Its reported stage.")
    status: ActivityStatus = strawberry.field(description="The day's verdict.")
    idle_days: int = strawberry.field(description="Consecutive IDLE days up to that day.")
    day: ActivityDay | None = strawberry.field(
        description="That day's evidence; null when the window holds none for the project."
    )

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef | None:
        return cast("ProjectRef | None", await link(info, "project", self.project_code))

    @strawberry.field(description="Its region (county).")
    async def region(self, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", self.region_code))


@strawberry.type(description="A page of projects' newest evidence (Relay cursor connection).")
class ProjectActivityConnection(ListPage[ProjectActivitySummary]):
    pass


@strawberry.input(description="Which projects' evidence; fields combine with AND.")
class ProjectActivityWhere:
    region: str | None = strawberry.field(
        default=None, description="In this region or below (its code or global id)."
    )
    statuses: list[ActivityStatus] | None = strawberry.field(
        default=None, description="Only projects with one of these verdicts."
    )
    stages: list[ProjectStage] | None = strawberry.field(
        default=None, description="Only projects that report one of these stages."
    )
    or_: list[ProjectActivityWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: ProjectActivityWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="What projects' evidence can be sorted on; ties on the code.")
class ProjectActivitySortField(Enum):
    PROJECT_CODE = strawberry.enum_value("project_code", description="The project's code.")
    IDLE_DAYS = strawberry.enum_value("idle_days", description="Consecutive IDLE days.")


@strawberry.input(description="One sort key for projects' evidence.")
class ProjectActivitySort:
    field: ProjectActivitySortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.enum(description="What verification mismatches can be sorted on.")
class VerificationMismatchSortField(Enum):
    PROJECT_CODE = strawberry.enum_value(
        "project_code", description="The project's code, then the kind."
    )
    SINCE = strawberry.enum_value("since", description="From when, then the project's code.")


@strawberry.input(description="One sort key for verification mismatches.")
class VerificationMismatchSort:
    field: VerificationMismatchSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.enum(description="What MPI snapshots can be sorted on.")
class MpiSnapshotSortField(Enum):
    PERIOD = strawberry.enum_value("period", description="The half-month.")


@strawberry.input(description="One sort key for MPI snapshots.")
class MpiSnapshotSort:
    field: MpiSnapshotSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


@strawberry.type(description="Where a project's report and its evidence disagree.")
class VerificationMismatch:
    project_code: str = strawberry.field(description="The project's code.")
    project_name: str = strawberry.field(description="Its name.")
    region_code: str | None = strawberry.field(description="Its region's code.")
    kind: MismatchKind = strawberry.field(description="Which disagreement.")
    since: dt.date = strawberry.field(description="From when.")
    code: str = strawberry.field(description="Why, as a stable code (MISMATCH_<kind>_DETAIL).")
    params: JSON = strawberry.field(description="Its parameters (the figures), by name.")

    @strawberry.field(description="Why, with the figures. " + MESSAGE)
    def explanation(self, info: Ctx) -> str:
        return texts.render(self.code, cast(Mapping[str, Any], self.params), lang(info))

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef | None:
        return cast("ProjectRef | None", await link(info, "project", self.project_code))

    @strawberry.field(description="Its region.")
    async def region(self, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", self.region_code))


@strawberry.type(description="A project behind an MPI rate.")
class MpiEntry:
    project_code: str = strawberry.field(description="The project's code.")
    region_code: str | None = strawberry.field(description="Its region's code.")
    basis: float = strawberry.field(description="1 (completion: its annual plan, 万元).")
    counted: float = strawberry.field(
        description="1 if it counts for the rate, else 0 (completion: completed, 万元)."
    )
    code: str = strawberry.field(description="Why, as a stable code (MPI_*).")
    params: JSON = strawberry.field(description="Its parameters (the evidence), by name.")

    @strawberry.field(description="Why, with the evidence. " + MESSAGE)
    def reason(self, info: Ctx) -> str:
        return texts.render(self.code, cast(Mapping[str, Any], self.params), lang(info))

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef | None:
        return cast("ProjectRef | None", await link(info, "project", self.project_code))

    @strawberry.field(description="Its region.")
    async def region(self, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", self.region_code))


@strawberry.type(description="One of the MPI's four rates in one region.")
class MpiRate:
    kind: MpiRateKind = strawberry.field(description="Which rate.")
    basis: float = strawberry.field(description="Projects in the basis (completion: 万元 plan).")
    counted: float = strawberry.field(description="Projects counted (completion: 万元 done).")
    rate: float | None = strawberry.field(description="counted ÷ basis; null without a basis.")
    score: float | None = strawberry.field(
        description="What enters the index (completion: rate ÷ schedule share, at most 1)."
    )
    region: strawberry.Private[str]
    board: strawberry.Private[index.Board]

    @strawberry.field(description="The projects behind the rate (drill-down).")
    def projects(
        self,
        counted: Annotated[
            bool | None,
            strawberry.argument(description="true: those counted; false: those not counted."),
        ] = None,
    ) -> list[MpiEntry]:
        kind = index.RateKind(str(self.kind.value))
        out = []
        for c in self.board.drill(self.region, kind):
            if counted is not None and (c.counted > 0) != counted:
                continue
            out.append(
                MpiEntry(
                    project_code=c.project_code,
                    region_code=c.region_code,
                    basis=c.basis,
                    counted=c.counted,
                    code=c.code,
                    params=cast(JSON, c.params),
                )
            )
        return out


def _warning(level: ServiceWarning | None) -> WarningLevel | None:
    return None if level is None else WarningLevel(level.value)


@strawberry.type(description="A region's Major Project Progress Index for one period.")
class RegionMpi:
    region_code: str = strawberry.field(description="The region's code.")
    code: str = strawberry.field(
        description="Region code.", deprecation_reason="Use regionCode (or region, the link)."
    )
    name: str = strawberry.field(description="Region name.")
    level: RegionLevel = strawberry.field(description="PROVINCE, CITY or COUNTY.")
    mpi: float | None = strawberry.field(
        description="100 × weighted mean of the rates' scores; null when no rate has a basis."
    )
    warning: WarningLevel | None = strawberry.field(
        description="Against HUB_MPI_RED and HUB_MPI_YELLOW."
    )
    rank: int | None = strawberry.field(description="Among regions of its level, 1 highest.")
    resumption: MpiRate = strawberry.field(description="Continuing-project resumption rate.")
    start: MpiRate = strawberry.field(description="New-project start rate.")
    completion: MpiRate = strawberry.field(description="Annual investment completion rate.")
    verification: MpiRate = strawberry.field(description="Big-data verification rate.")

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> RegionRef | None:
        return cast("RegionRef | None", await link(info, "region", self.region_code))

    @classmethod
    def of(cls, r: index.RegionScore, board: index.Board) -> RegionMpi:
        def rate(kind: index.RateKind) -> MpiRate:
            x = r.rates[kind]
            return MpiRate(
                kind=MpiRateKind(kind.value),
                basis=x.basis,
                counted=x.counted,
                rate=x.rate,
                score=x.score,
                region=r.code,
                board=board,
            )

        return cls(
            region_code=r.code,
            code=r.code,
            name=r.name,
            level=RegionLevel(r.level),
            mpi=r.mpi,
            warning=_warning(r.warning),
            rank=r.rank,
            resumption=rate(index.RateKind.RESUMPTION),
            start=rate(index.RateKind.START),
            completion=rate(index.RateKind.COMPLETION),
            verification=rate(index.RateKind.VERIFICATION),
        )


@strawberry.type(description="Every region's MPI for one half-month period.")
class MpiBoard:
    period: Period = strawberry.field(description="YYYY-MM-H1 (days 1–15) or YYYY-MM-H2.")
    list_id: str = strawberry.field(description="The id of the built-in project list it covers.")
    end: dt.date = strawberry.field(description="As of (the period's end, or today).")
    schedule_share: float = strawberry.field(description="Share of the year elapsed at end.")
    board: strawberry.Private[index.Board]

    @strawberry.field(description="The built-in project list it covers.")
    async def project_list(
        self, info: Ctx
    ) -> Annotated[ProjectList, strawberry.lazy("hub.api.scoreboard")] | None:
        # The project-list type is the schema's, found through it: importing hub.api.scoreboard
        # here would close a circle (scoreboard -> entities -> their links -> this module).
        definition = info.schema.get_type_by_name("ProjectList")
        assert definition is not None and hasattr(definition, "origin")
        cls = cast("type[ProjectList]", definition.origin)
        if self.list_id in BUILT_IN:
            return cls.built_in_list(self.list_id)
        return await lists.by_key(info, "project_list", self.list_id, cls)

    @strawberry.field(description="Regions, best MPI first within each level.")
    def regions(
        self,
        region_level: Annotated[
            RegionLevel | None, strawberry.argument(description="Only regions of this level.")
        ] = None,
        within: Annotated[
            str | None,
            strawberry.argument(
                description="Only regions inside this one (its code or global id)."
            ),
        ] = None,
        level: Annotated[
            str | None,
            strawberry.argument(
                description="province, city or county.", deprecation_reason="Use regionLevel."
            ),
        ] = None,
    ) -> list[RegionMpi]:
        if level is not None:
            if region_level is not None:
                raise InvalidInput("give regionLevel or the deprecated level, not both")
            if level not in {str(v.value) for v in RegionLevel}:
                raise InvalidInput("level: province, city or county")
        elif region_level is not None:
            level = str(region_level.value)
        within = key_of(within, "Region") if within is not None else None
        rows = [
            r
            for r in self.board.regions.values()
            if (level is None or r.level == level)
            and (within is None or within in self.board.tree.up(r.code))
        ]
        rows.sort(key=lambda r: (r.level, r.rank is None, r.rank or 0, r.code))
        return [RegionMpi.of(r, self.board) for r in rows]

    @strawberry.field(description="One region.")
    def region(
        self,
        code: Annotated[str, strawberry.argument(description="The region's code or global id.")],
    ) -> RegionMpi | None:
        found = self.board.regions.get(key_of(code, "Region"))
        return RegionMpi.of(found, self.board) if found else None


@strawberry.type(description="A region's MPI as stored for one period (history).")
class MpiSnapshot:
    period: Period = strawberry.field(description="The half-month.")
    end: dt.date | None = strawberry.field(description="As of.")
    computed_at: dt.datetime = strawberry.field(description="When it was stored.")
    mpi: float | None = strawberry.field(description="The index.")
    warning: WarningLevel | None = strawberry.field(description="Its rating.")
    rank: int | None = strawberry.field(description="Among its level.")
    rates: JSON = strawberry.field(description="Each rate's basis, counted, rate and score.")


def _period(text: str | None) -> index.HalfMonth | None:
    """The half-month a Period names; a year, quarter or month is not one (BAD_USER_INPUT)."""
    return None if text is None else index.HalfMonth.parse(text)


def _list(list_id: str | None) -> str | None:
    list_id = key_of(list_id, "ProjectList") if list_id is not None else None
    if list_id is not None and list_id not in ("all", "leaders", "provincial", "city", "county"):
        raise InvalidInput("list: one of all, leaders, provincial, city, county")
    return list_id


def _region(value: str | None) -> str | None:
    return key_of(value, "Region") if value is not None else None


def _one_key(sort: list[Any] | None, default: str) -> tuple[str, bool]:
    """The (field, descending) of a one-key sort argument."""
    if not sort:
        return default, False
    if len(sort) > 1:
        raise InvalidInput("sort: one key (ties break on the project code)")
    return str(sort[0].field.value), sort[0].direction is SortDirection.DESC


@dataclass(frozen=True, slots=True)
class _Activity:
    code: str
    project: Any  # fusion's project view
    evidence: fusion.DayEvidence | None
    status: str
    idle_days: int


async def _activities(info: Ctx, where: ProjectActivityWhere) -> list[_Activity]:
    """Every project's newest judged day that ``where`` selects, by project code."""
    check(where)
    watch = watch_of(info)
    snap = await watch.current()
    tree = watch.alerts.tree

    def keep(row: _Activity, w: ProjectActivityWhere) -> bool:
        region = _region(w.region)
        return (
            (region is None or region in tree.up(row.project.region_code))
            and (w.stages is None or row.project.stage in {str(s.value) for s in w.stages})
            and (w.statuses is None or row.status in {str(s.value) for s in w.statuses})
        )

    out = []
    for code, project in sorted(snap.projects.items()):
        history = snap.history.get(code, {})
        evidence = history.get(fusion.last_complete(history, snap.today))
        status = evidence.status.value if evidence is not None else "NO_DATA"
        out.append(_Activity(code, project, evidence, status, fusion.idle_run(history, snap.today)))
    return matching(out, where, keep)


def _summary(row: _Activity) -> ProjectActivitySummary:
    return ProjectActivitySummary(
        project_code=row.code,
        project_name=row.project.name,
        region_code=row.project.region_code,
        stage=ProjectStage(row.project.stage),
        status=ActivityStatus(row.status),
        idle_days=row.idle_days,
        day=ActivityDay.of(row.evidence) if row.evidence is not None else None,
    )


@strawberry.type
class MpiQuery:
    @strawberry.field(
        description="Every region's Major Project Progress Index for a half-month period "
        "(default: the current one), computed from the current evidence.",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def mpi(
        self,
        info: Ctx,
        period: Annotated[
            Period | None,
            strawberry.argument(description="A half-month: YYYY-MM-H1 or YYYY-MM-H2."),
        ] = None,
        list_id: Annotated[
            str | None,
            strawberry.argument(
                name="list",
                description="Built-in project list, its id or global id (default HUB_MPI_LIST).",
            ),
        ] = None,
        as_of: Annotated[
            dt.date | None, strawberry.argument(description="Evaluate as of this day.")
        ] = None,
    ) -> MpiBoard:
        watch = watch_of(info)
        board = await watch.board(_period(period), list_id=_list(list_id), as_of=as_of)
        return MpiBoard(
            period=Period(board.period.key),
            list_id=board.list_id,
            end=board.end,
            schedule_share=board.schedule_share,
            board=board,
        )

    @strawberry.field(
        description="A region's stored MPI snapshots, oldest period first (one per period, "
        "refreshed every HUB_MPI_INTERVAL_S while the period runs).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def mpi_history(
        self,
        info: Ctx,
        region: Annotated[str, strawberry.argument(description="A region's code or global id.")],
        list_id: Annotated[
            str | None,
            strawberry.argument(
                name="list", description="Built-in project list, its id or global id."
            ),
        ] = None,
        sort: Annotated[
            list[MpiSnapshotSort] | None,
            strawberry.argument(description="One sort key (default: period, oldest first)."),
        ] = None,
    ) -> list[MpiSnapshot]:
        rows = await watch_of(info).history(key_of(region, "Region"), _list(list_id))
        _, descending = _one_key(sort, "period")
        if descending:
            rows = rows[::-1]
        return [
            MpiSnapshot(
                period=Period(str(r["period"])),
                end=dt.date.fromisoformat(r["end"]) if r.get("end") else None,
                computed_at=dt.datetime.fromisoformat(str(r["computed_at"])),
                mpi=r.get("mpi"),
                warning=WarningLevel(r["warning"]) if r.get("warning") else None,
                rank=r.get("rank"),
                rates=cast(JSON, json.loads(r.get("rates") or "{}")),
            )
            for r in rows
        ]

    @strawberry.field(
        description="A project's daily evidence over the last days (at most "
        "HUB_FUSION_WINDOW_DAYS are kept), newest last.",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def project_activity(
        self,
        info: Ctx,
        project_code: Annotated[
            str | None, strawberry.argument(description="The project's code or global id.")
        ] = None,
        days: Annotated[int, strawberry.argument(description="How many days.")] = 7,
        project: Annotated[
            str | None,
            strawberry.argument(
                description="Project code or global id.",
                deprecation_reason="Use projectCode (the same values).",
            ),
        ] = None,
    ) -> list[ActivityDay]:
        if not 0 < days <= MAX_DAYS:
            raise InvalidInput(f"days: between 1 and {MAX_DAYS}")
        if (project_code is None) == (project is None):
            raise InvalidInput("give projectCode (or the deprecated project), one of them")
        code = project_code_of(project_code or project or "")
        snap = await watch_of(info).current()
        if code not in snap.projects:
            raise NotFound(f"no project {code[:80]!r}")
        history = snap.history.get(code, {})
        return [ActivityDay.of(history[d]) for d in fusion.days(snap.today, days) if d in history]

    @strawberry.field(
        description="Every project's newest day of evidence (today, or yesterday while today "
        "shows nothing yet), by project code: one call for a map of many projects.",
        permission_classes=[allow(MONITORING_READERS)],
        deprecation_reason="Use projectActivitiesConnection (paged; the full list is large).",
    )
    async def project_activities(
        self,
        info: Ctx,
        region: Annotated[
            str | None, strawberry.argument(description="In this region or below.")
        ] = None,
        statuses: Annotated[
            list[ActivityStatus] | None,
            strawberry.argument(description="Only projects with one of these verdicts."),
        ] = None,
    ) -> list[ProjectActivitySummary]:
        where = ProjectActivityWhere(region=region, statuses=statuses)
        return [_summary(row) for row in await _activities(info, where)]

    @strawberry.field(
        description="Every project's newest day of evidence (today, or yesterday while today "
        "shows nothing yet), a page at a time (default order: project code).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def project_activities_connection(
        self,
        info: Ctx,
        where: Annotated[ProjectActivityWhere | None, strawberry.argument(description=_W)] = None,
        sort: Annotated[
            list[ProjectActivitySort] | None,
            strawberry.argument(description="One sort key (default: project code)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectActivityConnection:
        rows = await _activities(info, where or ProjectActivityWhere())
        name, descending = _one_key(sort, "project_code")
        if name == "idle_days":
            rows.sort(key=lambda r: (r.idle_days, r.code), reverse=descending)
        elif descending:
            rows.reverse()
        return ProjectActivityConnection.of(
            info.context,
            f"projectActivities|{name}|{descending}",
            rows,
            lambda r: r.code,
            _summary,
            args(first, after, last, before),
        )

    @strawberry.field(
        description="Projects whose reported progress the evidence contradicts, each explained.",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def verification_mismatches(
        self,
        info: Ctx,
        region: Annotated[
            str | None,
            strawberry.argument(description="In this region or below (its code or global id)."),
        ] = None,
        sort: Annotated[
            list[VerificationMismatchSort] | None,
            strawberry.argument(description="One sort key (default: project code, then kind)."),
        ] = None,
    ) -> list[VerificationMismatch]:
        watch = watch_of(info)
        snap = await watch.current()
        region = _region(region)
        out: list[VerificationMismatch] = []
        for code, found in sorted(snap.mismatches.items()):
            project = snap.projects[code]
            if region is not None and region not in watch.alerts.tree.up(project.region_code):
                continue
            out += [
                VerificationMismatch(
                    project_code=code,
                    project_name=project.name,
                    region_code=project.region_code,
                    kind=MismatchKind(m.kind.value),
                    since=m.since,
                    code=f"MISMATCH_{m.kind.value}_DETAIL",
                    params=cast(JSON, dict(m.params)),
                )
                for m in found
            ]
        name, descending = _one_key(sort, "project_code")
        if name == "since":
            out.sort(key=lambda m: (m.since, m.project_code, m.kind.name), reverse=descending)
        elif descending:
            out.sort(key=lambda m: (m.project_code, m.kind.name), reverse=True)
        return out
