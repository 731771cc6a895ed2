"""Project (重大项目), the API's surface of ``graph_schema.model.Project``: its object type, where,
sort, mutation input, aggregates and connection, and its part of the schema's
``lists.Surface``. Adding a field to ``model.Project`` means adding it here (tests/hub/
test_api_model.py and test_api_contract.py fail until the type and the input show it) and
regenerating schema.graphql; the statements, import, export and the look-ahead's projections
follow the model's spec by themselves.

Field descriptions are the API's own wording, so the fields are declared here rather than
copied from the model. The types of other entities are named lazily and built through the
surface, so no import circle ties this module to ``hub.api.types``."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import lists, paging, partial
from hub.api.access import MONITORING_READERS, WRITERS, allow
from hub.api.aggregates import RegionLevelArg, Stats, Totals, groups, iso_date, related_list
from hub.api.alerts import AlertWhere, _now, alerts_link
from hub.api.context import Context
from hub.api.entities.sensor import SensorConnection, SensorSortArg, SensorWhereArg
from hub.api.enums import (
    ProjectGroupBy,
    ProjectKind,
    ProjectLevel,
    ProjectStage,
    RegionLevel,
    SortDirection,
)
from hub.api.inputs import (
    _CHAIN,
    _DIRECTION,
    _NAME,
    _NOT,
    _OR,
    _REGION,
    _SEARCH,
    _USCC,
    DateRange,
    FloatRange,
)
from hub.api.monitoring import ProjectMonitoring, SeriesBucket, project_monitoring
from hub.api.relay import _S, _W, After, Before, Connection, First, Last, Node, lazy_list_arguments
from hub.api.supervision import CaseState, SupervisionCase, SupervisionCaseWhere, _cases

if TYPE_CHECKING:
    from hub.api.entities.enterprise import Enterprise
    from hub.api.entities.links import ActivityDayConnection
    from hub.api.entities.parcel import LandParcelConnection
    from hub.api.entities.region import Region
    from hub.api.entities.segment import ChainSegmentConnection
    from hub.api.financing import FinancingNeedConnection
    from hub.api.land import LandProgress
    from hub.api.schedules import ApprovalProgress, ProjectSchedule

Ctx = Info[Context, None]
EnterpriseRef = Annotated["Enterprise", strawberry.lazy("hub.api.entities.enterprise")]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]
_LINKS = "hub.api.entities.links"
ActivityDayConnectionRef = Annotated["ActivityDayConnection", strawberry.lazy(_LINKS)]
LandProgressRef = Annotated["LandProgress", strawberry.lazy("hub.api.land")]
ProjectScheduleRef = Annotated["ProjectSchedule", strawberry.lazy("hub.api.schedules")]
ApprovalProgressRef = Annotated["ApprovalProgress", strawberry.lazy("hub.api.schedules")]
FinancingNeedConnectionRef = Annotated[
    "FinancingNeedConnection", strawberry.lazy("hub.api.financing")
]
_SEGMENT = "hub.api.entities.segment"
ChainSegmentConnectionRef = Annotated["ChainSegmentConnection", strawberry.lazy(_SEGMENT)]
_PARCEL = "hub.api.entities.parcel"
LandParcelConnectionRef = Annotated["LandParcelConnection", strawberry.lazy(_PARCEL)]
# Land parcels and segments list their projects with this module's where and sort, so theirs
# are named lazily here.
ParcelWhereArg, ParcelSortArg = lazy_list_arguments("LandParcel", _PARCEL)
SegmentWhereArg, SegmentSortArg = lazy_list_arguments("ChainSegment", _SEGMENT)

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which projects to list.")
class ProjectWhere:
    region: str | None = strawberry.field(default=None, description=_REGION)
    chain: str | None = strawberry.field(default=None, description=_CHAIN)
    segment: str | None = strawberry.field(default=None, description="Builds in this segment.")
    owner: str | None = strawberry.field(
        default=None, description="Owned by the enterprise with this USCC."
    )
    parcel: str | None = strawberry.field(default=None, description="Built on this parcel.")
    on_list: str | None = strawberry.field(
        default=None, description="On the stored project list with this id (see projectLists)."
    )
    codes: list[str] | None = strawberry.field(default=None, description="Only these codes.")
    stage: list[ProjectStage] | None = strawberry.field(
        default=None, description="Any of these stages."
    )
    kind: list[ProjectKind] | None = strawberry.field(
        default=None, description="Any of these kinds."
    )
    level: list[ProjectLevel] | None = strawberry.field(
        default=None, description="Any of these list levels."
    )
    leader_project: bool | None = strawberry.field(
        default=None, description="Tracked by a provincial leader (true) or not (false)."
    )
    total_investment: FloatRange | None = strawberry.field(
        default=None, description="Total investment, 万元."
    )
    annual_plan_investment: FloatRange | None = strawberry.field(
        default=None, description="This year's planned investment, 万元."
    )
    completed_investment: FloatRange | None = strawberry.field(
        default=None, description="Investment completed to date, 万元."
    )
    planned_start: DateRange | None = strawberry.field(
        default=None, description="Planned start date."
    )
    planned_end: DateRange | None = strawberry.field(default=None, description="Planned end date.")
    actual_start: DateRange | None = strawberry.field(
        default=None, description="Actual start date (projects without one never match)."
    )
    actual_end: DateRange | None = strawberry.field(
        default=None, description="Actual end date (projects without one never match)."
    )
    not_started_by: dt.date | None = strawberry.field(
        default=None, description="Not started by this date: no actual start, or a later one."
    )
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    search: str | None = strawberry.field(default=None, description=_SEARCH)
    or_: list[ProjectWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: ProjectWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields projects sort on.")
class ProjectSortField(Enum):
    CODE = strawberry.enum_value("code", description="Project code.")
    NAME = strawberry.enum_value("name", description="Name.")
    TOTAL_INVESTMENT = strawberry.enum_value("total_investment", description="Total investment.")
    ANNUAL_PLAN_INVESTMENT = strawberry.enum_value(
        "annual_plan_investment", description="This year's planned investment."
    )
    COMPLETED_INVESTMENT = strawberry.enum_value(
        "completed_investment", description="Investment completed to date."
    )
    YEAR_COMPLETED_INVESTMENT = strawberry.enum_value(
        "year_completed_investment", description="Investment completed this year."
    )
    PLANNED_START = strawberry.enum_value(
        "planned_start", description="Planned start; unknown last."
    )
    PLANNED_END = strawberry.enum_value("planned_end", description="Planned end; unknown last.")
    ACTUAL_START = strawberry.enum_value("actual_start", description="Actual start; unknown last.")
    RELEVANCE = strawberry.enum_value(
        "relevance", description="Full-text relevance; only with where.search."
    )


@strawberry.input(description="One sort key for project lists.")
class ProjectSort:
    field: ProjectSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


ProjectWhereArg = Annotated[ProjectWhere | None, strawberry.argument(description=_W)]
ProjectSortArg = Annotated[list[ProjectSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="A major investment project. Amounts are in 万元 (10,000 CNY).")
class Project(Node):
    code: str = strawberry.field(description="National investment-project code (GB/T 40058).")
    name: str = strawberry.field(description="Project name.")
    stage: ProjectStage = strawberry.field(description="Where the project is in its life.")
    kind: ProjectKind = strawberry.field(description="New start or continuing.")
    level: ProjectLevel = strawberry.field(description="Which major-project list carries it.")
    leader_project: bool = strawberry.field(description="Tracked by a provincial leader.")
    total_investment: float = strawberry.field(description="Total investment.")
    annual_plan_investment: float = strawberry.field(description="This year's planned investment.")
    completed_investment: float = strawberry.field(description="Investment completed to date.")
    year_completed_investment: float = strawberry.field(
        description="Investment completed this year."
    )
    planned_start: dt.date | None = strawberry.field(description="Planned start date.")
    planned_end: dt.date | None = strawberry.field(description="Planned end date.")
    actual_start: dt.date | None = strawberry.field(description="Actual start date.")
    actual_end: dt.date | None = strawberry.field(description="Actual end date.")
    permit_date: dt.date | None = strawberry.field(description="Construction permit issued.")

    def node_key(self) -> str:
        return self.code

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Project:
        return cls(
            code=p["code"],
            name=p["name"],
            stage=ProjectStage(p["stage"]),
            kind=ProjectKind(p["kind"]),
            level=ProjectLevel(p["level"]),
            leader_project=bool(p.get("leader_project")),
            total_investment=float(p.get("total_investment") or 0),
            annual_plan_investment=float(p.get("annual_plan_investment") or 0),
            completed_investment=float(p.get("completed_investment") or 0),
            year_completed_investment=float(p.get("year_completed_investment") or 0),
            planned_start=iso_date(p.get("planned_start")),
            planned_end=iso_date(p.get("planned_end")),
            actual_start=iso_date(p.get("actual_start")),
            actual_end=iso_date(p.get("actual_end")),
            permit_date=iso_date(p.get("permit_date")),
        )

    @strawberry.field(description="The enterprise that owns the project (项目业主).")
    async def owner(self, info: Ctx) -> EnterpriseRef:
        return cast("Enterprise", await lists.required_one(info, self, object))

    @strawberry.field(description="The county where it is built.")
    async def region(self, info: Ctx) -> RegionRef:
        return cast("Region", await lists.required_one(info, self, object))

    segments = related_list(
        "Chain segments it builds capacity in.",
        ChainSegmentConnectionRef,
        SegmentWhereArg,
        SegmentSortArg,
    )

    parcels = related_list(
        "Land parcels it is built on.", LandParcelConnectionRef, ParcelWhereArg, ParcelSortArg
    )

    sensors = related_list(
        "Sensors that monitor it (not for the bank role).",
        SensorConnection | None,
        SensorWhereArg,
        SensorSortArg,
        permission_classes=[allow(MONITORING_READERS)],
    )

    @strawberry.field(
        description="Power and labor series, daily rollups and sensor status over a window "
        "(not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    def monitoring(
        self,
        info: Ctx,
        from_: Annotated[
            dt.datetime | None,
            strawberry.argument(name="from", description="Start (default: 7 days before to)."),
        ] = None,
        to: Annotated[
            dt.datetime | None, strawberry.argument(description="End, exclusive (default: now).")
        ] = None,
        bucket: Annotated[
            SeriesBucket, strawberry.argument(description="Bucket width of series.")
        ] = SeriesBucket.HOUR,
    ) -> ProjectMonitoring | None:
        return project_monitoring(info, self.code, from_, to, bucket)

    # --- links to the project's activity, land, schedule, approvals, financing, cases and
    # alerts: each answers what its module's root query answers for this project (same
    # permissions), so the two cannot drift apart.

    @strawberry.field(
        description="The fusion's daily evidence that the project is being built, newest "
        "first (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def activity(
        self,
        info: Ctx,
        days: Annotated[
            int, strawberry.argument(description="How many days back from today (at most 400).")
        ] = 30,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ActivityDayConnectionRef | None:
        from hub.api.entities import links  # import circle: see there

        args = paging.args(first, after, last, before)
        return await links.activity_page(info, self.code, days, args)

    @strawberry.field(description="Its land tracking (地项通); null when not tracked.")
    async def land_progress(
        self,
        info: Ctx,
        as_of: Annotated[
            dt.date | None, strawberry.argument(description="Judge overdue at (default today).")
        ] = None,
    ) -> LandProgressRef | None:
        from hub.api.entities import links

        return await links.land_progress(info, self.code, as_of)

    @strawberry.field(description="Its responsibility table and curves; null without any.")
    async def schedule(
        self,
        info: Ctx,
        as_of: Annotated[
            dt.date | None, strawberry.argument(description="Judge at (default today).")
        ] = None,
    ) -> ProjectScheduleRef | None:
        from hub.api.entities import links

        return await links.schedule(info, self.code, as_of)

    @strawberry.field(description="Its approvals against their limits; null without any.")
    async def approvals(
        self,
        info: Ctx,
        as_of: Annotated[
            dt.date | None, strawberry.argument(description="Judge at (default today).")
        ] = None,
    ) -> ApprovalProgressRef | None:
        from hub.api.entities import links

        return await links.approvals(info, self.code, as_of)

    @strawberry.field(
        description="Its financing needs in full (operators and admins).",
        permission_classes=[allow(WRITERS)],
    )
    async def financing_needs(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> FinancingNeedConnectionRef | None:
        from hub.api.entities import links

        args = paging.args(first, after, last, before)
        return await links.financing_needs(info, self.code, args)

    @strawberry.field(
        description="Its supervision cases, newest first (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def supervision_cases(
        self,
        info: Ctx,
        statuses: Annotated[
            list[CaseState] | None, strawberry.argument(description="Only these states.")
        ] = None,
        overdue: Annotated[
            bool | None, strawberry.argument(description="true: only overdue ones.")
        ] = None,
    ) -> list[SupervisionCase] | None:
        # The cases supervisionCasesConnection lists under the same where, in its default
        # order (newest first), rather than through the deprecated Query.supervisionCases.
        where = SupervisionCaseWhere(project_code=self.code, statuses=statuses, overdue=overdue)
        now = _now(info)
        found = await _cases(info, where)
        found.sort(key=lambda c: (c.opened_at, c.id), reverse=True)
        return [SupervisionCase.of(c, now) for c in found]

    alerts = alerts_link(
        "Its alerts, newest first (not for the bank role).",
        lambda self: AlertWhere(project_code=self.code),
    )


@strawberry.type(description="Count and investment totals over a set of projects (万元).")
class ProjectAggregate(Totals):
    count: int = strawberry.field(description="Number of projects.")
    total_investment: Stats = strawberry.field(description="Total investment.")
    annual_plan_investment: Stats = strawberry.field(description="This year's planned investment.")
    completed_investment: Stats = strawberry.field(description="Investment completed to date.")
    year_completed_investment: Stats = strawberry.field(
        description="Investment completed this year."
    )


@strawberry.type(description="One group of projects and its totals.")
class ProjectGroup:
    key: str = strawberry.field(
        description="The group: a region code, stage, kind or level value, or a chain id."
    )
    label: str | None = strawberry.field(description="Region or chain name; null otherwise.")
    aggregate: ProjectAggregate = strawberry.field(description="Totals of the group.")


@strawberry.type(description="A page of projects, with totals over the whole list.")
class ProjectConnection(Connection[Project]):
    @strawberry.field(description="Count and investment totals over every matching project.")
    async def aggregate(self, info: Ctx) -> ProjectAggregate:
        rows = await lists.aggregate_rows(info, self.page.scope)
        return ProjectAggregate.of(rows[0] if rows else None)

    @strawberry.field(description="Totals per group over every matching project.")
    async def groups(
        self,
        info: Ctx,
        by: Annotated[ProjectGroupBy, strawberry.argument(description="What to group by.")],
        region_level: RegionLevelArg = RegionLevel.CITY,
    ) -> list[ProjectGroup]:
        return await groups(
            info, self.page.scope, str(by.value), region_level, ProjectGroup, ProjectAggregate
        )


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A project to create or update." + partial.INPUT)
class ProjectInput:
    code: str = strawberry.field(description="National investment-project code.")
    name: str | None = strawberry.field(
        default=UNSET, description="Project name." + partial.REQUIRED
    )
    owner_uscc: str | None = strawberry.field(
        default=UNSET, description="Owner's " + _USCC[0].lower() + _USCC[1:] + partial.REQUIRED
    )
    region_code: str | None = strawberry.field(
        default=UNSET, description="County where it is built." + partial.REQUIRED
    )
    stage: ProjectStage | None = strawberry.field(
        default=UNSET, description="Where the project is in its life." + partial.REQUIRED
    )
    kind: ProjectKind | None = strawberry.field(
        default=UNSET, description="New start or continuing." + partial.REQUIRED
    )
    level: ProjectLevel | None = strawberry.field(
        default=UNSET, description="Which major-project list carries it." + partial.REQUIRED
    )
    total_investment: float | None = strawberry.field(
        default=UNSET, description="Total investment, 万元." + partial.REQUIRED
    )
    segment_ids: list[str] | None = strawberry.field(
        default=UNSET, description="Chain segments it builds in."
    )
    parcel_ids: list[str] | None = strawberry.field(
        default=UNSET, description="Land parcels it is built on."
    )
    leader_project: bool | None = strawberry.field(
        default=UNSET, description="Tracked by a provincial leader."
    )
    annual_plan_investment: float | None = strawberry.field(
        default=UNSET, description="This year's plan, 万元."
    )
    completed_investment: float | None = strawberry.field(
        default=UNSET, description="Completed to date, 万元."
    )
    year_completed_investment: float | None = strawberry.field(
        default=UNSET, description="Completed this year, 万元."
    )
    planned_start: dt.date | None = strawberry.field(default=UNSET, description="Planned start.")
    planned_end: dt.date | None = strawberry.field(default=UNSET, description="Planned end.")
    actual_start: dt.date | None = strawberry.field(
        default=UNSET, description="Actual start; required from construction on."
    )
    actual_end: dt.date | None = strawberry.field(
        default=UNSET, description="Actual end; required when completed."
    )
    permit_date: dt.date | None = strawberry.field(
        default=UNSET, description="Construction permit issued."
    )


# --- this entity's part of the schema's lists.Surface ----------------------------------------

PART: Final = lists.Part(
    "project",
    Project,
    ProjectConnection,
    ("code", "name", "stage", "kind", "level"),
    {
        "owner": lists.ToOne("project.owner"),
        "region": lists.ToOne("project.region"),
        "segments": lists.ToMany("segment", "project.segments"),
        "parcels": lists.ToMany("parcel", "project.parcels"),
        "sensors": lists.ToMany("sensor", "project.sensors"),
    },
    # The links to other modules' answers read only the project's code (its key).
    {
        name: ()
        for name in (
            "monitoring",
            "activity",
            "landProgress",
            "schedule",
            "approvals",
            "financingNeeds",
            "supervisionCases",
            "alerts",
        )
    },
)
