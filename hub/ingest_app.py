"""``hub ingest``'s composition root: ``create_ingest_app(settings)`` and its lifespan.

Kept apart from ``hub.app`` so an ingest worker starts without importing GraphQL, the API or
the watch: about a second less of CPU per start (each restart of a worker, each test that
runs one as a subprocess).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from graph_schema import GraphUnavailable
from hub.headers import SecurityHeaders
from hub.lifecycle import Opened, bounded, freeze_startup_heap, readyz_for
from hub.logs import RequestContext
from hub.metrics import route_of
from hub.settings import Settings
from hub.store import open_store
from hub.telemetry import open_telemetry
from ingest.model import Counters

log = logging.getLogger(__name__)


def create_ingest_app(settings: Settings) -> Starlette:
    """``hub ingest``: an ingest worker. MQTT in (with ``HUB_MQTT_SHARED_GROUP``, several
    workers split the load), telemetry store out, events republished for the API replicas;
    no GraphQL, no watch. It serves ``/healthz``, ``/readyz`` (graph reachable and broker
    connected) and ``/metrics`` for its orchestrator and Prometheus."""
    state = Opened(settings, None)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        limit = settings.http.shutdown_timeout_s
        async with contextlib.AsyncExitStack() as stack:
            state.store = await open_store(settings)
            stack.push_async_callback(bounded, "graph store", state.forget_store(), limit)
            state.telemetry = await open_telemetry(settings, state.store, ingest_mqtt=True)
            # Last, once the subscriber has committed and acknowledged its final batch: what
            # this run ingested (/metrics is gone by then), for the operator and the tests.
            stack.callback(_log_totals, state.telemetry.pipeline.counters)
            stack.push_async_callback(bounded, "telemetry", state.close_telemetry(), limit)
            state.metrics.attach(state.telemetry)
            log.info("ingest worker: graph %s", state.store.describe())
            freeze_startup_heap()
            yield

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        return readyz_for(request, settings, await _readyz(request))

    async def _readyz(request: Request) -> JSONResponse:
        body: dict[str, Any] = {"status": "ready"}
        try:
            await state.store.ping()
        except GraphUnavailable as exc:
            return JSONResponse({"status": "unavailable", "graph": str(exc)}, status_code=503)
        telemetry = state.telemetry
        connected = telemetry is not None and telemetry.connected
        body["broker_connected"] = connected
        if telemetry is not None and telemetry.ingest is not None and telemetry.ingest.error:
            body["ingest_error"] = telemetry.ingest.error
        if telemetry is not None and not telemetry.ingest_running:
            body["ingest_error"] = telemetry.ingest_failure
        if not connected:
            body["status"] = "unavailable"
        return JSONResponse(body, status_code=200 if connected else 503)

    routes = [Route("/healthz", healthz), Route("/readyz", readyz)]
    if settings.metrics.enabled:
        routes.append(Route("/metrics", state.metrics.endpoint))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext, route_of=route_of, observer=state.metrics.observe_http)
    app.state.metrics = state.metrics
    return app


def _log_totals(counters: Counters) -> None:
    totals = counters.as_dict()
    log.info(
        "ingest worker stopped: %s",
        ", ".join(f"{k} {v}" for k, v in totals.items() if isinstance(v, int)),
        extra={"ingest": totals},
    )


__all__ = ["create_ingest_app"]
