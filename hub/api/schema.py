"""The GraphQL schema: the first slice (regions, chains, project lookup and search).

Every error a client sees carries ``extensions.code`` from one set: BAD_USER_INPUT, NOT_FOUND,
UNAUTHENTICATED, FORBIDDEN, UNAVAILABLE, INTERNAL. Hub errors map by class; anything else is
masked as INTERNAL (message replaced, details logged) so no stack trace or store detail
leaks.
"""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import QueryDepthLimiter
from strawberry.types import ExecutionContext, Info

from graph_schema import queries
from graph_schema.errors import HubError, NotFound
from hub.api.context import Context
from hub.api.types import IndustryChain, Project, ProjectHit, Region, RegionLevel

log = logging.getLogger(__name__)


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


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (NOT_FOUND, BAD_USER_INPUT, UNAVAILABLE) are answers, not incidents;
        # internal ones are logged with their trace where they are masked (hub.app).
        for error in errors:
            if error_code(error) not in ("INTERNAL", "BAD_USER_INPUT"):
                log.info("%s: %s", error_code(error), error.message)


def build_schema(**_: Any) -> strawberry.Schema:
    return _Schema(
        query=Query,
        extensions=[
            lambda: QueryDepthLimiter(max_depth=12),
        ],
    )
