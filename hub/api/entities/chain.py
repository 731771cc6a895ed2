"""Industry chain (产业链), the API's surface of ``graph_schema.model.IndustryChain``: its object
type, where, sort, mutation input and connection, and its share of the schema's
``lists.Surface``. See ``hub.api.entities.project`` for what adding a field takes."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Final

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from hub.api import chains, lists, partial
from hub.api.aggregates import related_list
from hub.api.chains import ChainMap, ChokepointReport, RegionArg
from hub.api.context import Context
from hub.api.entities.enterprise import (
    EnterpriseConnection,
    EnterpriseSortArg,
    EnterpriseWhereArg,
)
from hub.api.entities.project import ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.entities.segment import ChainSegmentConnection, SegmentSortArg, SegmentWhereArg
from hub.api.enums import SortDirection
from hub.api.inputs import _DIRECTION, _NAME, _NOT, _OR
from hub.api.relay import _W, Connection, Node

Ctx = Info[Context, None]

# --- where and sort ------------------------------------------------------------------------


@strawberry.input(description="Which industry chains to list.")
class IndustryChainWhere:
    ids: list[str] | None = strawberry.field(default=None, description="Only these ids.")
    name_contains: str | None = strawberry.field(default=None, description=_NAME)
    or_: list[IndustryChainWhere] | None = strawberry.field(
        default=None, name="OR", description=_OR
    )
    not_: IndustryChainWhere | None = strawberry.field(default=None, name="NOT", description=_NOT)


@strawberry.enum(description="Fields industry chains sort on.")
class IndustryChainSortField(Enum):
    ID = strawberry.enum_value("id", description="Chain id.")
    NAME = strawberry.enum_value("name", description="Chinese name.")


@strawberry.input(description="One sort key for industry chain lists.")
class IndustryChainSort:
    field: IndustryChainSortField = strawberry.field(description="The field to sort on.")
    direction: SortDirection = strawberry.field(default=SortDirection.ASC, description=_DIRECTION)


ChainWhereArg = Annotated[IndustryChainWhere | None, strawberry.argument(description=_W)]
# Worded before the other lists' sort argument (relay._S) and kept so: schema.graphql stays.
ChainSortArg = Annotated[
    list[IndustryChainSort] | None,
    strawberry.argument(description="Sort keys, most significant first (at most 3)."),
]


# --- the object type ---------------------------------------------------------------------------


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

    segments = related_list(
        "The chain's segments (default order: id).",
        ChainSegmentConnection,
        SegmentWhereArg,
        SegmentSortArg,
    )

    enterprises = related_list(
        "Enterprises in any of the chain's segments.",
        EnterpriseConnection,
        EnterpriseWhereArg,
        EnterpriseSortArg,
    )

    projects = related_list(
        "Projects building in any of the chain's segments.",
        ProjectConnection,
        ProjectWhereArg,
        ProjectSortArg,
    )


@strawberry.type(description="A page of industry chains.")
class IndustryChainConnection(Connection[IndustryChain]):
    pass


# --- the mutation input ------------------------------------------------------------------------


@strawberry.input(description="An industry chain to create or update." + partial.INPUT)
class IndustryChainInput:
    id: str = strawberry.field(description="Short stable id, e.g. nev.")
    name: str | None = strawberry.field(
        default=UNSET, description="Chinese name." + partial.REQUIRED
    )
    name_en: str | None = strawberry.field(default=UNSET, description="English name.")
    industry_codes: list[str] | None = strawberry.field(
        default=UNSET, description="GB/T 4754-2017 four-digit classes."
    )


# --- this entity's share of the schema's lists.Surface ---------------------------------------

PART: Final = lists.Part(
    "chain",
    IndustryChain,
    IndustryChainConnection,
    ("id", "name"),
    {
        "segments": lists.ToMany("segment", "chain.segments"),
        "enterprises": lists.ToMany("enterprise", "chain.enterprises"),
        "projects": lists.ToMany("project", "chain.projects"),
    },
)
