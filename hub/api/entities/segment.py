"""Chain segment (产业链环节), the API's surface of ``graph_schema.model.ChainSegment``: its object
type, where, sort, mutation input and connection, and its share of the schema's
``lists.Surface``. See ``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Final, cast

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import chains, lists, paging, partial
from hub.api.aggregates import related_list
from hub.api.chains import (
    BeneficiaryConnection,
    DirectionArg,
    Hops,
    RegionArg,
    SupplyNeighbourhood,
    TargetConnection,
)
from hub.api.context import Context
from hub.api.entities.enterprise import (
    EnterpriseConnection,
    EnterpriseSortArg,
    EnterpriseWhereArg,
)
from hub.api.entities.product import ProductConnection, ProductSortArg, ProductWhereArg
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.enums import SortDirection, SupplyDirection, Tier
from hub.api.inputs import _DIRECTION, _NAME, _NOT, _OR
from hub.api.relay import _S, _W, After, Before, Connection, First, Last, Node

if TYPE_CHECKING:
    from hub.api.entities.chain import IndustryChain

Ctx = Info[Context, None]
IndustryChainRef = Annotated["IndustryChain", strawberry.lazy("hub.api.entities.chain")]
# A segment lists its neighbours before its connection type is defined.
ChainSegmentConnectionRef = Annotated["ChainSegmentConnection", strawberry.lazy(__name__)]

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which chain segments to list.")
class ChainSegmentWhere:
    ids: list[str] | None = strawberry.field(default=None, description="Only these ids.")
    tier: list[Tier] | None = strawberry.field(default=None, description="Any of these tiers.")
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    chain: str | None = strawberry.field(default=None, description="Only this chain's segments.")
    or_: list[ChainSegmentWhere] | None = strawberry.field(default=None, name="OR", description=_OR)
    not_: ChainSegmentWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields chain segments sort on.")
class ChainSegmentSortField(Enum):
    ID = strawberry.enum_value("id", description="Segment id.")
    NAME = strawberry.enum_value("name", description="Chinese name.")
    POSITION = strawberry.enum_value("position", description="Drawing order within the tier.")


@strawberry.input(description="One sort key for chain segment lists.")
class ChainSegmentSort:
    field: ChainSegmentSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


SegmentWhereArg = Annotated[ChainSegmentWhere | None, strawberry.argument(description=_W)]
SegmentSortArg = Annotated[list[ChainSegmentSort] | None, strawberry.argument(description=_S)]


# --- the object type ---------------------------------------------------------------------------


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
    async def chain(self, info: Ctx) -> IndustryChainRef:
        return cast("IndustryChain", await lists.required_one(info, self, object))

    supplies = related_list(
        "Segments this one supplies (downstream of it).",
        ChainSegmentConnectionRef,
        SegmentWhereArg,
        SegmentSortArg,
    )

    supplied_by = related_list(
        "Segments that supply this one (upstream of it).",
        ChainSegmentConnectionRef,
        SegmentWhereArg,
        SegmentSortArg,
    )

    products = related_list(
        "Products of this segment.", ProductConnection, ProductWhereArg, ProductSortArg
    )

    enterprises = related_list(
        "Enterprises active in this segment.",
        EnterpriseConnection,
        EnterpriseWhereArg,
        EnterpriseSortArg,
    )

    projects = related_list(
        "Projects building in this segment.", ProjectConnection, ProjectWhereArg, ProjectSortArg
    )


@strawberry.type(description="A page of chain segments.")
class ChainSegmentConnection(Connection[ChainSegment]):
    pass


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="A chain segment to create or update." + partial.INPUT)
class ChainSegmentInput:
    id: str = strawberry.field(description="'<chain id>.<segment slug>'.")
    chain_id: str | None = strawberry.field(
        default=UNSET, description="The chain; must start the id." + partial.REQUIRED
    )
    name: str | None = strawberry.field(
        default=UNSET, description="Chinese name." + partial.REQUIRED
    )
    tier: Tier | None = strawberry.field(
        default=UNSET, description="Upstream, midstream or downstream." + partial.REQUIRED
    )
    name_en: str | None = strawberry.field(default=UNSET, description="English name.")
    position: int | None = strawberry.field(default=UNSET, description="Order within the tier.")
    industry_codes: list[str] | None = strawberry.field(
        default=UNSET, description="GB/T 4754-2017 four-digit classes."
    )


# --- this entity's share of the schema's lists.Surface ---------------------------------------

PART: Final = lists.Part(
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
)
