"""``hub doctor``: checks what the hub is configured to use and says, in plain words, what is
wrong. Each problem has a stable code, so runbooks and alerting can key on it.

Checks, each bounded by a timeout: the settings (combinations that load but cannot work), the
data directory, the graph store (reachable, credentials, schema version against this hub's
migrations), the telemetry store, and the broker (host, connection, credentials, may it
subscribe to the ingest topic, may it publish and read back an event). Nothing is changed:
the graph is not migrated, the broker sees a throw-away client id with a clean session and
a plain (not shared) subscription, so no message meant for ingest is taken. (Opening the
telemetry store applies its pending migrations, as every start of the hub does.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from paho.mqtt.client import Client, ConnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from rich.table import Table

from graph_schema.connect import NEO4J_SCHEMES, open_graph_store
from graph_schema.dialect import Dialect
from graph_schema.errors import ConfigurationError, HubError
from graph_schema.migrations import LATEST, MIGRATIONS, current_version
from graph_schema.statements.health import IndexState, ServerInfo, index_states, server_info
from graph_schema.store import GraphStore
from hub.settings import Environment, Settings, mask_url
from hub.telemetry import mqtt_config
from ingest.mqtt import BROKER_STATS, EVENTS_PREFIX, INGEST_TOPIC, MqttConfig


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's verdict: ``code`` is stable (``OK`` when nothing is wrong)."""

    check: str
    status: Status
    code: str
    message: str

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "status": self.status.value,
            "code": self.code,
            "message": self.message,
        }


def _ok(check: str, message: str) -> Finding:
    return Finding(check, Status.OK, "OK", message)


async def diagnose(settings: Settings, *, timeout_s: float = 5.0) -> list[Finding]:
    """Every check's findings, in a fixed order; the checks of different systems run
    concurrently, so the whole takes about the slowest one."""
    found = _settings(settings)
    found.append(await asyncio.to_thread(_data_dir, settings.data_dir))
    _load_adapters(settings)
    graph, telemetry, broker = await asyncio.gather(
        _graph(settings, timeout_s), _telemetry(settings, timeout_s), _broker(settings, timeout_s)
    )
    return [*found, *graph, *telemetry, *broker]


def _load_adapters(s: Settings) -> None:
    """Import the store adapters the settings name before any check's clock starts. The checks
    share one event loop: an import inside one (the Neo4j driver, redis, psycopg: seconds on a
    busy machine) stopped the loop, and another check's connection timed out meanwhile."""
    graph = urlsplit(s.graph.url).scheme
    if graph in NEO4J_SCHEMES:
        import graph_schema.neo4j_store
    else:
        import graph_schema.falkordb_server
        import graph_schema.falkordb_store  # noqa: F401
    if urlsplit(s.telemetry.url).scheme == "sqlite":
        import ingest.sqlite_store
    else:
        import ingest.postgres_store  # noqa: F401


def render(findings: list[Finding]) -> Table:
    table = Table("status", "check", "code", "what it means", title="hub doctor")
    colours = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red"}
    for f in findings:
        table.add_row(f"[{colours[f.status]}]{f.status.value}[/]", f.check, f.code, f.message)
    return table


# -- settings and data dir ---------------------------------------------------------------------


def _settings(s: Settings) -> list[Finding]:
    out: list[Finding] = []
    production = s.environment is Environment.PRODUCTION
    if s.mqtt.password is not None and s.mqtt.username is None:
        out.append(
            Finding("settings", Status.FAIL, "MQTT_PASSWORD_WITHOUT_USER",
                    "HUB_MQTT_PASSWORD is set but HUB_MQTT_USERNAME is not: the broker "
                    "never sees the password")
        )  # fmt: skip
    for name, path in (
        ("HUB_MQTT_TLS_CA_FILE", s.mqtt.tls_ca_file),
        ("HUB_MQTT_TLS_CERT_FILE", s.mqtt.tls_cert_file),
        ("HUB_MQTT_TLS_KEY_FILE", s.mqtt.tls_key_file),
    ):
        if path is not None and not path.is_file():
            out.append(
                Finding("settings", Status.FAIL, "FILE_MISSING",
                        f"{name} names {path}, which is not a readable file")
            )  # fmt: skip
    if s.satellite.enabled and (s.satellite.client_id is None or s.satellite.client_secret is None):
        out.append(
            Finding("settings", Status.FAIL, "SATELLITE_CREDENTIALS_MISSING",
                    "HUB_SATELLITE_ENABLED is true but HUB_SATELLITE_CLIENT_ID or "
                    "HUB_SATELLITE_CLIENT_SECRET is not set")
        )  # fmt: skip
    if s.telemetry.labor_salt is None:
        out.append(
            Finding("settings", Status.WARN, "LABOR_SALT_MISSING",
                    "HUB_TELEMETRY_LABOR_SALT is not set: gate attendance is dead-lettered, "
                    "not stored")
        )  # fmt: skip
    if production and s.auth.anonymous_role is not None:
        out.append(
            Finding("settings", Status.WARN, "ANONYMOUS_ACCESS_IN_PRODUCTION",
                    f"HUB_AUTH_ANONYMOUS_ROLE={s.auth.anonymous_role.value}: anyone who "
                    "reaches the API reads without a key")
        )  # fmt: skip
    if production and s.graph.url.startswith("embedded"):
        out.append(
            Finding("settings", Status.WARN, "EMBEDDED_GRAPH_IN_PRODUCTION",
                    "the graph is the embedded FalkorDB: one process only, no replicas; "
                    "production uses Neo4j (HUB_GRAPH_URL=neo4j://...)")
        )  # fmt: skip
    if not s.mqtt.ingest and not s.mqtt.relay and s.alerts.enabled:
        out.append(
            Finding("settings", Status.WARN, "NO_LIVE_EVENTS",
                    "HUB_MQTT_INGEST and HUB_MQTT_RELAY are both false: this hub's live feeds "
                    "and alerts see no readings until its scheduled re-read")
        )  # fmt: skip
    if s.metrics.enabled and s.metrics.token is None and not s.metrics.networks:
        out.append(
            Finding("settings", Status.WARN, "METRICS_UNREACHABLE",
                    "/metrics has neither HUB_METRICS_TOKEN nor HUB_METRICS_ALLOW_FROM: "
                    "no scraper can read it")
        )  # fmt: skip
    if not out:
        out.append(_ok("settings", "no conflicting settings"))
    return out


def _data_dir(path: Path) -> Finding:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".doctor-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Finding("data dir", Status.FAIL, "DATA_DIR_NOT_WRITABLE",
                       f"cannot write in {path} (HUB_DATA_DIR): {exc.strerror or exc}")  # fmt: skip
    return _ok("data dir", f"{path} is writable")


# -- graph ---------------------------------------------------------------------------------


async def _graph(s: Settings, timeout_s: float) -> list[Finding]:
    g = s.graph
    where = mask_url(g.url)
    # Starting the embedded server takes longer than connecting to one (it loads its file).
    limit = timeout_s * 6 if g.url.startswith("embedded") else timeout_s
    store: GraphStore | None = None
    try:
        store = await asyncio.wait_for(
            open_graph_store(
                g.url,
                data_dir=s.data_dir,
                user=g.user,
                password=g.password.get_secret_value() if g.password else None,
                database=g.database,
                graph_name=g.name,
                pool_size=2,
                query_timeout_s=timeout_s,
                attach=True,
            ),
            limit,
        )
        version = await asyncio.wait_for(current_version(store), timeout_s)
        server = await asyncio.wait_for(server_info(store), timeout_s)
        indexes = await asyncio.wait_for(index_states(store), timeout_s)
    except TimeoutError:
        return [Finding("graph", Status.FAIL, "GRAPH_TIMEOUT",
                        f"{where} did not answer within {limit:g} s (HUB_GRAPH_URL)")]  # fmt: skip
    except ConfigurationError as exc:
        return [Finding("graph", Status.FAIL, "GRAPH_SETTINGS", str(exc))]
    except HubError as exc:
        return [_graph_failure(where, s.graph.url, exc)]
    finally:
        if store is not None:
            with contextlib.suppress(HubError):
                await store.close()
    found = [_ok("graph", f"{store.describe()} answers")]
    if server is not None:
        found.append(_server(server))
    if version == LATEST:
        found.append(_ok("graph schema", f"version {version}, current"))
    elif version < LATEST:
        found.append(
            Finding("graph schema", Status.WARN, "GRAPH_SCHEMA_BEHIND",
                    f"version {version}, this hub's is {LATEST}: `hub migrate` or the next "
                    "start applies the rest")
        )  # fmt: skip
    else:
        found.append(
            Finding("graph schema", Status.FAIL, "GRAPH_SCHEMA_AHEAD",
                    f"version {version} was applied by a newer hub than this one ({LATEST}): "
                    "run the newer version")
        )  # fmt: skip
    found += _indexes(indexes, expected_indexes(store.dialect, version))
    return found


# The Neo4j line this hub is built and tested against (5.26 LTS in CI).
NEO4J_MAJOR = 5


def _server(info: ServerInfo) -> Finding:
    what = f"{info.product} {info.version} {info.edition}".strip()
    major = info.major
    if major is not None and major < NEO4J_MAJOR:
        return Finding("graph server", Status.FAIL, "GRAPH_SERVER_TOO_OLD",
                       f"{what}: the hub needs Neo4j {NEO4J_MAJOR}.x (elementId, SHOW INDEXES, "
                       "IF NOT EXISTS DDL)")  # fmt: skip
    if major != NEO4J_MAJOR:
        return Finding("graph server", Status.WARN, "GRAPH_SERVER_UNTESTED",
                       f"{what}: the hub is tested on Neo4j {NEO4J_MAJOR}.x (5.26 LTS), not this "
                       "version")  # fmt: skip
    return _ok("graph server", what)


def expected_indexes(dialect: Dialect, version: int) -> set[str]:
    """The names of the indexes and constraints the migrations up to ``version`` create
    (Neo4j names them; FalkorDB's are unnamed, so nothing is expected by name there)."""
    if dialect is not Dialect.NEO4J:
        return set()
    return {e.name for m in MIGRATIONS if m.version <= version for e in m.elements_for(dialect)}


def _indexes(states: list[IndexState], expected: set[str]) -> list[Finding]:
    out: list[Finding] = []
    failed = [i for i in states if i.failed]
    building = [i for i in states if not i.online and not i.failed]
    missing = sorted(expected - {i.name for i in states})
    if failed:
        out.append(
            Finding("graph indexes", Status.FAIL, "GRAPH_INDEX_FAILED",
                    "; ".join(f"{i.name} is {i.state}: {i.failure or 'no reason given'}"
                              for i in failed)
                    + ": drop and create it again (the hub's next start creates what is missing)")
        )  # fmt: skip
    if building:
        out.append(
            Finding("graph indexes", Status.WARN, "GRAPH_INDEXES_BUILDING",
                    f"{', '.join(f'{i.name} ({i.state})' for i in building)}: not serving yet; "
                    "a full-text search finds nothing until they are (the hub waits for them at "
                    "start)")
        )  # fmt: skip
    if missing:
        out.append(
            Finding("graph indexes", Status.FAIL, "GRAPH_INDEX_MISSING",
                    f"{', '.join(missing)} missing though the schema version says they were "
                    "created (dropped by hand?): `hub migrate` does not recreate them; create "
                    "them as graph_schema/migrations.py does")
        )  # fmt: skip
    if not out:
        out.append(_ok("graph indexes", f"{len(states)} indexes online"))
    return out


def _graph_failure(where: str, url: str, exc: HubError) -> Finding:
    text = str(exc)
    cause = exc.__cause__
    cause_name = type(cause).__name__ if cause is not None else ""
    lowered = text.lower()
    if "AuthError" in cause_name or "unauthorized" in lowered or "authentication" in lowered:
        return Finding("graph", Status.FAIL, "GRAPH_AUTH_FAILED",
                       f"{where} refused the credentials (HUB_GRAPH_USER, HUB_GRAPH_PASSWORD): "
                       f"{text}")  # fmt: skip
    if "another hub is already using" in text:
        return Finding("graph", Status.FAIL, "GRAPH_IN_USE", text)
    host = urlsplit(url).hostname
    if host and _unresolvable(host):
        return Finding("graph", Status.FAIL, "GRAPH_BAD_HOST",
                       f"the host {host!r} in HUB_GRAPH_URL does not resolve")  # fmt: skip
    scheme = urlsplit(url).scheme
    server = "Neo4j" if scheme in NEO4J_SCHEMES else "the FalkorDB server"
    if scheme.startswith("embedded"):
        server = "the embedded FalkorDB"
    return Finding("graph", Status.FAIL, "GRAPH_UNREACHABLE",
                   f"cannot reach {server} at {where}: is it running, and is HUB_GRAPH_URL "
                   f"right? ({text})")  # fmt: skip


def _unresolvable(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return True
    return False


# -- telemetry -----------------------------------------------------------------------------


async def _telemetry(s: Settings, timeout_s: float) -> list[Finding]:
    from connectors import feeds
    from ingest.connect import open_telemetry_store, sqlite_path

    url = s.telemetry.url
    where = mask_url(url)
    if urlsplit(url).scheme == "sqlite":
        path = sqlite_path(url, s.data_dir)
        if not path.exists():
            return [
                Finding("telemetry", Status.WARN, "TELEMETRY_NOT_CREATED",
                        f"{path} does not exist yet; the hub creates it at its first start")
            ]  # fmt: skip
        where = str(path)
    store = None
    try:
        # Opening applies the store's pending migrations, as every start does.
        store = await asyncio.wait_for(
            open_telemetry_store(
                url, feeds.metrics(), data_dir=s.data_dir, tz=s.telemetry.timezone
            ),
            timeout_s,
        )
        counts = await asyncio.wait_for(store.counts(), timeout_s)
    except TimeoutError:
        return [Finding("telemetry", Status.FAIL, "TELEMETRY_TIMEOUT",
                        f"{where} did not answer within {timeout_s:g} s (locked, or the "
                        "server unreachable?)")]  # fmt: skip
    except ConfigurationError as exc:
        return [Finding("telemetry", Status.FAIL, "TELEMETRY_UNSUPPORTED", str(exc))]
    except HubError as exc:
        return [Finding("telemetry", Status.FAIL, "TELEMETRY_UNREACHABLE",
                        f"cannot open {where} (HUB_TELEMETRY_URL): {exc}")]  # fmt: skip
    finally:
        if store is not None:
            with contextlib.suppress(HubError):
                await store.close()
    found = [_ok("telemetry", f"{store.describe()}: {counts.readings} readings")]
    if counts.dead_letters_pending:
        found.append(
            Finding("telemetry", Status.WARN, "DEAD_LETTERS_PENDING",
                    f"{counts.dead_letters_pending} dead letters wait for a replay "
                    "(deadLetters in GraphQL says why)")
        )  # fmt: skip
    return found


# -- broker --------------------------------------------------------------------------------


async def _broker(s: Settings, timeout_s: float) -> list[Finding]:
    if not (s.mqtt.ingest or s.mqtt.relay):
        return [_ok("broker", "not used (HUB_MQTT_INGEST and HUB_MQTT_RELAY are false)")]
    try:
        config = mqtt_config(s.mqtt)
    except HubError as exc:
        return [Finding("broker", Status.FAIL, "BROKER_SETTINGS", str(exc))]
    found = await asyncio.to_thread(_probe_broker, config, timeout_s, s.mqtt.url)
    if config.mqtt5 and any(f.code == "BROKER_MQTT5_UNSUPPORTED" for f in found):
        # Say whether the broker works at all, as 3.1.1 (amqtt, the demo's broker, is one).
        older = dataclasses.replace(config, mqtt5=False)
        retry = await asyncio.to_thread(_probe_broker, older, timeout_s, s.mqtt.url)
        if not any(f.status is Status.FAIL for f in retry):
            found = [
                Finding("broker", Status.WARN, "BROKER_MQTT311_ONLY",
                        f"{config.host}:{config.port} speaks MQTT 3.1.1, not 5: set "
                        "HUB_MQTT_PROTOCOL=4 (hub demo does this itself for its embedded "
                        "broker); as 3.1.1 the checks below pass"),
                *retry,
            ]  # fmt: skip
    return found


class _Probe:
    def __init__(self) -> None:
        self.connected = threading.Event()
        self.connect_reason: ReasonCode | None = None
        self.subscribed = threading.Event()
        self.granted: list[ReasonCode] = []
        self.received = threading.Event()
        # Set when the test event came back, or the broker refused it in its PUBACK (MQTT 5:
        # Mosquitto answers 0x87 "not authorized" at once), so a denial needs no timeout.
        self.answered = threading.Event()
        self.refused: ReasonCode | None = None
        self.nonce = secrets.token_hex(8)
        self.stats: dict[str, int] = {}
        self.stats_seen = threading.Event()

    def on_connect(
        self, client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode,
        properties: Properties | None,
    ) -> None:  # fmt: skip
        self.connect_reason = reason
        self.connected.set()

    def on_subscribe(
        self, client: Client, userdata: Any, mid: int, reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:  # fmt: skip
        self.granted = list(reasons)
        self.subscribed.set()

    def on_message(self, client: Client, userdata: Any, msg: MQTTMessage) -> None:
        stat = BROKER_STATS.get(msg.topic)
        if stat is not None:
            with contextlib.suppress(ValueError):
                self.stats[stat] = int(msg.payload)
            if len(self.stats) == len(BROKER_STATS):
                self.stats_seen.set()
        elif msg.payload == self.nonce.encode():
            self.received.set()
            self.answered.set()

    def on_publish(
        self, client: Client, userdata: Any, mid: int, reason: ReasonCode,
        properties: Properties | None,
    ) -> None:  # fmt: skip
        if reason.is_failure:
            self.refused = reason
            self.answered.set()


def _probe_broker(config: MqttConfig, timeout_s: float, url: str) -> list[Finding]:
    where = f"{config.host}:{config.port}"
    try:
        socket.getaddrinfo(config.host, config.port)
    except (socket.gaierror, UnicodeError):
        return [Finding("broker", Status.FAIL, "BROKER_BAD_HOST",
                        f"the host {config.host!r} in HUB_MQTT_URL does not resolve")]  # fmt: skip
    probe = _Probe()
    protocol = MQTTProtocolVersion.MQTTv5 if config.mqtt5 else MQTTProtocolVersion.MQTTv311
    client = Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"{config.client_id}-doctor-{probe.nonce}",
        protocol=protocol,
        clean_session=None if config.mqtt5 else True,
    )
    client.on_connect = probe.on_connect
    client.on_subscribe = probe.on_subscribe
    client.on_message = probe.on_message
    client.on_publish = probe.on_publish
    if config.username is not None:
        client.username_pw_set(config.username, config.password)
    try:
        if config.tls:
            client.tls_set(
                ca_certs=config.ca_file, certfile=config.cert_file, keyfile=config.key_file,
                cert_reqs=ssl.CERT_REQUIRED,
            )  # fmt: skip
        client.connect(config.host, config.port, keepalive=max(5, int(timeout_s * 2)))
    except ssl.SSLError as exc:
        return [Finding("broker", Status.FAIL, "BROKER_TLS_FAILED",
                        f"TLS with {where} failed: {exc} (HUB_MQTT_TLS_*)")]  # fmt: skip
    except OSError as exc:
        return [Finding("broker", Status.FAIL, "BROKER_UNREACHABLE",
                        f"cannot connect to the broker at {where}: {exc.strerror or exc}; is "
                        "it running, and is HUB_MQTT_URL right?")]  # fmt: skip
    client.loop_start()
    try:
        return _converse(client, probe, config, timeout_s, where)
    finally:
        with contextlib.suppress(OSError):
            client.disconnect()
        client.loop_stop()


def _converse(
    client: Client, probe: _Probe, config: MqttConfig, timeout_s: float, where: str
) -> list[Finding]:
    if not probe.connected.wait(timeout_s):
        return [Finding("broker", Status.FAIL, "BROKER_TIMEOUT",
                        f"{where} accepted the connection but did not answer MQTT within "
                        f"{timeout_s:g} s (TLS expected? mqtts://)")]  # fmt: skip
    reason = probe.connect_reason
    assert reason is not None
    if reason.is_failure:
        refused = str(reason).lower()
        if any(w in refused for w in ("not authorized", "bad user", "password")):
            return [Finding("broker", Status.FAIL, "BROKER_AUTH_FAILED",
                            f"{where} refused the login ({reason}): check HUB_MQTT_USERNAME "
                            "and HUB_MQTT_PASSWORD and the broker's password file")]  # fmt: skip
        if "unsupported protocol" in refused and config.mqtt5:
            return [Finding("broker", Status.FAIL, "BROKER_MQTT5_UNSUPPORTED",
                            f"{where} does not speak MQTT 5 (HUB_MQTT_PROTOCOL=5); set "
                            "HUB_MQTT_PROTOCOL=4 for an MQTT 3.1.1 broker")]  # fmt: skip
        return [Finding("broker", Status.FAIL, "BROKER_REFUSED",
                        f"{where} refused the connection: {reason}")]  # fmt: skip
    who = config.username or "anonymous"
    found = [_ok("broker", f"connected to {where} as {who}")]
    # The ingest topic, plain (a $share subscription would take messages from the workers).
    # Mosquitto's acl_file accepts every subscription and applies read rights on delivery, so
    # an accepted one proves less there than on brokers that refuse it (EMQX).
    found.append(_subscribe(client, probe, INGEST_TOPIC, timeout_s, "BROKER_SUBSCRIBE_DENIED",
                            f"{who} may not subscribe to the device topics {INGEST_TOPIC}: "
                            "ingest would receive nothing (broker ACL)"))  # fmt: skip
    topic = f"{EVENTS_PREFIX}/doctor/{probe.nonce}"
    events_denied = (
        f"{who} may not publish and read {EVENTS_PREFIX}/#: ingest cannot republish readings "
        "and API replicas cannot relay them (broker ACL)"
    )
    read = _subscribe(client, probe, topic, timeout_s, "BROKER_EVENTS_DENIED", events_denied)
    if read.failed:
        return [*found, read]
    info = client.publish(topic, probe.nonce.encode(), qos=1)
    if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
        probe.answered.wait(timeout_s)
    if not probe.received.is_set():
        denial = probe.refused
        why = f"the broker refused it ({denial})" if denial else "it did not come back"
        found.append(
            Finding("broker", Status.FAIL, "BROKER_EVENTS_DENIED",
                    f"a test event {who} published on {EVENTS_PREFIX}/...: {why}: "
                    + events_denied)
        )  # fmt: skip
    else:
        found.append(_ok("broker events", f"{who} can publish and read {EVENTS_PREFIX}/#"))
    found.append(_waiting(client, probe, timeout_s))
    return found


def _waiting(client: Client, probe: _Probe, timeout_s: float) -> Finding:
    """Messages waiting in sessions whose client is away: a dead ingest worker's share (with
    HUB_MQTT_PARTITION, or a shared group member with a long session expiry) is not ingested
    until it returns. From Mosquitto's retained $SYS counters; other brokers: not reported."""
    client.subscribe([(topic, 0) for topic in BROKER_STATS])
    if not probe.stats_seen.wait(min(timeout_s, 3.0)):
        return Finding("broker queue", Status.OK, "BROKER_STATS_UNKNOWN",
                       "the broker publishes no $SYS session counters to this account "
                       "(Mosquitto: add the two $SYS lines of deploy/mosquitto/acl)")  # fmt: skip
    away = probe.stats["sessions_disconnected"]
    held = probe.stats["messages_stored"]
    if away and held:
        return Finding("broker queue", Status.WARN, "BROKER_SESSIONS_WAITING",
                       f"{held} messages wait on the broker and {away} durable sessions have "
                       "no client: a stopped ingest worker's share is not ingested until it "
                       "comes back or, with HUB_MQTT_PARTITION, a live worker adopts it after "
                       "HUB_MQTT_ADOPT_AFTER_S (restart it; docs/operations.md)")  # fmt: skip
    return _ok("broker queue", f"{held} messages held, {away} durable sessions away")


def _subscribe(
    client: Client, probe: _Probe, topic: str, timeout_s: float, code: str, denied: str
) -> Finding:
    probe.subscribed.clear()
    started = time.monotonic()
    client.subscribe(topic, qos=1)
    if not probe.subscribed.wait(timeout_s):
        return Finding("broker", Status.FAIL, "BROKER_TIMEOUT",
                       f"no answer to a subscription within {timeout_s:g} s")  # fmt: skip
    if any(r.is_failure for r in probe.granted):
        return Finding("broker", Status.FAIL, code, denied)
    return _ok(
        "broker subscribe", f"may read {topic} ({(time.monotonic() - started) * 1000:.0f} ms)"
    )
