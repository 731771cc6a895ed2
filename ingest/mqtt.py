"""The MQTT source: a paho-mqtt 2.x subscriber that acknowledges only after the commit.

QoS 1 with a persistent session (fixed client id; MQTT 5 clean start off with a session expiry,
or ``clean_session=False`` on 3.1.1) and ``manual_ack``: a message is acknowledged once the batch
holding it has committed, so a crash before that makes the broker redeliver it and the store's
idempotency absorbs the copy. paho's network thread only appends to an inbox; batches are taken
from it on the event loop, committed in arrival order, then acknowledged in that same order.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import ssl
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from paho.mqtt.client import (
    MQTT_CLEAN_START_FIRST_ONLY,
    PUBACK,
    Client,
    ConnectFlags,
    DisconnectFlags,
    MQTTMessage,
)
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from graph_schema.errors import HubError
from ingest.bus import Event, EventFilter, ReadingEvent, Subscription
from ingest.errors import BrokerUnavailable
from ingest.model import Message
from ingest.pipeline import Pipeline
from ingest.store import Batch

log = logging.getLogger(__name__)
T = TypeVar("T")

INGEST_TOPIC = "hub/v1/+/+"
EVENTS_PREFIX = "hub/v1/events"
# Each partitioned worker's state, retained: "up" on connect, "down" as its will (a crash) and
# when it stops. Topic .../<k>-of-<n>; the relay and dashboards ignore it (no reading type).
PARTITION_STATUS = f"{EVENTS_PREFIX}/ingest/partitions"
# Mosquitto's broker-wide counters ($SYS, retained, every sys_interval): messages held for
# sessions (queued for disconnected durable clients, in flight, retained) and durable sessions
# whose client is away. A dead worker's waiting share shows in both.
BROKER_STATS = {
    "$SYS/broker/store/messages/count": "messages_stored",
    "$SYS/broker/clients/disconnected": "sessions_disconnected",
}


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """How to reach the broker and how to subscribe; plain values, filled from hub settings."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str = "e-ledger-hub"
    mqtt5: bool = True
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86400
    shared_group: str | None = None
    # (index, count): subscribe only to the topics of the registered sensors whose id's CRC-32
    # modulo count is index (plain persistent subscriptions, which Mosquitto restores after a
    # restart; it forgets shared ones). The broker splits the feed: a worker receives its share.
    partition: tuple[int, int] | None = None
    partition_refresh_s: float = 15.0  # how often the registry is read for new sensors
    # A partition whose worker has been down this long (its status on PARTITION_STATUS says so)
    # is adopted by a live worker: it connects a second client with the dead worker's client id,
    # so the broker hands it that session, queue included. 0: never adopt.
    adopt_after_s: float = 30.0
    topic: str = INGEST_TOPIC
    receive_maximum: int = 10_000
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MqttConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise BrokerUnavailable(f"unsupported broker URL scheme {parts.scheme!r}")
        tls = parts.scheme == "mqtts"
        if parts.username and "username" not in options:
            options["username"] = unquote(parts.username)
        if parts.password and "password" not in options:
            options["password"] = unquote(parts.password)
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            tls=tls or bool(options.pop("tls", False)),
            **options,
        )

    @property
    def subscription(self) -> str:
        return f"$share/{self.shared_group}/{self.topic}" if self.shared_group else self.topic


def partition_of(sensor_id: str, count: int) -> int:
    """The partition (0-based) a sensor's topics belong to among ``count`` workers."""
    return zlib.crc32(sensor_id.encode()) % count


def _subscribable(sensor_id: str) -> bool:
    # A topic level that is a literal topic name: no wildcard, separator or NUL.
    return bool(sensor_id) and not any(c in sensor_id for c in "+#/\x00")


def status_topic(index: int, count: int) -> str:
    return f"{PARTITION_STATUS}/{index + 1}-of-{count}"


def status_payload(index: int, count: int, client_id: str, state: str) -> bytes:
    body = {
        "type": "ingest-partition",
        "partition": f"{index + 1}/{count}",
        "client_id": client_id,
        "state": state,
    }
    return json.dumps(body).encode()


def parse_status(payload: bytes) -> tuple[int, int, str, str] | None:
    """(index, count, client id, state) of a partition status message, or None."""
    try:
        body = json.loads(payload)
        k, n = (int(x) for x in str(body["partition"]).split("/"))
        client_id, state = str(body["client_id"]), str(body["state"])
    except (ValueError, KeyError, TypeError):
        return None
    if not 1 <= k <= n or state not in ("up", "down") or not client_id:
        return None
    return k - 1, n, client_id, state


# Topic filters per SUBSCRIBE packet when a partition subscribes to its sensors.
SUBSCRIBE_CHUNK = 500
_STATUS_BYTES = PARTITION_STATUS.encode() + b"/"
# Packets the subscriber's network thread reads per wake-up (see _BurstReadClient).
READ_BURST = 256
# Events republished in one write (see _BurstReadClient.publish_many).
REPUBLISH_BATCH = 500
_PUBACK = struct.Struct("!BBH")


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


class _BurstReadClient(Client):
    """paho's client, reading up to ``READ_BURST`` waiting packets per wake-up instead of one.

    paho reads a single incoming packet per pass of its network loop (``loop_read`` sizes the
    burst by *outgoing* queues), then selects again and so gives up the GIL. While the event
    loop holds the GIL decoding a batch, each pass waits up to the interpreter's switch
    interval, so the subscriber fell behind at 10,000 msg/s using half a core (bench ingest).
    Reading what is already buffered in one pass removes that convoy. Same private calls as
    paho's own ``loop_read`` (pinned to paho-mqtt 2.x).
    """

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        for _ in range(READ_BURST):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    # paho queues one packet per call and wakes its network thread through a socket pair each
    # time: from the event loop's thread that is a GIL hand-over per PUBACK and per republished
    # event, which cProfile showed as the largest cost of `hub ingest` (BENCHMARKS.md). These
    # queue many whole packets as one write with one wake-up (same private call as paho's own
    # ``ack`` and ``publish``; pinned to paho-mqtt 2.x).

    def _queue_packets(self, data: bytes) -> None:
        # Marked PUBACK so paho runs no PUBLISH bookkeeping (on_publish, message info) after
        # writing it; the bytes are whole packets, which the broker reads one by one.
        if data:
            self._packet_queue(PUBACK, data, 0, 0)

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK every QoS 1 message id in ``mids`` (``manual_ack``)."""
        pack = _PUBACK.pack
        self._queue_packets(b"".join(pack(PUBACK, 2, mid) for mid in mids))

    def publish_many(self, messages: Sequence[tuple[str, bytes]]) -> bool:
        """Publish at QoS 0, no retain; False (nothing sent) while disconnected."""
        if self._sock is None or not self.is_connected():
            return False
        properties = b"\x00" if self._protocol == MQTTProtocolVersion.MQTTv5 else b""
        parts = []
        for topic, payload in messages:
            name = topic.encode()
            body = struct.pack("!H", len(name)) + name + properties + payload
            parts.append(b"\x30" + _remaining_length(len(body)) + body)
        self._queue_packets(b"".join(parts))
        return True


async def stop_network_thread(client: Client, timeout_s: float = 5.0) -> None:
    """``client.loop_stop()`` without blocking the event loop (an in-process broker may live on
    it) and without the loop's default executor (busy workers there would queue the join).
    After ``timeout_s`` it gives up waiting: paho's thread is a daemon and ends with us."""
    joiner = threading.Thread(target=client.loop_stop, name="paho-stop", daemon=True)
    joiner.start()
    deadline = time.monotonic() + timeout_s
    while joiner.is_alive():
        if time.monotonic() > deadline:
            log.warning("paho's network thread did not stop within %.0f s", timeout_s)
            return
        await asyncio.sleep(0.01)


def make_client(
    config: MqttConfig,
    *,
    manual_ack: bool,
    suffix: str = "",
    clean: bool = False,
    reconnect: bool = True,
) -> _BurstReadClient:
    """A paho client with the configured protocol, login, TLS and reconnect back-off.
    ``clean`` asks for a session the broker need not keep (MQTT 3.1.1's clean session)."""
    protocol = MQTTProtocolVersion.MQTTv5 if config.mqtt5 else MQTTProtocolVersion.MQTTv311
    client = _BurstReadClient(
        CallbackAPIVersion.VERSION2,
        client_id=config.client_id + suffix,
        protocol=protocol,
        clean_session=None if config.mqtt5 else clean,
        manual_ack=manual_ack,
        reconnect_on_failure=reconnect,
    )
    if config.username is not None:
        client.username_pw_set(config.username, config.password)
    if config.tls:
        client.tls_set(
            ca_certs=config.ca_file,
            certfile=config.cert_file,
            keyfile=config.key_file,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    client.reconnect_delay_set(
        min_delay=max(1, int(config.reconnect_min_s)), max_delay=int(config.reconnect_max_s)
    )
    return client


def connect_properties(config: MqttConfig) -> Properties | None:
    if not config.mqtt5:
        return None
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = config.session_expiry_s
    props.ReceiveMaximum = config.receive_maximum
    return props


_Inbound = tuple[str, bytes, int, int, int, int]  # topic, payload, mid, qos, arrived ms, session


class MqttIngest:
    """Subscribes, batches, commits through the pipeline, acknowledges, republishes events."""

    def __init__(
        self,
        pipeline: Pipeline,
        config: MqttConfig,
        *,
        batch_size: int = 2000,
        linger_s: float = 0.01,
        republish: bool = True,
        republish_queue: int = 10_000,
        adopted: bool = False,
    ) -> None:
        self.pipeline = pipeline
        self.config = config
        self.batch_size = batch_size
        self.linger_s = linger_s
        self._inbox: deque[_Inbound] = deque()
        self._signalled = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session = 0  # bumped on every connect; acks go only to the session they came from
        self._stopping = False
        self.connected = asyncio.Event()
        self._disconnected = asyncio.Event()
        # The last error that held ingest back (store or graph down), None once it recovers.
        self.error: str | None = None
        self._republish = republish and pipeline.bus is not None
        self._republish_queue = republish_queue
        self._partition = config.partition
        self.other_partitions = 0  # messages acknowledged unread: other workers' partitions
        # Partition mode: the topic filters this worker owns (hub/v1/+/<sensor_id>), written on
        # the event loop and read by paho's thread on connect, hence the lock.
        self._owned: set[str] = set()
        self._owned_lock = threading.Lock()
        self._pending_subacks: set[int] = set()
        self._suback_waiters: dict[int, asyncio.Future[None]] = {}
        self.broker_stats: dict[str, int] = {}  # BROKER_STATS values, as last published
        # An adopted partition: this client holds a dead worker's session for a live one; it
        # announces nothing, adopts nothing and ends at its first disconnect (the owner's
        # return takes the session over) instead of reconnecting.
        self._adopted = adopted
        self._announce = config.partition is not None and not adopted
        # Partition index -> (client id, state, since when (monotonic)) of the other workers.
        self._peers: dict[int, tuple[str, str, float]] = {}
        self._adopters: dict[int, tuple[MqttIngest, asyncio.Task[None]]] = {}
        self._client = make_client(config, manual_ack=True, reconnect=not adopted)
        if self._announce and config.partition is not None:
            index, count = config.partition
            self._client.will_set(
                status_topic(index, count),
                status_payload(index, count, config.client_id, "down"),
                qos=1,
                retain=True,
            )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    # -- paho's thread ---------------------------------------------------------------------

    def _on_connect(
        self,
        client: Client,
        userdata: Any,
        flags: ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("MQTT connect refused: %s", reason)
            return
        self._session += 1
        log.info(
            "MQTT connected to %s:%s (session present: %s)",
            self.config.host,
            self.config.port,
            flags.session_present,
        )
        # Always, whatever "session present" says: Mosquitto 2.0 restores a session after a
        # restart without its shared subscriptions, and an idempotent SUBSCRIBE costs nothing.
        # Connected (ready) once the broker has granted the data subscriptions.
        mids: list[int | None] = []
        if self._partition is None:
            mids.append(client.subscribe(self.config.subscription, qos=1)[1])
        else:
            # A session made before partitioning (or by an older version) may still hold the
            # whole feed: drop it, or this worker would receive everything again.
            client.unsubscribe(self.config.topic)
            with self._owned_lock:
                owned = sorted(self._owned)
            for i in range(0, len(owned), SUBSCRIBE_CHUNK):
                chunk = [(f, 1) for f in owned[i : i + SUBSCRIBE_CHUNK]]
                mids.append(client.subscribe(chunk)[1])
        pending = {mid for mid in mids if mid is not None}
        self._pending_subacks = pending
        # Broker statistics, where the broker offers them (a refusal only leaves them unknown).
        client.subscribe([(topic, 0) for topic in BROKER_STATS])
        if self._announce and self._partition is not None:
            index, count = self._partition
            client.subscribe(f"{PARTITION_STATUS}/+", qos=1)
            up = status_payload(index, count, self.config.client_id, "up")
            client.publish(status_topic(index, count), up, qos=1, retain=True)
        if not pending and self._loop is not None:
            self._loop.call_soon_threadsafe(self.connected.set)

    def _on_subscribe(
        self,
        client: Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if any(r.is_failure for r in reasons):
            log.error("MQTT subscription refused: %s", ", ".join(str(r) for r in reasons))
        if self._loop is None:
            return
        pending = self._pending_subacks
        if mid in pending:
            pending.discard(mid)
            if not pending:
                self._loop.call_soon_threadsafe(self.connected.set)
        self._loop.call_soon_threadsafe(self._granted, mid)

    def _granted(self, mid: int) -> None:
        # On the event loop: refresh_partition registers its waiter in the same step as its
        # SUBSCRIBE, so a SUBACK cannot get here first.
        waiter = self._suback_waiters.pop(mid, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_disconnect(
        self,
        client: Client,
        userdata: Any,
        flags: DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if self._adopted:
            if not self._stopping:
                log.warning("adopted session %s ended (%s)", self.config.client_id, reason)
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self.stop)
        elif not self._stopping:
            log.warning("MQTT disconnected (%s); reconnecting with back-off", reason)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.connected.clear)
            self._loop.call_soon_threadsafe(self._disconnected.set)

    def _on_message(self, client: Client, userdata: Any, msg: MQTTMessage) -> None:
        if msg._topic.startswith(b"$SYS/"):
            stat = BROKER_STATS.get(msg.topic)
            if stat is not None:
                with contextlib.suppress(ValueError):
                    self.broker_stats[stat] = int(msg.payload)
            return
        if msg._topic.startswith(_STATUS_BYTES):
            if msg.qos:
                client.ack(msg.mid, msg.qos)
            status = parse_status(bytes(msg.payload))
            if status is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(self._peer_status, *status)
            return
        if self._partition is not None:
            # The broker sends only this partition's topics; one from an older subscription
            # the session still held is another worker's to commit.
            index, count = self._partition
            sensor = msg._topic.rpartition(b"/")[2]
            if zlib.crc32(sensor) % count != index:
                if msg.qos:
                    client.ack(msg.mid, msg.qos)
                self.other_partitions += 1
                return
        self._inbox.append(
            (
                msg.topic,
                bytes(msg.payload),
                msg.mid,
                msg.qos,
                int(time.time() * 1000),
                self._session,
            )
        )
        if not self._signalled and self._loop is not None:
            self._signalled = True
            self._loop.call_soon_threadsafe(self._set_wake)

    def _set_wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- event loop ------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect (retrying in the background) and ingest until ``stop``."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        refresher = None
        if self._partition is not None:
            # The first share before connecting, so the first SUBSCRIBE holds it all.
            await self._retrying("sensor registry", self.refresh_partition)
            refresher = asyncio.create_task(self._refresh_partition_forever())
        adopting = None
        if self._announce and self.config.adopt_after_s > 0:
            adopting = asyncio.create_task(self._adopt_forever())
        self._client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive_s,
            clean_start=False if self.config.mqtt5 else MQTT_CLEAN_START_FIRST_ONLY,
            properties=connect_properties(self.config),
        )
        self._client.loop_start()
        republisher = None
        if self._republish:
            assert self.pipeline.bus is not None
            sub = self.pipeline.bus.subscribe(EventFilter(), maxsize=self._republish_queue)
            republisher = asyncio.create_task(self._republish_events(sub))
        committing: asyncio.Task[None] | None = None
        try:
            while not self._stopping:
                await self._wake.wait()
                self._wake.clear()
                self._signalled = False
                while self._inbox and not self._stopping:
                    await self._linger()
                    items = self._take()
                    messages = [Message(t, p, arrived) for t, p, _, _, arrived, _ in items]
                    # Decode this batch while the previous one commits; commits (and so
                    # acknowledgements) stay in arrival order.
                    prepare = functools.partial(self.pipeline.prepare, messages)
                    batch = await self._retrying("decode", prepare)
                    if committing is not None:
                        await committing
                    committing = asyncio.create_task(self._commit(batch, items))
                if committing is not None:
                    await committing
                    committing = None
        finally:
            if committing is not None:
                await asyncio.gather(committing, return_exceptions=True)
            if republisher is not None:
                republisher.cancel()
            if refresher is not None:
                refresher.cancel()
            if adopting is not None:
                adopting.cancel()
            await self._release_adopted()
            self._disconnected.clear()
            if self._announce and self._partition is not None and self._client.is_connected():
                # Stopped is down too: after adopt_after_s a live worker takes the share.
                index, count = self._partition
                down = status_payload(index, count, self.config.client_id, "down")
                self._client.publish(status_topic(index, count), down, qos=1, retain=True)
            if self._client.is_connected():
                await self._acknowledged(5.0)
            self._client.disconnect()
            # The acknowledgements of the last commit are queued before the DISCONNECT: wait
            # until paho has sent them and closed, so a clean stop leaves nothing committed
            # unacknowledged (which the broker would redeliver as duplicates).
            if self.connected.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._disconnected.wait(), 5)
            # Joining paho's thread blocks for up to a select timeout: not on the event loop,
            # which may be serving an in-process broker that thread is talking to.
            await stop_network_thread(self._client)

    async def _acknowledged(self, timeout_s: float) -> None:
        """Wait (at most ``timeout_s``) until the broker has read every PUBACK sent so far.

        Having written them is not enough. Messages keep arriving until the DISCONNECT, so
        closing leaves unread data and the kernel resets the connection; Mosquitto handles a
        socket's writes before its reads, fails writing to it and drops the connection
        without reading what was still in its buffer: the last batch's PUBACKs. Those
        readings, committed, came back after a restart as duplicates (seen in the SIGTERM
        no-loss test). A broker handles one connection's packets in order, so the SUBACK of
        a SUBSCRIBE sent after them (to a broker counter this client already follows, QoS 0)
        means they were read."""
        topic = next(iter(BROKER_STATS))
        rc, mid = self._client.subscribe(topic, qos=0)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            return
        # Registered in the same step as the SUBSCRIBE: the SUBACK cannot get here first.
        waiter = asyncio.get_running_loop().create_future()
        self._suback_waiters[mid] = waiter
        try:
            await asyncio.wait_for(waiter, timeout_s)
        except TimeoutError:
            log.warning("the broker did not confirm the last acknowledgements in %.0f s", timeout_s)
        finally:
            self._suback_waiters.pop(mid, None)

    async def refresh_partition(self) -> int:
        """Subscribe to the topics of this partition's sensors registered since the last call;
        returns how many filters were added. (No-op without a partition.)"""
        if self._partition is None:
            return 0
        index, count = self._partition
        prefix = self.config.topic.rpartition("/")[0] + "/"
        ids = await self.pipeline.sensors.ids()
        wanted = {prefix + s for s in ids if _subscribable(s) and partition_of(s, count) == index}
        with self._owned_lock:
            new = sorted(wanted - self._owned)
            self._owned.update(new)
        # While disconnected paho refuses these; the next connect subscribes to all owned.
        # Otherwise this returns once the broker has granted them.
        loop = asyncio.get_running_loop()
        waiters = []
        for i in range(0, len(new), SUBSCRIBE_CHUNK):
            rc, mid = self._client.subscribe([(f, 1) for f in new[i : i + SUBSCRIBE_CHUNK]])
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
                self._suback_waiters[mid] = waiter = loop.create_future()
                waiters.append(waiter)
        if waiters:
            try:
                await asyncio.wait_for(asyncio.gather(*waiters), 30)
            except TimeoutError:
                log.warning("partition: no SUBACK within 30 s; the next connect subscribes")
            finally:
                for waiter in waiters:
                    waiter.cancel()
        if new:
            log.info("partition %d/%d: subscribed to %d more sensors", index + 1, count, len(new))
        return len(new)

    # -- adopting a dead worker's partition ------------------------------------------------

    def _peer_status(self, index: int, count: int, client_id: str, state: str) -> None:
        if self._partition is None or count != self._partition[1] or index == self._partition[0]:
            return  # another split (workers restarted with a new n) or this worker's own
        known = self._peers.get(index)
        if known is None or known[:2] != (client_id, state):
            self._peers[index] = (client_id, state, time.monotonic())
            log.info("partition %d/%d (%s) is %s", index + 1, count, client_id, state)

    def _designated(self, index: int) -> bool:
        """Whether this worker adopts ``index``: the first live partition after it, in
        order, so every worker that sees the same states picks the same adopter."""
        assert self._partition is not None
        own, count = self._partition
        live = [own, *(k for k, (_, state, _) in self._peers.items() if state == "up")]
        return min(live, key=lambda k: (k - index) % count) == own

    async def _adopt_forever(self) -> None:
        assert self._partition is not None
        tick = min(1.0, self.config.adopt_after_s)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for index, (client_id, state, since) in list(self._peers.items()):
                running = self._adopters.get(index)
                if running is not None and running[1].done():
                    del self._adopters[index]
                    running = None
                    if state == "down":  # the session ended: wait again before retrying
                        self._peers[index] = (client_id, state, now)
                        continue
                if state == "up":
                    if running is not None:
                        running[0].stop()  # its owner is back (and has taken the session)
                    continue
                if (
                    running is None
                    and now - since >= self.config.adopt_after_s
                    and self._designated(index)
                ):
                    self._adopters[index] = self._adopt(index, client_id)

    def _adopt(self, index: int, client_id: str) -> tuple[MqttIngest, asyncio.Task[None]]:
        assert self._partition is not None
        count = self._partition[1]
        log.warning(
            "partition %d/%d (%s) has been down for %.0f s: adopting its session",
            index + 1,
            count,
            client_id,
            self.config.adopt_after_s,
        )
        config = replace(self.config, client_id=client_id, partition=(index, count))
        adopter = MqttIngest(
            self.pipeline,
            config,
            batch_size=self.batch_size,
            linger_s=self.linger_s,
            republish=False,  # this worker's republisher sends every event the pipeline makes
            adopted=True,
        )
        return adopter, asyncio.create_task(adopter.run())

    async def _release_adopted(self) -> None:
        adopters = list(self._adopters.values())
        self._adopters.clear()
        for adopter, _ in adopters:
            adopter.stop()
        await asyncio.gather(*(task for _, task in adopters), return_exceptions=True)

    @property
    def adopted_partitions(self) -> list[str]:
        """The other workers' partitions this one holds now, as ``k/n``."""
        count = self._partition[1] if self._partition else 0
        return [
            f"{index + 1}/{count}"
            for index, (adopter, task) in sorted(self._adopters.items())
            if not task.done() and adopter.connected.is_set()
        ]

    @property
    def partition_topics(self) -> int:
        """How many sensor topic filters this partition holds."""
        return len(self._owned)

    async def _refresh_partition_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.partition_refresh_s)
            try:
                await self.refresh_partition()
            except HubError as exc:
                log.warning("partition refresh failed (%s); retrying later", exc)

    async def _linger(self) -> None:
        # A batch waits for company until its oldest message is linger_s old: fewer, larger
        # commits (each one an fsync) at a bounded cost in latency.
        if self.linger_s and len(self._inbox) < self.batch_size:
            wait = self._inbox[0][4] / 1000 + self.linger_s - time.time()
            if wait > 0:
                await asyncio.sleep(wait)

    async def _retrying(self, what: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run ``attempt`` until it succeeds: a store that is down delays ingest, it never
        drops a message (nothing is acknowledged meanwhile, so the broker keeps them)."""
        delay = self.config.reconnect_min_s
        while True:
            try:
                result = await attempt()
                self.error = None
                return result
            except HubError as exc:
                self.error = f"{what} failed: {exc}"
                if self._stopping:
                    raise
                log.error("ingest %s failed (%s); retrying in %.1f s", what, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.reconnect_max_s)

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish on the subscriber's own connection at QoS 0 (events the hub derives, such
        as alerts, go out beside the republished readings)."""
        self._client.publish(topic, payload, qos=0)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        self._stopping = True
        if self._wake is not None:
            self._wake.set()

    def _take(self) -> list[_Inbound]:
        inbox = self._inbox
        return [inbox.popleft() for _ in range(min(self.batch_size, len(inbox)))]

    async def _commit(self, batch: Batch, items: list[_Inbound]) -> None:
        await self._retrying("commit", lambda: self.pipeline.commit(batch))
        session = self._session
        # A message from an earlier connection will be redelivered (and deduplicated); its
        # packet id may mean another message in the new session, so it is not acked here.
        mids = [mid for _, _, mid, qos, _, s in items if qos == 1 and s == session]
        self._client.ack_many(mids)
        self.pipeline.counters.acked += len(mids)

    async def _republish_events(self, sub: Subscription) -> None:
        # Whatever is queued goes out in one write: one wake-up of paho's thread per batch.
        async with sub:
            async for event in sub:
                events = [event, *sub.take(REPUBLISH_BATCH - 1)]
                self._client.publish_many([event_message(e) for e in events])


def event_message(event: Event) -> tuple[str, bytes]:
    """The MQTT topic and JSON body an event is republished as, under ``hub/v1/events/``."""
    if isinstance(event, ReadingEvent):
        topic = f"{EVENTS_PREFIX}/{event.kind}/{event.sensor_id}"
        body: dict[str, Any] = {
            "type": "reading",
            "sensor_id": event.sensor_id,
            "project_code": event.project_code,
            "metric": event.metric,
            "ts": event.ts.isoformat(),
            "value": event.value,
            "unit": event.unit,
        }
    else:
        where = (
            f"{event.kind}/{event.sensor_id}"
            if event.sensor_id
            else f"projects/{event.project_code}/{event.kind}"
        )
        topic = f"{EVENTS_PREFIX}/{where}/daily"
        body = {
            "type": "rollup",
            "sensor_id": event.sensor_id,
            "project_code": event.project_code,
            "metric": event.metric,
            "day": event.day.isoformat(),
            "value": event.value,
            "samples": event.samples,
        }
    return topic, json.dumps(body, ensure_ascii=False).encode()
