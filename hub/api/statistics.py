"""GraphQL for chain statistics over time (issue 4, item 6): ``chainStatistics``."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from graph_schema.periods import Granularity
from hub.api.context import Context
from hub.api.paging import key_of
from hub.api.scalars import Period
from hub.promotion import statistics

Ctx = Info[Context, None]


@strawberry.enum(description="How long a reporting period is.")
class PeriodGranularity(Enum):
    YEAR = strawberry.enum_value("year", description="A calendar year, e.g. 2025.")
    QUARTER = strawberry.enum_value("quarter", description="A quarter, e.g. 2025-Q2.")
    MONTH = strawberry.enum_value("month", description="A month, e.g. 2025-06.")


@strawberry.type(description="Reported figures of one period; null where not reported.")
class ChainStatPoint:
    period: Period = strawberry.field(description="A year, quarter or month.")
    granularity: PeriodGranularity = strawberry.field(description="Year, quarter or month.")
    from_: dt.date = strawberry.field(name="from", description="First day of the period.")
    to: dt.date = strawberry.field(description="Last day of the period.")
    output: float | None = strawberry.field(description="Output value, 万元.")
    project_count: int | None = strawberry.field(description="Projects under way.")
    employment: int | None = strawberry.field(description="People employed.")
    patents: int | None = strawberry.field(description="Patents held.")

    @classmethod
    def of(cls, point: statistics.Point) -> ChainStatPoint:
        return cls(
            period=Period(point.period.label),
            granularity=PeriodGranularity(point.period.granularity.value),
            from_=point.period.start,
            to=point.period.end,
            output=point.output,
            project_count=point.project_count,
            employment=point.employment,
            patents=point.patents,
        )


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


@strawberry.type(description="Chain statistics over time.")
class StatisticsQuery:
    @strawberry.field(
        description="A time series of a chain's (or one segment's) reported output, project "
        "count, employment and patents in a region, in period order (imported with hub "
        "import-stats). Empty when nothing was reported."
    )
    async def chain_statistics(
        self,
        info: Ctx,
        chain: Annotated[str, _arg("Chain id, e.g. nev, or its global id.")],
        region: Annotated[
            str, _arg("Region code or global id: the figures reported for that region.")
        ],
        segment: Annotated[
            str | None,
            _arg("A segment of the chain (id or global id); null for the chain's own figures."),
        ] = None,
        from_: Annotated[
            Period | None,
            strawberry.argument(
                name="from", description="Earliest period (by its start; year to month)."
            ),
        ] = None,
        to: Annotated[Period | None, _arg("Latest period (by its end; year to month).")] = None,
        granularity: Annotated[
            PeriodGranularity | None, _arg("Only periods of this length (default: all).")
        ] = None,
    ) -> list[ChainStatPoint]:
        points = await statistics.series(
            info.context.store,
            chain=key_of(chain, "IndustryChain"),
            region=key_of(region, "Region"),
            segment=key_of(segment, "ChainSegment") if segment is not None else None,
            first=from_,
            last=to,
            granularity=None if granularity is None else Granularity(str(granularity.value)),
        )
        return [ChainStatPoint.of(p) for p in points]
