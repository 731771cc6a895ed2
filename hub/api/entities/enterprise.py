"""Enterprise (企业), the API's surface of ``graph_schema.model.Enterprise``: its object type,
where, sort, mutation input, aggregate, group and connection, and its share of the schema's
``lists.Surface``. See ``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import chains, lists, paging, partial
from hub.api.access import WRITERS, allow
from hub.api.aggregates import (
    RegionLevelArg,
    Stats,
    Totals,
    float_or_none,
    groups,
    iso_date,
    related_list,
)
from hub.api.chains import DirectionArg, Hops, SupplyNeighbourhood
from hub.api.context import Context
from hub.api.entities.product import ProductConnection, ProductSortArg, ProductWhereArg
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.enums import (
    EnterpriseGroupBy,
    EnterpriseTag,
    RegionLevel,
    SortDirection,
    SupplyDirection,
)
from hub.api.inputs import (
    _CHAIN,
    _DIRECTION,
    _NAME,
    _NOT,
    _OR,
    _REGION,
    _REGION_CODE,
    _SEARCH,
    _USCC,
    DateRange,
    FloatRange,
    IntRange,
)
from hub.api.relay import (
    _S,
    _W,
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    lazy_list_arguments,
)

if TYPE_CHECKING:
    from hub.api.entities.region import Region
    from hub.api.entities.segment import ChainSegmentConnection
    from hub.api.financing import FinancingNeedConnection

Ctx = Info[Context, None]
FinancingNeedConnectionRef = Annotated[
    "FinancingNeedConnection", strawberry.lazy("hub.api.financing")
]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]
_SEGMENT = "hub.api.entities.segment"
ChainSegmentConnectionRef = Annotated["ChainSegmentConnection", strawberry.lazy(_SEGMENT)]
# Segments list their enterprises with this module's where and sort, so segment's own are named
# lazily here.
SegmentWhereArg, SegmentSortArg = lazy_list_arguments("ChainSegment", _SEGMENT)

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which enterprises to list.")
class EnterpriseWhere:
    region: str | None = strawberry.field(default=None, description=_REGION)
    chain: str | None = strawberry.field(default=None, description=_CHAIN)
    segment: str | None = strawberry.field(default=None, description="In this segment.")
    product: str | None = strawberry.field(default=None, description="Makes this product.")
    tags_any: list[EnterpriseTag] | None = strawberry.field(
        default=None, description="Has at least one of these tags."
    )
    tags_all: list[EnterpriseTag] | None = strawberry.field(
        default=None, description="Has every one of these tags."
    )
    output: FloatRange | None = strawberry.field(
        default=None, description="Annual output value, 万元."
    )
    employees: IntRange | None = strawberry.field(default=None, description="Head count.")
    patents: IntRange | None = strawberry.field(default=None, description="Patents held.")
    founded: DateRange | None = strawberry.field(default=None, description="Founding date.")
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    search: str | None = strawberry.field(default=None, description=_SEARCH)
    or_: list[EnterpriseWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: EnterpriseWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields enterprises sort on.")
class EnterpriseSortField(Enum):
    USCC = strawberry.enum_value("uscc", description="Unified social credit code.")
    NAME = strawberry.enum_value("name", description="Name.")
    OUTPUT = strawberry.enum_value("output", description="Annual output value.")
    EMPLOYEES = strawberry.enum_value("employees", description="Head count.")
    PATENTS = strawberry.enum_value("patents", description="Patents held.")
    FOUNDED = strawberry.enum_value("founded", description="Founding date; unknown ones last.")
    RELEVANCE = strawberry.enum_value(
        "relevance", description="Full-text relevance; only with where.search."
    )


@strawberry.input(description="One sort key for enterprise lists.")
class EnterpriseSort:
    field: EnterpriseSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


EnterpriseWhereArg = Annotated[EnterpriseWhere | None, strawberry.argument(description=_W)]
EnterpriseSortArg = Annotated[list[EnterpriseSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


@strawberry.type(description="An enterprise, keyed by its unified social credit code.")
class Enterprise(Node):
    uscc: str = strawberry.field(description="Unified social credit code (GB 32100-2015).")
    name: str = strawberry.field(description="Registered name.")
    tags: list[EnterpriseTag] = strawberry.field(description="Programme labels.")
    output: float = strawberry.field(description="Annual output value, 万元.")
    employees: int = strawberry.field(description="Head count.")
    patents: int = strawberry.field(description="Patents held.")
    founded: dt.date | None = strawberry.field(description="Founding date.")
    output_growth: float | None = strawberry.field(
        description="Year-on-year output growth, %; null when unknown."
    )

    def node_key(self) -> str:
        return self.uscc

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> Enterprise:
        return cls(
            uscc=p["uscc"],
            name=p["name"],
            tags=[EnterpriseTag(t) for t in p.get("tags") or ()],
            output=float(p.get("output") or 0),
            employees=int(p.get("employees") or 0),
            patents=int(p.get("patents") or 0),
            founded=iso_date(p.get("founded")),
            output_growth=float_or_none(p.get("output_growth")),
        )

    @strawberry.field(description="Where it is registered.")
    async def region(self, info: Ctx) -> RegionRef:
        return cast("Region", await lists.required_one(info, self, object))

    @strawberry.field(
        description="Segments upstream and downstream of the enterprise's segments, and the "
        "paths from raw material to end product through them."
    )
    async def neighbourhood(
        self,
        info: Ctx,
        hops: Hops = 2,
        direction: DirectionArg = SupplyDirection.BOTH,
    ) -> SupplyNeighbourhood:
        return await chains.enterprise_neighbourhood(info, self, hops, direction)

    segments = related_list(
        "Chain segments it is active in.",
        ChainSegmentConnectionRef,
        SegmentWhereArg,
        SegmentSortArg,
    )

    products = related_list(
        "Products it makes.", ProductConnection, ProductWhereArg, ProductSortArg
    )

    projects = related_list("Projects it owns.", ProjectConnection, ProjectWhereArg, ProjectSortArg)

    @strawberry.field(
        description="The financing needs of the projects it owns, in full (operators and "
        "admins, as Query.financingNeeds).",
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
        from hub.api.entities import links  # import circle: see there

        args = paging.args(first, after, last, before)
        return await links.owner_financing_needs(info, self.uscc, args)


@strawberry.type(description="Count and totals over a set of enterprises.")
class EnterpriseAggregate(Totals):
    count: int = strawberry.field(description="Number of enterprises.")
    output: Stats = strawberry.field(description="Annual output value, 万元.")
    employees: Stats = strawberry.field(description="Head count.")
    patents: Stats = strawberry.field(description="Patents held.")


@strawberry.type(description="One group of enterprises and its totals.")
class EnterpriseGroup:
    key: str = strawberry.field(
        description="The group: a region code, tag value, chain id or segment id."
    )
    label: str | None = strawberry.field(description="Region, chain or segment name.")
    aggregate: EnterpriseAggregate = strawberry.field(description="Totals of the group.")


@strawberry.type(description="A page of enterprises, with totals over the whole list.")
class EnterpriseConnection(Connection[Enterprise]):
    @strawberry.field(description="Count and totals over every matching enterprise.")
    async def aggregate(self, info: Ctx) -> EnterpriseAggregate:
        rows = await lists.aggregate_rows(info, self.page.scope)
        return EnterpriseAggregate.of(rows[0] if rows else None)

    @strawberry.field(description="Totals per group over every matching enterprise.")
    async def groups(
        self,
        info: Ctx,
        by: Annotated[EnterpriseGroupBy, strawberry.argument(description="What to group by.")],
        region_level: RegionLevelArg = RegionLevel.CITY,
    ) -> list[EnterpriseGroup]:
        return await groups(
            info, self.page.scope, str(by.value), region_level, EnterpriseGroup, EnterpriseAggregate
        )


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="An enterprise to create or update." + partial.INPUT)
class EnterpriseInput:
    uscc: str = strawberry.field(description=_USCC)
    name: str | None = strawberry.field(
        default=UNSET, description="Registered name." + partial.REQUIRED
    )
    region_code: str | None = strawberry.field(
        default=UNSET, description=_REGION_CODE + partial.REQUIRED
    )
    segment_ids: list[str] | None = strawberry.field(
        default=UNSET, description="Chain segments it is active in."
    )
    product_ids: list[str] | None = strawberry.field(
        default=UNSET, description="Products it makes."
    )
    tags: list[EnterpriseTag] | None = strawberry.field(default=UNSET, description="Labels.")
    output: float | None = strawberry.field(default=UNSET, description="Annual output, 万元.")
    employees: int | None = strawberry.field(default=UNSET, description="Head count.")
    patents: int | None = strawberry.field(default=UNSET, description="Patents held.")
    founded: dt.date | None = strawberry.field(default=UNSET, description="Founding date.")
    output_growth: float | None = strawberry.field(
        default=UNSET, description="Year-on-year output growth, %."
    )


# --- this entity's share of the schema's lists.Surface ---------------------------------------

PART: Final = lists.Part(
    "enterprise",
    Enterprise,
    EnterpriseConnection,
    ("uscc", "name"),
    {
        "region": lists.ToOne("enterprise.region"),
        "segments": lists.ToMany("segment", "enterprise.segments"),
        "products": lists.ToMany("product", "enterprise.products"),
        "projects": lists.ToMany("project", "enterprise.projects"),
    },
    {"financingNeeds": ()},  # reads only the USCC (the key)
)
