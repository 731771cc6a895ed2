"""GraphQL for project schedules (一表二图: responsibility table, Gantt chart, investment curve)
and approval stages. Dates are judged at ``asOf`` (default: today, from the request's clock).
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from graph_schema.statements import schedules as ss
from hub.api import partial
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.pages import BatchResult, ListPage, check_batch
from hub.api.paging import args as page_args
from hub.api.relay import After, Before, First, Last
from hub.clock import clock_of
from hub.projects import approvals as ap
from hub.projects import schedules as sc
from hub.projects.financing import region_tree

Ctx = Info[Context, None]


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


@strawberry.enum(description="Deviation of actual from planned cumulative investment.")
class CurveWarning(Enum):
    GREEN = strawberry.enum_value(
        "green", description="On plan, ahead, or less behind than yellow."
    )
    YELLOW = strawberry.enum_value("yellow", description="yellowPoints to redPoints behind.")
    RED = strawberry.enum_value("red", description="More than redPoints behind.")


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
class ScheduleTask:
    code: str = strawberry.field(description="Task code.")
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


def _task(b: sc.Bar) -> ScheduleTask:
    t = b.task
    return ScheduleTask(
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
    month: str = strawberry.field(description="YYYY-MM.")
    planned: float = strawberry.field(description="Planned this month.")
    actual: float | None = strawberry.field(description="Actual this month; null if unreported.")
    planned_cumulative: float = strawberry.field(description="Planned to date.")
    actual_cumulative: float | None = strawberry.field(description="Actual to date.")
    deviation: float | None = strawberry.field(description="Actual − planned to date.")
    deviation_points: float | None = strawberry.field(
        description="Deviation as points of the total plan (−12.5: 12.5 points behind)."
    )
    warning: CurveWarning | None = strawberry.field(description="Against the thresholds.")


@strawberry.type(description="Planned against actual cumulative investment by month (万元).")
class InvestmentCurve:
    total_planned: float = strawberry.field(description="Planned over all months.")
    points: list[CurvePoint] = strawberry.field(description="Month by month.")
    latest: CurvePoint | None = strawberry.field(description="The last reported month.")


def _point(p: sc.CurvePoint) -> CurvePoint:
    return CurvePoint(
        month=p.month,
        planned=p.planned,
        actual=p.actual,
        planned_cumulative=p.planned_cumulative,
        actual_cumulative=p.actual_cumulative,
        deviation=p.deviation,
        deviation_points=p.deviation_points,
        warning=CurveWarning(p.warning.value) if p.warning else None,
    )


@strawberry.type(description="A project's table and two charts (一表二图) at asOf.")
class ProjectSchedule:
    project_code: str = strawberry.field(description="Project.")
    as_of: dt.date = strawberry.field(description="Date statuses are judged at.")
    tasks: list[ScheduleTask] = strawberry.field(
        description="Responsibility table and Gantt bars, in order."
    )
    late_tasks: int = strawberry.field(description="Tasks late at asOf.")
    months: strawberry.Private[list[ss.InvestmentMonth]]

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
                tasks=[_task(b) for b in bars],
                late_tasks=sum(1 for b in bars if b.status is sc.TaskStatus.LATE),
                months=months.get(code, []),
            )
        )
    return out


@strawberry.type(description="A page of project schedules (by project code).")
class ProjectScheduleConnection(ListPage[ProjectSchedule]):
    pass


@strawberry.type(description="One approval item.")
class ApprovalItem:
    code: str = strawberry.field(description="Item code.")
    name: str = strawberry.field(description="Item, e.g. 建设工程规划许可证.")
    authority: str | None = strawberry.field(description="Approving authority.")
    status: ApprovalItemStatus = strawberry.field(description="Status.")
    started_on: dt.date | None = strawberry.field(description="Applied for.")
    completed_on: dt.date | None = strawberry.field(description="Granted.")
    elapsed_working_days: int | None = strawberry.field(
        description="Working days under review (to asOf while open)."
    )


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
class ApprovalProgress:
    project_code: str = strawberry.field(description="Project.")
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


@strawberry.type(description="A page of projects' approval progress (by project code).")
class ApprovalProgressConnection(ListPage[ApprovalProgress]):
    pass


async def _approval_list(info: Ctx, codes: list[str], today: dt.date) -> list[ApprovalProgress]:
    items = await sc.load(info.context.store, ss.APPROVALS, ss.ApprovalItem, codes)
    return [_approvals(ap.progress(c, items[c], today), today) for c in codes if c in items]


async def _codes(info: Ctx, statement: Any, region: str | None) -> list[str]:
    rows = await info.context.store.run(statement)
    if region is not None:
        tree = await region_tree(info.context.store)
        rows = [r for r in rows if region in tree.up(r["region_code"])]
    return sorted({str(r["code"]) for r in rows})


@strawberry.input(
    description="A task of a project's responsibility table (upserted by code)." + partial.INPUT
)
class ScheduleTaskInput:
    project_code: str = strawberry.field(description="Project.")
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
    project_code: str = strawberry.field(description="Project.")
    month: str = strawberry.field(description="YYYY-MM.")
    planned: float | None = strawberry.field(default=UNSET, description="Planned (default 0).")
    actual: float | None = strawberry.field(default=UNSET, description="Actual; null: unreported.")


@strawberry.input(description="An approval item of a project (upserted by code)." + partial.INPUT)
class ApprovalItemInput:
    project_code: str = strawberry.field(description="Project.")
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
    """The fields each item sent (a partial upsert leaves the rest as stored)."""
    return [partial.sent(item) for item in items]


@strawberry.type(description="Project schedules and approvals.")
class ScheduleQuery:
    @strawberry.field(description="One project's table and two charts; null without any.")
    async def project_schedule(
        self,
        info: Ctx,
        project_code: Annotated[str, _arg("Project.")],
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
    ) -> ProjectSchedule | None:
        found = await _schedules(info, [project_code], _today(info, as_of))
        return found[0] if found else None

    @strawberry.field(description="Projects with a schedule (by code).")
    async def project_schedules(
        self,
        info: Ctx,
        region: Annotated[str | None, _arg("Only projects in this region.")] = None,
        late: Annotated[bool | None, _arg("Only those with (true) or without late tasks.")] = None,
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectScheduleConnection:
        codes = sorted(
            set(await _codes(info, ss.SCHEDULED, region))
            | set(await _codes(info, ss.INVESTED, region))
        )
        found = await _schedules(info, codes, _today(info, as_of))
        if late is not None:
            found = [s for s in found if (s.late_tasks > 0) == late]
        return ProjectScheduleConnection.of(
            info.context,
            "project_schedules",
            found,
            lambda s: s.project_code,
            lambda s: s,
            page_args(first, after, last, before),
        )

    @strawberry.field(description="One project's approvals; null without any.")
    async def approval_progress(
        self,
        info: Ctx,
        project_code: Annotated[str, _arg("Project.")],
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
    ) -> ApprovalProgress | None:
        found = await _approval_list(info, [project_code], _today(info, as_of))
        return found[0] if found else None

    @strawberry.field(description="Projects' approvals against their limits (by code).")
    async def approval_progresses(
        self,
        info: Ctx,
        region: Annotated[str | None, _arg("Only projects in this region.")] = None,
        status: Annotated[ApprovalLimitStatus | None, _arg("Only this status.")] = None,
        as_of: Annotated[dt.date | None, _arg("Judge at (default today).")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ApprovalProgressConnection:
        codes = await _codes(info, ss.APPROVING, region)
        found = await _approval_list(info, codes, _today(info, as_of))
        if status is not None:
            found = [a for a in found if a.status == status]
        return ApprovalProgressConnection.of(
            info.context,
            "approval_progresses",
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
