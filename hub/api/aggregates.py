"""What every entity type's lists share: amount statistics, grouped totals, and the helpers
that turn stored properties and list arguments into Python values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from hub.api import lists, paging
from hub.api.context import Context
from hub.api.enums import RegionLevel

Ctx = Info[Context, None]


def iso_date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@strawberry.type(description="Sum, mean, minimum and maximum of one amount over a set.")
class Stats:
    sum: float = strawberry.field(description="Total (0 for an empty set).")
    avg: float | None = strawberry.field(description="Mean (null for an empty set).")
    min: float | None = strawberry.field(description="Smallest value.")
    max: float | None = strawberry.field(description="Largest value.")

    @classmethod
    def of(cls, row: dict[str, Any], measure: str) -> Stats:
        return cls(
            sum=float(row.get(f"{measure}_sum") or 0),
            avg=float_or_none(row.get(f"{measure}_avg")),
            min=float_or_none(row.get(f"{measure}_min")),
            max=float_or_none(row.get(f"{measure}_max")),
        )


def float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


RegionLevelArg = Annotated[
    RegionLevel, strawberry.argument(description="Level of the regions to group by.")
]


def page_args(
    where: Any, sort: Any, first: int | None, after: str | None, last: int | None, before: Any
) -> dict[str, Any]:
    return {"where": where, "sort": sort, **paging.args(first, after, last, before)}


async def groups[G](
    info: Ctx,
    scope: lists.Scope,
    by: str,
    region_level: RegionLevel,
    group: Callable[..., G],
    aggregate: Any,
) -> list[G]:
    """One ``group`` per group of the list's nodes, each with its ``aggregate``."""
    extra = {"g_level": region_level.value} if by == "region" else {}
    rows = await lists.aggregate_rows(info, scope, by, **extra)
    return [
        group(key=str(r["group_key"]), label=r["group_label"], aggregate=aggregate.of(r))
        for r in rows
    ]
