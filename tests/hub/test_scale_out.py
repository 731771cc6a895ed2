"""Scale-out on a real Mosquitto: an ingest worker (``hub ingest``) commits readings and
republishes them; an API replica that does not ingest relays them into its live feed; the
workers' and the replica's /metrics count what flowed. Each process has its own embedded
graph here (seeded alike); in production they share Neo4j."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from hub.ingest_app import create_ingest_app
from hub.monitoring.alerts import EVENTS_TOPIC
from hub.relay import Relay
from hub.settings import Settings, load_settings
from hub.telemetry import mqtt_config
from ingest.bus import LiveBus, ReadingEvent, RollupEvent
from ingest.mqtt import event_message
from tests.broker import Mosquitto, free_port
from tests.hub.metrics_text import sample
from tests.hub.test_monitoring import FEED, SALT, A, Feed, _seed, reading, serving
from tests.ingest.helpers import collector, eventually, publisher

pytestmark = pytest.mark.anyio


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    mosquitto = Mosquitto(tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@contextlib.asynccontextmanager
async def running(app: Starlette, port: int) -> AsyncIterator[str]:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started or task.done(), 60, "uvicorn to start")
        assert not task.done(), "the worker did not start"
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def _worker_settings(data: Path, broker: Mosquitto) -> Settings:
    return load_settings(
        {
            "HUB_DATA_DIR": str(data),
            "HUB_HTTP_PORT": str(free_port()),
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": f"ingest-{uuid.uuid4().hex[:8]}",
            "HUB_MQTT_SHARED_GROUP": "ingest",
            "HUB_TELEMETRY_LABOR_SALT": SALT,
            "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
            "HUB_CAMERA_ENABLED": "false",
        }
    )


async def _metrics(address: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return response.text


async def _until_metric(address: str, name: str, want: float, **labels: str) -> str:
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        text = await _metrics(address)
        if sample(text, name, **labels) >= want:
            return text
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{name}{labels} never reached {want}: {sample(text, name)}")
        await asyncio.sleep(0.05)


async def test_an_ingest_worker_stores_counts_and_republishes(
    tmp_path: Path, broker: Mosquitto
) -> None:
    await _seed(tmp_path / "w" / "graph")
    settings = _worker_settings(tmp_path / "w", broker)
    events, got = collector(broker.port, "hub/v1/events/#")
    device = publisher(broker.port, client_id=f"dev-{uuid.uuid4().hex[:6]}")
    try:
        async with running(create_ingest_app(settings), settings.http.port) as worker:
            async with httpx.AsyncClient(base_url=f"http://{worker}", timeout=10) as http:
                await eventually_ready(http)
                assert (await http.post("/graphql", json={"query": "{ x }"})).status_code == 404
            before = await _metrics(worker)
            now = dt.datetime.now(dt.UTC)
            for i in range(3):
                ts = now - dt.timedelta(minutes=15 * (i + 1))
                device.publish("hub/v1/power/pwr-mon-a", reading(ts, 1.0 + i), qos=1)
            device.publish("hub/v1/power/pwr-mon-a", b"not json", qos=1)
            device.publish("hub/v1/power/pwr-nobody", reading(now, 1.0), qos=1)
            text = await _until_metric(worker, "hub_ingest_stored_total", 3)
            text = await _until_metric(worker, "hub_ingest_dead_letters_total", 2)
    finally:
        for client in (events, device):
            client.loop_stop()
            client.disconnect()
    assert sample(before, "hub_ingest_stored_total") == 0
    assert sample(text, "hub_ingest_received_total") == 5
    assert sample(text, "hub_ingest_dead_letters_total", reason="UNDECODABLE") == 1
    assert sample(text, "hub_ingest_dead_letters_total", reason="UNKNOWN_SENSOR") == 1
    assert sample(text, "hub_dead_letters_pending") == 2
    assert sample(text, "hub_broker_connected", link="ingest") == 1
    commits = sample(text, "hub_store_operation_duration_seconds_count", store="telemetry")
    assert commits >= 1
    assert sample(text, "hub_ingest_batch_messages_sum") == 5
    assert sample(text, "hub_ingest_acknowledged_total") == 5
    # What the API replicas follow: every stored reading, republished.
    readings = [body for topic, body in got if body.get("type") == "reading"]
    assert sorted(r["value"] for r in readings) == [1.0, 2.0, 3.0]


async def eventually_ready(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        response = await http.get("/readyz")
        if response.status_code == 200 and response.json()["broker_connected"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the worker never became ready: {response.text}")


async def test_a_replica_that_does_not_ingest_serves_the_workers_readings_live(
    tmp_path: Path, broker: Mosquitto
) -> None:
    await _seed(tmp_path / "w" / "graph")
    await _seed(tmp_path / "r" / "graph")
    worker_settings = _worker_settings(tmp_path / "w", broker)
    replica = load_settings(
        {
            "HUB_DATA_DIR": str(tmp_path / "r"),
            "HUB_HTTP_PORT": str(free_port()),
            "HUB_AUTH_ANONYMOUS_ROLE": "monitor",
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": f"api-{uuid.uuid4().hex[:8]}",
            "HUB_MQTT_INGEST": "false",
            "HUB_MQTT_RELAY": "true",
            "HUB_CAMERA_ENABLED": "false",
        }
    )
    device = publisher(broker.port, client_id=f"dev-{uuid.uuid4().hex[:6]}")
    try:
        async with (
            running(create_ingest_app(worker_settings), worker_settings.http.port) as worker,
            serving(replica) as api,
        ):
            await _until_metric(api, "hub_broker_connected", 1, link="relay")
            await _until_metric(worker, "hub_broker_connected", 1, link="ingest")
            async with Feed.open(api) as feed:
                await feed.subscribe("1", FEED, projects=[A], kinds=["POWER"])
                await asyncio.sleep(0.3)  # the subscription is registered before we publish
                ts = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
                device.publish("hub/v1/power/pwr-mon-a", reading(ts, 7.5), qos=1)
                message = await feed.next(timeout=10)
                while message["payload"]["data"]["monitoringFeed"]["__typename"] != "FeedReading":
                    message = await feed.next(timeout=10)
            event = message["payload"]["data"]["monitoringFeed"]
            assert (event["sensorId"], event["projectCode"], event["value"]) == (
                "pwr-mon-a", A, 7.5,
            )  # fmt: skip
            # Readings are kept to the millisecond.
            assert abs(dt.datetime.fromisoformat(event["at"]) - ts) < dt.timedelta(milliseconds=1)
            text = await _metrics(api)
    finally:
        device.loop_stop()
        device.disconnect()
    assert sample(text, "hub_relay_events_total") >= 1
    assert sample(text, "hub_ingest_received_total") == 0  # the replica ingested nothing itself


# MQTT 5 keeps a relay's own alert changes away (no local); with 3.1.1 (the demo's amqtt, and
# the relays of `hub demo --workers`) they come back and the relay drops them itself.
@pytest.mark.parametrize("protocol", ["5", "4"])
async def test_the_relay_parses_events_and_skips_its_own_alerts(
    broker: Mosquitto, protocol: str
) -> None:
    settings = load_settings({"HUB_MQTT_URL": broker.url, "HUB_MQTT_PROTOCOL": protocol})
    config = mqtt_config(settings.mqtt)
    buses = [LiveBus(), LiveBus()]
    alerts: list[list[tuple[str, str]]] = [[], []]
    relays = [Relay(config, bus) for bus in buses]
    for relay, seen in zip(relays, alerts, strict=True):

        async def on_alert(alert_id: str, change: str, seen: Any = seen) -> None:
            seen.append((alert_id, change))

        relay.on_alert = on_alert
    subs = [bus.subscribe() for bus in buses]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    source = publisher(broker.port, client_id=f"src-{uuid.uuid4().hex[:6]}")
    try:
        await eventually(lambda: all(r.connected.is_set() for r in relays), 10, "relays")
        await asyncio.sleep(0.2)
        sent: list[ReadingEvent | RollupEvent] = [
            ReadingEvent("power", "pwr-1", "P1", "energy_kwh", 1_767_225_600_000, 2.5, "kWh"),
            RollupEvent("power", "pwr-1", "P1", "energy_kwh", dt.date(2026, 1, 1), 12.0, 4),
            RollupEvent("labor", None, "P1", "headcount", dt.date(2026, 1, 1), 31.0, 1),
        ]
        for event in sent:
            source.publish(*event_message(event), qos=1)
        source.publish("hub/v1/events/power/pwr-1", b"{broken", qos=1)
        body = {"type": "alert", "change": "raised", "id": "alert-1"}
        relays[0].publish(f"{EVENTS_TOPIC}/330106/FEED_STALE", json.dumps(body).encode())
        await eventually(lambda: all(len(s._queue) == 3 for s in subs), 10, "relayed events")
        await eventually(lambda: alerts[1] == [("alert-1", "raised")], 10, "the alert change")
        if protocol == "4":
            await eventually(lambda: relays[0].echoes == 1, 10, "the echo of its own change")
        await asyncio.sleep(0.3)
        assert alerts[0] == []  # its own change is not delivered back
        assert [subs[0]._queue.popleft() for _ in range(3)] == sent
        assert relays[0].skipped == 1
    finally:
        source.loop_stop()
        source.disconnect()
        for relay in relays:
            relay.stop()
        await asyncio.gather(*tasks)


async def test_a_hub_that_ingests_its_share_and_relays_sees_every_reading_once(
    tmp_path: Path, broker: Mosquitto
) -> None:
    # The compose file's hub: one member of the ingest group (a worker is the other), and a
    # relay for the worker's share; its own share must not come back twice.
    await _seed(tmp_path / "w" / "graph")
    await _seed(tmp_path / "h" / "graph")
    worker_settings = _worker_settings(tmp_path / "w", broker)
    hub = load_settings(
        {
            "HUB_DATA_DIR": str(tmp_path / "h"),
            "HUB_HTTP_PORT": str(free_port()),
            "HUB_AUTH_ANONYMOUS_ROLE": "monitor",
            "HUB_MQTT_URL": broker.url,
            "HUB_MQTT_CLIENT_ID": f"hub-{uuid.uuid4().hex[:8]}",
            "HUB_MQTT_SHARED_GROUP": "ingest",
            "HUB_MQTT_RELAY": "true",
            "HUB_TELEMETRY_LABOR_SALT": SALT,
            "HUB_TELEMETRY_BATCH_LATENCY_MS": "5",
            "HUB_CAMERA_ENABLED": "false",
        }
    )
    device = publisher(broker.port, client_id=f"dev-{uuid.uuid4().hex[:6]}")
    values = [float(v) for v in range(1, 21)]
    try:
        async with (
            running(create_ingest_app(worker_settings), worker_settings.http.port) as worker,
            serving(hub) as api,
        ):
            await _until_metric(api, "hub_broker_connected", 1, link="relay")
            await _until_metric(api, "hub_broker_connected", 1, link="ingest")
            await _until_metric(worker, "hub_broker_connected", 1, link="ingest")
            async with Feed.open(api) as feed:
                await feed.subscribe("1", FEED, projects=[A], kinds=["POWER"])
                await asyncio.sleep(0.3)
                start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
                for i, value in enumerate(values):
                    ts = start + dt.timedelta(minutes=i)
                    device.publish("hub/v1/power/pwr-mon-a", reading(ts, value), qos=1)
                seen: list[float] = []
                with contextlib.suppress(TimeoutError):
                    while True:  # until nothing more comes for a second
                        message = await feed.next(timeout=1.5)
                        event = message["payload"]["data"]["monitoringFeed"]
                        if event["__typename"] == "FeedReading":
                            seen.append(event["value"])
            hub_text, worker_text = await _metrics(api), await _metrics(worker)
    finally:
        device.loop_stop()
        device.disconnect()
    assert sorted(seen) == values  # every reading, none twice
    by_hub = sample(hub_text, "hub_ingest_stored_total")
    by_worker = sample(worker_text, "hub_ingest_stored_total")
    assert by_hub + by_worker == len(values) and by_hub > 0 and by_worker > 0
    assert sample(hub_text, "hub_relay_events_total") >= by_worker
