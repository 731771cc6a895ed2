"""GraphQL types of the industry-chain analytics (``hub.promotion.chains``): chain maps by region,
chokepoints, targets, beneficiaries and supply neighbourhoods.

Every figure on a map drills down to the enterprises and projects behind it as ordinary
connections (the top-level lists, scoped to the segment and the region). Ranked lists (targets,
beneficiaries) page by position: their order is a computed score, not a stored key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_schema.errors import InvalidInput
from hub import texts
from hub.api import lists, lookahead, paging
from hub.api.context import Context
from hub.api.entities.project import ProjectSortArg, ProjectWhereArg
from hub.api.enums import ChokepointRule, SupplyDirection, Tier
from hub.api.paging import decode_cursor, encode_cursor, key_of, window
from hub.api.relay import _S, _W, After, Before, First, Last, PageInfo, lazy_list_arguments
from hub.api.texts import MESSAGE, Text, lang
from hub.promotion import chains
from hub.promotion.amounts import to_the_yuan

if TYPE_CHECKING:
    from hub.api.entities.chain import IndustryChain
    from hub.api.entities.enterprise import (
        Enterprise,
        EnterpriseConnection,
        EnterpriseSort,
        EnterpriseWhere,
    )
    from hub.api.entities.project import ProjectConnection
    from hub.api.entities.region import Region
    from hub.api.entities.segment import ChainSegment

Ctx = Info[Context, None]
# The entity types (hub.api.entities) show these analytics as their fields, so this module
# names them lazily and builds them through the schema's lists.Surface: no import circle.
_ENTERPRISE = "hub.api.entities.enterprise"
ChainSegmentRef = Annotated["ChainSegment", strawberry.lazy("hub.api.entities.segment")]
EnterpriseRef = Annotated["Enterprise", strawberry.lazy(_ENTERPRISE)]
IndustryChainRef = Annotated["IndustryChain", strawberry.lazy("hub.api.entities.chain")]
RegionRef = Annotated["Region", strawberry.lazy("hub.api.entities.region")]
EnterpriseConnectionRef = Annotated["EnterpriseConnection", strawberry.lazy(_ENTERPRISE)]
ProjectConnectionRef = Annotated["ProjectConnection", strawberry.lazy("hub.api.entities.project")]
if TYPE_CHECKING:
    EnterpriseWhereArg = Annotated[EnterpriseWhere | None, strawberry.argument(description=_W)]
    EnterpriseSortArg = Annotated[list[EnterpriseSort] | None, strawberry.argument(description=_S)]
else:
    EnterpriseWhereArg, EnterpriseSortArg = lazy_list_arguments("Enterprise", _ENTERPRISE)

# Arguments of the analytics fields the chain, segment and enterprise types show.
RegionArg = Annotated[
    str,
    strawberry.argument(
        description="Region: the province, a city or a county, by code (or global id)."
    ),
]
Hops = Annotated[
    int, strawberry.argument(description="How many SUPPLIES relationships out (1 to 6).")
]
DirectionArg = Annotated[
    SupplyDirection, strawberry.argument(description="Upstream, downstream or both.")
]


@strawberry.type(description="What a region has in a chain segment (sub-regions included).")
class ChainFigures:
    enterprises: int = strawberry.field(description="Local enterprises in the segment.")
    leaders: int = strawberry.field(description="Of them, chain leaders (链主).")
    tagged_enterprises: int = strawberry.field(
        description="Of them, enterprises with any programme label."
    )
    output: float = strawberry.field(description="Their annual output, 万元.")
    employment: int = strawberry.field(description="Their head count.")
    patents: int = strawberry.field(description="Their patents.")
    projects: int = strawberry.field(description="Local projects building in the segment.")
    planned_investment: float = strawberry.field(
        description="Those projects' total planned investment, 万元."
    )
    completed_investment: float = strawberry.field(
        description="Those projects' investment completed to date, 万元."
    )

    @classmethod
    def of(cls, f: chains.Figures) -> ChainFigures:
        return cls(
            enterprises=f.enterprises,
            leaders=f.leaders,
            tagged_enterprises=f.tagged,
            output=to_the_yuan(f.output),
            employment=f.employment,
            patents=f.patents,
            projects=f.projects,
            planned_investment=to_the_yuan(f.planned_investment),
            completed_investment=to_the_yuan(f.completed_investment),
        )


async def _behind(
    info: Ctx, entity: str, node: ChainMapNode, where: Any, sort: Any, page_args: dict[str, Any]
) -> lists.Page:
    """The ``entity`` list behind a map node's figures: the node's segment and region fixed,
    the client's filters narrowing it."""
    fixed = {"segment": node.segment.id_, "region": node.region_code}
    return await lookahead.page(info, entity, where=where, sort=sort, fixed=fixed, **page_args)


_SCOPED = " Scoped to the segment and the region; other filters may narrow it further."


@strawberry.type(description="A segment on a chain map, with the region's figures in it.")
class ChainMapNode:
    segment: ChainSegmentRef = strawberry.field(description="The segment.")
    tier: Tier = strawberry.field(description="Upstream, midstream or downstream.")
    figures: ChainFigures = strawberry.field(description="The region's figures in it.")
    region_code: strawberry.Private[str]

    @strawberry.field(description="The enterprises behind the figures." + _SCOPED)
    async def enterprises(
        self,
        info: Ctx,
        where: EnterpriseWhereArg = None,
        sort: EnterpriseSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> EnterpriseConnectionRef:
        page_args = paging.args(first, after, last, before)
        page = await _behind(info, "enterprise", self, where, sort, page_args)
        connection: EnterpriseConnection = lists.surface_of(info).connections["enterprise"].of(page)
        return connection

    @strawberry.field(description="The projects behind the figures." + _SCOPED)
    async def projects(
        self,
        info: Ctx,
        where: ProjectWhereArg = None,
        sort: ProjectSortArg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> ProjectConnectionRef:
        page_args = paging.args(first, after, last, before)
        page = await _behind(info, "project", self, where, sort, page_args)
        connection: ProjectConnection = lists.surface_of(info).connections["project"].of(page)
        return connection


async def _region(info: Ctx, code: str) -> RegionRef:
    region = await lists.by_key(info, "region", code, object)
    assert region is not None  # the analytics read it a moment ago
    return cast("Region", region)


async def _segment(info: Ctx, segment_id: str) -> ChainSegmentRef:
    segment = await lists.by_key(info, "segment", segment_id, object)
    assert segment is not None  # the analytics read it a moment ago
    return cast("ChainSegment", segment)


@strawberry.type(description="One SUPPLIES relationship: the first segment feeds the second.")
class SupplyEdge:
    from_segment_id: str = strawberry.field(description="The upstream segment's id.")
    to_segment_id: str = strawberry.field(description="The downstream segment's id.")

    @strawberry.field(description="The upstream segment.")
    async def from_segment(self, info: Ctx) -> ChainSegmentRef:
        return await _segment(info, self.from_segment_id)

    @strawberry.field(description="The downstream segment.")
    async def to_segment(self, info: Ctx) -> ChainSegmentRef:
        return await _segment(info, self.to_segment_id)


@strawberry.type(description="An industry chain's segments by tier, with a region's figures.")
class ChainMap:
    chain: IndustryChainRef = strawberry.field(description="The chain.")
    region_code: str = strawberry.field(description="The region the figures are for.")
    nodes: list[ChainMapNode] = strawberry.field(
        description="The chain's segments, upstream first, then by drawing position."
    )
    edges: list[SupplyEdge] = strawberry.field(
        description="SUPPLIES relationships between the chain's segments."
    )
    totals: ChainFigures = strawberry.field(
        description="Sums over the nodes (an enterprise in two segments counts twice)."
    )

    @strawberry.field(description="The region the figures are for.")
    async def region(self, info: Ctx) -> RegionRef:
        return await _region(info, self.region_code)


@strawberry.type(description="Why a segment is a chokepoint: one rule that holds.")
class ChokepointReason:
    rule: ChokepointRule = strawberry.field(description="The rule.")
    code: str = strawberry.field(description="What was found, as a stable code (CHOKEPOINT_*).")
    params: JSON = strawberry.field(description="The finding's parameters, by name.")
    value: float = strawberry.field(description="The measured value.")
    threshold: float = strawberry.field(description="The threshold it was held against.")
    strength: float = strawberry.field(description="How far past the threshold, 0 to 1.")

    @strawberry.field(description="What was found, in words. " + MESSAGE)
    def message(self, info: Ctx) -> str:
        return texts.render(self.code, cast(Mapping[str, Any], self.params), lang(info))


@strawberry.type(description="A chain segment whose local coverage in a region is weak.")
class Chokepoint:
    segment: ChainSegmentRef = strawberry.field(description="The segment.")
    score: float = strawberry.field(
        description="0-100: the mean strength of the three rules (0 for a rule that holds not)."
    )
    reasons: list[ChokepointReason] = strawberry.field(description="The rules that hold.")
    figures: ChainFigures = strawberry.field(description="The region's figures in the segment.")
    peer_median_enterprises: float | None = strawberry.field(
        description="Median local enterprises of the segment in peer regions; null without peers."
    )
    downstream_output: float = strawberry.field(
        description="Output of the region's enterprises in the segments it supplies, 万元."
    )


@strawberry.type(description="The thresholds chokepoints were judged with (settings).")
class ChokepointThresholds:
    min_enterprises: int = strawberry.field(description="HUB_CHAINS_MIN_ENTERPRISES.")
    peer_ratio: float = strawberry.field(description="HUB_CHAINS_PEER_RATIO.")
    external_share: float = strawberry.field(description="HUB_CHAINS_EXTERNAL_SHARE.")
    single_supplier_share: float = strawberry.field(description="HUB_CHAINS_SINGLE_SUPPLIER_SHARE.")


@strawberry.type(description="A chain's chokepoints in a region, worst first.")
class ChokepointReport:
    region_code: str = strawberry.field(description="The region's code.")
    chokepoints: list[Chokepoint] = strawberry.field(description="Weak segments, worst first.")
    thresholds: ChokepointThresholds = strawberry.field(description="The thresholds used.")

    @strawberry.field(description="The region.")
    async def region(self, info: Ctx) -> RegionRef:
        return await _region(info, self.region_code)


# --- ranked lists ------------------------------------------------------------------------------


@strawberry.type(description="An enterprise elsewhere that could fill a segment in a region.")
class Target:
    rank: int = strawberry.field(description="1 for the best.")
    score: float = strawberry.field(description="0-100: output, patents, labels and growth.")
    reason_texts: list[Text] = strawberry.field(
        description="What the score rests on, as data: codes (TARGET_*), parameters, words."
    )
    enterprise: EnterpriseRef = strawberry.field(description="The enterprise.")
    region_code: str = strawberry.field(description="Code of the region it is registered in.")

    @strawberry.field(description="Where it is registered.")
    async def region(self, info: Ctx) -> RegionRef:
        return await _region(info, self.region_code)

    @strawberry.field(description="What the score rests on, in words. " + MESSAGE)
    def reasons(self, info: Ctx) -> list[str]:
        return [t.message(info) for t in self.reason_texts]


@strawberry.type(description="A target and its position.")
class TargetEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as after or before.")
    node: Target = strawberry.field(description="The target.")


@strawberry.type(description="A page of targets, best first.")
class TargetConnection:
    edges: list[TargetEdge] = strawberry.field(description="The page's targets with cursors.")
    nodes: list[Target] = strawberry.field(description="The page's targets.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    total_count: int = strawberry.field(description="How many targets there are.")


@strawberry.type(description="A local enterprise that would gain from a segment filled locally.")
class Beneficiary:
    enterprise: EnterpriseRef = strawberry.field(description="The enterprise.")
    region_code: str = strawberry.field(description="Code of the region it is registered in.")
    segment_ids: list[str] = strawberry.field(
        description="Ids of its segments that the filled segment supplies."
    )

    @strawberry.field(description="Where it is registered.")
    async def region(self, info: Ctx) -> RegionRef:
        return await _region(info, self.region_code)

    @strawberry.field(description="Its segments that the filled segment supplies.")
    async def segments(self, info: Ctx) -> list[ChainSegmentRef]:
        # Gathered, so that the request's loader fetches them in one batch.
        return list(await asyncio.gather(*(_segment(info, s) for s in self.segment_ids)))


@strawberry.type(description="A beneficiary and its position.")
class BeneficiaryEdge:
    cursor: str = strawberry.field(description="Opaque position: pass it as after or before.")
    node: Beneficiary = strawberry.field(description="The beneficiary.")


@strawberry.type(description="A page of beneficiaries, largest output first.")
class BeneficiaryConnection:
    edges: list[BeneficiaryEdge] = strawberry.field(description="The page with cursors.")
    nodes: list[Beneficiary] = strawberry.field(description="The page.")
    page_info: PageInfo = strawberry.field(description="Cursors and whether more pages exist.")
    total_count: int = strawberry.field(description="How many beneficiaries there are.")


def _slice(
    ctx: Context,
    tag: str,
    count: int,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> tuple[range, PageInfo, list[str]]:
    """The positions of one page of a ranked list of ``count``, its PageInfo and cursors.
    Cursors are tagged with the list they came from (``tag``)."""
    win = window(first, after, last, before, ctx.max_page_size)
    start, end = 0, count
    if win.cursor is not None:
        argument = "before" if win.backward else "after"
        (position,) = decode_cursor(win.cursor, tag, 1, argument)
        if not isinstance(position, int):
            raise InvalidInput(f"{argument}: not a cursor this API issued")
        if win.backward:
            end = min(position, count)
        else:
            start = min(position + 1, count)
    if win.backward:
        start = max(end - win.size, start)
    else:
        end = min(start + win.size, end)
    positions = range(start, end)
    cursors = [encode_cursor(tag, [i]) for i in positions]
    info = PageInfo(
        has_next_page=end < count,
        has_previous_page=start > 0,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return positions, info, cursors


def target_connection(
    info: Ctx, tag: str, found: Sequence[chains.Target], page_args: dict[str, Any]
) -> TargetConnection:
    surface = lists.surface_of(info)
    positions, page_info, cursors = _slice(info.context, tag, len(found), **page_args)
    nodes = [
        Target(
            rank=i + 1,
            score=found[i].score,
            reason_texts=[Text.of(code, params) for code, params in found[i].reasons],
            enterprise=surface.node_of("enterprise", found[i].props),
            region_code=found[i].region_code,
        )
        for i in positions
    ]
    edges = [TargetEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)]
    return TargetConnection(edges=edges, nodes=nodes, page_info=page_info, total_count=len(found))


def beneficiary_connection(
    info: Ctx, tag: str, found: Sequence[chains.Beneficiary], page_args: dict[str, Any]
) -> BeneficiaryConnection:
    surface = lists.surface_of(info)
    positions, page_info, cursors = _slice(info.context, tag, len(found), **page_args)
    nodes = [
        Beneficiary(
            enterprise=surface.node_of("enterprise", found[i].props),
            region_code=found[i].region_code,
            segment_ids=found[i].segments,
        )
        for i in positions
    ]
    edges = [BeneficiaryEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)]
    return BeneficiaryConnection(
        edges=edges, nodes=nodes, page_info=page_info, total_count=len(found)
    )


# --- supply neighbourhood ----------------------------------------------------------------------


@strawberry.type(description="A segment near the centre of a neighbourhood.")
class NeighbourSegment:
    segment: ChainSegmentRef = strawberry.field(description="The segment.")
    direction: SupplyDirection = strawberry.field(
        description="Upstream (it feeds the centre) or downstream (the centre feeds it)."
    )
    hops: int = strawberry.field(description="SUPPLIES relationships between it and the centre.")


@strawberry.type(description="One path from raw material to end product.")
class SupplyPath:
    segments: list[ChainSegmentRef] = strawberry.field(
        description="From a segment nothing supplies to one that supplies nothing."
    )


@strawberry.type(description="Upstream and downstream of a segment or an enterprise.")
class SupplyNeighbourhood:
    centre: list[ChainSegmentRef] = strawberry.field(
        description="The segment, or the enterprise's segments."
    )
    segments: list[NeighbourSegment] = strawberry.field(
        description="Segments within the hops asked for, nearest first."
    )
    edges: list[SupplyEdge] = strawberry.field(
        description="SUPPLIES relationships among the centre and those segments."
    )
    paths: list[SupplyPath] = strawberry.field(
        description="Paths from raw material to end product through the centre, shortest "
        f"first (at most {chains.MAX_PATHS})."
    )

    @classmethod
    def of(cls, surface: lists.Surface, found: chains.Neighbourhood) -> SupplyNeighbourhood:
        segment = {sid: surface.node_of("segment", p) for sid, p in found.segments.items()}
        return cls(
            centre=[segment[s] for s in found.centre if s in segment],
            segments=[
                NeighbourSegment(
                    segment=surface.node_of("segment", n.segment),
                    direction=SupplyDirection(n.direction.value),
                    hops=n.hops,
                )
                for n in found.neighbours
            ],
            edges=[SupplyEdge(from_segment_id=a, to_segment_id=b) for a, b in found.edges],
            paths=[SupplyPath(segments=[segment[s] for s in p]) for p in found.paths],
        )


# --- the fields the entity types get -----------------------------------------------------------


async def chain_map(info: Ctx, chain: IndustryChain, region: str) -> ChainMap:
    region = key_of(region, "Region")
    found = await chains.chain_map(info.context.store, chain.id_, region)
    surface = lists.surface_of(info)
    return ChainMap(
        chain=chain,
        region_code=found.region.code,
        nodes=[
            ChainMapNode(
                segment=surface.node_of("segment", n.segment),
                tier=Tier(n.segment["tier"]),
                figures=ChainFigures.of(n.figures),
                region_code=found.region.code,
            )
            for n in found.nodes
        ],
        edges=[SupplyEdge(from_segment_id=a, to_segment_id=b) for a, b in found.edges],
        totals=ChainFigures.of(found.totals),
    )


async def chokepoints(info: Ctx, chain: IndustryChain, region: str) -> ChokepointReport:
    region = key_of(region, "Region")
    rules = info.context.chain_rules
    found = await chains.chokepoints(info.context.store, chain.id_, region, rules)
    surface = lists.surface_of(info)
    return ChokepointReport(
        region_code=region,
        chokepoints=[
            Chokepoint(
                segment=surface.node_of("segment", c.segment),
                score=c.score,
                reasons=[
                    ChokepointReason(
                        rule=ChokepointRule(r.rule.value),
                        code=r.code,
                        params=cast(JSON, r.params),
                        value=r.value,
                        threshold=r.threshold,
                        strength=round(r.strength, 4),
                    )
                    for r in c.reasons
                ],
                figures=ChainFigures.of(c.figures),
                peer_median_enterprises=c.peer_median,
                downstream_output=c.downstream_output,
            )
            for c in found
        ],
        thresholds=ChokepointThresholds(
            min_enterprises=rules.min_enterprises,
            peer_ratio=rules.peer_ratio,
            external_share=rules.external_share,
            single_supplier_share=rules.single_supplier_share,
        ),
    )


async def targets(
    info: Ctx, segment: ChainSegment, region: str, page_args: dict[str, Any]
) -> TargetConnection:
    region = key_of(region, "Region")
    found = await chains.targets(info.context.store, segment.id_, region)
    return target_connection(info, f"targets|{segment.id_}|{region}", found, page_args)


async def beneficiaries(
    info: Ctx, segment: ChainSegment, region: str, page_args: dict[str, Any]
) -> BeneficiaryConnection:
    region = key_of(region, "Region")
    found = await chains.beneficiaries(info.context.store, segment.id_, region)
    tag = f"beneficiaries|{segment.id_}|{region}"
    return beneficiary_connection(info, tag, found, page_args)


async def neighbourhood(
    info: Ctx, centre: list[str], hops: int, direction: SupplyDirection
) -> SupplyNeighbourhood:
    found = await chains.neighbourhood(
        info.context.store, centre, hops, chains.Direction(str(direction.value))
    )
    return SupplyNeighbourhood.of(lists.surface_of(info), found)


async def enterprise_neighbourhood(
    info: Ctx, enterprise: Enterprise, hops: int, direction: SupplyDirection
) -> SupplyNeighbourhood:
    centre = await chains.enterprise_segments(info.context.store, enterprise.uscc)
    return await neighbourhood(info, centre, hops, direction)
