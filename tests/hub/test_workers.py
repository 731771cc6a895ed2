"""``hub serve --workers 2`` as an operator runs it, on a copy of the demo province and a real
Mosquitto: requests land on both workers, the singletons run once, an alert reaches a
subscription whichever worker caused it, a killed worker is replaced, and SIGTERM leaves no
process behind. One hub for the module: each start spawns three interpreters."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets
from prometheus_client.parser import text_string_to_metric_families

from graph_schema.falkordb_server import EmbeddedServer
from graph_schema.falkordb_store import FalkorDBStore
from graph_schema.model import SPECS, validate
from graph_schema.statements.entities import export_page
from hub.auth import create_key
from hub.bulk import import_records
from hub.cli import main
from hub.metrics import Metrics
from hub.roles import Role
from hub.workers import merge
from tests.broker import Mosquitto, free_port
from tests.ingest.helpers import publisher
from tests.waiting import finishes, wait_until

pytestmark = [pytest.mark.anyio, pytest.mark.timing]

FAST = "pwr-workers-fast"
GRAPH = f"workers_{os.getpid()}"
TIMEOUT_S = 2.0
ALERT_FEED = """subscription { alertFeed {
  change alert { alertId type subject status acknowledgedBy } } }"""
STATUS = "{ ingestStatus { brokerConnected stored } }"
ACK = """mutation ($id: String!) { acknowledgeAlert(alertId: $id) { status acknowledgedBy } }"""
# Ceilings, not speed targets: idle, the hub is ready within about 10 s.
START_S = 300.0
CEILING_S = 120.0


@dataclass
class Hub:
    process: subprocess.Popen[bytes]
    address: str
    log: Path
    broker: Mosquitto
    monitor: str  # the monitoring centre's Authorization header

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def _copy_demo(server: EmbeddedServer, template: FalkorDBStore, graph_dir: Path) -> str:
    """The demo province in ``graph_dir`` (DUMP/RESTORE of the session's seeded template, a
    second instead of a seed), with a meter that goes stale fast; the monitor's key."""
    # A graph's value carries its name: the copy is made under the name the hub will use.
    source = redis.Redis(unix_socket_path=str(server.socket_path))
    try:
        command: Callable[..., Any] = source.execute_command
        command("GRAPH.COPY", template._graph_name, GRAPH)
        try:
            dumped = source.dump(GRAPH)
        finally:
            command("GRAPH.DELETE", GRAPH)
        assert isinstance(dumped, bytes)
    finally:
        source.close()
    copy = await FalkorDBStore.embedded(graph_dir, graph=GRAPH)
    try:
        target = redis.Redis(unix_socket_path=str(graph_dir / "falkordb.sock"))
        try:
            target.restore(GRAPH, 0, dumped)
        finally:
            target.close()
        (project,) = await copy.run(export_page(SPECS["project"]), {"after": "", "limit": 1})
        meter = {"id": FAST, "kind": "power", "project_code": project["key"]}
        await import_records(copy, "sensor", [validate("sensor", meter | {"stale_after_s": 2})])
        key, _ = await create_key(copy, Role.MONITOR, name="monitoring centre")
    finally:
        await copy.close()
    return f"Bearer {key}"


def _get(address: str, path: str) -> tuple[int, str, bytes]:
    """One request on a new connection: (status, Hub-Worker, body)."""
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=30) as response:
            return response.status, response.headers.get("hub-worker", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("hub-worker", ""), exc.read()
    except OSError:
        return 0, "", b""


def _children(pid: int) -> dict[int, str]:
    """The live child processes of ``pid`` and their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found[int(entry.name)] = cmdline
    return found


def _workers(hub: Hub) -> set[int]:
    return {p for p, cmd in _children(hub.process.pid).items() if "spawn_main" in cmd}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _metrics(hub: Hub) -> dict[str, float]:
    """The hub's /metrics as {sample with labels: value}, whichever worker answers."""
    status, _, body = _get(hub.address, "/metrics")
    assert status == 200, body
    samples = {}
    for line in body.decode().splitlines():
        match = re.match(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            samples[match[1]] = float(match[2])
    return samples


def _both_answer(hub: Hub, path: str = "/readyz") -> bool:
    seen: set[str] = set()
    for _ in range(40):  # each on a new connection, which the kernel gives to either worker
        status, worker, _ = _get(hub.address, path)
        if status == 200:
            seen.add(worker)
        if seen == {"0", "1"}:
            return True
    return False


@pytest.fixture(scope="module")
async def hub(
    tmp_path_factory: pytest.TempPathFactory,
    falkordb_server: EmbeddedServer,
    demo_template: FalkorDBStore,
) -> AsyncIterator[Hub]:
    root = tmp_path_factory.mktemp("workers")
    broker = Mosquitto(root / "mosquitto")
    broker.start()
    try:
        monitor = await _copy_demo(falkordb_server, demo_template, root / "data" / "graph")
        port = free_port()
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(root / "data"),
            "HUB_GRAPH_NAME": GRAPH,
            "HUB_HTTP_PORT": str(port),
            "HUB_LOG_LEVEL": "INFO",
            "HUB_AUTH_ANONYMOUS_ROLE": "monitor",
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": f"hub-workers-{uuid.uuid4().hex[:8]}",
            "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
            "HUB_TELEMETRY_INACTIVITY_TIMEOUT_S": "14400",
            "HUB_ALERTS_CHECK_INTERVAL_S": "0.5",
            "HUB_ALERTS_DEBOUNCE_S": "0.2",
        }
        log = root / "hub.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "hub", "serve", "--workers", "2"],
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running = Hub(process, f"127.0.0.1:{port}", log, broker, monitor)
        try:

            def ready() -> bool:
                assert process.poll() is None, running.log_text()
                return _get(running.address, "/readyz")[0] == 200

            wait_until(ready, ceiling=START_S, what="hub serve --workers 2 to be ready")
            yield running
        finally:
            if process.poll() is None:  # a test failed before the last one stopped it
                process.kill()  # its children have PR_SET_PDEATHSIG: they go with it
                process.wait()
    finally:
        broker.stop()


async def test_requests_land_on_both_workers_and_the_singletons_run_once(hub: Hub) -> None:
    wait_until(lambda: _both_answer(hub, "/healthz"), ceiling=CEILING_S, what="both workers")
    children = _children(hub.process.pid)
    assert len(_workers(hub)) == 2, children
    # One store server for the hub, started by the supervisor; the workers are its clients.
    assert len([c for c in children.values() if "redis-server" in c]) == 1, children

    def counted() -> bool:
        m = _metrics(hub)
        return (
            m.get('hub_broker_connected{link="ingest"}') == 1  # one MQTT subscriber
            and m.get('hub_broker_connected{link="relay"}') == 3  # supervisor and workers
        )

    wait_until(counted, ceiling=CEILING_S, what="one ingest and three relays connected")
    # One watch raises alerts; the workers' only mirror evidence.
    assert _metrics(hub)["hub_watch_running"] == 1


async def _next_alert(ws: Any, subject: str) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.recv())
        assert message["type"] == "next", message
        event: dict[str, Any] = message["payload"]["data"]["alertFeed"]
        if event["alert"]["subject"] == subject:  # the demo's own alerts pass by too
            return event


async def test_an_alert_reaches_a_subscriber_whichever_worker_caused_it(hub: Hub) -> None:
    async with websockets.connect(
        f"ws://{hub.address}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    ) as ws:
        assert ws.response is not None
        here = ws.response.headers["hub-worker"]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": ALERT_FEED}})
        )
        wait_until(
            lambda: _metrics(hub).get("hub_alert_feed_subscribers") == 1,
            ceiling=CEILING_S,
            what="the subscription to be in place",
        )
        # A reading, then silence: the supervisor ingests it (once) and its watch raises
        # FEED_STALE, which reaches this worker through the relay.
        mqtt = publisher(hub.broker.port, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        try:
            now = dt.datetime.now(dt.UTC).isoformat()
            body = {"ts": now, "metric": "energy_kwh", "value": 1.5, "unit": "kWh"}
            mqtt.publish(f"hub/v1/power/{FAST}", json.dumps(body).encode(), 1)
            raised = await finishes(_next_alert(ws, FAST), ceiling=CEILING_S, what="RAISED")
        finally:
            mqtt.loop_stop()
            mqtt.disconnect()
        assert (raised["change"], raised["alert"]["type"]) == ("RAISED", "FEED_STALE")
        assert _metrics(hub)["hub_ingest_stored_total"] == 1
        # Whichever worker answers, ingestStatus is the hub's ingest (the supervisor's).
        async with httpx.AsyncClient(base_url=f"http://{hub.address}", timeout=30) as client:
            status = (await client.post("/graphql", json={"query": STATUS})).json()
        assert status["data"]["ingestStatus"] == {"brokerConnected": True, "stored": 1}
        # Acknowledged through the other worker: a connection that landed there.
        other = None
        for _ in range(100):
            client = httpx.AsyncClient(base_url=f"http://{hub.address}", timeout=30)
            if (await client.get("/healthz")).headers["hub-worker"] != here:
                other = client
                break
            await client.aclose()
        assert other is not None, "no connection landed on the other worker"
        try:  # on the same connection, so on that worker
            response = await other.post(
                "/graphql",
                json={"query": ACK, "variables": {"id": raised["alert"]["alertId"]}},
                headers={"Authorization": hub.monitor},
            )
        finally:
            await other.aclose()
        assert response.headers["hub-worker"] != here
        assert response.json()["data"]["acknowledgeAlert"]["status"] == "ACTIVE_ACK"
        acked = await finishes(_next_alert(ws, FAST), ceiling=CEILING_S, what="ACKNOWLEDGED")
        assert acked["change"] == "ACKNOWLEDGED"
        assert acked["alert"]["alertId"] == raised["alert"]["alertId"]


async def test_a_killed_worker_is_replaced(hub: Hub) -> None:
    before = _workers(hub)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        now = _workers(hub)
        return len(now) == 2 and victim not in now

    wait_until(replaced, ceiling=CEILING_S, what="a new worker in the killed one's place")
    wait_until(lambda: _both_answer(hub), ceiling=CEILING_S, what="both workers ready again")
    assert f"(pid {victim}) exited with code -9; starting another" in hub.log_text()


async def test_sigterm_stops_the_workers_then_the_store(hub: Hub) -> None:
    children = _children(hub.process.pid)
    assert any("redis-server" in c for c in children.values()), children
    hub.process.send_signal(signal.SIGTERM)
    assert hub.process.wait(timeout=CEILING_S) == 0, hub.log_text()
    wait_until(
        lambda: not any(_alive(pid) for pid in children),
        ceiling=CEILING_S,
        what="every worker and the store server to be gone",
    )
    text = hub.log_text()
    # The workers stop first, the store last.
    assert text.rindex("stopped (code 0)") < text.rindex("shutdown: graph store stopped")


async def test_every_process_figures_add_up_in_metrics() -> None:
    # Two processes' registries, as the run directory holds them: counts and CPU seconds add
    # up, a timestamp and a figure both read from the same store do not.
    first, second = Metrics(), Metrics()
    for metrics, requests, pending in ((first, 2, 7), (second, 3, 7)):
        for _ in range(requests):
            metrics.observe_http("/graphql", "POST", 200, 0.01)
        metrics.dead_letters_pending.set(pending)
    texts = [first.own_exposition().decode(), second.own_exposition().decode()]
    merged = {f.name: f for f in text_string_to_metric_families(merge(texts).decode())}

    def value(family: str, sample: str) -> float:
        (found,) = [s.value for s in merged[family].samples if s.name == sample]
        return found

    assert value("hub_http_requests", "hub_http_requests_total") == 5
    assert (
        value("hub_http_request_duration_seconds", "hub_http_request_duration_seconds_count") == 5
    )
    assert value("hub_dead_letters_pending", "hub_dead_letters_pending") == 7
    starts = [
        s.value
        for text in texts
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == "process_start_time_seconds"
    ]
    assert value("process_start_time_seconds", "process_start_time_seconds") == max(starts)


async def test_workers_must_be_at_least_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "0"]) == 1
    assert "--workers must be at least 1, not 0" in capsys.readouterr().err


async def test_the_shared_socket_hands_out_connections_with_nagle_off() -> None:
    """The workers' listening socket says TCP, so asyncio turns Nagle off on what it accepts:
    with protocol 0 it did not, and each small answer waited about 45 ms for a delayed ACK."""
    import asyncio
    import socket

    from hub.workers import _listen

    sock = _listen("127.0.0.1", 0)
    seen: asyncio.Queue[int] = asyncio.Queue()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn: socket.socket = writer.get_extra_info("socket")
        await seen.put(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    try:
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(seen.get(), CEILING_S) == 1
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
