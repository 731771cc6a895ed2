"""GraphQL object types: one per entity of the model, every relationship navigable both ways.

Scalar fields come straight from the node's properties; related objects and lists resolve
through ``hub.api.lists`` (batched per request). Amounts are in 万元 (10,000 CNY); dates are
ISO dates.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

import strawberry
from strawberry.types import Info

from hub.api import chains, lists, paging
from hub.api.aggregates import (
    RegionLevelArg,
    Stats,
    float_or_none,
    groups,
    iso_date,
    page_args,
)
from hub.api.chains import (
    BeneficiaryConnection,
    ChainMap,
    ChokepointReport,
    SupplyNeighbourhood,
    TargetConnection,
)
from hub.api.context import Context
from hub.api.entities.product import ProductConnection, ProductSortArg, ProductWhereArg
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.entities.region import Region
from hub.api.enums import (
    EnterpriseGroupBy,
    EnterpriseTag,
    RegionLevel,
    SupplyDirection,
    Tier,
)
from hub.api.relay import (
    After,
    Before,
    Connection,
    EnterpriseSortArg,
    EnterpriseWhereArg,
    First,
    Last,
    Node,
    SegmentSortArg,
    SegmentWhereArg,
)

RegionArg = Annotated[
    str, strawberry.argument(description="Region code: the province, a city or a county.")
]
Hops = Annotated[
    int, strawberry.argument(description="How many SUPPLIES relationships out (1 to 6).")
]
DirectionArg = Annotated[
    SupplyDirection, strawberry.argument(description="Upstream, downstream or both.")
]
Ctx = Info[Context, None]


# --- aggregates -----------------------------------------------------------------------------


@strawberry.type(description="Count and totals over a set of enterprises.")
class EnterpriseAggregate:
    count: int = strawberry.field(description="Number of enterprises.")
    output: Stats = strawberry.field(description="Annual output value, 万元.")
    employees: Stats = strawberry.field(description="Head count.")
    patents: Stats = strawberry.field(description="Patents held.")

    @classmethod
    def of(cls, row: dict[str, Any] | None) -> EnterpriseAggregate:
        row = row or {}
        return cls(
            count=int(row.get("count") or 0),
            output=Stats.of(row, "output"),
            employees=Stats.of(row, "employees"),
            patents=Stats.of(row, "patents"),
        )


@strawberry.type(description="One group of enterprises and its totals.")
class EnterpriseGroup:
    key: str = strawberry.field(
        description="The group: a region code, tag value, chain id or segment id."
    )
    label: str | None = strawberry.field(description="Region, chain or segment name.")
    aggregate: EnterpriseAggregate = strawberry.field(description="Totals of the group.")


@strawberry.type(description="An industry chain (产业链), e.g. new-energy vehicles.")
class IndustryChain(Node):
    id_: str = strawberry.field(name="chainId", description="Short stable id, e.g. nev.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str | None = strawberry.field(description="English name.")
    industry_codes: list[str] = strawberry.field(
        description="GB/T 4754-2017 industry classes the chain covers."
    )

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> IndustryChain:
        return cls(
            id_=p["id"],
            name=p["name"],
            name_en=p.get("name_en"),
            industry_codes=list(p.get("industry_codes") or []),
        )

    @strawberry.field(
        description="The chain map for a region (sub-regions included): segments by tier with "
        "the region's enterprises, output, employment, patents and projects, and the SUPPLIES "
        "edges; every figure drills down to the enterprises and projects behind it."
    )
    async def map(self, info: Ctx, region: RegionArg) -> ChainMap:
        return await chains.chain_map(info, self, region)

    @strawberry.field(
        description="The chain's segments whose local coverage in a region is weak, worst "
        "first, with the rules that hold and the thresholds used."
    )
    async def chokepoints(self, info: Ctx, region: RegionArg) -> ChokepointReport:
        return await chains.chokepoints(info, self, region)

    @strawberry.field(description="The chain's segments (default order: id).")
    async def segments(
        self,
        info: Ctx,
        where: SegmentWhereArg = None,
        sort: SegmentSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ChainSegmentConnection:
        args = page_args(where, sort, first, after, last, before)
        return ChainSegmentConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Enterprises in any of the chain's segments.")
    async def enterprises(
        self,
        info: Ctx,
        where: EnterpriseWhereArg = None,
        sort: EnterpriseSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> EnterpriseConnection:
        args = page_args(where, sort, first, after, last, before)
        return EnterpriseConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Projects building in any of the chain's segments.")
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
        args = page_args(where, sort, first, after, last, before)
        return ProjectConnection.of(await lists.to_many(info, self, **args))


@strawberry.type(description="A segment (环节) of an industry chain, e.g. 正极材料.")
class ChainSegment(Node):
    id_: str = strawberry.field(name="segmentId", description="'<chain>.<segment>' id.")
    name: str = strawberry.field(description="Chinese name.")
    name_en: str | None = strawberry.field(description="English name.")
    tier: Tier = strawberry.field(description="Upstream, midstream or downstream.")
    position: int = strawberry.field(description="Drawing order within the tier.")
    industry_codes: list[str] = strawberry.field(description="GB/T 4754-2017 industry classes.")

    def node_key(self) -> str:
        return self.id_

    @classmethod
    def from_props(cls, p: dict[str, Any]) -> ChainSegment:
        return cls(
            id_=p["id"],
            name=p["name"],
            name_en=p.get("name_en"),
            tier=Tier(p["tier"]),
            position=int(p.get("position") or 0),
            industry_codes=list(p.get("industry_codes") or []),
        )

    @strawberry.field(
        description="Enterprises registered outside a region that could fill this segment "
        "there (靶向招商), best first; those with a project in the region are left out."
    )
    async def targets(
        self,
        info: Ctx,
        region: RegionArg,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> TargetConnection:
        return await chains.targets(info, self, region, paging.args(first, after, last, before))

    @strawberry.field(
        description="The region's enterprises in the segments this one supplies: who gains "
        "when it is filled locally. Largest output first."
    )
    async def beneficiaries(
        self,
        info: Ctx,
        region: RegionArg,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> BeneficiaryConnection:
        page_args = paging.args(first, after, last, before)
        return await chains.beneficiaries(info, self, region, page_args)

    @strawberry.field(
        description="Segments upstream and downstream of this one, and the paths from raw "
        "material to end product through it."
    )
    async def neighbourhood(
        self,
        info: Ctx,
        hops: Hops = 2,
        direction: DirectionArg = SupplyDirection.BOTH,
    ) -> SupplyNeighbourhood:
        return await chains.neighbourhood(info, [self.id_], hops, direction)

    @strawberry.field(description="The chain this segment belongs to.")
    async def chain(self, info: Ctx) -> IndustryChain | None:
        return await lists.to_one(info, self, IndustryChain)

    @strawberry.field(description="Segments this one supplies (downstream of it).")
    async def supplies(
        self,
        info: Ctx,
        where: SegmentWhereArg = None,
        sort: SegmentSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ChainSegmentConnection:
        args = page_args(where, sort, first, after, last, before)
        return ChainSegmentConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Segments that supply this one (upstream of it).")
    async def supplied_by(
        self,
        info: Ctx,
        where: SegmentWhereArg = None,
        sort: SegmentSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ChainSegmentConnection:
        args = page_args(where, sort, first, after, last, before)
        return ChainSegmentConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Products of this segment.")
    async def products(
        self,
        info: Ctx,
        where: ProductWhereArg = None,
        sort: ProductSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProductConnection:
        args = page_args(where, sort, first, after, last, before)
        return ProductConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Enterprises active in this segment.")
    async def enterprises(
        self,
        info: Ctx,
        where: EnterpriseWhereArg = None,
        sort: EnterpriseSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> EnterpriseConnection:
        args = page_args(where, sort, first, after, last, before)
        return EnterpriseConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Projects building in this segment.")
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
        args = page_args(where, sort, first, after, last, before)
        return ProjectConnection.of(await lists.to_many(info, self, **args))


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
    async def region(self, info: Ctx) -> Region | None:
        return await lists.to_one(info, self, Region)

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

    @strawberry.field(description="Chain segments it is active in.")
    async def segments(
        self,
        info: Ctx,
        where: SegmentWhereArg = None,
        sort: SegmentSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ChainSegmentConnection:
        args = page_args(where, sort, first, after, last, before)
        return ChainSegmentConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Products it makes.")
    async def products(
        self,
        info: Ctx,
        where: ProductWhereArg = None,
        sort: ProductSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProductConnection:
        args = page_args(where, sort, first, after, last, before)
        return ProductConnection.of(await lists.to_many(info, self, **args))

    @strawberry.field(description="Projects it owns.")
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
        args = page_args(where, sort, first, after, last, before)
        return ProjectConnection.of(await lists.to_many(info, self, **args))


# --- connections ----------------------------------------------------------------------------


@strawberry.type(description="A page of industry chains.")
class IndustryChainConnection(Connection[IndustryChain]):
    pass


@strawberry.type(description="A page of chain segments.")
class ChainSegmentConnection(Connection[ChainSegment]):
    pass


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


# This module's entities' shares of the schema's lists.Surface (hub.api.schema assembles it):
# what every related field reaches, for the resolvers above and the look-ahead alike.
PARTS: Final = (
    lists.Part(
        "chain",
        IndustryChain,
        IndustryChainConnection,
        ("id", "name"),
        {
            "segments": lists.ToMany("segment", "chain.segments"),
            "enterprises": lists.ToMany("enterprise", "chain.enterprises"),
            "projects": lists.ToMany("project", "chain.projects"),
        },
    ),
    lists.Part(
        "segment",
        ChainSegment,
        ChainSegmentConnection,
        ("id", "name", "tier"),
        {
            "chain": lists.ToOne("segment.chain"),
            "supplies": lists.ToMany("segment", "segment.supplies"),
            "suppliedBy": lists.ToMany("segment", "segment.supplied_by"),
            "products": lists.ToMany("product", "segment.products"),
            "enterprises": lists.ToMany("enterprise", "segment.enterprises"),
            "projects": lists.ToMany("project", "segment.projects"),
        },
    ),
    lists.Part(
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
    ),
)
