"""Prometheus metrics: what flows through the hub and how long it takes, never the data itself.

One ``Metrics`` per app holds its own registry (so tests and several apps in one process do
not collide). What it measures:

- HTTP requests by route, method and status, and their latency (``RequestContext`` reports);
- GraphQL operations by name, type and outcome, and their latency (a schema extension);
  names come from the parsed document, the first ``HUB_METRICS_MAX_OPERATIONS`` distinct ones
  are kept and later ones count as ``other``, so a client cannot grow the label set;
- graph store calls by kind and their errors by code (``MeasuredGraphStore``), telemetry
  batch commits (ingest's ``on_batch`` hook): latency, size, failures;
- ingest counters (received, stored, duplicates, dead letters by reason, replays,
  acknowledgements), the broker links, live-bus and alert-feed subscribers and drops, read
  from the running objects at scrape time, and pending dead letters (one count per scrape);
- per camera polled by this process: frames per second, age of the newest frame, offline,
  capture restarts (labelled by sensor id: the one exception to "no sensor ids", since an
  operator must know which camera stalls, and cameras are configured, not sent by clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from graph_schema.cypher import Statement
from graph_schema.dialect import SchemaElement
from graph_schema.errors import HubError
from graph_schema.store import GraphStore, Params, Row, Step
from hub.settings import MetricsSettings

if TYPE_CHECKING:
    from strawberry.extensions import SchemaExtension

    from connectors.camera.runner import CameraStats
    from hub.monitoring.watch import Watch
    from hub.relay import Relay
    from hub.telemetry import Telemetry

log = logging.getLogger(__name__)

# Latency buckets from 1 ms to 30 s (the longest a request may run by default).
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_BATCH_MESSAGES = (1, 5, 10, 50, 100, 500, 1000, 2000, 5000, 10_000)
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
ANONYMOUS = "anonymous"
OTHER = "other"
# Exact paths with a label of their own; anything else (static files, probes) is "other".
ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/"})


class Metrics:
    """The hub's metrics and the objects they are read from."""

    def __init__(self, settings: MetricsSettings | None = None) -> None:
        self.settings = settings or MetricsSettings()
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.http_requests = Counter(
            "hub_http_requests", "HTTP requests answered.", ["route", "method", "status"],
            registry=r,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "hub_http_request_duration_seconds", "HTTP request latency.", ["route"],
            buckets=_SECONDS, registry=r,
        )  # fmt: skip
        self.graphql_requests = Counter(
            "hub_graphql_operations",
            "GraphQL operations by name (from the document; 'anonymous' without one), type and "
            "outcome (ok, or error when the answer carries errors).",
            ["operation", "type", "outcome"],
            registry=r,
        )
        self.graphql_seconds = Histogram(
            "hub_graphql_operation_duration_seconds",
            "GraphQL query and mutation latency: parse, validate and execute.",
            ["operation", "type"],
            buckets=_SECONDS,
            registry=r,
        )
        self.store_seconds = Histogram(
            "hub_store_operation_duration_seconds",
            "Store calls: graph read, write, transaction, schema; telemetry commit.",
            ["store", "operation"],
            buckets=_SECONDS,
            registry=r,
        )
        self.store_errors = Counter(
            "hub_store_errors", "Store calls that failed, by error code.",
            ["store", "operation", "code"], registry=r,
        )  # fmt: skip
        self.batch_messages = Histogram(
            "hub_ingest_batch_messages", "Messages (readings, attendance, dead letters) per "
            "committed telemetry batch.", buckets=_BATCH_MESSAGES, registry=r,
        )  # fmt: skip
        self.dead_letters_pending = Gauge(
            "hub_dead_letters_pending", "Dead letters waiting for a replay (read per scrape).",
            registry=r,
        )  # fmt: skip
        self.telemetry: Telemetry | None = None
        self.watch: Watch | None = None
        self.relay: Relay | None = None
        self._operations: set[str] = set()
        # A worker of `hub serve --workers` answers with every process's figures summed
        # (hub.workers.Totals); a single hub with its own.
        self.aggregate: Callable[[bytes], bytes] | None = None
        # Each metric's child per label values, made once: prometheus_client's labels() checks,
        # converts and locks on every call, several times per request. The label values are
        # bounded (routes, statuses, at most max_operations operation names).
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        r.register(_LiveCollector(self))

    # -- recording --------------------------------------------------------------------------

    def _child(self, metric: Counter | Histogram, *values: str) -> Any:
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def observe_http(self, route: str, method: str, status: int, seconds: float) -> None:
        self._child(self.http_requests, route, method, str(status)).inc()
        if method != "WS":  # a WebSocket's lifetime is not a latency
            self._child(self.http_seconds, route).observe(seconds)

    def operation_label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self._operations:
            return name
        if not _NAME.match(name) or len(self._operations) >= self.settings.max_operations:
            return OTHER
        self._operations.add(name)
        return name

    def observe_graphql(self, name: str | None, kind: str, ok: bool, seconds: float) -> None:
        label = self.operation_label(name)
        self._child(self.graphql_requests, label, kind, "ok" if ok else "error").inc()
        if kind != "subscription":
            self._child(self.graphql_seconds, label, kind).observe(seconds)

    @contextlib.contextmanager
    def store_call(self, store: str, operation: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except HubError as exc:
            self._child(self.store_errors, store, operation, exc.code).inc()
            raise
        finally:
            self._child(self.store_seconds, store, operation).observe(time.perf_counter() - started)

    def on_batch(self, messages: int, seconds: float, ok: bool) -> None:
        """Ingest's hook after each telemetry commit (``Pipeline.on_batch``)."""
        self.store_seconds.labels("telemetry", "commit").observe(seconds)
        if ok:
            self.batch_messages.observe(messages)
        else:
            self.store_errors.labels("telemetry", "commit", "UNAVAILABLE").inc()

    def attach(self, telemetry: Telemetry | None) -> None:
        """Read ingest's counters from ``telemetry`` and time its commits."""
        self.telemetry = telemetry
        if telemetry is not None:
            telemetry.pipeline.on_batch = self.on_batch

    # -- exposition -------------------------------------------------------------------------

    async def refresh(self) -> None:
        """What needs a store round trip, once per scrape (bounded: a slow store must not
        make the scrape fail)."""
        telemetry = self.telemetry
        if telemetry is None:
            return
        try:
            pending = await asyncio.wait_for(telemetry.store.pending_dead_letters(), 2.0)
        except (HubError, TimeoutError) as exc:
            log.debug("metrics: pending dead letters unavailable: %s", exc)
            return
        self.dead_letters_pending.set(pending)

    def exposition(self) -> bytes:
        own = self.own_exposition()
        return own if self.aggregate is None else self.aggregate(own)

    def own_exposition(self) -> bytes:
        """This process's figures alone."""
        return generate_latest(self.registry)

    def allowed(self, request: Request) -> bool:
        token = self.settings.token
        header = request.headers.get("authorization", "")
        if token is not None and header.startswith("Bearer "):
            return hmac.compare_digest(header[7:].encode(), token.get_secret_value().encode())
        host = request.client.host if request.client is not None else None
        if host is None:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.settings.networks)

    async def endpoint(self, request: Request) -> Response:
        if not self.allowed(request):
            return PlainTextResponse(
                "metrics: allowed from HUB_METRICS_ALLOW_FROM or with the bearer token "
                "HUB_METRICS_TOKEN",
                status_code=403,
            )
        await self.refresh()
        return Response(self.exposition(), media_type=CONTENT_TYPE_LATEST)


def route_of(path: str) -> str:
    if path.startswith("/assets/"):
        return "/assets"  # the console's files: one label, not one per file
    return path if path in ROUTES else OTHER


class _LiveCollector(Collector):
    """Counters that live on the running objects (ingest, buses, feeds), read when scraped."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        telemetry = m.telemetry
        links = GaugeMetricFamily(
            "hub_broker_connected",
            "1 while the MQTT link is connected: ingest (the subscriber) or relay (events).",
            labels=["link"],
        )
        if telemetry is not None:
            c = telemetry.pipeline.counters
            for name, value, text in (
                ("received", c.received, "Messages ingest received (MQTT and imports)."),
                ("stored", c.stored, "Readings and attendance records stored (new)."),
                ("duplicates", c.duplicate, "Readings already stored (redeliveries)."),
                ("conflicts", c.conflicts, "Re-sends of a stored reading with another value."),
                ("replayed", c.replayed, "Dead letters replayed successfully."),
                ("acknowledged", c.acked, "MQTT messages acknowledged after their commit."),
                ("batches", c.batches, "Telemetry batches committed."),
            ):
                yield _counter(f"hub_ingest_{name}", text, value)
            dead = CounterMetricFamily(
                "hub_ingest_dead_letters",
                "Messages dead-lettered, by reason code.",
                labels=["reason"],
            )
            for reason, value in sorted(c.by_reason.items()):
                dead.add_metric([str(reason)], value)
            yield dead
            if c.last_commit_ms:
                yield _gauge(
                    "hub_ingest_last_commit_timestamp_seconds",
                    "When ingest last committed (Unix time).",
                    c.last_commit_ms / 1000,
                )
            bus = telemetry.bus
            yield _gauge(
                "hub_live_subscribers",
                "Live-bus subscriptions: monitoringFeed clients and internal followers "
                "(MQTT republisher, watch).",
                bus.subscribers,
            )
            yield _counter("hub_live_events", "Events published on the live bus.", bus.published)
            yield _counter(
                "hub_live_dropped", "Events dropped for subscribers that lagged.", bus.dropped
            )
            if telemetry.ingest is not None:
                links.add_metric(["ingest"], 1.0 if telemetry.connected else 0.0)
                stats = telemetry.ingest.broker_stats
                if "messages_stored" in stats:
                    yield _gauge(
                        "hub_broker_messages_stored",
                        "Messages the broker holds ($SYS): queued for durable sessions whose "
                        "client is away (a dead worker's share), in flight, retained.",
                        stats["messages_stored"],
                    )
                if "sessions_disconnected" in stats:
                    yield _gauge(
                        "hub_broker_sessions_disconnected",
                        "Durable sessions whose client is away ($SYS): a dead worker's share "
                        "waits in one until it returns or the session expires.",
                        stats["sessions_disconnected"],
                    )
                if telemetry.ingest.config.partition is not None:
                    yield _counter(
                        "hub_ingest_other_partitions",
                        "Messages for another worker's partition, acknowledged unread (a "
                        "session that still held an older subscription).",
                        telemetry.ingest.other_partitions,
                    )
                    yield _gauge(
                        "hub_ingest_adopted_partitions",
                        "Other workers' partitions this worker holds because they have been "
                        "down for HUB_MQTT_ADOPT_AFTER_S (their broker sessions, queue included).",
                        len(telemetry.ingest.adopted_partitions),
                    )
                yield _gauge(
                    "hub_ingest_held_back",
                    "1 while ingest retries a failing store (see ingestStatus.ingestError).",
                    1.0 if telemetry.ingest.error else 0.0,
                )
        if m.relay is not None:
            links.add_metric(["relay"], 1.0 if m.relay.connected.is_set() else 0.0)
            yield _counter(
                "hub_relay_events", "Events relayed from MQTT into this hub.", m.relay.relayed
            )
        yield links
        if telemetry is not None and telemetry.cameras is not None:
            yield from _camera_metrics(telemetry.cameras.stats())
        if m.watch is not None:
            yield _gauge(
                "hub_alert_feed_subscribers", "alertFeed subscriptions.", m.watch.feed.subscribers
            )
            yield _counter("hub_alert_events", "Alert changes published.", m.watch.feed.published)
            yield _gauge(
                "hub_watch_running",
                "1 in the process whose watch raises and clears alerts (one per hub, also "
                "with several workers, whose watches only mirror evidence).",
                0.0 if m.watch.mirroring else 1.0,
            )


def _camera_metrics(stats: Sequence[CameraStats]) -> Iterator[Metric]:
    # Labelled by camera (sensor id): a fleet's size is bounded by configuration, not by
    # clients, and an operator needs to know which camera stalls.
    fps = GaugeMetricFamily(
        "hub_camera_fps", "Frames analysed per second, last 10 s.", labels=["camera"]
    )
    age = GaugeMetricFamily(
        "hub_camera_frame_age_seconds",
        "Seconds since the camera's newest frame (absent before the first).",
        labels=["camera"],
    )
    offline = GaugeMetricFamily(
        "hub_camera_offline", "1 while the camera is reported offline.", labels=["camera"]
    )
    restarts = CounterMetricFamily(
        "hub_camera_capture_restarts", "Capture processes started again.", labels=["camera"]
    )
    for s in stats:
        fps.add_metric([s.sensor_id], s.fps)
        if s.frame_age_s is not None:
            age.add_metric([s.sensor_id], s.frame_age_s)
        offline.add_metric([s.sensor_id], 1.0 if s.offline else 0.0)
        restarts.add_metric([s.sensor_id], s.restarts)
    yield from (fps, age, offline, restarts)


def _counter(name: str, text: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, text, value=value)


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


def graphql_extension(metrics: Metrics) -> type[SchemaExtension]:
    """A schema extension that times every operation and counts its outcome."""
    # Imported here: hub ingest serves /metrics without GraphQL and need not load it.
    from strawberry.extensions import SchemaExtension

    class MeasuredOperations(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            started = time.perf_counter()
            yield
            ec = self.execution_context
            name, kind = _operation(ec.graphql_document, ec.operation_name)
            result = ec.result
            errors = ec.pre_execution_errors or (result.errors if result is not None else None)
            metrics.observe_graphql(name, kind, not errors, time.perf_counter() - started)

    return MeasuredOperations


def _operation(document: Any, requested: str | None) -> tuple[str | None, str]:
    """The executed operation's name (None when it has none) and type, from the parsed
    document: never the raw query text."""
    from graphql import OperationDefinitionNode

    if document is None:
        return None, "unknown"
    operations: Sequence[OperationDefinitionNode] = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    chosen = None
    if requested is not None:
        chosen = next((o for o in operations if o.name and o.name.value == requested), None)
    elif len(operations) == 1:
        chosen = operations[0]
    if chosen is None:
        return None, "unknown"
    return (chosen.name.value if chosen.name else None), chosen.operation.value


class MeasuredGraphStore(GraphStore):
    """A ``GraphStore`` that times every call into ``Metrics`` and passes it on unchanged."""

    def __init__(self, inner: GraphStore, metrics: Metrics) -> None:
        super().__init__()
        self.inner = inner
        self.metrics = metrics
        self.dialect = inner.dialect
        self.stats = inner.stats  # one count of round trips, whoever asks

    async def run(self, statement: Statement, params: Params | None = None) -> list[Row]:
        with self.metrics.store_call("graph", "write" if statement.write else "read"):
            return await self.inner.run(statement, params)

    async def run_in_transaction(self, steps: Sequence[Step]) -> list[list[Row]]:
        with self.metrics.store_call("graph", "transaction"):
            return await self.inner.run_in_transaction(steps)

    async def ensure_schema(self, element: SchemaElement) -> bool:
        with self.metrics.store_call("graph", "schema"):
            return await self.inner.ensure_schema(element)

    async def wait_until_indexed(self, timeout_s: float) -> int:
        return await self.inner.wait_until_indexed(timeout_s)

    async def ping(self) -> None:
        with self.metrics.store_call("graph", "ping"):
            await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()

    def describe(self) -> str:
        return self.inner.describe()


__all__ = ["MeasuredGraphStore", "Metrics", "graphql_extension", "route_of"]
