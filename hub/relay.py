"""The event relay: an API replica that does not ingest follows what the ingest workers and the
other replicas publish under ``hub/v1/events/``, so its live feeds and its watch see the same
readings, rollups and alert changes as a hub that ingests itself.

Ingest republishes every committed reading and rollup change (``ingest.mqtt.event_message``)
and each hub publishes the alert changes it made (``hub.monitoring.alerts.event_message``).
The relay subscribes to ``hub/v1/events/#`` with a clean session (a replica that was down reads
current state from the stores, not a backlog) and MQTT 5's *no local* option, so the alert
changes it publishes itself are not delivered back to it: its own subscribers had them
directly. Events are QoS 0, as they are published: a lost event delays a live update, it loses
no data (the watch re-reads the stores on its schedule). A malformed event is logged and skipped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from graph_schema.errors import HubError
from hub.monitoring.alerts import AlertEvent, Change
from ingest.bus import Event, LiveBus, ReadingEvent, RollupEvent
from ingest.mqtt import EVENTS_PREFIX, MqttConfig, make_client, stop_network_thread
from ingest.store import CommitResult

if TYPE_CHECKING:
    from hub.monitoring.watch import Watch

log = logging.getLogger(__name__)

TOPIC = f"{EVENTS_PREFIX}/#"
ALERTS = f"{EVENTS_PREFIX}/alerts/"

# An alert change named by its id: the relay hands it to the watch, which reads the alert.
AlertHandler = Callable[[str, str], Awaitable[None]]


def parse_event(topic: str, payload: bytes) -> Event | None:
    """The live-bus event a republished reading or rollup stands for; None for anything else
    (alert changes, malformed bodies)."""
    if not topic.startswith(EVENTS_PREFIX + "/") or topic.startswith(ALERTS):
        return None
    parts = topic[len(EVENTS_PREFIX) + 1 :].split("/")
    try:
        body = json.loads(payload)
        if not isinstance(body, dict):
            return None
        if body.get("type") == "reading" and len(parts) == 2:
            ts = dt.datetime.fromisoformat(str(body["ts"]))
            return ReadingEvent(
                kind=parts[0],
                sensor_id=str(body["sensor_id"]),
                project_code=_opt(body.get("project_code")),
                metric=str(body["metric"]),
                ts_ms=round(ts.timestamp() * 1000),
                value=float(body["value"]),
                unit=str(body["unit"]),
            )
        if body.get("type") == "rollup" and parts[-1] == "daily":
            # <kind>/<sensor>/daily, or projects/<code>/<kind>/daily for per-project figures.
            kind = parts[2] if parts[0] == "projects" and len(parts) == 4 else parts[0]
            return RollupEvent(
                kind=kind,
                sensor_id=_opt(body.get("sensor_id")),
                project_code=_opt(body.get("project_code")),
                metric=str(body["metric"]),
                day=dt.date.fromisoformat(str(body["day"])),
                value=float(body["value"]),
                samples=int(body["samples"]),
            )
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    return None


def parse_alert(topic: str, payload: bytes) -> tuple[str, str] | None:
    """(alert id, change) of an alert change event, or None."""
    if not topic.startswith(ALERTS):
        return None
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("type") != "alert":
        return None
    alert_id, change = body.get("id"), body.get("change")
    if not isinstance(alert_id, str) or not isinstance(change, str):
        return None
    return alert_id, change


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def alert_handler(watch: Watch) -> AlertHandler:
    """Deliver another hub's alert change to this hub's ``alertFeed`` subscribers, with the
    alert as the graph holds it now."""

    async def handle(alert_id: str, change: str) -> None:
        try:
            kind = Change(change)
        except ValueError:
            return
        alert = await watch.alerts.get(alert_id)
        watch.feed.deliver(AlertEvent(kind, alert))

    return handle


# How many of this process's own committed events the relay remembers, to drop their echo.
_RECENT = 100_000


def _key(event: Event) -> tuple[object, ...]:
    if isinstance(event, ReadingEvent):
        return ("r", event.sensor_id, event.metric, event.ts_ms, event.value)
    return ("d", event.sensor_id, event.project_code, event.metric, event.day, event.value)


class Relay:
    """Subscribes to ``hub/v1/events/#`` and feeds the local live bus and alert handler.

    A process may both ingest (its share of a shared subscription) and relay (the other
    workers' shares). Its own committed events come back from the broker through its ingest
    connection's republish, which MQTT's *no local* does not cover (another connection), so
    ``remember`` is told what this process committed and their echoes are dropped.
    """

    def __init__(
        self, config: MqttConfig, bus: LiveBus, *, on_alert: AlertHandler | None = None
    ) -> None:
        self.config = config
        self.bus = bus
        self.on_alert = on_alert
        self.connected = asyncio.Event()
        self.relayed = 0
        self.skipped = 0
        self.echoes = 0
        self._recent: dict[tuple[object, ...], int] = {}
        # Alert changes this relay published itself, while MQTT 3.1.1 (no *no local*) brings
        # them back: their echo is dropped (its own subscribers had them directly).
        self._own_alerts: dict[tuple[str, bytes], int] = {}
        self._order: deque[tuple[object, ...]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        # Its own id: the ingest subscriber's persistent session keeps the configured one.
        # A clean session: nothing to keep while the replica is down (it reads the stores).
        self._client = make_client(
            config, manual_ack=False, suffix=f"-relay-{secrets.token_hex(4)}", clean=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def _on_connect(
        self, client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode,
        properties: Properties | None,
    ) -> None:  # fmt: skip
        if reason.is_failure:
            log.warning("relay: MQTT connect refused: %s", reason)
            return
        options = SubscribeOptions(qos=0, noLocal=self.config.mqtt5)
        client.subscribe(TOPIC, options=options)
        log.info("relay: following %s on %s:%s", TOPIC, self.config.host, self.config.port)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.connected.set)

    def _on_disconnect(
        self, client: Client, userdata: Any, flags: DisconnectFlags, reason: ReasonCode,
        properties: Properties | None,
    ) -> None:  # fmt: skip
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.connected.clear)

    def _on_message(self, client: Client, userdata: Any, msg: MQTTMessage) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._deliver, msg.topic, bytes(msg.payload))

    def remember(self, result: CommitResult) -> None:
        """What this process just committed (``Pipeline.on_commit``): its echo is dropped."""
        keys: list[tuple[object, ...]] = [
            ("r", r.sensor_id, r.metric, r.ts_ms, r.value) for r in result.stored
        ]
        keys += [
            ("r", a.sensor_id, "attendance", a.ts_ms, 1.0 if a.direction == "in" else 0.0)
            for a in result.attendance_stored
        ]
        keys += [
            ("d", d.sensor_id, d.project_code, d.metric, d.day, d.value) for d in result.rollups
        ]
        keys += [
            ("d", None, h.project_code, "headcount", h.day, float(h.workers))
            for h in result.headcounts
        ]
        for key in keys:
            self._recent[key] = self._recent.get(key, 0) + 1
            self._order.append(key)
        while len(self._order) > _RECENT:
            old = self._order.popleft()
            left = self._recent.get(old, 0) - 1
            if left > 0:
                self._recent[old] = left
            else:
                self._recent.pop(old, None)

    def _deliver(self, topic: str, payload: bytes) -> None:
        event = parse_event(topic, payload)
        if event is not None:
            key = _key(event)
            left = self._recent.get(key, 0)
            if left:
                self.echoes += 1
                if left > 1:
                    self._recent[key] = left - 1
                else:
                    del self._recent[key]
                return
            self.relayed += 1
            self.bus.publish((event,))
            return
        alert = parse_alert(topic, payload)
        own = self._own_alerts.get((topic, payload), 0)
        if alert is not None and own:
            self.echoes += 1
            if own > 1:
                self._own_alerts[(topic, payload)] = own - 1
            else:
                del self._own_alerts[(topic, payload)]
            return
        if alert is not None and self.on_alert is not None:
            self.relayed += 1
            task = asyncio.create_task(self._alert(*alert))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self.skipped += 1
        log.debug("relay: skipped a message on %s", topic)

    async def _alert(self, alert_id: str, change: str) -> None:
        assert self.on_alert is not None
        try:
            await self.on_alert(alert_id, change)
        except HubError as exc:
            log.warning("relay: alert %s not delivered: %s", alert_id[:80], exc)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish on the relay's connection (QoS 0): this hub's alert changes."""
        if not self.config.mqtt5 and len(self._own_alerts) < _RECENT:
            key = (topic, bytes(payload))
            self._own_alerts[key] = self._own_alerts.get(key, 0) + 1
        self._client.publish(topic, payload, qos=0)

    async def run(self) -> None:
        """Connect (retrying in the background) and relay until ``stop``."""
        self._loop = asyncio.get_running_loop()
        if self.config.mqtt5:
            self._client.connect_async(
                self.config.host, self.config.port, self.config.keepalive_s, clean_start=True
            )
        else:
            self._client.connect_async(self.config.host, self.config.port, self.config.keepalive_s)
        self._client.loop_start()
        try:
            await self._stopped.wait()
        finally:
            self._client.disconnect()
            await stop_network_thread(self._client)

    def stop(self) -> None:
        self._stopped.set()
