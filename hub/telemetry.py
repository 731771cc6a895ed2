"""The hub's telemetry side, opened next to the graph store: the telemetry store, the ingest
pipeline, the live bus, the MQTT subscriber and the retention task.

``open_telemetry`` builds it all from settings; ``Telemetry.close`` stops the subscriber first
(so nothing is acknowledged after the store is gone), then the tasks, then the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors import feeds
from connectors.camera.runner import CameraFleet
from graph_schema.store import GraphStore
from hub.monitoring.satellite import SatelliteView, refresh_forever, satellite_view, sentinel_client
from hub.settings import MqttSettings, Settings
from ingest.bus import LiveBus
from ingest.connect import open_telemetry_store, sqlite_path
from ingest.model import Counters
from ingest.mqtt import MqttConfig, MqttIngest
from ingest.pipeline import Pipeline
from ingest.retention import keep
from ingest.sensors import GraphSensors
from ingest.store import TelemetryStore

log = logging.getLogger(__name__)


def telemetry_path(settings: Settings) -> Path:
    """Where the SQLite telemetry file is: ``sqlite://`` puts it under the data dir."""
    return sqlite_path(settings.telemetry.url, settings.data_dir)


def mqtt_config(mqtt: MqttSettings, *, force_protocol: int | None = None) -> MqttConfig:
    """The subscriber's broker settings from ``HUB_MQTT_*``."""
    protocol = force_protocol or mqtt.protocol
    return MqttConfig.from_url(
        mqtt.url,
        username=mqtt.username,
        password=mqtt.password.get_secret_value() if mqtt.password else None,
        client_id=mqtt.client_id,
        mqtt5=protocol == 5,
        keepalive_s=mqtt.keepalive_s,
        session_expiry_s=mqtt.session_expiry_s,
        shared_group=mqtt.shared_group,
        partition=_partition(mqtt.partition),
        adopt_after_s=mqtt.adopt_after_s,
        ca_file=str(mqtt.tls_ca_file) if mqtt.tls_ca_file else None,
        cert_file=str(mqtt.tls_cert_file) if mqtt.tls_cert_file else None,
        key_file=str(mqtt.tls_key_file) if mqtt.tls_key_file else None,
    )


def _partition(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    k, n = (int(x) for x in text.split("/"))
    return k - 1, n


@dataclass(frozen=True, slots=True)
class IngestFigures:
    """What another process's ingest reports: the supervisor's, read by a worker of
    ``hub serve --workers`` (hub.workers), which ingests nothing itself."""

    counters: Counters
    connected: bool
    error: str | None

    def plus(self, own: Counters) -> Counters:
        """These counters and a process's own (what its API imported) added up."""
        total = Counters()
        for name in (f.name for f in dataclasses.fields(Counters) if f.name != "by_reason"):
            mine, theirs = getattr(own, name), getattr(self.counters, name)
            setattr(total, name, max(mine, theirs) if name == "last_commit_ms" else mine + theirs)
        for reasons in (self.counters.by_reason, own.by_reason):
            for reason, n in reasons.items():
                total.by_reason[reason] = total.by_reason.get(reason, 0) + n
        return total


@dataclass
class Telemetry:
    """Everything the API needs to read telemetry and follow the live feed."""

    store: TelemetryStore
    bus: LiveBus
    pipeline: Pipeline
    timezone: str
    inactivity_timeout_s: float
    live_queue: int
    ingest: MqttIngest | None = None
    labor_enabled: bool = True
    satellite: SatelliteView | None = None
    cameras: CameraFleet | None = None  # when this process polls the cameras
    # Called first on close: services that stop gracefully (the relay's MQTT link).
    stoppers: list[Callable[[], None]] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _ingest_task: asyncio.Task[None] | None = None
    # Whether the subscriber's run() is going; False while the supervisor waits to restart it.
    ingest_running: bool = False
    ingest_restarts: int = 0
    ingest_failure: str | None = None  # the last failure that stopped the subscriber
    # The ingest of another process of this hub, for one without its own (IngestFigures).
    ingest_elsewhere: Callable[[], IngestFigures | None] | None = None

    def start(self, name: str, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a background coroutine until ``close``; its failure is logged, not raised."""
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(_log_failure)
        self._tasks.append(task)
        return task

    @property
    def connected(self) -> bool:
        """The subscriber is running and connected: what ``/readyz`` reports."""
        return self.ingest is not None and self.ingest_running and self.ingest.connected.is_set()

    async def supervise_ingest(self, ingest: MqttIngest) -> None:
        """Run the subscriber; if it fails, log it and restart it with back-off (not ready
        meanwhile). Nothing it took was acknowledged, so the broker redelivers it all."""
        delay = ingest.config.reconnect_min_s
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            self.ingest_running = True
            try:
                await ingest.run()
                return  # stopped on purpose
            except Exception as exc:
                if ingest.stopping:
                    return
                self.ingest_failure = f"ingest failed ({type(exc).__name__}: {exc})"
                log.error("MQTT ingest failed; restarting in %.1f s", delay, exc_info=True)
            finally:
                self.ingest_running = False
            if loop.time() - started > 60:
                delay = ingest.config.reconnect_min_s  # it had been healthy: start over
            await asyncio.sleep(delay)
            delay = min(delay * 2, ingest.config.reconnect_max_s)
            self.ingest_restarts += 1

    async def close(self) -> None:
        for stop in self.stoppers:
            stop()
        if self.ingest is not None:
            self.ingest.stop()
        # The subscriber's run() returns after its current batch: wait for it before the store.
        if self._ingest_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._ingest_task), timeout=10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.bus.close()
        await self.store.close()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s failed", task.get_name(), exc_info=task.exception())


async def open_telemetry(
    settings: Settings,
    graph: GraphStore,
    *,
    labor_salt: bytes | None = None,
    ingest_mqtt: bool | None = None,
    force_protocol: int | None = None,
) -> Telemetry:
    """Open the telemetry store and, unless ``HUB_MQTT_INGEST`` is off, the MQTT subscriber.

    ``labor_salt`` overrides ``HUB_TELEMETRY_LABOR_SALT`` (the demo keeps its own); without
    either, labor messages are dead-lettered with a message saying so, and their worker ids are
    not kept.
    """
    t = settings.telemetry
    store = await open_telemetry_store(
        t.url,
        feeds.metrics(),
        data_dir=settings.data_dir,
        tz=t.timezone,
        synchronous=t.synchronous,
    )
    salt = labor_salt or (t.labor_salt.get_secret_value().encode() if t.labor_salt else b"")
    decoders = feeds.decoders(
        labor_salt=salt,
        future_tolerance_s=t.future_tolerance_s,
        max_age_s=t.retention_days * 86400.0 if t.retention_days else None,
        tz=t.timezone,
    )
    if not salt:
        log.warning("HUB_TELEMETRY_LABOR_SALT is not set: labor attendance is not ingested")
    bus = LiveBus(default_queue=t.live_queue)
    pipeline = Pipeline(store, GraphSensors(graph), decoders, bus=bus)
    telemetry = Telemetry(
        store=store,
        bus=bus,
        pipeline=pipeline,
        timezone=t.timezone,
        inactivity_timeout_s=t.inactivity_timeout_s,
        live_queue=t.live_queue,
        labor_enabled=bool(salt),
        satellite=satellite_view(settings),
    )
    if settings.satellite.enabled:
        client = sentinel_client(settings)
        telemetry.start("satellite-refresh", refresh_forever(settings, graph, pipeline, client))
        log.info("satellite: refreshing parcels from %s", settings.satellite.base_url)
    if t.retention_days:
        telemetry.start("retention", keep(store, t.retention_days))
    if settings.camera.enabled:
        cameras = CameraFleet(
            graph,
            pipeline,
            refresh_s=settings.camera.refresh_s,
            state_dir=settings.data_dir / "cameras",  # each camera's reference view
        )
        telemetry.cameras = cameras
        telemetry.start("cameras", cameras.run())
    if settings.mqtt.ingest if ingest_mqtt is None else ingest_mqtt:
        config = mqtt_config(settings.mqtt, force_protocol=force_protocol)
        telemetry.ingest = MqttIngest(
            pipeline,
            config,
            batch_size=t.batch_size,
            linger_s=t.batch_latency_ms / 1000,
            republish=settings.mqtt.republish,
        )
        telemetry._ingest_task = telemetry.start(
            "mqtt-ingest", telemetry.supervise_ingest(telemetry.ingest)
        )
        log.info("MQTT ingest: subscribing to %s on %s:%s", config.subscription, config.host,
                 config.port)  # fmt: skip
    log.info("telemetry store: %s", store.describe())
    return telemetry


__all__ = ["Telemetry", "mqtt_config", "open_telemetry", "telemetry_path"]
