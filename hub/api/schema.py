"""The GraphQL schema: queries over every entity, mutations, and the one error-code table.

Every error a client sees carries ``extensions.code`` from one set: BAD_USER_INPUT, NOT_FOUND,
UNAUTHENTICATED (KEY_EXPIRED for an expired key), FORBIDDEN, UNAVAILABLE, TIMEOUT, INTERNAL.
Hub errors map by class; anything else is masked as INTERNAL (message replaced, details logged)
so no stack trace or store detail leaks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.types import ExecutionContext, Info

from graph_schema.errors import Forbidden, HubError, InvalidInput
from hub.api import (
    alerts,
    financing,
    indicators,
    land,
    lists,
    lookahead,
    monitoring,
    paging,
    schedules,
    scoreboard,
    supervision,
)
from hub.api.access import MONITORING_READERS, ROOT_FIELDS, RoleScope, allow, may_read_type
from hub.api.aggregates import top_list
from hub.api.alerts import AlertCountQuery, AlertMutation, AlertQuery, AlertSubscription
from hub.api.compiled.executor import executor_class
from hub.api.context import Context
from hub.api.cost import cost_rule
from hub.api.entities import (
    bank,
    chain,
    enterprise,
    parcel,
    product,
    project,
    region,
    segment,
    sensor,
)
from hub.api.entities.bank import Bank, BankConnection, BankSortArg, BankWhereArg
from hub.api.entities.chain import (
    ChainSortArg,
    ChainWhereArg,
    IndustryChain,
    IndustryChainConnection,
)
from hub.api.entities.enterprise import (
    Enterprise,
    EnterpriseConnection,
    EnterpriseSortArg,
    EnterpriseWhereArg,
)
from hub.api.entities.parcel import (
    LandParcel,
    LandParcelConnection,
    ParcelSortArg,
    ParcelWhereArg,
)
from hub.api.entities.product import Product, ProductConnection, ProductSortArg, ProductWhereArg
from hub.api.entities.project import Project, ProjectConnection, ProjectSortArg, ProjectWhereArg
from hub.api.entities.region import Region, RegionConnection, RegionSortArg, RegionWhereArg
from hub.api.entities.segment import (
    ChainSegment,
    ChainSegmentConnection,
    SegmentSortArg,
    SegmentWhereArg,
)
from hub.api.entities.sensor import Sensor, SensorConnection, SensorSortArg, SensorWhereArg
from hub.api.financing import FinancingMutation, FinancingQuery
from hub.api.indicators import IndicatorMutation, IndicatorQuery
from hub.api.land import LandMutation, LandQuery
from hub.api.monitoring import MonitoringMutation, MonitoringQuery, MonitoringSubscription
from hub.api.mpi import MpiQuery
from hub.api.mutations import Mutation
from hub.api.paging import decode_global_id
from hub.api.relay import Node, NodeLookup
from hub.api.scalars import SCALAR_OVERRIDES
from hub.api.schedules import ScheduleMutation, ScheduleQuery
from hub.api.scoreboard import ScoreboardMutation, ScoreboardQuery
from hub.api.sensing import SensingQuery
from hub.api.statistics import StatisticsQuery
from hub.api.supervision import SupervisionMutation, SupervisionQuery
from hub.api.supervision_list import SupervisionCaseListQuery
from hub.settings import ExecutionMode
from ingest.errors import IngestError

# The model's entities as GraphQL types, each with its share of the schema's lists.Surface,
# assembled here from the modules that declare them (nothing fills a registry on import).
ENTITY_PARTS: Final = (
    region.PART,
    chain.PART,
    segment.PART,
    enterprise.PART,
    project.PART,
    bank.PART,
    parcel.PART,
    product.PART,
    sensor.PART,
)
ENTITY_TYPE_LIST = [part.node_type for part in ENTITY_PARTS]
# Node types outside the graph's entities, from the modules that declare them (their NODES).
_NODE_LOOKUP_LIST: Final[tuple[NodeLookup, ...]] = (
    *financing.NODES,
    *land.NODES,
    *schedules.NODES,
    *indicators.NODES,
    *alerts.NODES,
    *supervision.NODES,
    *monitoring.NODES,
)
NODE_LOOKUPS: Final = {lookup.type_name: lookup for lookup in _NODE_LOOKUP_LIST}
SURFACE: Final = lists.surface_from((*ENTITY_PARTS, scoreboard.PART))

log = logging.getLogger(__name__)

Ctx = Info[Context, None]
MAX_NODES = 100


def _as_hub_error(error: GraphQLError) -> HubError | None:
    original = error.original_error
    return original if isinstance(original, HubError) else None


def error_code(error: GraphQLError) -> str:
    """The stable code for an error: the hub error's own, BAD_USER_INPUT for GraphQL's
    parse/validation errors, INTERNAL for anything unexpected."""
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if isinstance(error.original_error, GraphQLError):
        # graphql-core reports a variable's bad value by wrapping the error that says what is
        # wrong with it; that is the client's mistake, not ours.
        return error_code(error.original_error)
    if error.original_error is None:
        return "BAD_USER_INPUT"
    hub_error = _as_hub_error(error)
    return hub_error.code if hub_error else "INTERNAL"


def _key(description: str) -> Any:
    return strawberry.argument(description=description)


# ID, so that a document passes an object's own id (type ID) in an ID variable, as client
# generators declare it. A bare key still works at the value level (key_of) for one release;
# documents that declared `$x: String!` for it move to the key argument (CHANGELOG).
_IdArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Global id, from the object's id field. For one release a bare business "
        "key is accepted here too (it was the argument's meaning before); pass keys to the "
        "key argument instead."
    ),
]


async def _lookup[T](
    info: Ctx, entity: str, cls: type[T], global_id: str | None, key: str | None, key_name: str
) -> T | None:
    """One ``entity`` by global id or by business key, exactly one of them given."""
    if (global_id is None) == (key is None):
        raise InvalidInput(f"pass either id or {key_name}, exactly one")
    found = paging.key_of(global_id, cls.__name__) if global_id is not None else key
    assert found is not None
    return await lists.by_key(info, entity, found, cls)


async def _node(info: Ctx, global_id: str) -> Node | None:
    type_name, key = decode_global_id(global_id)
    role = info.context.role
    # A role confined to a few entry points (a bank) finds through node(id:) only the types a
    # lookup names it for (its opportunities, its preference): never the general graph.
    confined = role in ROOT_FIELDS
    lookup = NODE_LOOKUPS.get(type_name)
    if lookup is not None:
        readers = lookup.readers
        if (readers is None and confined) or (readers is not None and role not in readers):
            raise Forbidden(f"the {role} role may not read {type_name}")
        found: Node | None = await lookup.fetch(info, key)
        return found
    entity = SURFACE.entity_of_type.get(type_name)
    if entity is None:
        raise InvalidInput(f"{global_id[:80]!r} is not a global id this API issued")
    if confined or not may_read_type(role, type_name):
        raise Forbidden(f"the {role} role may not read {type_name}")
    return await lists.by_key(info, entity, key, Node)


@strawberry.type(description="Entry points for reading the hub's graph.")
class Query(
    ScoreboardQuery,
    StatisticsQuery,
    MonitoringQuery,
    FinancingQuery,
    LandQuery,
    ScheduleQuery,
    IndicatorQuery,
    SensingQuery,
    AlertQuery,
    AlertCountQuery,
    SupervisionQuery,
    SupervisionCaseListQuery,
    MpiQuery,
):
    @strawberry.field(description="Any object by its global id; null when it no longer exists.")
    async def node(
        self, info: Ctx, id: Annotated[strawberry.ID, _key("A global id from an id field.")]
    ) -> Node | None:
        return await _node(info, id)

    @strawberry.field(
        description="Objects by global id, in the same order; null where missing. A malformed "
        "id, or one of a type the caller may not read, nulls only its own position and adds "
        "an error with that position's path.",
        graphql_type=list[Node | None],
    )
    async def nodes(
        self,
        info: Ctx,
        ids: Annotated[list[strawberry.ID], _key(f"Up to {MAX_NODES} global ids.")],
    ) -> list[Any]:
        if len(ids) > MAX_NODES:
            raise InvalidInput(f"ids: at most {MAX_NODES}")

        async def one(global_id: str) -> Node | HubError | None:
            # graphql-core raises an Exception found in a list at that item's path, so the
            # error nulls (and is reported at) ["nodes", i] alone.
            try:
                return await _node(info, global_id)
            except (InvalidInput, Forbidden) as exc:
                return exc

        return list(await asyncio.gather(*(one(i) for i in ids)))

    @strawberry.field(description="One region by its global id or its GB/T 2260 code.")
    async def region(
        self,
        info: Ctx,
        code: Annotated[str | None, _key("Six-digit division code.")] = None,
        id: _IdArg = None,
    ) -> Region | None:
        return await _lookup(info, "region", Region, id, code, "code")

    regions = top_list(
        "Regions (default order: code).", "region", RegionConnection, RegionWhereArg, RegionSortArg
    )

    @strawberry.field(description="One industry chain by its global id or its chain id.")
    async def industry_chain(
        self,
        info: Ctx,
        id: _IdArg = None,
        key: Annotated[str | None, _key("Chain id (chainId), e.g. nev.")] = None,
    ) -> IndustryChain | None:
        return await _lookup(info, "chain", IndustryChain, id, key, "key")

    industry_chains = top_list(
        "Industry chains (default order: id).",
        "chain",
        IndustryChainConnection,
        ChainWhereArg,
        ChainSortArg,
    )

    @strawberry.field(description="One chain segment by its global id or its segment id.")
    async def segment(
        self,
        info: Ctx,
        id: _IdArg = None,
        key: Annotated[str | None, _key("Segment id (segmentId), e.g. nev.cathode.")] = None,
    ) -> ChainSegment | None:
        return await _lookup(info, "segment", ChainSegment, id, key, "key")

    segments = top_list(
        "Chain segments (default order: id).",
        "segment",
        ChainSegmentConnection,
        SegmentWhereArg,
        SegmentSortArg,
    )

    @strawberry.field(description="One product by its global id or its product id.")
    async def product(
        self,
        info: Ctx,
        id: _IdArg = None,
        key: Annotated[str | None, _key("Product id (productId).")] = None,
    ) -> Product | None:
        return await _lookup(info, "product", Product, id, key, "key")

    products = top_list(
        "Products (default order: id).",
        "product",
        ProductConnection,
        ProductWhereArg,
        ProductSortArg,
    )

    @strawberry.field(
        description="One enterprise by its global id or its unified social credit code."
    )
    async def enterprise(
        self,
        info: Ctx,
        uscc: Annotated[str | None, _key("Unified social credit code.")] = None,
        id: _IdArg = None,
    ) -> Enterprise | None:
        return await _lookup(info, "enterprise", Enterprise, id, uscc, "uscc")

    enterprises = top_list(
        "Enterprises (default order: name).",
        "enterprise",
        EnterpriseConnection,
        EnterpriseWhereArg,
        EnterpriseSortArg,
    )

    @strawberry.field(description="One land parcel by its global id or its parcel number.")
    async def parcel(
        self,
        info: Ctx,
        id: _IdArg = None,
        key: Annotated[str | None, _key("Parcel number (parcelId).")] = None,
    ) -> LandParcel | None:
        return await _lookup(info, "parcel", LandParcel, id, key, "key")

    parcels = top_list(
        "Land parcels (default order: parcel number).",
        "parcel",
        LandParcelConnection,
        ParcelWhereArg,
        ParcelSortArg,
    )

    @strawberry.field(description="One project by its global id or its national project code.")
    async def project(
        self,
        info: Ctx,
        code: Annotated[str | None, _key("National project code.")] = None,
        id: _IdArg = None,
    ) -> Project | None:
        return await _lookup(info, "project", Project, id, code, "code")

    projects = top_list(
        "Projects (default order: code; by relevance with search).",
        "project",
        ProjectConnection,
        ProjectWhereArg,
        ProjectSortArg,
    )

    @strawberry.field(description="One bank by its global id or its bank id.")
    async def bank(
        self,
        info: Ctx,
        id: _IdArg = None,
        key: Annotated[str | None, _key("Bank id (bankId).")] = None,
    ) -> Bank | None:
        return await _lookup(info, "bank", Bank, id, key, "key")

    banks = top_list(
        "Banks (default order: id).", "bank", BankConnection, BankWhereArg, BankSortArg
    )

    @strawberry.field(
        description="One sensor by its global id or its sensor id (not for the bank role).",
        permission_classes=[allow(MONITORING_READERS)],
    )
    async def sensor(
        self,
        info: Ctx,
        id: _IdArg = None,
        key: Annotated[str | None, _key("Sensor id (sensorId), as in MQTT topics.")] = None,
    ) -> Sensor | None:
        return await _lookup(info, "sensor", Sensor, id, key, "key")

    sensors = top_list(
        "Sensors (default order: id; not for the bank role).",
        "sensor",
        SensorConnection | None,
        SensorWhereArg,
        SensorSortArg,
        permission_classes=[allow(MONITORING_READERS)],
    )


@strawberry.type(
    name="Mutation", description="Changes to the graph (operator and admin roles only)."
)
class _Mutation(
    Mutation,
    ScoreboardMutation,
    MonitoringMutation,
    FinancingMutation,
    LandMutation,
    ScheduleMutation,
    IndicatorMutation,
    AlertMutation,
    SupervisionMutation,
):
    pass


@strawberry.type(
    name="Subscription", description="Live feeds over WebSocket (graphql-transport-ws at /graphql)."
)
class _Subscription(MonitoringSubscription, AlertSubscription):
    pass


INTERNAL_MESSAGE = "Internal server error"


def stamp(errors: list[GraphQLError] | None) -> None:
    """Give every error its ``extensions.code`` and mask what must not reach a client: the one
    place both HTTP answers and subscription messages go through."""
    for error in errors or []:
        code = error_code(error)
        error.extensions = {**(error.extensions or {}), "code": code}
        if code == "INTERNAL":
            log.error("internal error in %s", error.path, exc_info=error.original_error)
            error.message = INTERNAL_MESSAGE
        elif code == "UNAVAILABLE":
            # The store's own message names hosts, sockets and data paths; it is logged (in
            # process_errors) and the client only learns which store to wait for.
            which = "telemetry" if isinstance(error.original_error, IngestError) else "graph"
            error.message = f"The {which} store is unavailable; try again shortly."


class _Schema(lists.SurfaceSchema):
    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        # Subscriptions: stamp codes on each result's errors as they stream out.
        results = await super().stream(*args, **kwargs)

        async def stamped() -> AsyncGenerator[Any, None]:
            try:
                async for result in results:
                    stamp(getattr(result, "errors", None))
                    yield result
            finally:
                await results.aclose()

        return stamped()

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (NOT_FOUND, BAD_USER_INPUT, UNAVAILABLE) are answers, not incidents;
        # internal ones are logged with their trace where they are masked (hub.app).
        for error in errors:
            if error_code(error) not in ("INTERNAL", "BAD_USER_INPUT"):
                log.info("%s: %s", error_code(error), error.message)


# At least as strict as graphql-armor's defaults (depth 6, 15 aliases, 1,000 tokens, cost
# 5,000); the price of an operation is hub.api.cost's.
MAX_DEPTH = 6
# Distinct operation texts whose parsed and validated documents are kept: front ends send a
# small fixed set, and a text outside the caches is simply parsed and validated again.
_CACHED_DOCUMENTS = 512


@dataclass(frozen=True, slots=True)
class Limits:
    """What one operation may ask for (HUB_HTTP_* settings)."""

    max_depth: int = MAX_DEPTH
    max_tokens: int = 1000
    max_aliases: int = 15
    max_cost: int = 5000
    max_page_size: int = 100
    introspection: bool = True


def _shape_rules(limits: Limits) -> type[AddValidationRules]:
    # Strawberry's depth and alias rules, built once per schema: QueryDepthLimiter and
    # MaxAliasesLimiter build a new rule class per request, which would make every request miss
    # the validation cache.
    rules: list[type[ASTValidationRule]] = [
        create_validator(limits.max_depth, None, None),
        create_alias_validator(limits.max_aliases),
        cost_rule(limits.max_cost, limits.max_page_size),
    ]

    class ShapeLimits(AddValidationRules):
        def __init__(self) -> None:
            super().__init__(rules)

    return ShapeLimits


def build_schema(
    limits: Limits | None = None,
    *,
    observers: Sequence[Any] = (),
    execution: ExecutionMode = ExecutionMode.COMPILED,
) -> lists.SurfaceSchema:
    """The schema; ``observers`` are extensions that run first, around everything (metrics);
    ``execution`` says whether reads compile (``hub.api.compiled``)."""
    limits = limits or Limits()
    extensions: list[Any] = [
        *observers,
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=_CACHED_DOCUMENTS),
        _shape_rules(limits),
        lambda: ValidationCache(maxsize=_CACHED_DOCUMENTS),
        RoleScope,
    ]
    if not limits.introspection:
        extensions.append(DisableIntrospection)
    schema = _Schema(
        scalar_overrides=SCALAR_OVERRIDES,
        query=Query,
        mutation=_Mutation,
        subscription=_Subscription,
        types=ENTITY_TYPE_LIST,
        extensions=extensions,
        execution_context_class=executor_class(execution),
    )
    schema.surface = lookahead.install(schema, SURFACE)
    return schema
