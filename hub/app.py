"""The composition root: ``create_app(settings)`` and the lifespan that starts and stops stores."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from graph_schema import GraphStore, GraphUnavailable, migrate, open_graph_store
from hub.api.context import Context
from hub.api.schema import build_schema, error_code
from hub.settings import Settings

log = logging.getLogger(__name__)


class _GraphQLApp(GraphQL[Context, None]):
    def __init__(self, state: _State, **kwargs: Any) -> None:
        super().__init__(build_schema(), **kwargs)
        self._state = state

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # One place stamps extensions.code on every error: parse, validation and resolver alike.
        response = await super().process_result(request, result)
        formatted_errors = cast(list[dict[str, Any]], response.get("errors") or [])
        for error, formatted in zip(result.errors or [], formatted_errors, strict=True):
            code = error_code(error)
            formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
            if code == "INTERNAL":
                log.error(
                    "internal error in %s", formatted.get("path"), exc_info=error.original_error
                )
                formatted["message"] = "Internal server error"
        return response

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(
            store=self._state.store, max_page_size=self._state.settings.http.max_page_size
        )


class _State:
    def __init__(self, settings: Settings, store: GraphStore | None) -> None:
        self.settings = settings
        self._store = store

    @property
    def store(self) -> GraphStore:
        if self._store is None:
            raise GraphUnavailable("the graph store is not open yet")
        return self._store

    @store.setter
    def store(self, value: GraphStore | None) -> None:
        self._store = value


async def open_store(settings: Settings) -> GraphStore:
    g = settings.graph
    store = await open_graph_store(
        g.url,
        data_dir=settings.data_dir,
        user=g.user,
        password=g.password.get_secret_value() if g.password else None,
        database=g.database,
        graph_name=g.name,
        pool_size=g.pool_size,
        query_timeout_s=g.timeout_s,
    )
    report = await migrate(store)
    if report.to_version != report.from_version:
        log.info("graph schema migrated %s -> %s", report.from_version, report.to_version)
    # Serve only once indexes answer: a full-text search on a rebuilding index finds nothing.
    building = await store.wait_until_indexed(timeout_s=max(g.timeout_s * 10, 120))
    if building:
        log.info("waited for %d indexes to finish building", building)
    return store


def create_app(settings: Settings, *, store: GraphStore | None = None) -> Starlette:
    """The ASGI app. With ``store`` given, the caller owns it; otherwise the lifespan opens it."""
    state = _State(settings, store)
    graphql = _GraphQLApp(state, graphql_ide="graphiql" if settings.graphiql else None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = store is None
        if owned:
            state.store = await open_store(settings)
            log.info("graph store: %s", state.store.describe())
        try:
            yield
        finally:
            if owned:
                await state.store.close()
                state.store = None

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        try:
            await state.store.ping()
        except GraphUnavailable as exc:
            return JSONResponse({"status": "unavailable", "graph": str(exc)}, status_code=503)
        return JSONResponse({"status": "ready", "graph": state.store.describe()})

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
