"""What ``Project``'s links to its activity, land, schedule, approvals and financing answer:
each the root query of its module (``hub.api.mpi``, ``land``, ``schedules``, ``financing``)
for the one project, so the two cannot drift apart. Apart from ``hub.api.entities.project``
because those modules reach it (through the scoreboard, or pages -> mutations -> entities):
the project type names their types lazily and imports this module when a field resolves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from graph_schema.errors import NotFound
from hub.api.context import Context
from hub.api.financing import FinancingNeedConnection, FinancingQuery
from hub.api.land import LandProgress, LandQuery
from hub.api.mpi import ActivityDay, MpiQuery
from hub.api.pages import ListPage
from hub.api.schedules import ApprovalProgress, ProjectSchedule, ScheduleQuery

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
