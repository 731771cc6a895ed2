"""GraphQL for project schedules (一表二图: responsibility table, Gantt chart, investment curve)
and approval stages. Dates are judged at ``asOf`` (default: today, from the request's clock).
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from graph_schema.statements import schedules as ss
from hub.api import partial
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.enums import SortDirection, WarningLevel
from hub.api.inputs import _NOT, _OR
from hub.api.logic import check, fields, matching, within
from hub.api.pages import BatchResult, ListPage, check_batch, linked, sort_items
from hub.api.paging import args as page_args
from hub.api.paging import key_of
from hub.api.relay import After, Before, First, Last, Node, NodeLookup
from hub.api.scalars import Period
from hub.clock import clock_of
from hub.projects import approvals as ap
from hub.projects import schedules as sc
from hub.projects.financing import region_tree

if TYPE_CHECKING:
    from hub.api.entities.project import Project

Ctx = Info[Context, None]
ProjectRef = Annotated["Project", strawberry.lazy("hub.api.entities.project")]
_DIRECTION = "Ascending (default) or descending."


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


def _today(info: Ctx, as_of: dt.date | None) -> dt.date:
    return as_of if as_of is not None else clock_of(info.context.extra)().date()


@strawberry.enum(description="Where a task stands at asOf.")
class TaskStatus(Enum):
    NOT_STARTED = strawberry.enum_value("not_started", description="Not started, not late.")
    IN_PROGRESS = strawberry.enum_value("in_progress", description="Started, not late.")
    DONE = strawberry.enum_value("done", description="Finished.")
    LATE = strawberry.enum_value("late", description="Not finished by its planned end.")


# One warning enum for the whole API (issue 27); this module's name for it stays for callers.
CurveWarning = WarningLevel


@strawberry.enum(description="An approval phase; the three run in parallel.")
class ApprovalPhase(Enum):
    PREPARATION = strawberry.enum_value("preparation", description="前期工作.")
    CONSTRUCTION = strawberry.enum_value("construction", description="施工建设.")
    ACCEPTANCE = strawberry.enum_value("acceptance", description="竣工验收.")


@strawberry.enum(description="Whose project it is, which sets the committed time limit.")
class ApprovalRegime(Enum):
    GOVERNMENT = strawberry.enum_value("government", description="政府投资: 55 working days.")
    ENTERPRISE = strawberry.enum_value("enterprise", description="企业投资: 45 working days.")
    COMMITMENT = strawberry.enum_value("commitment", description="承诺制: 40 working days.")


@strawberry.enum(description="Where an approval item stands.")
class ApprovalItemStatus(Enum):
    NOT_STARTED = strawberry.enum_value("not_started", description="Not applied for.")
    IN_PROGRESS = strawberry.enum_value("in_progress", description="Under review.")
    DONE = strawberry.enum_value("done", description="Granted.")


@strawberry.enum(description="Elapsed working days against the committed limit.")
class ApprovalLimitStatus(Enum):
    WITHIN = strawberry.enum_value("within", description="Within the limit.")
    AT_RISK = strawberry.enum_value("at_risk", description="Open and past 80% of the limit.")
    EXCEEDED = strawberry.enum_value("exceeded", description="Over the limit.")


@strawberry.type(description="A task: a row of the responsibility table and a Gantt bar.")
class ScheduleTask(Node):
    code: str = strawberry.field(description="Task code (unique within its project).")
    name: str = strawberry.field(description="Task.")
    owner: str = strawberry.field(description="Responsible unit.")
    status: TaskStatus = strawberry.field(description="Status at asOf.")
    planned_start: dt.date = strawberry.field(description="Planned start.")
    planned_end: dt.date = strawberry.field(description="Planned end (the due date).")
    actual_start: dt.date | None = strawberry.field(description="Actual start.")
    actual_end: dt.date | None = strawberry.field(
        description="Actual end; asOf for a started, unfinished task (its bar so far)."
    )
    finished: bool = strawberry.field(description="The actual end is a real finish.")
    start_delay_days: int | None = strawberry.field(
        description="Actual (or, not started, asOf) minus planned start; null before it."
    )
    finish_delay_days: int | None = strawberry.field(
        description="Actual (or, late, asOf) minus planned end; null before it."
    )
    project_code: strawberry.Private[str]

    def node_key(self) -> str:
        return f"{self.project_code}/{self.code}"


def _task(project_code: str, b: sc.Bar) -> ScheduleTask:
    t = b.task
    return ScheduleTask(
        project_code=project_code,
        code=t.code,
        name=t.name,
        owner=t.owner,
        status=TaskStatus(b.status.value),
        planned_start=t.planned_start,
        planned_end=t.planned_end,
        actual_start=b.actual_start,
        actual_end=b.actual_end,
        finished=t.actual_end is not None,
        start_delay_days=b.start_delay_days,
        finish_delay_days=b.finish_delay_days,
    )


@strawberry.type(description="One month of the investment-progress curve (万元).")
class CurvePoint:
    month: Period = strawberry.field(description="The month (a month period).")
    planned: float = strawberry.field(description="Planned this month.")
    actual: float | None = strawberry.field(description="Actual this month; null if unreported.")
    planned_cumulative: float = strawberry.field(description="Planned to date.")
    actual_cumulative: float | None = strawberry.field(description="Actual to date.")
    deviation: float | None = strawberry.field(description="Actual − planned to date.")
    deviation_points: float | None = strawberry.field(
        description="Deviation as points of the total plan (−12.5: 12.5 points behind)."
    )
    warning: WarningLevel | None = strawberry.field(
        description="Deviation against the thresholds: GREEN on plan, ahead or less behind than "
        "yellowPoints; YELLOW from yellowPoints to redPoints behind; RED more than redPoints."
    )


@strawberry.type(description="Planned against actual cumulative investment by month (万元).")
class InvestmentCurve:
    total_planned: float = strawberry.field(description="Planned over all months.")
    points: list[CurvePoint] = strawberry.field(description="Month by month.")
    latest: CurvePoint | None = strawberry.field(description="The last reported month.")


def _point(p: sc.CurvePoint) -> CurvePoint:
    return CurvePoint(
        month=Period(p.month),
        planned=p.planned,
        actual=p.actual,
        planned_cumulative=p.planned_cumulative,
        actual_cumulative=p.actual_cumulative,
        deviation=p.deviation,
        deviation_points=p.deviation_points,
        warning=WarningLevel(p.warning.value) if p.warning else None,
    )


@strawberry.type(description="A project's table and two charts (一表二图) at asOf.")
class ProjectSchedule(Node):
    project_code: str = strawberry.field(description="The project's code.")
    as_of: dt.date = strawberry.field(description="Date statuses are judged at.")
    tasks: list[ScheduleTask] = strawberry.field(
        description="Responsibility table and Gantt bars, in order."
    )
    late_tasks: int = strawberry.field(description="Tasks late at asOf.")
    months: strawberry.Private[list[ss.InvestmentMonth]]

    def node_key(self) -> str:
        return self.project_code

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef:
        return cast("Project", await linked(info, "project", self.project_code))

    @strawberry.field(description="The investment-progress curve with deviation warnings.")
    def investment_curve(
        self,
        yellow_points: Annotated[float, _arg("Points behind that turn yellow.")] = 10.0,
        red_points: Annotated[float, _arg("Points behind beyond which it is red.")] = 30.0,
    ) -> InvestmentCurve:
        if not 0 <= yellow_points <= red_points <= 100:
            raise InvalidInput("need 0 <= yellowPoints <= redPoints <= 100")
        found = sc.curve(
            self.months,
            yellow_points=yellow_points,
            red_points=red_points,
            through=self.as_of.isoformat()[:7],
        )
        latest = found.latest
        return InvestmentCurve(
            total_planned=found.total_planned,
            points=[_point(p) for p in found.points],
            latest=_point(latest) if latest else None,
        )


async def _schedules(info: Ctx, codes: list[str], today: dt.date) -> list[ProjectSchedule]:
    store = info.context.store
    tasks = await sc.load(store, ss.TASKS, ss.ScheduleTask, codes)
    months = await sc.load(store, ss.MONTHS, ss.InvestmentMonth, codes)
    out = []
    for code in codes:
        if code not in tasks and code not in months:
            continue
        bars = sc.gantt(tasks.get(code, []), today)
        out.append(
            ProjectSchedule(
                project_code=code,
                as_of=today,
                tasks=[_task(code, b) for b in bars],
                late_tasks=sum(1 for b in bars if b.status is sc.TaskStatus.LATE),
                months=months.get(code, []),
            )
        )
    return out


@strawberry.type(description="A page of project schedules (default order: project code).")
class ProjectScheduleConnection(ListPage[ProjectSchedule]):
    pass


@strawberry.enum(description="Fields project schedules sort on.")
class ProjectScheduleSortField(Enum):
    PROJECT_CODE = strawberry.enum_value("project_code", description="The project's code.")
    LATE_TASKS = strawberry.enum_value("late_tasks", description="Tasks late at asOf.")


@strawberry.input(description="One sort key for project schedules.")
class ProjectScheduleSort:
    field: ProjectScheduleSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


_SCHEDULE_FIELDS: Final = {
    ProjectScheduleSortField.PROJECT_CODE: lambda s: s.project_code,
    ProjectScheduleSortField.LATE_TASKS: lambda s: s.late_tasks,
}


@strawberry.input(description="Filters on project schedules; every one given must hold.")
class ProjectScheduleWhere:
    region: str | None = strawberry.field(
        default=None, description="Only projects in this region (code or global id)."
    )
    late: bool | None = strawberry.field(
        default=None, description="Only those with (true) or without (false) late tasks."
    )
    or_: list[ProjectScheduleWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: ProjectScheduleWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.type(description="One approval item.")
class ApprovalItem(Node):
    code: str = strawberry.field(description="Item code (unique within its project).")
    name: str = strawberry.field(description="Item, e.g. 建设工程规划许可证.")
    authority: str | None = strawberry.field(description="Approving authority.")
    status: ApprovalItemStatus = strawberry.field(description="Status.")
    started_on: dt.date | None = strawberry.field(description="Applied for.")
    completed_on: dt.date | None = strawberry.field(description="Granted.")
    elapsed_working_days: int | None = strawberry.field(
        description="Working days under review (to asOf while open)."
    )
    project_code: strawberry.Private[str]

    def node_key(self) -> str:
        return f"{self.project_code}/{self.code}"


@strawberry.type(description="One approval phase: its items and progress.")
class ApprovalPhaseProgress:
    phase: ApprovalPhase = strawberry.field(description="Phase.")
    done: int = strawberry.field(description="Items granted.")
    total: int = strawberry.field(description="Items.")
    share: float = strawberry.field(description="done ÷ total.")
    started_on: dt.date | None = strawberry.field(description="First application.")
    completed_on: dt.date | None = strawberry.field(description="Last grant, when all are done.")
    elapsed_working_days: int | None = strawberry.field(
        description="Working days with an item of the phase under review."
    )
    items: list[ApprovalItem] = strawberry.field(description="Items, in order.")


@strawberry.type(description="A project's approvals against the committed time limit.")
class ApprovalProgress(Node):
    project_code: str = strawberry.field(description="The project's code.")
    as_of: dt.date = strawberry.field(description="Date judged at.")
    regime: ApprovalRegime = strawberry.field(description="Regime, which sets the limit.")
    limit_working_days: int = strawberry.field(description="Committed limit.")
    elapsed_working_days: int | None = strawberry.field(
        description="Working days with any item under review (phases in parallel)."
    )
    remaining_working_days: int | None = strawberry.field(description="Limit − elapsed.")
    completed: bool = strawberry.field(description="Every item granted.")
    status: ApprovalLimitStatus = strawberry.field(description="Against the limit.")
    phases: list[ApprovalPhaseProgress] = strawberry.field(description="The three phases.")

    def node_key(self) -> str:
        return self.project_code

    @strawberry.field(description="The project.")
    async def project(self, info: Ctx) -> ProjectRef:
        return cast("Project", await linked(info, "project", self.project_code))


def _approvals(p: ap.ApprovalProgress, today: dt.date) -> ApprovalProgress:
    return ApprovalProgress(
        project_code=p.project_code,
        as_of=today,
        regime=ApprovalRegime(p.regime.value),
        limit_working_days=p.limit_working_days,
        elapsed_working_days=p.elapsed_working_days,
        remaining_working_days=p.remaining_working_days,
        completed=p.completed,
        status=ApprovalLimitStatus(p.status.value),
        phases=[
            ApprovalPhaseProgress(
                phase=ApprovalPhase(ph.phase.value),
                done=ph.done,
                total=len(ph.items),
                share=ph.share,
                started_on=ph.started_on,
                completed_on=ph.completed_on,
                elapsed_working_days=ph.elapsed_working_days,
                items=[
                    ApprovalItem(
                        project_code=p.project_code,
                        code=i.item.code,
                        name=i.item.name,
                        authority=i.item.authority,
                        status=ApprovalItemStatus(i.status.value),
                        started_on=i.item.started_on,
                        completed_on=i.item.completed_on,
                        elapsed_working_days=i.elapsed_working_days,
                    )
                    for i in ph.items
                ],
            )
            for ph in p.phases
        ],
    )


@strawberry.type(description="A page of projects' approval progress (default: project code).")
class ApprovalProgressConnection(ListPage[ApprovalProgress]):
    pass


@strawberry.enum(description="Fields projects' approval progress sorts on.")
class ApprovalProgressSortField(Enum):
    PROJECT_CODE = strawberry.enum_value("project_code", description="The project's code.")
    ELAPSED_WORKING_DAYS = strawberry.enum_value(
        "elapsed_working_days", description="Working days elapsed; unknown last."
    )
    REMAINING_WORKING_DAYS = strawberry.enum_value(
        "remaining_working_days", description="Working days left; unknown last."
    )


@strawberry.input(description="One sort key for projects' approval progress.")
class ApprovalProgressSort:
    field: ApprovalProgressSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


_APPROVAL_FIELDS: Final = {
    ApprovalProgressSortField.PROJECT_CODE: lambda a: a.project_code,
    ApprovalProgressSortField.ELAPSED_WORKING_DAYS: lambda a: a.elapsed_working_days,
    ApprovalProgressSortField.REMAINING_WORKING_DAYS: lambda a: a.remaining_working_days,
}


@strawberry.input(description="Filters on projects' approval progress; every one given must hold.")
class ApprovalProgressWhere:
    region: str | None = strawberry.field(
        default=None, description="Only projects in this region (code or global id)."
    )
    status: ApprovalLimitStatus | None = strawberry.field(
        default=None, description="Only this status against the limit."
    )
    or_: list[ApprovalProgressWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: ApprovalProgressWhere | None = strawberry.field(
        default=None, name="NOT", description=_NOT
    )


async def _approval_list(info: Ctx, codes: list[str], today: dt.date) -> list[ApprovalProgress]:
    items = await sc.load(info.context.store, ss.APPROVALS, ss.ApprovalItem, codes)
    return [_approvals(ap.progress(c, items[c], today), today) for c in codes if c in items]


async def _codes(info: Ctx, statement: Any, region: str | None) -> list[str]:
    rows = await info.context.store.run(statement)
    if region is not None:
        region = key_of(region, "Region")
        tree = await region_tree(info.context.store)
        rows = [r for r in rows if region in tree.up(r["region_code"])]
    return sorted({str(r["code"]) for r in rows})


async def _places(info: Ctx, where: Any, *statements: Any) -> tuple[Any, dict[str, str | None]]:
    """The region tree and each project's region, when some OR/NOT of ``where`` filters on a
    region (the top level's region narrows the codes in the store already)."""
    check(where)
    if "region" not in fields(where):
        return None, {}
    places: dict[str, str | None] = {}
    for statement in statements:
        places.update(
            {str(r["code"]): r["region_code"] for r in await info.context.store.run(statement)}
        )
    return await region_tree(info.context.store), places


def _keep_schedule(tree: Any, places: dict[str, str | None]) -> Any:
    def keep(s: ProjectSchedule, where: ProjectScheduleWhere) -> bool:
        return (where.late is None or (s.late_tasks > 0) == where.late) and (
            where.region is None or within(tree, where.region, places.get(s.project_code))
        )

    return keep


def _keep_approval(tree: Any, places: dict[str, str | None]) -> Any:
    def keep(a: ApprovalProgress, where: ApprovalProgressWhere) -> bool:
        return (where.status is None or a.status == where.status) and (
            where.region is None or within(tree, where.region, places.get(a.project_code))
        )

    return keep


@strawberry.input(
    description="A task of a project's responsibility table (upserted by code)." + partial.INPUT
)
class ScheduleTaskInput:
    project_code: str = strawberry.field(description="The project's code (or global id).")
    code: str = strawberry.field(description="Task code (lower-case).")
    name: str | None = strawberry.field(default=UNSET, description="Task." + partial.REQUIRED)
    owner: str | None = strawberry.field(
        default=UNSET, description="Responsible unit (not a person)." + partial.REQUIRED
    )
    position: int | None = strawberry.field(
        default=UNSET, description="Order in the table (default 0)."
    )
    planned_start: dt.date | None = strawberry.field(
        default=UNSET, description="Planned start." + partial.REQUIRED
    )
    planned_end: dt.date | None = strawberry.field(
        default=UNSET, description="Planned end." + partial.REQUIRED
    )
    actual_start: dt.date | None = strawberry.field(default=UNSET, description="Actual start.")
    actual_end: dt.date | None = strawberry.field(default=UNSET, description="Actual end.")


@strawberry.input(description="One month's planned and actual investment, 万元." + partial.INPUT)
class InvestmentMonthInput:
    project_code: str = strawberry.field(description="The project's code (or global id).")
    month: Period = strawberry.field(description="The month (a month period, e.g. 2025-06).")
    planned: float | None = strawberry.field(default=UNSET, description="Planned (default 0).")
    actual: float | None = strawberry.field(default=UNSET, description="Actual; null: unreported.")


@strawberry.input(description="An approval item of a project (upserted by code)." + partial.INPUT)
class ApprovalItemInput:
    project_code: str = strawberry.field(description="The project's code (or global id).")
    code: str = strawberry.field(description="Item code (lower-case).")
    name: str | None = strawberry.field(default=UNSET, description="Item." + partial.REQUIRED)
    phase: ApprovalPhase | None = strawberry.field(
        default=UNSET, description="Phase." + partial.REQUIRED
    )
    regime: ApprovalRegime | None = strawberry.field(
        default=UNSET, description="Regime of the project." + partial.REQUIRED
    )
    authority: str | None = strawberry.field(default=UNSET, description="Approving authority.")
    position: int | None = strawberry.field(
        default=UNSET, description="Order within the phase (default 0)."
    )
    started_on: dt.date | None = strawberry.field(default=UNSET, description="Applied for.")
    completed_on: dt.date | None = strawberry.field(default=UNSET, description="Granted.")


def _raw(items: list[Any]) -> list[dict[str, Any]]:
    """The fields each item sent (a partial upsert leaves the rest as stored), the project
    named by its code or global id."""
    out = []
    for item in items:
        row = partial.sent(item)
        # A wrong id is kept as given: the item is rejected as naming no project, the others go on.
        with suppress(InvalidInput):
            row["project_code"] = key_of(item.project_code, "Project")
        out.append(row)
    return out


@strawberry.type(description="Project schedules and approvals.")
class ScheduleQuery:
    @strawberry.field(description="One project's table and two charts; null without any.")
    async def project_schedule(
        self,
        info: Ctx,
        project_code: Annotated[str, _arg("The project's code (or global id).")],
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
    ) -> ProjectSchedule | None:
        code = key_of(project_code, "Project")
        found = await _schedules(info, [code], _today(info, as_of))
        return found[0] if found else None

    @strawberry.field(description="Projects with a schedule (by code).")
    async def project_schedules(
        self,
        info: Ctx,
        region: Annotated[
            str | None,
            strawberry.argument(
                description="Only projects in this region.",
                deprecation_reason="Use where: {region: ...}.",
            ),
        ] = None,
        late: Annotated[
            bool | None,
            strawberry.argument(
                description="Only those with (true) or without late tasks.",
                deprecation_reason="Use where: {late: ...}.",
            ),
        ] = None,
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
        where: Annotated[ProjectScheduleWhere | None, _arg("Filters.")] = None,
        sort: Annotated[
            list[ProjectScheduleSort] | None,
            _arg("Sort keys, most significant first (at most 3); ties break on project code."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectScheduleConnection:
        w = where or ProjectScheduleWhere()
        tree, places = await _places(info, w, ss.SCHEDULED, ss.INVESTED)
        region = w.region if w.region is not None else region
        late = w.late if w.late is not None else late
        codes = sorted(
            set(await _codes(info, ss.SCHEDULED, region))
            | set(await _codes(info, ss.INVESTED, region))
        )
        found = await _schedules(info, codes, _today(info, as_of))
        if late is not None:
            found = [s for s in found if (s.late_tasks > 0) == late]
        found = matching(found, w, _keep_schedule(tree, places))
        found, tag = sort_items(found, sort, _SCHEDULE_FIELDS, "project_schedules")
        return ProjectScheduleConnection.of(
            info.context,
            tag,
            found,
            lambda s: s.project_code,
            lambda s: s,
            page_args(first, after, last, before),
        )

    @strawberry.field(description="One project's approvals; null without any.")
    async def approval_progress(
        self,
        info: Ctx,
        project_code: Annotated[str, _arg("The project's code (or global id).")],
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
    ) -> ApprovalProgress | None:
        code = key_of(project_code, "Project")
        found = await _approval_list(info, [code], _today(info, as_of))
        return found[0] if found else None

    @strawberry.field(description="Projects' approvals against their limits (by code).")
    async def approval_progresses(
        self,
        info: Ctx,
        region: Annotated[
            str | None,
            strawberry.argument(
                description="Only projects in this region.",
                deprecation_reason="Use where: {region: ...}.",
            ),
        ] = None,
        status: Annotated[
            ApprovalLimitStatus | None,
            strawberry.argument(
                description="Only this status.", deprecation_reason="Use where: {status: ...}."
            ),
        ] = None,
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
        where: Annotated[ApprovalProgressWhere | None, _arg("Filters.")] = None,
        sort: Annotated[
            list[ApprovalProgressSort] | None,
            _arg("Sort keys, most significant first (at most 3); ties break on project code."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ApprovalProgressConnection:
        w = where or ApprovalProgressWhere()
        tree, places = await _places(info, w, ss.APPROVING)
        region = w.region if w.region is not None else region
        status = w.status if w.status is not None else status
        codes = await _codes(info, ss.APPROVING, region)
        found = await _approval_list(info, codes, _today(info, as_of))
        if status is not None:
            found = [a for a in found if a.status == status]
        found = matching(found, w, _keep_approval(tree, places))
        found, tag = sort_items(found, sort, _APPROVAL_FIELDS, "approval_progresses")
        return ApprovalProgressConnection.of(
            info.context,
            tag,
            found,
            lambda a: a.project_code,
            lambda a: a,
            page_args(first, after, last, before),
        )


@strawberry.type(description="Schedule and approval changes (operators and admins).")
class ScheduleMutation:
    @strawberry.mutation(
        description="Create or update responsibility-table tasks; item by item." + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_schedule_tasks(
        self, info: Ctx, items: Annotated[list[ScheduleTaskInput], _arg("At most 1000.")]
    ) -> BatchResult:
        check_batch(items)
        outcomes = await sc.upsert(
            info.context.store,
            ss.ScheduleTask,
            ss.UPSERT_TASKS,
            _raw(items),
            sc.task_key,
            partial=True,
        )
        return BatchResult.of(outcomes)

    @strawberry.mutation(
        description="Create or update monthly planned/actual investment; item by item."
        + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_investment_months(
        self, info: Ctx, items: Annotated[list[InvestmentMonthInput], _arg("At most 1000.")]
    ) -> BatchResult:
        check_batch(items)
        outcomes = await sc.upsert(
            info.context.store,
            ss.InvestmentMonth,
            ss.UPSERT_MONTHS,
            _raw(items),
            sc.month_key,
            partial=True,
        )
        return BatchResult.of(outcomes)

    @strawberry.mutation(
        description="Create or update approval items; item by item." + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_approval_items(
        self, info: Ctx, items: Annotated[list[ApprovalItemInput], _arg("At most 1000.")]
    ) -> BatchResult:
        check_batch(items)
        outcomes = await sc.upsert(
            info.context.store,
            ss.ApprovalItem,
            ss.UPSERT_APPROVALS,
            _raw(items),
            sc.approval_key,
            partial=True,
        )
        return BatchResult.of(outcomes)


# --- node(id:) ----------------------------------------------------------------------------------


async def _schedule_node(info: Ctx, key: str) -> ProjectSchedule | None:
    found = await _schedules(info, [key], _today(info, None))
    return found[0] if found else None


async def _task_node(info: Ctx, key: str) -> ScheduleTask | None:
    project, _, code = key.partition("/")
    found = await _schedules(info, [project], _today(info, None))
    tasks = [t for s in found for t in s.tasks if t.code == code]
    return tasks[0] if tasks else None


async def _approvals_node(info: Ctx, key: str) -> ApprovalProgress | None:
    found = await _approval_list(info, [key], _today(info, None))
    return found[0] if found else None


async def _approval_item_node(info: Ctx, key: str) -> ApprovalItem | None:
    project, _, code = key.partition("/")
    found = await _approval_list(info, [project], _today(info, None))
    items = [i for a in found for ph in a.phases for i in ph.items if i.code == code]
    return items[0] if items else None


# Every role that reaches the schedule fields reads these (the bank role reaches neither).
NODES: Final = (
    NodeLookup("ProjectSchedule", _schedule_node),
    NodeLookup("ScheduleTask", _task_node),
    NodeLookup("ApprovalProgress", _approvals_node),
    NodeLookup("ApprovalItem", _approval_item_node),
)
