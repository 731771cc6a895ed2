"""Live feeds for ``hub demo``: an embedded MQTT broker and a simulator of site meters and gates.

The simulator publishes over MQTT like real devices would, so the demo exercises the whole
ingest path (broker → subscriber → pipeline → telemetry store → live bus → GraphQL):

- **history** on start, whenever the telemetry store lacks it (whatever else has stored
  readings: the satellite simulator usually has, first): 30 days of hourly energy per meter and
  7 days of gate passes, as batched payloads, so series, baselines and headcounts have something
  to show at once (a month, so a site stopped for a week still has a baseline of normal work to
  be compared with). The history goes through the ingest pipeline (decoding, validation,
  commit) in large transactions, not over the broker, as an import of past data would; readings
  are idempotent, so writing it again stores nothing twice;
- **meters** then report every minute (energy of the minute just ended), staggered;
- **gates** report passes as they happen: arrivals 06:30–08:30, a lunch break, departures
  17:00–19:00 local time, fewer workers at weekends;
- **shape**: site power follows the working day (night load about 15%), weekends run lighter,
  completed projects only keep the lights on;
- **idle projects**: about one in twelve sites under construction stopped at local midnight
  three days ago (power near zero, nobody at the gate), the pattern the fusion rules look for.
  Stops begin at midnight, so the scenario is the same at whatever hour the demo starts: three
  complete idle days (PROJECT_IDLE), eight for the long stop;
- **one long stop**: the only site under construction in one county stopped eight days ago,
  so it is still reported under construction while nothing happens (a verification mismatch,
  issue 8) and its county's MPI is red;
- **silent sensors**: two meters stopped reporting three hours ago and stay silent (STALE);
- **malformed traffic**: every 20 s one bad message (not JSON, unknown sensor, negative energy,
  missing offset, a reading from tomorrow) that must land in the dead letters;
- **cameras**: four cameras play synthetic site clips (``hub.demo.cameras``): busy, still,
  night, frozen.

Every choice is seeded by the sensor or project id, and every time is read from an injected
clock (``simulate(clock=...)``), so a restart simulates the same sites and a test can pin the
moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import itertools
import json
import logging
import math
import random
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from graph_schema.errors import ConfigurationError
from graph_schema.statements.monitoring import SENSORS_OF_KIND
from graph_schema.store import GraphStore
from hub.clock import Clock, system_clock
from hub.demo import cameras
from hub.settings import Settings
from hub.telemetry import Telemetry
from ingest.model import Message
from ingest.mqtt import stop_network_thread

log = logging.getLogger(__name__)

HISTORY_POWER_DAYS = 30
HISTORY_LABOR_DAYS = 7
METER_INTERVAL_S = 60
GATE_TICK_S = 5.0
BAD_MESSAGE_EVERY_S = 20.0
IDLE_SHARE = 1 / 12
IDLE_SINCE_DAYS = 3
LONG_IDLE_DAYS = 8
SILENT_METERS = 2
SILENT_SINCE_H = 3
# Messages (a meter-day or a gate-day each) per history transaction.
HISTORY_BATCH = 200
_SHANGHAI = ZoneInfo("Asia/Shanghai")


@contextlib.asynccontextmanager
async def embedded_broker(url: str, *, shutdown_s: float = 10.0) -> AsyncIterator[None]:
    """An amqtt broker on ``url``'s host and port for the life of the context (MQTT 3.1.1)."""
    embedded = _broker_class()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"the demo's embedded MQTT broker cannot listen on {host}:{port} ({exc.strerror}); "
                "if a broker already runs there, set HUB_MQTT_URL to use it instead"
            ) from None
    # amqtt and its state machine narrate every connection at INFO.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    logging.getLogger("amqtt").setLevel(logging.WARNING)
    for name in ("amqtt", "amqtt.broker", "amqtt.mqtt.protocol.handler"):
        logging.getLogger(name).addFilter(_late_acks)
    broker = embedded(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
    )
    await broker.start()
    log.info("embedded MQTT broker (amqtt) listening on %s:%s", host, port)
    try:
        yield
    finally:
        await broker.stop(shutdown_s)


def _broker_class() -> type[Any]:
    from amqtt.broker import Broker  # type: ignore[import-untyped]

    class EmbeddedBroker(Broker):  # type: ignore[misc]
        """amqtt's broker, minding its client streams so that it can always stop.

        amqtt's shutdown ends the sessions it knows and then waits for its listening server to
        close, which since Python 3.12.1 means waiting for every client connection to end. A
        connection with no session (a client between TCP connect and MQTT CONNECT, or one
        reconnecting while the broker stops) never ends, and the shutdown waits forever: the
        demo's occasional hang on Ctrl-C. Here such streams are aborted once the sessions are
        gone, and a stream is closed as soon as amqtt has finished with it."""

        def __init__(self, config: dict[str, Any]) -> None:
            super().__init__(config)
            self.streams: set[asyncio.StreamWriter] = set()

        async def stream_connected(
            self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
        ) -> None:
            self.streams.add(writer)
            try:
                await super().stream_connected(reader, writer, listener_name)
            finally:
                # amqtt is done with the stream (DISCONNECT, error) but leaves the socket
                # open until the client closes it; closing it here is what a broker does.
                self.streams.discard(writer)
                writer.transport.close()

        async def stop(self, limit_s: float) -> None:
            task = asyncio.ensure_future(self.shutdown())
            # Sessions end within moments; what is still connected after that has no session.
            done, _ = await asyncio.wait({task}, timeout=min(1.0, limit_s))
            if not done:
                # amqtt reports each aborted stream as an ERROR; here that is the plan.
                quiet = logging.getLogger("amqtt.broker")
                quiet.addFilter(_silence)
                try:
                    for writer in list(self.streams):
                        writer.transport.abort()
                    done, _ = await asyncio.wait({task}, timeout=limit_s)
                finally:
                    quiet.removeFilter(_silence)
            if not done:
                task.cancel()
                log.warning("embedded MQTT broker did not shut down within %.0f s", limit_s)

    return EmbeddedBroker


def _silence(record: logging.LogRecord) -> bool:
    return False


def _late_acks(record: logging.LogRecord) -> bool:
    """Drop amqtt's reports of acknowledgements that came after its fixed 5 s: the hub
    acknowledges after committing, and while the demo's history floods in a commit can take
    that long. The message was delivered and is stored; amqtt only stops tracking it."""
    text = record.getMessage()
    late = "PUBACK" in text or (
        "Task failed and will be skipped" in text
        and record.exc_info is not None
        and isinstance(record.exc_info[1], TimeoutError)
    )
    return not late


# --- the sites ----------------------------------------------------------------------------------


def _rng(*parts: str) -> random.Random:
    seed = int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:8], "big")
    return random.Random(seed)


@dataclass
class Site:
    """One project's simulated behaviour."""

    project_code: str
    completed: bool
    peak_kw: float
    workers: list[str]
    idle: bool
    meters: list[str] = field(default_factory=list)
    gates: list[str] = field(default_factory=list)
    inside: set[str] = field(default_factory=set)
    idle_days: int = IDLE_SINCE_DAYS
    stopped_at: dt.datetime | None = None  # an idle site's stop: local midnight
    construction: bool = False  # reported under construction

    @classmethod
    def of(
        cls,
        project_code: str,
        stage: str,
        *,
        now: dt.datetime | None = None,
        tz: ZoneInfo = _SHANGHAI,
    ) -> Site:
        """The site of a project; an idle one stops at local midnight ``IDLE_SINCE_DAYS``
        before ``now``'s day (default: the system clock's)."""
        rng = _rng("site", project_code)
        completed = stage == "completed"
        crew = rng.randint(3, 12) if completed else int(rng.lognormvariate(math.log(60), 0.6))
        crew = max(3, min(crew, 400))
        site = cls(
            project_code=project_code,
            completed=completed,
            construction=stage == "construction",
            peak_kw=rng.uniform(20, 60) if completed else rng.lognormvariate(math.log(250), 0.7),
            # Badge numbers as a gate system would send them; ingest hashes them on arrival.
            workers=[f"{project_code[-6:]}-{n:04d}" for n in range(crew)],
            # Only a site under construction is expected to work, so only it can stop.
            idle=stage == "construction" and rng.random() < IDLE_SHARE,
        )
        if site.idle:
            site.stop(now or system_clock(), tz, IDLE_SINCE_DAYS)
        return site

    def stop(self, now: dt.datetime, tz: ZoneInfo, days: int) -> None:
        """Idle from local midnight ``days`` days before ``now``'s day."""
        self.idle, self.idle_days = True, days
        day = now.astimezone(tz).date() - dt.timedelta(days=days)
        self.stopped_at = dt.datetime.combine(day, dt.time(), tz)

    def working(self, moment: dt.datetime, tz: ZoneInfo) -> bool:
        return self.stopped_at is None or moment < self.stopped_at

    def power_kw(self, moment: dt.datetime, tz: ZoneInfo, jitter: float) -> float:
        """Mean site demand at ``moment``: the working day's shape, weekends and idling."""
        local = moment.astimezone(tz)
        hour = local.hour + local.minute / 60
        if not self.working(moment, tz):
            return self.peak_kw * 0.02 * jitter
        if self.completed:
            return self.peak_kw * (0.5 if 8 <= hour < 18 else 0.2) * jitter
        if 7 <= hour < 18:
            level = 0.75 if 11.5 <= hour < 13 else 1.0
        elif 6 <= hour < 7 or 18 <= hour < 20:
            level = 0.5
        else:
            level = 0.15
        if local.weekday() >= 5:
            level *= 0.6
        return self.peak_kw * level * jitter

    def crew_today(self, day: dt.date) -> list[str]:
        """Who comes in on ``day``: most of the crew on weekdays, fewer at weekends."""
        rng = _rng("crew", self.project_code, day.isoformat())
        share = 0.45 if day.weekday() >= 5 else 0.9
        return [w for w in self.workers if rng.random() < share]


def _passes(site: Site, day: dt.date, tz: ZoneInfo) -> list[tuple[dt.datetime, str, str]]:
    """A working day's gate passes: (time, worker, direction), in time order."""
    rng = _rng("passes", site.project_code, day.isoformat())
    start = dt.datetime.combine(day, dt.time(), tz)
    out: list[tuple[dt.datetime, str, str]] = []
    for worker in site.crew_today(day):
        arrive = start + dt.timedelta(hours=rng.uniform(6.5, 8.5))
        leave = start + dt.timedelta(hours=rng.uniform(17.0, 19.0))
        out += [(arrive, worker, "in"), (leave, worker, "out")]
        if rng.random() < 0.3:  # out for lunch and back
            lunch = start + dt.timedelta(hours=rng.uniform(11.5, 12.5))
            out += [(lunch, worker, "out"), (lunch + dt.timedelta(minutes=40), worker, "in")]
    out.sort()
    return out


# --- publishing ---------------------------------------------------------------------------------


class Publisher:
    """A paho client publishing at QoS 1 from its own network thread."""

    def __init__(self, settings: Settings, *, protocol: int) -> None:
        parts = urlsplit(settings.mqtt.url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{settings.mqtt.client_id}-demo-simulator",
            protocol=MQTTProtocolVersion.MQTTv5 if protocol == 5 else MQTTProtocolVersion.MQTTv311,
        )
        if settings.mqtt.username:
            password = settings.mqtt.password
            self.client.username_pw_set(
                settings.mqtt.username, password.get_secret_value() if password else None
            )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.published = 0

    def start(self) -> None:
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()

    async def stop(self) -> None:
        self.client.disconnect()
        # Off the event loop: the embedded broker paho talks to runs on it.
        await stop_network_thread(self.client)

    def send(self, topic: str, body: Any) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.client.publish(topic, payload, qos=1)
        self.published += 1


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def meter_history(
    site: Site, meter: str, silent: bool, tz: ZoneInfo, now: dt.datetime
) -> list[dict[str, Any]]:
    """A meter's hourly energy over the last HISTORY_POWER_DAYS (a silent one's ends
    SILENT_SINCE_H ago), as reading payloads."""
    rng = _rng("history", meter)
    hour_now = now.replace(minute=0, second=0, microsecond=0)
    end = hour_now - dt.timedelta(hours=SILENT_SINCE_H) if silent else hour_now
    moment = end - dt.timedelta(days=HISTORY_POWER_DAYS)
    out: list[dict[str, Any]] = []
    while moment < end:
        moment += dt.timedelta(hours=1)
        kwh = site.power_kw(moment, tz, rng.uniform(0.85, 1.15))
        out.append({"ts": _iso(moment), "metric": "energy_kwh", "value": round(kwh, 3),
                    "unit": "kWh"})  # fmt: skip
    return out


def history_messages(
    site: Site, silent: set[str], tz: ZoneInfo, now: dt.datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    """One site's history as MQTT (topic, body): each meter's hourly energy in day batches,
    each gate's passes per day over the last HISTORY_LABOR_DAYS and today so far."""
    for meter in site.meters:
        readings = meter_history(site, meter, meter in silent, tz, now)
        for first in range(0, len(readings), 24):
            yield f"hub/v1/power/{meter}", {"readings": readings[first : first + 24]}
    today = now.astimezone(tz).date()
    for gate in site.gates:
        for back in range(HISTORY_LABOR_DAYS, -1, -1):
            day_ = today - dt.timedelta(days=back)
            events = [
                {"ts": _iso(at), "worker_id": worker, "direction": direction}
                for at, worker, direction in _passes(site, day_, tz)
                if at <= now and site.working(at, tz)
            ]
            if events:
                yield f"hub/v1/labor/{gate}", {"events": events}


async def _history(
    telemetry: Telemetry,
    sites: list[Site],
    silent: set[str],
    tz: ZoneInfo,
    now: dt.datetime,
    *,
    batch: int = HISTORY_BATCH,
) -> int:
    """Write the history through the ingest pipeline (the same decoding, validation and
    commit as MQTT messages get), ``batch`` messages a transaction, off the live bus; return
    the readings and passes stored. Not over the broker: one message per meter-day, each
    acknowledged after its commit, took 5 minutes and 3.5 CPU-minutes on a 2-core machine at
    load average 3-7 (this way: 45 s and 28 CPU-s at that load, 22-32 s idle)."""
    arrived = int(now.timestamp() * 1000)
    messages = (
        Message(topic, json.dumps(body).encode(), arrived)
        for site in sites
        for topic, body in history_messages(site, silent, tz, now)
    )
    stored = 0
    for chunk in itertools.batched(messages, batch):
        result = await telemetry.pipeline.process(chunk, live=False)
        stored += len(result.stored) + len(result.attendance_stored)
    return stored


def _bad_messages(now: dt.datetime, meter: str) -> list[tuple[str, bytes]]:
    stamp = _iso(now)
    tomorrow = _iso(now + dt.timedelta(days=1))

    def reading(ts: str, value: float) -> bytes:
        return json.dumps(
            {"ts": ts, "metric": "energy_kwh", "value": value, "unit": "kWh"}
        ).encode()

    return [
        (f"hub/v1/power/{meter}", b"{not json"),
        ("hub/v1/power/pwr-NOT-REGISTERED", reading(stamp, 1.0)),
        (f"hub/v1/power/{meter}", reading(stamp, -5.0)),
        (f"hub/v1/power/{meter}", reading(stamp[:19], 2.0)),  # no UTC offset
        (f"hub/v1/power/{meter}", reading(tomorrow, 2.0)),
    ]


async def simulate(
    settings: Settings,
    graph: GraphStore,
    telemetry: Telemetry,
    *,
    protocol: int,
    clock: Clock = system_clock,
) -> None:
    """Publish the history the telemetry store lacks (``needs_history``), then live traffic
    until cancelled.

    Gates send badge numbers, as real ones do; the hub hashes them with its salt on arrival."""
    tz = ZoneInfo(settings.telemetry.timezone)
    if settings.camera.enabled:
        await cameras.configure(graph, settings.data_dir)
    rows = await graph.run(SENSORS_OF_KIND, {"kinds": ["power", "labor"]})
    started = clock()
    ordered, silent = plan(rows, started, tz)
    meters = [(site, meter) for site in ordered for meter in site.meters]
    if not meters:
        log.warning("demo simulator: no power or labor sensors in the graph; nothing to simulate")
        return
    publisher = Publisher(settings, protocol=protocol)
    publisher.start()
    healthy = [m for _, m in meters if m not in silent]
    malformed = asyncio.create_task(_malformed(publisher, healthy))
    try:
        # Live traffic starts at once, beside the history: a meter whose newest reading were
        # the history's last hour would look (and alert as) stale until the history is done.
        log.info("demo simulator: live; silent meters: %s", ", ".join(sorted(silent)))
        live = asyncio.create_task(_live(publisher, ordered, meters, silent, tz, clock))
        if await needs_history(telemetry, [m for _, m in meters], started, tz):
            gates = sum(len(s.gates) for s in ordered)
            log.info("demo simulator: writing history for %d meters and %d gates",
                     len(meters), gates)  # fmt: skip
            stored = await _history(telemetry, scenarios_first(ordered, silent), silent, tz,
                                    started)  # fmt: skip
            log.info("demo simulator: history written (%d readings and passes)", stored)
        await live
    finally:
        malformed.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await malformed
        await publisher.stop()


async def needs_history(
    telemetry: Telemetry, meters: list[str], now: dt.datetime, tz: ZoneInfo
) -> bool:
    """Whether some meter lacks its history: no energy rollup on the window's first day or
    on yesterday. Decided by the simulator's own meters, not by whether the store is empty
    (the satellite simulator stores readings of its own, usually first)."""
    if not meters:
        return False
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=HISTORY_POWER_DAYS - 1)
    yesterday = today - dt.timedelta(days=1)
    for day in (first, yesterday):
        rows = await telemetry.store.daily(
            start=day, end=day, sensor_ids=meters, metric="energy_kwh"
        )
        if {r.sensor_id for r in rows} != set(meters):
            return True
    return False


def plan(rows: list[dict[str, Any]], now: dt.datetime, tz: ZoneInfo) -> tuple[list[Site], set[str]]:
    """The simulated sites (by project code) and the meters that go silent, as of ``now``."""
    sites: dict[str, Site] = {}
    for row in rows:
        site = sites.get(row["project_code"])
        if site is None:
            site = sites[row["project_code"]] = Site.of(
                row["project_code"], row["stage"], now=now, tz=tz
            )
        (site.meters if row["kind"] == "power" else site.gates).append(row["id"])
    ordered = sorted(sites.values(), key=lambda s: s.project_code)
    stopped = long_stop(ordered)
    if stopped is not None:
        stopped.stop(now, tz, LONG_IDLE_DAYS)
        log.info("demo simulator: %s stopped %d days ago", stopped.project_code, LONG_IDLE_DAYS)
    meters = [(site, meter) for site in ordered for meter in site.meters]
    # Two meters go silent, spread over the list; a small graph (under 20 meters) keeps all.
    n_silent = SILENT_METERS if len(meters) >= 20 else 0
    silent = (
        {meter for _, meter in meters[:: len(meters) // n_silent][:n_silent]} if n_silent else set()
    )
    return ordered, silent


def scenarios_first(sites: list[Site], silent: set[str]) -> list[Site]:
    """The order the history is published in: the scripted scenarios' sites first (the long
    stop, whose county goes red and whose case escalates; the sites with a silent meter; the
    short stops), then the rest, each group by project code, so that on a busy machine every
    scenario has its history first."""

    def rank(site: Site) -> int:
        if site.idle and site.idle_days == LONG_IDLE_DAYS:
            return 0
        if set(site.meters) & silent:
            return 1
        return 2 if site.idle else 3

    return sorted(sites, key=lambda site: (rank(site), site.project_code))


def long_stop(sites: list[Site]) -> Site | None:
    """The site that stops for long: the only one under construction in its county (the
    county is in the project code), first such county by code; none on a small graph."""
    by_county: dict[str, list[Site]] = {}
    for site in sites:
        if site.construction and site.meters:
            by_county.setdefault(site.project_code[5:11], []).append(site)
    alone = [found[0] for _, found in sorted(by_county.items()) if len(found) == 1]
    return alone[0] if len(by_county) > 1 and alone else None


async def _malformed(publisher: Publisher, healthy: list[str]) -> None:
    """One bad message every BAD_MESSAGE_EVERY_S, from the start (history or not)."""
    for index in itertools.count():
        meter = healthy[index % len(healthy)] if healthy else "pwr-NONE"
        bad = _bad_messages(dt.datetime.now(dt.UTC), meter)
        topic, payload = bad[index % len(bad)]
        publisher.send(topic, payload)
        await asyncio.sleep(BAD_MESSAGE_EVERY_S)


async def _live(
    publisher: Publisher,
    sites: list[Site],
    meters: list[tuple[Site, str]],
    silent: set[str],
    tz: ZoneInfo,
    clock: Clock = system_clock,
) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    next_gate = start
    rng = random.Random(7)
    plans: dict[tuple[str, dt.date], list[tuple[dt.datetime, str, str]]] = {}
    while True:
        now = clock()
        second = int(now.timestamp())
        # Meters: each reports once a minute, at its own second, the energy of that minute.
        for index, (site, meter) in enumerate(meters):
            if meter in silent or (second - index) % METER_INTERVAL_S:
                continue
            ts = now.replace(microsecond=0)
            kwh = site.power_kw(ts, tz, rng.uniform(0.85, 1.15)) * METER_INTERVAL_S / 3600
            publisher.send(
                f"hub/v1/power/{meter}",
                {"ts": _iso(ts), "metric": "energy_kwh", "value": round(kwh, 4), "unit": "kWh"},
            )
        if loop.time() >= next_gate:
            next_gate += GATE_TICK_S
            _gate_tick(publisher, sites, now, tz, plans)
        await asyncio.sleep(min(1.0, max(0.05, second + 1 - clock().timestamp())))


def _gate_tick(
    publisher: Publisher,
    sites: list[Site],
    now: dt.datetime,
    tz: ZoneInfo,
    plans: dict[tuple[str, dt.date], list[tuple[dt.datetime, str, str]]],
) -> None:
    """Passes that fall in the last tick, from each working site's plan for today."""
    since = now - dt.timedelta(seconds=GATE_TICK_S)
    today = now.astimezone(tz).date()
    if any(day != today for _, day in plans):
        plans.clear()
    for site in sites:
        if not site.gates or not site.working(now, tz):
            continue
        plan = plans.get((site.project_code, today))
        if plan is None:
            plan = plans[(site.project_code, today)] = _passes(site, today, tz)
        events = [
            {"ts": _iso(at), "worker_id": worker, "direction": direction}
            for at, worker, direction in plan
            if since < at <= now
        ]
        if events:
            publisher.send(f"hub/v1/labor/{site.gates[0]}", {"events": events})


# --- the supervision scenario -------------------------------------------------------------------

DEMO_UNIT = "县发展改革局重大项目办"
DEMO_PERSON = "项目专班联络员"
DEMO_ACTOR = "demo:scenario"


async def supervision_scenario(
    watch: Any,
    project_code: str,
    *,
    clock: Clock = system_clock,
    poll_s: float = 2.0,
) -> Any:
    """The demo's supervision case: on the long stop's PROJECT_IDLE alert (once the watch has
    raised it), a case opened a week ago whose county deadline has passed, escalated to the
    city by the watch's own round. Returns the case; a restart finds it and does nothing."""
    from hub.monitoring.alerts import AlertFilter, AlertType, Status
    from hub.monitoring.supervision import REPLY_DAYS

    found = await watch.supervision.find(project_code=project_code, limit=1)
    if found:
        return found[0]
    while True:
        alerts = await watch.alerts.list(
            AlertFilter(
                types=(AlertType.PROJECT_IDLE,),
                project_code=project_code,
                statuses=(Status.ACTIVE_UNACK, Status.ACTIVE_ACK),
            ),
            limit=1,
        )
        if alerts:
            break
        await asyncio.sleep(poll_s)  # the history is still coming in
    now = clock()
    opened = now - dt.timedelta(days=REPLY_DAYS["county"] + 2)
    await watch.supervision.open(
        alerts[0], unit=DEMO_UNIT, person=DEMO_PERSON, by=DEMO_ACTOR, now=opened,
        note="演示：长期停工项目督办",
    )  # fmt: skip
    moved = await watch.supervision.escalate_due(now)
    return moved[0] if moved else (await watch.supervision.find(project_code=project_code))[0]


async def demo_supervision(watch: Any, graph: GraphStore, settings: Settings) -> None:
    """``hub demo``: the supervision scenario on the long stop of ``plan``."""
    tz = ZoneInfo(settings.telemetry.timezone)
    rows = await graph.run(SENSORS_OF_KIND, {"kinds": ["power", "labor"]})
    sites, _ = plan(rows, watch.now(), tz)
    stopped = next((s for s in sites if s.idle_days == LONG_IDLE_DAYS), None)
    if stopped is None:
        log.warning("demo: no long stop, so no supervision scenario")
        return
    case = await supervision_scenario(watch, stopped.project_code, clock=watch.now)
    log.info("demo: supervision case %s on %s at %s level", case.id, stopped.project_code,
             case.level)  # fmt: skip
