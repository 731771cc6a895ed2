"""What every entity type's lists share: the list fields themselves (``related_list``,
``top_list``), amount statistics, grouped totals, and the helpers that turn stored properties
and list arguments into Python values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Self

import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from hub.api import lists, lookahead, paging
from hub.api.context import Context
from hub.api.enums import RegionLevel
from hub.api.relay import After, Before, First, Last, Offset, SubRegions

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


class Totals:
    """Base of an entity's aggregate type: ``count`` and one ``Stats`` field per amount, named as
    the amount is in the aggregate rows (``graph_schema.statements.reads``)."""

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> Self:
        # The subclass is a Strawberry type, so a dataclass; mypy sees only this class.
        subclass: Any = cls
        row = row or {}
        names = [f.name for f in dataclasses.fields(subclass) if f.name != "count"]
        built: Self = subclass(
            count=int(row.get("count") or 0), **{n: Stats.of(row, n) for n in names}
        )
        return built


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


# --- list fields ---------------------------------------------------------------------------
# Every list field takes where, sort and the four paging arguments (a region's lists take
# includeSubRegions first) and answers a connection. These build such fields, so a list is one
# declaration; Strawberry reads the arguments and the field's type from the resolver's
# signature, which is set here.

_PARAMETER = inspect.Parameter.POSITIONAL_OR_KEYWORD
_PAGING = {"first": First, "after": After, "last": Last, "before": Before}


def _list_field(
    resolve: Callable[..., Any],
    description: str,
    connection: Any,
    where: Any,
    sort: Any,
    sub_regions: bool,
    permission_classes: Sequence[type[BasePermission]],
    with_offset: bool = False,
) -> Any:
    head = [
        inspect.Parameter("self", _PARAMETER),
        inspect.Parameter("info", _PARAMETER, annotation=Ctx),
    ]
    if sub_regions:
        sub = inspect.Parameter(
            "include_sub_regions", _PARAMETER, default=True, annotation=SubRegions
        )
        head.append(sub)
    arguments = {"where": where, "sort": sort, **_PAGING}
    if with_offset:
        arguments["offset"] = Offset
    tail = [
        inspect.Parameter(n, _PARAMETER, default=None, annotation=a) for n, a in arguments.items()
    ]
    signature = inspect.Signature([*head, *tail], return_annotation=connection)
    resolve.__signature__ = signature  # type: ignore[attr-defined]
    return strawberry.field(
        resolver=resolve, description=description, permission_classes=list(permission_classes)
    )


def related_list(
    description: str,
    connection: Any,
    where: Any,
    sort: Any,
    *,
    sub_regions: bool = False,
    permission_classes: Sequence[type[BasePermission]] = (),
) -> Any:
    """A list field of ``Surface.relation_fields``: a page of what the relation reaches from the
    object, in the target entity's connection. ``connection`` is that type (or its lazy
    reference), ``where`` and ``sort`` the target's argument types."""

    async def resolve(self: Any, info: Ctx, include_sub_regions: bool = True, **args: Any) -> Any:
        return await lists.related_connection(info, self, sub_regions=include_sub_regions, **args)

    return _list_field(
        resolve, description, connection, where, sort, sub_regions, permission_classes
    )


def top_list(
    description: str,
    entity: str,
    connection: Any,
    where: Any,
    sort: Any,
    *,
    permission_classes: Sequence[type[BasePermission]] = (),
) -> Any:
    """A top-level list field of ``entity``, its items' related fields fetched ahead
    (``hub.api.lookahead``)."""

    async def resolve(self: Any, info: Ctx, **args: Any) -> Any:
        page = await lookahead.page(info, entity, **args)
        return lists.surface_of(info).connections[entity].of(page)

    # hub.api.compiled compiles a top-level list only when this is its resolver: one that
    # hands its arguments to the page statement as they came (projectLists, say, turns the
    # global ids of its where into keys first, and compiling it answered no rows).
    resolve.compiled_as_page = True  # type: ignore[attr-defined]

    return _list_field(
        resolve, description, connection, where, sort, False, permission_classes, with_offset=True
    )
