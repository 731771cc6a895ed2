"""What the entities' links to other modules answer (a project's activity, land, schedule,
approvals and financing needs, a region's MPI, an enterprise's financing needs): each the root
query of its module (``hub.api.mpi``, ``land``, ``schedules``, ``financing``) for the one
object, so the two cannot drift apart. Apart from ``hub.api.entities`` because those modules
reach the entity modules (through the scoreboard, or pages -> mutations -> entities): the
entity types name these types lazily and import this module when a field resolves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from graph_schema.errors import NotFound
from hub.api.context import Context
from hub.api.financing import FinancingNeed, FinancingNeedConnection, FinancingQuery
from hub.api.land import LandProgress, LandQuery
from hub.api.mpi import ActivityDay, MpiQuery, MpiSnapshot, RegionMpi
from hub.api.pages import ListPage
from hub.api.schedules import ApprovalProgress, ProjectSchedule, ScheduleQuery
from hub.projects import financing as fin

Ctx = Info[Context, None]


@strawberry.type(description="A page of a project's days of evidence, newest first.")
class ActivityDayConnection(ListPage[ActivityDay]):
    pass


async def activity_page(
    info: Ctx, code: str, days: int, page_args: dict[str, Any]
) -> ActivityDayConnection:
    """The project's last ``days`` days of evidence, newest first; none for a project the
    fusion does not watch (yet)."""
    try:
        found = await MpiQuery().project_activity(info, project=code, days=days)
    except NotFound:
        found = []
    newest_first = sorted(found, key=lambda d: d.day, reverse=True)
    return ActivityDayConnection.of(
        info.context,
        f"project_activity:{code}",
        newest_first,
        lambda d: d.day.isoformat(),
        lambda d: d,
        page_args,
    )


async def land_progress(info: Ctx, code: str, as_of: dt.date | None) -> LandProgress | None:
    found: LandProgress | None = await LandQuery().land_progress(
        info, project_code=code, as_of=as_of
    )
    return found


async def schedule(info: Ctx, code: str, as_of: dt.date | None) -> ProjectSchedule | None:
    found: ProjectSchedule | None = await ScheduleQuery().project_schedule(
        info, project_code=code, as_of=as_of
    )
    return found


async def approvals(info: Ctx, code: str, as_of: dt.date | None) -> ApprovalProgress | None:
    found: ApprovalProgress | None = await ScheduleQuery().approval_progress(
        info, project_code=code, as_of=as_of
    )
    return found


async def financing_needs(
    info: Ctx, code: str, page_args: dict[str, Any]
) -> FinancingNeedConnection:
    found: FinancingNeedConnection = await FinancingQuery().financing_needs(
        info, project_code=code, **page_args
    )
    return found


async def owner_financing_needs(
    info: Ctx, uscc: str, page_args: dict[str, Any]
) -> FinancingNeedConnection:
    """The needs of the enterprise's projects, in the order ``Query.financingNeeds`` lists
    them (the caller's role is checked by the field, as at that root)."""
    found = [n for n in await fin.needs(info.context.store) if n.owner_uscc == uscc]
    return FinancingNeedConnection.of(
        info.context,
        f"owner_financing_needs:{uscc}",
        found,
        lambda n: n.id,
        FinancingNeed.of,
        page_args,
    )


async def region_mpi(
    info: Ctx, code: str, period: str | None, list_id: str | None, as_of: dt.date | None
) -> RegionMpi | None:
    board = await MpiQuery().mpi(info, period=period, list_id=list_id, as_of=as_of)
    found: RegionMpi | None = board.region(code=code)
    return found


async def region_mpi_history(info: Ctx, code: str, list_id: str | None) -> list[MpiSnapshot]:
    found: list[MpiSnapshot] = await MpiQuery().mpi_history(info, region=code, list_id=list_id)
    return found
