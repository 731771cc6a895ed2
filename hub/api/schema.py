"""The GraphQL schema: the first slice (regions, chains, project lookup and search).

Every error a client sees carries ``extensions.code`` from one set: BAD_USER_INPUT, NOT_FOUND,
UNAUTHENTICATED, FORBIDDEN, UNAVAILABLE, INTERNAL. Hub errors map by class; anything else is
masked as INTERNAL so no stack trace or store detail leaks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, QueryDepthLimiter, SchemaExtension
from strawberry.types import Info

from graph_schema import queries
from graph_schema.errors import HubError, NotFound
from hub.api.context import Context
from hub.api.types import IndustryChain, Project, ProjectHit, Region, RegionLevel

log = logging.getLogger(__name__)


def _as_hub_error(error: GraphQLError) -> HubError | None:
    original = error.original_error
    return original if isinstance(original, HubError) else None


class ErrorCodes(SchemaExtension):
    """Stamps ``extensions.code`` on every error, from the hub's exception tree."""

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        for error in result.errors:
            hub_error = _as_hub_error(error)
            code = hub_error.code if hub_error else "INTERNAL"
            if error.original_error is None:
                code = "BAD_USER_INPUT"
            error.extensions = {**(error.extensions or {}), "code": code}


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:
        return False  # GraphQL validation errors are the caller's, and safe to show
    if isinstance(original, HubError) and original.code != "INTERNAL":
        return False
    log.error("internal error in GraphQL resolver", exc_info=original)
    return True


@strawberry.type(description="Entry points for reading the hub's graph.")
class Query:
    @strawberry.field(description="Regions, optionally only one level (province, city, county).")
    async def regions(
        self, info: Info[Context, None], level: RegionLevel | None = None
    ) -> list[Region]:
        rows = await info.context.store.run(
            queries.REGIONS, {"level": level.value if level else None}
        )
        return [Region.from_row(row) for row in rows]

    @strawberry.field(description="One region by its GB/T 2260 code.")
    async def region(self, info: Info[Context, None], code: str) -> Region | None:
        rows = await info.context.store.run(queries.REGION, {"code": code})
        return Region.from_row(rows[0]) if rows else None

    @strawberry.field(description="Industry chains with their segments by tier.")
    async def industry_chains(self, info: Info[Context, None]) -> list[IndustryChain]:
        rows = await info.context.store.run(queries.CHAINS)
        return [IndustryChain.from_row(row) for row in rows]

    @strawberry.field(description="One project by its national project code.")
    async def project(self, info: Info[Context, None], code: str) -> Project:
        rows = await info.context.store.run(queries.PROJECT, {"code": code})
        if not rows:
            raise NotFound(f"no project {code}")
        return Project.from_row(rows[0])

    @strawberry.field(description="Projects whose name matches the text (full-text index).")
    async def project_search(
        self, info: Info[Context, None], text: str, first: int = 20
    ) -> list[ProjectHit]:
        store = info.context.store
        limit = max(1, min(first, info.context.max_page_size))
        rows = await store.run(
            queries.project_search(store.dialect), {"search": text, "limit": limit}
        )
        return [ProjectHit(code=r["code"], name=r["name"], score=float(r["score"])) for r in rows]


def build_schema(**_: Any) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[
            QueryDepthLimiter(max_depth=12),
            ErrorCodes,
            MaskErrors(should_mask_error=_should_mask),
        ],
    )
