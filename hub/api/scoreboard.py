"""GraphQL for project lists and the city scoreboard (issue 4, item 5).

Each figure's drill-down is an ordinary project list (``ProjectConnection``) whose filters
are the figure's own (``hub.promotion.scoreboard.Window.filters``), so its ``totalCount`` is
the figure, and
``aggregate``, ``groups``, sorting and pagination work as on ``projects``. A client may narrow
a drill-down with ``where``, but not change a condition the figure fixes.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Final

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from graph_schema.statements.scoreboard import BUILT_IN, Figure, list_filters
from hub.api import lists, lookahead, paging, partial
from hub.api.access import WRITERS, allow
from hub.api.context import Context
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.entities.region import Region
from hub.api.enums import SortDirection, WarningLevel
from hub.api.inputs import _NOT, _OR
from hub.api.mutations import UpsertResult, _upsert
from hub.api.paging import key_of
from hub.api.relay import After, Before, Connection, First, Last, Node
from hub.api.scalars import Period
from hub.promotion import scoreboard

Ctx = Info[Context, None]

_BUILT_IN_NAMES = {
    "all": ("全部项目", "Every project."),
    "leaders": ("领导联系项目", "Projects tracked by a provincial leader (leaderProject)."),
    "provincial": ("省重大项目", "Projects on the provincial major-project list (level)."),
    "city": ("市重大项目", "Projects on a city's major-project list (level)."),
    "county": ("县重大项目", "Projects on a county's major-project list (level)."),
}
assert set(_BUILT_IN_NAMES) == set(BUILT_IN)


async def _projects(
    info: Ctx, fixed: dict[str, Any], where: Any, sort: Any, **page_args: Any
) -> ProjectConnection:
    page = await lookahead.page(info, "project", where=where, sort=sort, fixed=fixed, **page_args)
    return ProjectConnection.of(page)


# --- project lists ----------------------------------------------------------------------------


@strawberry.type(
    description="A named list of projects: built in (derived from project properties) or "
    "stored (kept by operators). Scoreboards are computed over one. Only stored lists are "
    "found by node(id)."
)
class ProjectList(Node):
    id_: str = strawberry.field(
        name="listId", description="Stable id: all, leaders, provincial, city, county or a slug."
    )
    name: str = strawberry.field(description="Name.")
    description: str | None = strawberry.field(description="What the list is for.")
    built_in: bool = strawberry.field(description="Derived from project properties, not stored.")

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> ProjectList:
        return cls(id_=p["id"], name=p["name"], description=p.get("description"), built_in=False)

    @classmethod
    def built_in_list(cls, list_id: str) -> ProjectList:
        name, description = _BUILT_IN_NAMES[list_id]
        return cls(id_=list_id, name=name, description=description, built_in=True)

    @strawberry.field(description="The list's projects (default order: code).")
    async def projects(
        self,
        info: Ctx,
        where: ProjectWhereArg = None,
        sort: ProjectSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectConnection:
        fixed = list_filters(self.id_)
        return await _projects(info, fixed, where, sort, **paging.args(first, after, last, before))


@strawberry.type(description="A page of stored project lists.")
class ProjectListConnection(Connection[ProjectList]):
    pass


@strawberry.input(description="Filters on stored project lists; every one given must hold.")
class ProjectListWhere:
    ids: list[str] | None = strawberry.field(
        default=None, description="Only these lists (listIds or global ids)."
    )
    name_contains: str | None = strawberry.field(
        default=None, description="Name contains this text."
    )
    or_: list[ProjectListWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: ProjectListWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


def _list_keys(where: ProjectListWhere | None) -> ProjectListWhere | None:
    """``where`` with every ``ids`` (its OR and NOT too) turned into listIds."""
    if where is None:
        return None
    return ProjectListWhere(
        ids=[key_of(i, "ProjectList") for i in where.ids] if where.ids is not None else None,
        name_contains=where.name_contains,
        or_=[k for k in map(_list_keys, where.or_) if k is not None]
        if where.or_ is not None
        else None,
        not_=_list_keys(where.not_),
    )


@strawberry.enum(description="Fields stored project lists sort on.")
class ProjectListSortField(Enum):
    ID = strawberry.enum_value("id", description="The list's listId.")
    NAME = strawberry.enum_value("name", description="Name.")


@strawberry.input(description="One sort key for stored project lists.")
class ProjectListSort:
    field: ProjectListSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (default) or descending."
    )


# This module's part of the schema's lists.Surface (hub.api.schema assembles it).
PART: Final = lists.Part("project_list", ProjectList, ProjectListConnection, ("id", "name"))


async def project_list(info: Ctx, list_id: str) -> ProjectList | None:
    if list_id in BUILT_IN:
        return ProjectList.built_in_list(list_id)
    return await lists.by_key(info, "project_list", list_id, ProjectList)


@strawberry.input(description="A stored project list to create or update." + partial.INPUT)
class ProjectListInput:
    id: str = strawberry.field(
        description="Short stable id (lower-case slug); not a built-in list's id."
    )
    name: str | None = strawberry.field(default=UNSET, description="Name." + partial.REQUIRED)
    description: str | None = strawberry.field(default=UNSET, description="What it is for.")
    project_codes: list[str] | None = strawberry.field(
        default=UNSET, description="The projects on the list: national codes (or global ids)."
    )


# --- the scoreboard ----------------------------------------------------------------------------


# One warning enum for the whole API (issue 27); this module's name for it stays for callers
# (hub.api.mpi). Against HUB_SCOREBOARD_*: GREEN at or above yellow, YELLOW below yellow and at
# or above red, RED below red.
ScoreboardWarning = WarningLevel


@strawberry.enum(description="Which rate orders the cities.")
class ScoreboardRanking(Enum):
    LANDING_RATE = strawberry.enum_value("landing", description="Landing rate, highest first.")
    COMPLETION_RATE = strawberry.enum_value(
        "completion", description="Investment completion rate, highest first."
    )


def _warning(level: scoreboard.WarningLevel | None) -> WarningLevel | None:
    return None if level is None else WarningLevel(level.value)


@strawberry.type(description="The thresholds the warnings used (shares; 0.8 is 80%).")
class ScoreboardThresholds:
    landing_red: float = strawberry.field(description="Landing rate below this is red.")
    landing_yellow: float = strawberry.field(description="Landing rate below this is yellow.")
    completion_red: float = strawberry.field(
        description="Completion rate ÷ schedule share below this is red."
    )
    completion_yellow: float = strawberry.field(
        description="Completion rate ÷ schedule share below this is yellow."
    )


@strawberry.type(
    description="Landing (落地率) in one city: of the list's projects due to start in the "
    "period, the share that started by its end (as-of date)."
)
class LandingRate:
    due: int = strawberry.field(
        description="Projects planned to start within the period (cumulative: by its end)."
    )
    landed: int = strawberry.field(description="Due projects that started by the period's end.")
    rate: float | None = strawberry.field(description="landed ÷ due; null when none is due.")
    rank: int | None = strawberry.field(
        description="Position among the cities, 1 highest; equal rates share a rank."
    )
    warning: WarningLevel | None = strawberry.field(
        description="Against the landing thresholds; null without a rate."
    )
    window: strawberry.Private[scoreboard.Window]
    city: strawberry.Private[str]

    async def _figure(self, info: Ctx, figure: Figure, args: dict[str, Any]) -> ProjectConnection:
        fixed = self.window.filters(figure, self.city)
        return await _projects(info, fixed, **args)

    @strawberry.field(description="The due projects (totalCount is due).")
    async def due_projects(
        self,
        info: Ctx,
        where: ProjectWhereArg = None,
        sort: ProjectSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectConnection:
        args = {"where": where, "sort": sort, **paging.args(first, after, last, before)}
        return await self._figure(info, Figure.DUE, args)

    @strawberry.field(description="The due projects that started (totalCount is landed).")
    async def landed_projects(
        self,
        info: Ctx,
        where: ProjectWhereArg = None,
        sort: ProjectSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectConnection:
        args = {"where": where, "sort": sort, **paging.args(first, after, last, before)}
        return await self._figure(info, Figure.LANDED, args)

    @strawberry.field(description="The due projects that had not started (due − landed).")
    async def not_landed_projects(
        self,
        info: Ctx,
        where: ProjectWhereArg = None,
        sort: ProjectSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectConnection:
        args = {"where": where, "sort": sort, **paging.args(first, after, last, before)}
        return await self._figure(info, Figure.NOT_LANDED, args)


@strawberry.type(
    description="Investment completion (投资完成率) in one city, on the annual-plan basis: "
    "this year's completed investment over this year's planned investment, summed over the "
    "list's projects in the city. Amounts in 万元."
)
class CompletionRate:
    project_count: int = strawberry.field(description="The list's projects in the city.")
    planned_investment: float = strawberry.field(description="Σ annual plan investment.")
    completed_investment: float = strawberry.field(description="Σ investment completed this year.")
    rate: float | None = strawberry.field(
        description="completed ÷ planned; null when nothing is planned."
    )
    schedule_share: float = strawberry.field(
        description="Share of the plan year elapsed at the period's end (序时进度)."
    )
    rank: int | None = strawberry.field(
        description="Position among the cities, 1 highest; equal rates share a rank."
    )
    warning: WarningLevel | None = strawberry.field(
        description="rate ÷ scheduleShare against the completion thresholds; null without a rate."
    )
    window: strawberry.Private[scoreboard.Window]
    city: strawberry.Private[str]

    @strawberry.field(
        description="The projects behind the figure (totalCount is projectCount; aggregate "
        "gives the sums)."
    )
    async def projects(
        self,
        info: Ctx,
        where: ProjectWhereArg = None,
        sort: ProjectSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectConnection:
        fixed = self.window.filters(Figure.PLANNED, self.city)
        return await _projects(info, fixed, where, sort, **paging.args(first, after, last, before))


@strawberry.type(description="One city's row of the scoreboard.")
class CityScore:
    landing: LandingRate = strawberry.field(description="Landing rate and its projects.")
    completion: CompletionRate = strawberry.field(
        description="Investment completion rate and its projects."
    )
    warning: WarningLevel | None = strawberry.field(
        description="The worse of the two warnings; null when neither rate exists."
    )
    code: strawberry.Private[str]

    @strawberry.field(description="The city's code.")
    def city_code(self) -> str:
        return self.code

    @strawberry.field(description="The city (its counties' projects count as its own).")
    async def city(self, info: Ctx) -> Region:
        region = await lists.by_key(info, "region", self.code, Region)
        assert region is not None  # the scoreboard read it a moment ago
        return region


@strawberry.type(description="Cities ranked on landing and investment completion over a list.")
class CityScoreboard:
    period: Period = strawberry.field(description="The period, as given.")
    from_: dt.date = strawberry.field(name="from", description="First day of the period.")
    to: dt.date = strawberry.field(description="Last day counted: the period's end or asOf.")
    cumulative: bool = strawberry.field(description="Due counts every start planned by `to`.")
    thresholds: ScoreboardThresholds = strawberry.field(description="Thresholds used.")
    cities: list[CityScore] = strawberry.field(description="One row per city, ranked.")
    list_id: strawberry.Private[str]

    @strawberry.field(name="list", description="The project list the scoreboard is computed over.")
    async def list_(self, info: Ctx) -> ProjectList:
        found = await project_list(info, self.list_id)
        assert found is not None  # checked when the scoreboard was computed
        return found


def _board(board: scoreboard.Scoreboard) -> CityScoreboard:
    win, t = board.window, board.thresholds
    rows = []
    for c in board.cities:
        land, done = c.landing, c.completion
        rows.append(
            CityScore(
                code=c.code,
                warning=_warning(c.warning),
                landing=LandingRate(
                    due=land.due,
                    landed=land.landed,
                    rate=land.rate,
                    rank=land.rank,
                    warning=_warning(land.warning),
                    window=win,
                    city=c.code,
                ),
                completion=CompletionRate(
                    project_count=done.projects,
                    planned_investment=done.planned,
                    completed_investment=done.completed,
                    rate=done.rate,
                    schedule_share=done.schedule_share,
                    rank=done.rank,
                    warning=_warning(done.warning),
                    window=win,
                    city=c.code,
                ),
            )
        )
    return CityScoreboard(
        period=Period(win.period.label),
        from_=win.start,
        to=win.end,
        cumulative=win.cumulative,
        thresholds=ScoreboardThresholds(
            landing_red=t.landing_red,
            landing_yellow=t.landing_yellow,
            completion_red=t.completion_red,
            completion_yellow=t.completion_yellow,
        ),
        cities=rows,
        list_id=win.list_id,
    )


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.type(description="Project lists and the city scoreboard.")
class ScoreboardQuery:
    @strawberry.field(
        description="One project list, built in or stored, by its global id or its listId."
    )
    async def project_list(
        self,
        info: Ctx,
        id: Annotated[
            strawberry.ID | None,
            _arg(
                "The list's global id (its id field). For one release a bare listId is "
                "accepted here too; pass it to key instead."
            ),
        ] = None,
        key: Annotated[str | None, _arg("The list's listId, e.g. leaders.")] = None,
    ) -> ProjectList | None:
        if (id is None) == (key is None):
            raise InvalidInput("pass either id or key, exactly one")
        return await project_list(info, key_of(id, "ProjectList") if id is not None else key or "")

    @strawberry.field(description="The built-in lists: all, leaders, provincial, city, county.")
    def built_in_project_lists(self) -> list[ProjectList]:
        return [ProjectList.built_in_list(i) for i in BUILT_IN]

    @strawberry.field(description="Stored project lists (default order: id).")
    async def project_lists(
        self,
        info: Ctx,
        where: Annotated[
            ProjectListWhere | None, _arg("Filters; every one given must hold.")
        ] = None,
        sort: Annotated[
            list[ProjectListSort] | None,
            _arg("Sort keys, most significant first (at most 3); ties break on the key."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectListConnection:
        where = _list_keys(where)
        args = paging.args(first, after, last, before)
        page = await lookahead.page(info, "project_list", where=where, sort=sort, **args)
        return ProjectListConnection.of(page)

    @strawberry.field(
        description="Every city (or those within one province) with its landing and investment "
        "completion rates over a project list for a period, ranked, with warnings below the "
        "HUB_SCOREBOARD_* thresholds; each figure drills down to its projects."
    )
    async def city_scoreboard(
        self,
        info: Ctx,
        period: Annotated[Period, _arg("A year, quarter or month (not a half-month).")],
        list_: Annotated[
            str,
            strawberry.argument(
                name="list", description="Project list: its listId (built in or stored) or id."
            ),
        ] = "all",
        as_of: Annotated[
            dt.date | None, _arg("Count as of this day within the period (default: its end).")
        ] = None,
        cumulative: Annotated[
            bool, _arg("Due: every start planned by the end, not only within the period.")
        ] = False,
        within: Annotated[
            str | None, _arg("Only the cities of this province (code or global id).")
        ] = None,
        rank_by: Annotated[
            ScoreboardRanking, _arg("Which rate orders the rows.")
        ] = ScoreboardRanking.LANDING_RATE,
    ) -> CityScoreboard:
        list_ = key_of(list_, "ProjectList")
        within = key_of(within, "Region") if within is not None else None
        win = scoreboard.window(list_, period, as_of=as_of, cumulative=cumulative, within=within)
        board = await scoreboard.compute(
            info.context.store, win, info.context.scoreboard, scoreboard.RankBy(str(rank_by.value))
        )
        return _board(board)


@strawberry.type(description="Changes to stored project lists.")
class ScoreboardMutation:
    @strawberry.mutation(
        description="Create or update stored project lists; projectCodes sent become exactly "
        "the list's projects (link/unlink PROJECT_LIST_PROJECT changes one at a time; "
        "deleteNodes removes a list)." + partial.MUTATION,
        permission_classes=[allow(WRITERS)],
    )
    async def upsert_project_lists(
        self,
        info: Ctx,
        items: Annotated[
            list[ProjectListInput], _arg("Lists to write (at most 1000); each on its own.")
        ],
    ) -> UpsertResult:
        for item in items:
            if isinstance(item.project_codes, list):  # not omitted (partial updates), not null
                item.project_codes = [_lenient_project(c) for c in item.project_codes]
        return await _upsert(info, "project_list", items)


def _lenient_project(value: str) -> str:
    # A wrong id is kept as given: the item is rejected as naming no project, the others go on.
    try:
        return key_of(value, "Project")
    except InvalidInput:
        return value
