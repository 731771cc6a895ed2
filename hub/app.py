"""The composition root: ``create_app(settings)`` and the lifespan that starts and stops stores."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationDefinitionNode, parse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from graph_schema import GraphStore, GraphUnavailable
from graph_schema.errors import Unauthenticated
from hub import offload, wire
from hub.api.context import Context
from hub.api.schema import Limits, build_schema, stamp
from hub.auth import Authenticator, KeyExpired, Principal
from hub.clock import Clock, system_clock
from hub.compression import Compression
from hub.console import console_routes
from hub.cors import CORS, Policy
from hub.graphiql import graphiql_routes
from hub.graphiql import page as graphiql_page
from hub.headers import SecurityHeaders
from hub.lifecycle import Opened, bounded, freeze_startup_heap, readyz_for
from hub.logs import RequestContext
from hub.metrics import graphql_extension, route_of
from hub.monitoring.alerts_notify import start_notifier
from hub.monitoring.watch import Watch
from hub.persisted import Persisted, PersistedQueryError, named_in
from hub.promotion.chains import Rules
from hub.relay import Relay, alert_handler
from hub.roles import Role
from hub.settings import Environment, Settings
from hub.store import open_store
from hub.telemetry import Telemetry, mqtt_config, open_telemetry
from hub.texts import language
from hub.throttle import Throttle
from ingest.bus import EventFilter, LiveBus
from ingest.store import CommitResult

log = logging.getLogger(__name__)

# GraphQL over HTTP (graphql.github.io/graphql-over-http, draft): the two response media types,
# in the server's order of preference, and the one request media type.
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_RESPONSE_TYPES = (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)
_UTF8 = ("utf-8", "utf8")
# Subscriptions are served over WebSocket, never by a plain GET or POST.
_OPERATIONS_BY_METHOD = {
    "GET": frozenset({OperationType.QUERY}),
    "POST": frozenset({OperationType.QUERY, OperationType.MUTATION}),
}


_DOCUMENT_PARAMS = ("query", "documentId", "doc_id", "extensions")


class _Refused(HTTPException):
    """A request /graphql will not run; answered with a GraphQL ``errors`` body, no ``data``."""

    def __init__(
        self,
        status_code: int,
        reason: str,
        *,
        headers: Mapping[str, str] | None = None,
        code: str = "BAD_USER_INPUT",
    ) -> None:
        super().__init__(status_code, reason)
        self.headers = dict(headers or {})
        self.code = code


class _WebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages as text frames: strawberry sends ``bytes`` from
    ``encode_json`` as binary frames, which the protocol's clients do not read."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(wire.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class _GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view held to the GraphQL-over-HTTP draft: content negotiation, status
    codes by response media type, strict request parsing, and GraphiQL only for browsers."""

    websocket_adapter_class = _WebSocketAdapter

    def __init__(self, state: _State, **kwargs: Any) -> None:
        settings = state.settings
        http = settings.http
        limits = Limits(
            max_depth=http.max_depth,
            max_tokens=http.max_tokens,
            max_aliases=http.max_aliases,
            max_cost=http.max_cost,
            max_page_size=http.max_page_size,
            introspection=settings.environment is not Environment.PRODUCTION,
        )
        observers = [graphql_extension(state.metrics)]
        schema = build_schema(limits, observers=observers, execution=settings.api.execution)
        super().__init__(schema, **kwargs)
        self._state = state
        self._persisted = Persisted.of(http)
        self._watchers: set[asyncio.Task[None]] = set()
        chains = settings.chains
        # Settings do not change while the app runs: built once, not per request's context.
        self._chain_rules = Rules(
            min_enterprises=chains.min_enterprises,
            peer_ratio=chains.peer_ratio,
            external_share=chains.external_share,
            single_supplier_share=chains.single_supplier_share,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response = _cache_policy(request, await self._respond(request))
        await response(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        # UTF-8 without \uXXXX escapes (hub.wire): every answer, batched or single, and the
        # WebSocket messages (_WebSocketAdapter) go through here.
        return wire.dumps(data)

    async def _respond(self, request: Request) -> Response:
        # Per caller (key, else address): a request rate and a number in flight; per address,
        # failed key guesses. Over either: 429 with Retry-After, before any work.
        throttle = self._state.throttle
        source = request.client.host if request.client else "unknown"
        caller = Throttle.caller(request.headers.get("authorization"), source)
        wait = throttle.admit(caller, source)
        if wait is not None:
            media_type = negotiate(request.headers.get("accept")) or APPLICATION_JSON
            exc = _Refused(429, f"too many requests; retry after {wait:g} s", code="RATE_LIMITED")
            body = await self.process_result(request, _request_error(exc.reason, exc.code))
            return Response(
                self.encode_json(body),
                status_code=429,
                headers={"Retry-After": f"{wait:g}"},
                media_type=_content_type(media_type),
            )
        try:
            return await self._respond_admitted(request)
        finally:
            throttle.release(caller)

    async def _respond_admitted(self, request: Request) -> Response:
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            return await self.render_graphql_ide(request)
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            # The draft recommends 406 over answering in a type the client did not ask for.
            return PlainTextResponse(
                f"/graphql answers {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}", status_code=406
            )
        try:
            await self._check_body(request)
            return await asyncio.wait_for(
                self.run(request), timeout=self._state.settings.http.timeout_s
            )
        except TimeoutError:
            # The operation is cancelled; a half-done mutation is per item (each item commits
            # on its own), so what finished is stored and the client can re-send the rest.
            seconds = self._state.settings.http.timeout_s
            exc = _Refused(504, f"the request ran longer than {seconds:g} s", code="TIMEOUT")
            body = await self.process_result(request, _request_error(exc.reason, exc.code))
            return Response(
                self.encode_json(body), status_code=504, media_type=_content_type(media_type)
            )
        except HTTPException as exc:
            headers = exc.headers if isinstance(exc, _Refused) else {}
            if exc.status_code == 405:
                headers.setdefault("Allow", "GET, POST")
            code = exc.code if isinstance(exc, _Refused) else "BAD_USER_INPUT"
            body = await self.process_result(request, _request_error(exc.reason, code))
            return Response(
                self.encode_json(body),
                status_code=exc.status_code,
                headers=headers,
                media_type=_content_type(media_type),
            )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # The key from connection_init's payload, else from the upgrade request's header.
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if authorization is None and context.upgrade_authorization is not None:
            authorization = context.upgrade_authorization
        try:
            principal = await self._state.authenticator.authenticate(
                authorization if isinstance(authorization, str) else None
            )
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": str(exc)}) from None
        context.role, context.subject = principal.role, principal.subject
        context.key_id = principal.key_id
        if principal.key_id is not None and context.websocket is not None:
            assert isinstance(authorization, str)
            task = asyncio.create_task(self._watch_key(context.websocket, authorization))
            self._watchers.add(task)
            task.add_done_callback(self._watchers.discard)
        return cast(UnsetType, UNSET)

    async def _watch_key(self, websocket: WebSocket, authorization: str) -> None:
        """Close a subscription socket (4403) once its key is revoked or has expired: checked
        against the store every HUB_AUTH_CACHE_S, as long as the socket is open."""
        interval = max(0.5, self._state.settings.auth.cache_s)
        while True:
            await asyncio.sleep(interval)
            if WebSocketState.DISCONNECTED in (websocket.client_state, websocket.application_state):
                return
            reason = await self._state.authenticator.recheck(authorization)
            if reason is not None:
                log.info("closing a WebSocket: its API key was %s", reason)
                with contextlib.suppress(RuntimeError, OSError):
                    await websocket.close(code=4403, reason=f"API key {reason}")
                return

    async def _check_body(self, request: Request) -> None:
        """Refuse a body over HUB_HTTP_MAX_BODY_BYTES before reading more of it than that."""
        limit = self._state.settings.http.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _Refused(413, f"the request body exceeds {limit} bytes")
        if request.method != "POST":
            return
        size = 0
        chunks = []
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _Refused(413, f"the request body exceeds {limit} bytes")
            chunks.append(chunk)
        # Starlette serves request.body() from this cache once the stream has been read.
        request._body = b"".join(chunks)

    @property
    def graphql_ide_html(self) -> str:
        # Our own page (hub/graphiql.py): its scripts come from this hub, not strawberry's CDN.
        return graphiql_page()

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A browser asks for HTML; curl's bare */* gets the JSON "no query" error instead.
        return (
            self.graphql_ide is not None
            and request.method == "GET"
            # A document sent, or named (persisted, trusted): a request, not a visit.
            and not any(request.query_params.get(p) for p in _DOCUMENT_PARAMS)
            and _accepts_html(request.headers.get("accept"))
        )

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # The negotiated type rides on the sub-response, the one object strawberry carries from
        # the request to create_response; _respond has already refused an unacceptable Accept.
        sub_response.media_type = negotiate(request.headers.get("accept")) or GRAPHQL_RESPONSE_JSON
        return sub_response

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData:
        if request.method == "GET":
            params = request.query_params
            data: dict[str, object] = {
                "query": params.get("query"),
                # The draft: an empty operationName is the same as none.
                "operationName": params.get("operationName") or None,
            }
            for name in ("documentId", "doc_id"):
                if params.get(name):
                    data[name] = params[name]
            for name in ("variables", "extensions"):
                raw = params.get(name)
                data[name] = _decode_json(raw, f"the {name} parameter") if raw else None
            return _request_data(data, self._persisted)
        content_type, charset = _request_media_type(request.content_type or "")
        if content_type != APPLICATION_JSON or charset not in _UTF8:
            raise _Refused(
                415,
                f"POST /graphql needs Content-Type: {APPLICATION_JSON} (UTF-8); "
                f"got {request.content_type or 'none'}",
            )
        body = _decode_json(await request.get_body(), "the request body")
        return _request_data(body, self._persisted)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        method = request_adapter.method
        if request_data.operation_name is None and request_data.query is not None:
            several = _operations(request_data.query, self._state.settings.http.max_tokens)
            if len(several) > 1:
                # The GraphQL spec's GetOperation: which one to run is the request's to say.
                return _request_error(
                    f"the document has {len(several)} operations ({', '.join(several)}); "
                    "name the one to run in operationName"
                )
        try:
            return await self.schema.execute(
                request_data.query,
                variable_values=request_data.variables,
                context_value=context,
                root_value=root_value,
                operation_name=request_data.operation_name,
                allowed_operation_types=_OPERATIONS_BY_METHOD.get(method, frozenset()),
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.MUTATION and method == "GET":
                # GET is a safe method: the draft says 405 and no execution.
                raise _Refused(
                    405,
                    "mutations are not allowed over GET; send them with POST",
                    headers={"Allow": "POST"},
                ) from exc
            return _request_error(
                "subscriptions are served over WebSocket (graphql-transport-ws) at /graphql"
            )
        except CannotGetOperationTypeError as exc:
            return _request_error(exc.as_http_error_reason())
        except MissingQueryError:
            return _request_error("the query is empty")

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # One place (hub.api.schema.stamp) gives every error its extensions.code and masks
        # what must not leak: parse, validation and resolver errors alike, as for subscriptions.
        stamp(result.errors)
        if result.errors and isinstance(request, Request):
            request.state.graphql_errors = True  # such an answer is not for caches
        if self._state.settings.environment is Environment.PRODUCTION:
            # "Did you mean …?" names fields a caller did not know of: not in production.
            for error in result.errors or []:
                error.message = _SUGGESTION.sub("", error.message)
        response = await super().process_result(request, result)
        if result.errors and result.data is None and not any(e.path for e in result.errors):
            # A request error (parse, validation, operation, variables): nothing was executed,
            # so the GraphQL spec says the response has no data entry at all.
            response.pop("data", None)
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type or GRAPHQL_RESPONSE_JSON
        status = 200
        if media_type == GRAPHQL_RESPONSE_JSON and isinstance(response_data, dict):
            status = _status(response_data)
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or status,
            media_type=_content_type(media_type),
        )
        # As strawberry's own create_response: headers and tasks a resolver set on the
        # sub-response go out with the answer.
        response.headers.raw.extend(sub_response.headers.raw)
        response.background = sub_response.background
        return response

    async def get_context(self, request: Any, response: Any) -> Context:
        http = self._state.settings.http
        authorization = request.headers.get("authorization")
        if isinstance(request, WebSocket):
            # Browsers cannot set headers on the upgrade: the key usually comes in
            # connection_init, and on_ws_connect decides. Until then the socket may do nothing.
            principal = Principal(Role.ANONYMOUS)
        else:
            try:
                principal = await self._state.authenticator.authenticate(authorization)
            except Unauthenticated as exc:
                if authorization and not isinstance(exc, KeyExpired):
                    # A wrong key, not a missing or an expired one: a guess.
                    client = getattr(request, "client", None)
                    self._state.throttle.failed_authentication(client.host if client else "unknown")
                raise _Refused(
                    401, str(exc), headers={"WWW-Authenticate": "Bearer"}, code=exc.code
                ) from None
        return Context(
            store=self._state.store,
            role=principal.role,
            subject=principal.subject,
            key_id=principal.key_id,
            max_page_size=http.max_page_size,
            batching=self._state.batching,
            chain_rules=self._chain_rules,
            scoreboard=self._state.settings.scoreboard,
            telemetry=self._state.telemetry,
            watch=self._state.watch,
            sensing=self._state.settings.sensing,
            upgrade_authorization=authorization if isinstance(request, WebSocket) else None,
            # A browser cannot set headers on a WebSocket upgrade: ?lang= stands in for them.
            language=_language(
                request.query_params.get("lang") or request.headers.get("accept-language")
            ),
            websocket=request if isinstance(request, WebSocket) else None,
        )


class _State(Opened):
    def __init__(
        self,
        settings: Settings,
        store: GraphStore | None,
        batching: bool,
        telemetry: Telemetry | None = None,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(settings, store, telemetry)
        self.clock = clock
        self.batching = batching
        self.watch: Watch | None = None
        self.relay: Relay | None = None
        self._authenticator: Authenticator | None = None
        http = settings.http
        self.throttle = Throttle(
            rate_per_s=http.rate_per_s,
            burst=http.rate_burst,
            concurrency=http.concurrency,
            guesses_per_min=settings.auth.guesses_per_min,
        )

    @property
    def authenticator(self) -> Authenticator:
        # Built on first use: the store is opened by the lifespan, after the app exists.
        if self._authenticator is None:
            auth = self.settings.auth
            self._authenticator = Authenticator(
                self.store,
                anonymous_role=auth.anonymous_role,
                cache_s=auth.cache_s,
                clock=self.clock,
            )
        return self._authenticator


@dataclass(frozen=True, slots=True)
class DemoFeeds:
    """What ``hub demo`` adds to the hub: an embedded broker and simulated site feeds."""

    labor_salt: bytes
    # Start an embedded amqtt broker on HUB_MQTT_URL's port (no HUB_MQTT_URL was given).
    embedded_broker: bool = True
    simulate: bool = True
    # Run on the store as soon as it is open, before the feeds start: the demo seeds (on its
    # first run) and makes its keys here, on the store it then serves. Opening the store apart
    # for each step started the embedded FalkorDB three times, and each start reloads the whole
    # graph and rebuilds its indexes.
    prepare: Callable[[GraphStore], Awaitable[None]] | None = None


def create_app(
    settings: Settings,
    *,
    store: GraphStore | None = None,
    telemetry: Telemetry | None = None,
    batching: bool = True,
    demo: DemoFeeds | None = None,
    watch: Watch | None = None,
    clock: Clock = system_clock,
    worker: bool = False,
) -> Starlette:
    """The ASGI app; its lifespan is the hub's start-up: open the graph store, prepare the
    demo, start the embedded broker, open telemetry (MQTT ingest, cameras, satellite as the
    settings say), the relay, the watch and the demo feeds; then stop them in reverse.

    ``store`` and ``telemetry``, when given, are used instead of opening them from the settings
    (tests inject the stores their fixtures hold); their caller owns and closes them, and
    everything else still starts as configured. ``watch`` likewise replaces the one
    ``HUB_ALERTS_ENABLED`` would start.

    ``batching=False`` resolves each related field with its own store call; only the benchmark
    uses it, as the naive baseline. ``clock`` is what key expiry is judged by (tests inject
    one). ``worker``: one of ``hub serve --workers`` (hub/workers.py): the supervisor has
    started and migrated the store and runs the singletons, so this app attaches to the store
    and keeps a watch that only mirrors evidence and serves alerts."""
    state = _State(settings, store, batching, telemetry, clock)
    state.watch = watch
    state.metrics.watch = watch
    graphql = _GraphQLApp(state, graphql_ide="graphiql" if settings.graphiql else None)

    limit = settings.http.shutdown_timeout_s
    # Analytics run in worker processes, killed at the request's deadline (hub.offload).
    offload.deadline_s = settings.http.timeout_s

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(offload.shutdown)
            if store is None:
                opened = await open_store(settings, attach=worker, migrated=worker)
                state.store = opened
                stack.push_async_callback(bounded, "graph store", state.forget_store(), limit)
            else:
                opened = store
            log.info("graph store: %s", state.store.describe())
            if demo is not None and demo.prepare is not None:
                await demo.prepare(opened)
                # Indexes follow writes; this only checks that none is still building.
                await opened.wait_until_indexed(max(settings.graph.timeout_s * 10, 120))
            force_protocol = None
            if demo is not None and demo.embedded_broker:
                from hub.demo.live import embedded_broker

                await stack.enter_async_context(
                    embedded_broker(settings.mqtt.url, shutdown_s=limit)
                )
                force_protocol = 4  # amqtt speaks MQTT 3.1.1
            if telemetry is None:
                state.telemetry = await open_telemetry(
                    settings,
                    state.store,
                    labor_salt=demo.labor_salt if demo is not None else None,
                    force_protocol=force_protocol,
                )
                stack.push_async_callback(bounded, "telemetry", state.close_telemetry(), limit)
            else:
                state.telemetry = telemetry
            state.metrics.attach(state.telemetry)
            if settings.mqtt.relay:
                state.relay = start_relay(settings, state.telemetry)
                state.metrics.relay = state.relay
            if settings.alerts.enabled and watch is None:
                state.watch = start_watch(
                    settings, state.store, state.telemetry, state.relay, mirror=worker
                )
                state.metrics.watch = state.watch
                if state.relay is not None:
                    state.relay.on_alert = alert_handler(state.watch)
            if demo is not None and demo.simulate:
                from hub.demo.live import simulate

                state.telemetry.start(
                    "simulator",
                    simulate(
                        settings,
                        state.store,
                        state.telemetry,
                        protocol=force_protocol or settings.mqtt.protocol,
                    ),
                )
                if state.watch is not None:
                    from hub.demo.live import demo_supervision

                    state.telemetry.start(
                        "demo-supervision",
                        demo_supervision(state.watch, state.store, settings),
                    )
                if not settings.satellite.enabled:
                    from hub.demo.satellite import simulate_satellite

                    state.telemetry.start(
                        "satellite-simulator",
                        simulate_satellite(settings, state.store, state.telemetry),
                    )
            freeze_startup_heap()
            yield

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        return readyz_for(request, settings, await _readyz(request))

    async def _readyz(request: Request) -> JSONResponse:
        try:
            await state.store.ping()
        except GraphUnavailable as exc:
            return JSONResponse({"status": "unavailable", "graph": str(exc)}, status_code=503)
        body: dict[str, Any] = {"status": "ready", "graph": state.store.describe()}
        if state.telemetry is not None:
            body["telemetry"] = state.telemetry.store.describe()
            if state.telemetry.ingest is not None:
                body["broker_connected"] = state.telemetry.connected
                if not state.telemetry.ingest_running:
                    # The in-process subscriber failed and waits to be restarted.
                    body["status"] = "unavailable"
                    body["ingest_error"] = state.telemetry.ingest_failure
                    return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    if settings.metrics.enabled:
        routes.append(Route("/metrics", state.metrics.endpoint))
    # The web console (hub/console.py): / and /assets/.
    routes += console_routes()
    if settings.graphiql:
        # GraphiQL's scripts and styles (hub/graphiql.py), served here: no CDN.
        routes += graphiql_routes()
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Compression, minimum_size=settings.http.compress_min_bytes)
    # Outside the headers and the routes: a preflight is answered here, whatever the path.
    app.add_middleware(CORS, policy=Policy.of(settings.http))
    app.add_middleware(RequestContext, route_of=route_of, observer=state.metrics.observe_http)
    app.state.metrics = state.metrics
    return app


def start_watch(
    settings: Settings,
    store: GraphStore,
    telemetry: Telemetry,
    relay: Relay | None = None,
    *,
    mirror: bool = False,
) -> Watch:
    """Evidence, MPI and alerts as background tasks of the telemetry runtime (they stop
    with it); alert changes go out on MQTT too when the hub has a subscriber or a relay.
    ``mirror``: a worker's watch, which raises nothing (the supervisor's does) and only keeps
    its evidence current for the API (``Watch.mirror``)."""
    watch = Watch.of(settings, store, telemetry.store)
    if relay is not None:
        # On the relay's connection, whose no-local subscription keeps the echo away.
        watch.feed.publisher = relay.publish
    elif telemetry.ingest is not None and settings.mqtt.republish:
        watch.feed.publisher = telemetry.ingest.publish
    if mirror:
        watch.mirroring = True
        telemetry.start("watch-mirror", watch.mirror(telemetry.bus))
        return watch
    telemetry.start("watch-readings", watch.follow(telemetry.bus))
    telemetry.start("watch", watch.run())
    start_notifier(settings, watch, telemetry)
    return watch


# Events of this process's own commits waiting to reach its feeds beside relayed ones.
_FORWARD_QUEUE = 100_000


def start_relay(settings: Settings, telemetry: Telemetry) -> Relay:
    """Follow hub/v1/events/# into this hub's live bus: an API replica that does not ingest,
    or a hub that ingests only its share of a shared subscription."""
    if telemetry.ingest is not None:
        # This process ingests too. Its republisher follows the pipeline's bus, so relayed
        # events must not go there (they would be republished and come back, forever): the
        # API and the watch get a bus of their own that both feed.
        source, view = telemetry.bus, LiveBus(default_queue=telemetry.live_queue)
        forwarded = source.subscribe(EventFilter(), maxsize=_FORWARD_QUEUE)

        async def forward() -> None:
            async with forwarded:
                async for event in forwarded:
                    view.publish((event,))

        telemetry.start("relay-forward", forward())
        telemetry.bus = view
        telemetry.stoppers.append(source.close)
    relay = Relay(mqtt_config(settings.mqtt), telemetry.bus)
    if telemetry.ingest is not None:
        # What this process commits reaches its feeds directly; its echo is dropped.
        previous = telemetry.pipeline.on_commit

        def on_commit(result: CommitResult, committed_ms: int) -> None:
            relay.remember(result)
            if previous is not None:
                previous(result, committed_ms)

        telemetry.pipeline.on_commit = on_commit
    telemetry.start("relay", relay.run())
    # Stopped before the telemetry tasks are cancelled, so paho's thread is joined cleanly.
    telemetry.stoppers.append(relay.stop)
    return relay


@lru_cache(maxsize=256)  # a few distinct Accept headers; asked twice per request
def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header, or ``None`` when neither is accepted.

    Each type takes the quality of the most specific range that covers it (RFC 9110 §12.5.1);
    the higher quality wins, then the range the client listed first, then our preference
    (graphql-response+json, so ``*/*`` gets it). A missing header counts as
    graphql-response+json, the draft's rule since its 2025-01-01 watershed.
    """
    if accept is None or not accept.strip():
        return GRAPHQL_RESPONSE_JSON
    ranges = _media_ranges(accept)
    best: tuple[float, int, int] | None = None
    chosen: str | None = None
    for preference, media_type in enumerate(_RESPONSE_TYPES):
        covering = (media_type, media_type.split("/")[0] + "/*", "*/*")
        match = next(
            (
                (quality, position)
                for candidate in covering
                for position, (name, quality) in enumerate(ranges)
                if name == candidate
            ),
            None,
        )
        if match is None or match[0] <= 0:
            continue
        key = (match[0], -match[1], -preference)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def _accepts_html(accept: str | None) -> bool:
    return any(name == "text/html" and q > 0 for name, q in _media_ranges(accept or ""))


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    # (media range, quality) in the client's order. A range that asks for a charset other than
    # UTF-8 is dropped: every response here is UTF-8. A malformed weight drops its range.
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if not name:
            continue
        quality = 1.0
        usable = True
        for param in params:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"').lower()
            if key == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    usable = False
            elif key == "charset" and value not in _UTF8:
                usable = False
        if usable:
            ranges.append((name.lower(), quality))
    return ranges


# The language of an Accept-Language header (or ?lang=): a few distinct values.
_language = lru_cache(maxsize=256)(language)


def _content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


# A GET answer depends on the caller's key (its role), the negotiated media type and the
# language of its messages; a cache may keep it for that caller only and must ask again.
_GET_VARY = "Authorization, Accept, Accept-Language"
_REVALIDATE = "private, no-cache"


def _cache_policy(request: Request, response: Response) -> Response:
    """A successful GET answer gets a strong ETag (a hash of its body) and is revalidated each
    time: If-None-Match with that tag gets 304 without the body. Anything else (POST, an
    answer with errors, a refusal) is no-store."""
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/html"):
        return response  # GraphiQL's page
    if (
        request.method != "GET"
        or response.status_code != 200
        or getattr(request.state, "graphql_errors", False)
        or not content_type.startswith(_RESPONSE_TYPES)
    ):
        response.headers.setdefault("Cache-Control", "no-store")
        return response
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": _REVALIDATE, "Vary": _GET_VARY}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def _matches(if_none_match: str | None, etag: str) -> bool:
    # RFC 9110 §13.1.2: weak comparison, and * matches any current representation.
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _status(response: GraphQLHTTPResponse) -> int:
    # graphql-response+json: an executed document is 200 even with field errors; a response
    # without data is a request error, 400, unless what stopped it was on our side.
    if "data" in response:
        return 200
    codes = {
        cast(dict[str, Any], error).get("extensions", {}).get("code")
        for error in response.get("errors") or []
    }
    if "INTERNAL" in codes:
        return 500
    if "UNAVAILABLE" in codes:
        return 503
    return 400


def _request_error(message: str, code: str = "BAD_USER_INPUT") -> ExecutionResult:
    # The code rides in the extensions, which stamp keeps; no path, so no data entry.
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions={"code": code})])


_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def _decode_json(raw: str | bytes, what: str) -> object:
    try:
        return json.loads(raw)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        raise _Refused(400, f"{what} is not valid JSON: {exc}") from exc
    except RecursionError:  # nested thousands of levels deep: a 400, not a 500 and a trace
        raise _Refused(400, f"{what} is nested too deeply") from None


@lru_cache(maxsize=512)
def _operations(query: str, max_tokens: int) -> tuple[str, ...]:
    """The names of a document's operations ("anonymous" for one without); none when the
    document does not parse, which execution then reports. Cached by text, as strawberry's
    parser and validation caches are (hub.api.schema): a client sends the same few documents,
    and parsing the city page's query cost about 1 ms of every request."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return ()
    return tuple(
        d.name.value if d.name else "anonymous"
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )


def _request_data(data: object, persisted: Persisted) -> GraphQLRequestData:
    # The draft's well-formed GraphQL-over-HTTP request: anything else is a 400 before execution.
    if not isinstance(data, dict):
        raise _Refused(400, "a GraphQL request is a JSON object with a query string")
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        raise _Refused(400, "query must be a string")
    try:
        # A document named by its id or its hash (hub.persisted), else the query sent.
        query = persisted.document(query, named_in(data))
    except PersistedQueryError as exc:
        raise _Refused(exc.status, str(exc), code=exc.code) from None
    operation_name = data.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _Refused(400, "operationName must be a string or null")
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise _Refused(400, "variables must be a JSON object or null")
    extensions = data.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise _Refused(400, "extensions must be a JSON object or null")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions,
    )


@functools.lru_cache(maxsize=256)
def _request_media_type(content_type: str) -> tuple[str, str]:
    """A request's Content-Type as its media type and charset (default UTF-8), both lower case.
    Cached: strawberry's parse_content_type builds an email.message.Message per call, and
    clients send one or two distinct headers."""
    media_type, params = parse_content_type(content_type)
    return media_type.lower(), params.get("charset", "utf-8").lower()
